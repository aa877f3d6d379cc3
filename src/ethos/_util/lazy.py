"""Lazy public names for packages (PEP 562): ``import ethos`` stays cheap for the CLI."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each public name from its home module on first use.

    Args:
        package: The package's ``__name__``.
        homes: Public name -> the module that defines it.

    Returns:
        The function to assign to the package's ``__getattr__``; it caches each value in the
        package's namespace, so later lookups do not reach it.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
