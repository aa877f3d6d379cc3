"""Reading the CSV that a release is computed on (pandas, separator sniffed or given).

Cells are read as text and converted per query, so that a bad value is reported with its
column and line instead of silently becoming a missing value.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ethos._util.deps import require
from ethos.errors import ConfigError, DataError

__all__ = ["Frame", "numeric_column", "read_csv", "sniff_separator", "text_column"]

Frame = Any
"""A ``pandas.DataFrame`` (pandas ships no type information, so it is typed loosely)."""

_SNIFF_BYTES = 64 * 1024


def sniff_separator(path: Path) -> str:
    """The field separator of a CSV file: ``,``, ``;``, tab or ``|`` (``,`` when unsure)."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            sample = fh.read(_SNIFF_BYTES)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}; check the path (CSV files must be UTF-8)") from None
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_csv(path: Path, sep: str | None = None) -> Frame:
    """Read a CSV file with a header row, every cell as text (empty cells stay empty strings).

    Args:
        path: The CSV file.
        sep: The field separator; sniffed from the first 64 KiB when ``None``.

    Raises:
        ConfigError: ``sep`` is not one character (``tab`` or a backslash and ``t`` mean a tab).
        DataError: The file is missing, unreadable or not a CSV with a header.
    """
    pd: Any = require("pandas", extra="tabular", purpose="differential-privacy releases")
    if not path.is_file():
        raise DataError(f"{path} is not a file; give the CSV to release statistics on")
    if sep is not None:
        sep = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(sep, sep)
        if len(sep) != 1:
            raise ConfigError(f"--sep {sep!r}: give one character, e.g. ';' or '\\t'")
    separator = sep or sniff_separator(path)
    try:
        lines = _check_rows(path, separator)
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, OSError, UnicodeDecodeError, csv.Error) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(f"cannot read {path} as CSV (separator {separator!r}): {reason}; try --sep") from None
    if frame.columns.empty:
        raise DataError(f"{path} has no header row; the first line must name the columns")
    # each row's first line in the file, for error messages (header = line 1 if pandas saw other rows)
    frame.index = lines if len(lines) == len(frame) else range(2, len(frame) + 2)
    return frame


def _check_rows(path: Path, separator: str) -> list[int]:
    """The first line of each non-blank row; a row whose field count differs from the header's is refused.

    (pandas would pad a short row silently.)
    """
    lines: list[int] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=separator)
        header = next(reader, [])
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{path}, line {start}: {len(row)} fields, but the header has {len(header)} "
                    f"(separator {separator!r}); fix the row or pass the right --sep"
                )
            lines.append(start)
    return lines


def _column(frame: Frame, column: str, path: Path) -> Any:
    if column not in frame.columns:
        known = ", ".join(map(str, frame.columns))
        raise DataError(f"{path}: no column {column!r}; the columns are: {known}")
    return frame[column]


def numeric_column(frame: Frame, column: str, path: Path) -> list[float]:
    """The non-empty cells of a numeric column as floats (empty cells are left out).

    Raises:
        DataError: The column is missing, or a non-empty cell is not a finite number (names the line).
    """
    pd: Any = require("pandas", extra="tabular", purpose="differential-privacy releases")
    cells = _column(frame, column, path).str.strip()
    present = cells[cells != ""]
    values = pd.to_numeric(present, errors="coerce")
    bad = values.isna() | values.isin([float("inf"), float("-inf")])
    if bool(bad.any()):
        index = bad.idxmax()
        line = int(index)  # read_csv indexes rows by their line in the file
        raise DataError(
            f"{path}, line {line}, column {column!r}: {present[index]!r} is not a number; "
            "sums, means and quantiles need a numeric column (empty cells are skipped)"
        )
    return [float(v) for v in values.tolist()]


def text_column(frame: Frame, column: str, path: Path) -> list[str]:
    """The cells of a column as stripped text, for histograms.

    Raises:
        DataError: The column is missing.
    """
    return [str(v) for v in _column(frame, column, path).str.strip().tolist()]
