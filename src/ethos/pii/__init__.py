"""Personal data: detection, evaluation, a synthetic labelled set and anonymization.

Detection is :mod:`ethos.pii.detect`, evaluation :mod:`ethos.pii.evaluate`, the synthetic
labelled set :mod:`ethos.pii.synthetic`, anonymization :mod:`ethos.pii.anonymize`.

Detection names are exported here; anonymization names are imported on first use::

    from ethos.pii import Analyzer, AnalyzerConfig, scan

    spans = scan(["Call Ana at +44 20 7946 0958"])[0]
"""

from __future__ import annotations

import importlib
from typing import Any

from ethos.pii._scan import cached_analyzer, scan
from ethos.pii.detect import (
    CANONICAL_ENTITIES,
    Analyzer,
    AnalyzerConfig,
    Recognizer,
    canonical_entity,
    recognizer,
    recognizer_registry,
)

__all__ = [
    "CANONICAL_ENTITIES",
    "Analyzer",
    "AnalyzerConfig",
    "Recognizer",
    "cached_analyzer",
    "canonical_entity",
    "recognizer",
    "recognizer_registry",
    "scan",
]

_LAZY_PACKAGES = ("ethos.pii.anonymize",)


def __getattr__(name: str) -> Any:
    """Import public names of the anonymization package on first use (PEP 562)."""
    for package in _LAZY_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ModuleNotFoundError as exc:
            if exc.name != package:
                raise
            continue
        if name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'ethos.pii' has no attribute {name!r}")
