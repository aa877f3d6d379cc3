"""A small YAML writer for card metadata: block mappings and lists, JSON-quoted strings.

The front matter holds plain data (strings, numbers, booleans, lists, mappings), so this writes
it without a YAML library. Strings are always double-quoted with JSON escapes, which YAML reads
back unchanged, so no value can turn into a number, a boolean or a date by accident.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

__all__ = ["dump_yaml"]

Scalar = str | int | float | bool | None


def dump_yaml(data: Mapping[str, object]) -> str:
    """``data`` as a YAML block document (no ``---`` markers), ending with a newline."""
    return "".join(line + "\n" for line in _mapping(data, 0))


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"card metadata cannot hold the non-finite number {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"card metadata cannot hold a {type(value).__name__}")


def _is_block(value: object) -> bool:
    return isinstance(value, Mapping | list | tuple) and len(value) > 0


def _mapping(data: Mapping[str, object], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for key, value in data.items():
        name = key if key.replace("-", "").replace("_", "").isalnum() else json.dumps(key)
        if _is_block(value):
            out.append(f"{pad}{name}:")
            out.extend(_block(value, indent + 2))
        else:
            out.append(f"{pad}{name}: {_empty_or_scalar(value)}")
    return out


def _sequence(items: Sequence[object], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            inner = _mapping(item, indent + 2)
            out.append(f"{pad}- {inner[0].lstrip()}")
            out.extend(inner[1:])
        elif _is_block(item):
            out.append(f"{pad}-")
            out.extend(_block(item, indent + 2))
        else:
            out.append(f"{pad}- {_empty_or_scalar(item)}")
    return out


def _block(value: object, indent: int) -> list[str]:
    if isinstance(value, Mapping):
        return _mapping(value, indent)
    assert isinstance(value, list | tuple)  # noqa: S101 - _is_block checked it
    return _sequence(value, indent)


def _empty_or_scalar(value: object) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return _scalar(value)
