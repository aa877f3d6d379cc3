"""Generalisation hierarchies in ARX's CSV format: finding, reading and validating them.

One file per attribute, no header, one row per original value: column 0 is the value (level 0),
each further column a coarser generalisation, the last usually ``*``. ARX names them
``<dataset>_hierarchy_<attribute>.csv``; ``<attribute>.csv`` is accepted too.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ethos.errors import ConfigError, DataError
from ethos.pii.tabular._table import SEPARATORS, detect_separator

__all__ = ["Hierarchy", "find_hierarchy_files", "load_hierarchies", "read_hierarchy"]


@dataclass(frozen=True)
class Hierarchy:
    """A generalisation hierarchy for one attribute.

    Attributes:
        attribute: The column it generalises.
        source: The file it came from, for messages.
        rows: One tuple per original value: ``(value, level 1, ..., top)``.
    """

    attribute: str
    source: str
    rows: tuple[tuple[str, ...], ...]

    @property
    def height(self) -> int:
        """The highest level (levels run from 0, the original value, to ``height``)."""
        return len(self.rows[0]) - 1


def read_hierarchy(path: Path, attribute: str, sep: str | None = None) -> Hierarchy:
    """Read and validate one ARX hierarchy file.

    Args:
        path: The CSV file (no header).
        attribute: The attribute it generalises.
        sep: Its separator; ``None`` detects it.

    Raises:
        DataError: The file is empty, rows differ in length, a value is listed twice, or a value at
            one level generalises to two different values at the next (not a tree).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"hierarchy {path}: cannot read it ({exc}); it must be UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"hierarchy {path} for {attribute!r} is empty; give one row per value: value;level1;...;*")
    separator = sep if sep is not None else _hierarchy_separator(lines, str(path))
    rows = [tuple(row) for row in csv.reader(lines, delimiter=separator)]
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise DataError(
                f"hierarchy {path} line {number}: {len(row)} levels, but line 1 has {width}; "
                f"every row needs the same number of levels (line 1: {separator.join(rows[0])!r})"
            )
    _check_tree(rows, path)
    return Hierarchy(attribute, str(path), tuple(rows))


def _hierarchy_separator(lines: list[str], source: str) -> str:
    if not any(sep in lines[0] for sep in SEPARATORS):
        return ";"  # one level only: any separator reads it
    return detect_separator("\n".join(lines[:200]), source)


def _check_tree(rows: list[tuple[str, ...]], path: Path) -> None:
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        if row[0] in seen:
            raise DataError(f"hierarchy {path} line {number}: value {row[0]!r} is already on line {seen[row[0]]}")
        seen[row[0]] = number
    for level in range(1, len(rows[0]) - 1):
        parent: dict[str, tuple[str, int]] = {}
        for number, row in enumerate(rows, start=1):
            known = parent.setdefault(row[level], (row[level + 1], number))
            if known[0] != row[level + 1]:
                raise DataError(
                    f"hierarchy {path} line {number}: {row[level]!r} (level {level}) generalises to "
                    f"{row[level + 1]!r}, but to {known[0]!r} on line {known[1]}; a hierarchy must be a tree"
                )


def find_hierarchy_files(directory: Path, attributes: Sequence[str]) -> dict[str, Path]:
    """Find each attribute's hierarchy file in ``directory``; attributes without one are left out.

    Looks for ``*_hierarchy_<attribute>.csv`` (ARX's naming) and ``<attribute>.csv``.

    Raises:
        ConfigError: The folder is missing, or two files match one attribute.
    """
    if not directory.is_dir():
        raise ConfigError(f"--hierarchies {directory}: no such folder")
    found: dict[str, Path] = {}
    for attribute in attributes:
        matches = sorted(directory.glob(f"*_hierarchy_{attribute}.csv"))
        plain = directory / f"{attribute}.csv"
        if plain.is_file():
            matches.append(plain)
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches)
            raise ConfigError(f"--hierarchies {directory}: several hierarchies for {attribute!r} ({names}); keep one")
        if matches:
            found[attribute] = matches[0]
    return found


def load_hierarchies(
    directory: Path, attributes: Sequence[str], *, required: Sequence[str] | None = None, sep: str | None = None
) -> dict[str, Hierarchy]:
    """Read the hierarchies of ``attributes`` from a folder.

    Args:
        directory: The folder holding the hierarchy files.
        attributes: The quasi-identifiers.
        required: Those that must have a hierarchy (default: all of them).
        sep: The separator of the hierarchy files; ``None`` detects it per file.

    Raises:
        ConfigError: A required attribute has no hierarchy file.
        DataError: A hierarchy file is malformed.
    """
    files = find_hierarchy_files(directory, attributes)
    needed = attributes if required is None else required
    missing = [a for a in needed if a not in files]
    if missing:
        raise ConfigError(
            f"--hierarchies {directory}: no hierarchy for {', '.join(repr(a) for a in missing)}; add "
            f"<dataset>_hierarchy_<attribute>.csv or <attribute>.csv (ARX format), or use --algorithm mondrian, "
            f"which needs none for numeric columns"
        )
    return {a: read_hierarchy(path, a, sep) for a, path in files.items()}
