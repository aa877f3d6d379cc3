"""Read and write delimited tables: separator sniffing, ragged-row checks, atomic writes."""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ethos._util.atomic import atomic_open
from ethos.errors import ConfigError, DataError

__all__ = ["SEPARATORS", "Table", "detect_separator", "read_table", "resolve_columns", "write_table"]

SEPARATORS = ",;\t|"
"""The separators :func:`detect_separator` chooses from."""

_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Table:
    """A delimited text table, every cell a string.

    Attributes:
        source: Where the table came from (a path, for messages).
        columns: The header, in file order.
        rows: The records; every row has ``len(columns)`` cells.
        separator: The field separator the file used (and an output will use).
        lines: The file line on which each record starts (1 = the header), for messages.
    """

    source: str
    columns: tuple[str, ...]
    rows: list[list[str]]
    separator: str
    lines: list[int]

    def column(self, name: str) -> list[str]:
        """The values of one column, in row order."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


def detect_separator(sample: str, source: str) -> str:
    """Guess the separator of a delimited text sample among ``, ; TAB |``.

    Args:
        sample: The first lines of the file.
        source: The file name, for the error message.

    Raises:
        DataError: No separator among the candidates splits the sample consistently.
    """
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on one-line or irregular samples: take the candidate that splits the header.
    header = sample.splitlines()[0] if sample else ""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        raise DataError(f"{source}: cannot detect the column separator (tried , ; TAB |); pass --sep")
    return best


def read_table(path: Path, sep: str | None = None) -> Table:
    """Read a delimited file with a header row.

    Args:
        path: The file.
        sep: The separator; ``None`` detects it from the first 64 KiB.

    Raises:
        DataError: The file is missing, empty, not UTF-8, or a row has the wrong number of fields.
    """
    text = _read_text(path)
    separator = sep if sep is not None else detect_separator(text[:_SNIFF_BYTES], str(path))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)  # not splitlines: U+2028 is data
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: the file is empty; a header row naming the columns is needed") from None
    rows: list[list[str]] = []
    lines: list[int] = []
    start = reader.line_num + 1
    for row in reader:
        if not row:
            start = reader.line_num + 1
            continue
        if len(row) != len(header):
            raise DataError(
                f"{path} line {start}: {len(row)} fields, but the header has {len(header)} "
                f"(separator {separator!r}); fix the row or pass the right --sep"
            )
        rows.append(row)
        lines.append(start)
        start = reader.line_num + 1
    if len(set(header)) != len(header):
        dup = next(name for name in header if header.count(name) > 1)
        raise DataError(f"{path}: the header names column {dup!r} twice; column names must be unique")
    return Table(str(path), tuple(header), rows, separator, lines)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a table file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); convert it to UTF-8") from None


def resolve_columns(table: Table, names: Sequence[str], option: str) -> tuple[str, ...]:
    """Check that every name is a column of ``table``; suggest close names otherwise.

    Args:
        table: The table.
        names: The requested columns.
        option: The flag they came from (``--quasi``), for the message.

    Raises:
        ConfigError: A name is not a column, or a name is given twice.
    """
    for name in names:
        if name not in table.columns:
            close = difflib.get_close_matches(name, table.columns, n=2, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(
                f"{option}: {table.source} has no column {name!r}.{hint} Columns: {', '.join(table.columns)}"
            )
    if len(set(names)) != len(names):
        raise ConfigError(f"{option}: a column is named twice ({', '.join(names)})")
    return tuple(names)


def write_table(path: Path, columns: Sequence[str], rows: Sequence[Sequence[str]], separator: str) -> None:
    """Write a header and rows atomically: the target appears complete or not at all.

    Args:
        path: The output file.
        columns: The header.
        rows: The records.
        separator: The field separator.
    """
    with atomic_open(path, "w") as fh:
        writer = csv.writer(fh, delimiter=separator, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
