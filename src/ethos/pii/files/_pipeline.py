"""Stream a file through a job in chunks: read, work (here or in worker processes), write, count.

Memory is bounded by the chunk size times the number of chunks in flight (``2 × workers + 1``).
Output goes to a temp file beside the target that replaces it only when everything succeeded;
a failure leaves no partial output and leaves the input untouched (also with ``in_place``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, Literal

from ethos.errors import ConfigError, DataError
from ethos.pii.files._csv import CsvFormat
from ethos.pii.files._formats import BadRecord, FileFormat, JsonlFormat, Record, TextFormat
from ethos.pii.files._lines import LineSource, check_encoding

__all__ = ["Chunk", "FileOptions", "Progress", "make_format", "read_chunks"]

Progress = Callable[[int, int | None], None]
FormatName = Literal["auto", "text", "whole", "jsonl", "csv", "tsv"]
STDIO = "-"


@dataclass(frozen=True)
class FileOptions:
    """How a file is read and worked on.

    Attributes:
        format: ``auto`` (by suffix: ``.jsonl``/``.ndjson``, ``.csv``, ``.tsv``, else text), ``text``
            (one record per line), ``whole`` (the whole text is one document), ``jsonl``, ``csv``, ``tsv``.
        fields: JSONL fields (dotted paths); empty: every string value.
        columns: CSV columns; ``("*",)``: all; empty: detected.
        encoding: The input's (and output's) text encoding.
        chunk_size: Records per chunk.
        workers: Worker processes (1: this process).
        skip_bad: Skip malformed records (counted, listed by line) instead of stopping.
        in_place: Replace the input (atomically) instead of writing elsewhere.
        max_examples: Findings kept as masked examples in the summary.
        explain: Keep each example's explanation.
    """

    format: FormatName = "auto"
    fields: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    encoding: str = "utf-8"
    chunk_size: int = 1000
    workers: int = 1
    skip_bad: bool = False
    in_place: bool = False
    max_examples: int = 5
    explain: bool = False


@dataclass
class Chunk:
    """Up to ``chunk_size`` records read in a row, and where reading stands.

    Attributes:
        records: The records (including uncounted lines such as a CSV header).
        bad: Malformed records that were skipped.
        bytes_read: Bytes of input read so far.
        bom: A byte-order mark the input started with (written back to the output).
    """

    records: list[Record] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    bytes_read: int = 0
    bom: str = ""


def make_format(options: FileOptions, source: str) -> FileFormat:
    """The :class:`FileFormat` for the options and the source's name."""
    name: str = options.format
    if name == "auto":
        suffix = Path(source).suffix.lower() if source != STDIO else ""
        name = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}.get(suffix, "text")
    if options.fields and name != "jsonl":
        raise ConfigError(f"--fields applies to JSONL input; {source} is read as {name} (use --format jsonl)")
    if options.columns and name not in ("csv", "tsv"):
        raise ConfigError(f"--columns applies to CSV input; {source} is read as {name} (use --format csv)")
    if name == "jsonl":
        return JsonlFormat(options.fields, source=source)
    if name in ("csv", "tsv"):
        return CsvFormat(options.columns, source=source, delimiter="\t" if name == "tsv" else None)
    return TextFormat(whole=name == "whole")


def read_chunks(
    stream: BinaryIO,
    fmt: FileFormat,
    *,
    chunk_size: int = 1000,
    skip_bad: bool = False,
    encoding: str = "utf-8",
    source: str = "input",
) -> Iterator[Chunk]:
    """Read ``stream`` lazily as chunks of at most ``chunk_size`` counted records.

    Only one chunk is held at a time: the next is read when the caller asks for it.

    Raises:
        DataError: On the first malformed record (naming its line), unless ``skip_bad``.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk size must be at least 1, got {chunk_size}")
    return _chunks(LineSource(stream, encoding), fmt, chunk_size, skip_bad, source)


def _chunks(lines: LineSource, fmt: FileFormat, chunk_size: int, skip_bad: bool, source: str) -> Iterator[Chunk]:
    chunk, counted = Chunk(), 0
    for item in fmt.records(iter(lines)):
        if isinstance(item, BadRecord):
            if not skip_bad:
                raise DataError(f"{source} line {item.line}: {item.reason}; fix it, or pass --skip-bad to skip it")
            chunk.bad.append(item)
            continue
        chunk.records.append(item)
        counted += item.counted
        if counted >= chunk_size:
            chunk.bytes_read, chunk.bom = lines.bytes_read, lines.bom
            yield chunk
            chunk, counted = Chunk(), 0
    chunk.bytes_read, chunk.bom = lines.bytes_read, lines.bom
    if chunk.records or chunk.bad:
        yield chunk


@contextlib.contextmanager
def _open_input(source: str | Path) -> Iterator[tuple[BinaryIO, int | None]]:
    if str(source) == STDIO:
        yield sys.stdin.buffer, None
        return
    path = Path(source)
    try:
        fh = path.open("rb")
        size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    with fh:
        yield fh, size


@contextlib.contextmanager
def _open_output(target: str | Path | None, source: str | Path, encoding: str) -> Iterator[IO[str] | None]:
    """A text handle whose content replaces ``target`` only if the block succeeds (stdout: streamed)."""
    check_encoding(encoding)  # before a temp file is made
    if target is None:
        yield None
        return
    if str(target) == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if str(source) != STDIO:
            shutil.copymode(source, tmp)  # the output is as private as the input was
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _check_target(source: str | Path, output: str | Path | None, in_place: bool) -> str | Path | None:
    if in_place:
        if str(source) == STDIO:
            raise ConfigError("--in-place needs a file, not stdin")
        if output is not None:
            raise ConfigError("give either --in-place or -o OUT, not both")
        return Path(source).resolve()  # through symlinks: replace the file, not the link
    if output is None or str(output) == STDIO or str(source) == STDIO:
        return output
    out, src = Path(output), Path(source)
    if out.exists() and src.exists() and os.path.samefile(out, src):
        raise ConfigError(f"{output} is the input file; write elsewhere, or pass --in-place to replace it atomically")
    return output
