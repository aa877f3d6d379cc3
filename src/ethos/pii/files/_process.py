"""``process_file``: one pass over a file (or stdin) with a scan, redact or restore job."""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from ethos.errors import DataError
from ethos.pii.files._formats import FileFormat, Record, Selection
from ethos.pii.files._jobs import Batch, Executor, Job, Outcome
from ethos.pii.files._pipeline import (
    Chunk,
    FileOptions,
    Progress,
    _check_target,
    _open_input,
    _open_output,
    make_format,
    read_chunks,
)
from ethos.pii.files._summary import FileSummary

__all__ = ["process_file"]

log = logging.getLogger("ethos.pii.files")

_Pending = tuple[Chunk, list[list[int]], "Future[Any]"]


def process_file(
    source: str | Path,
    job: Job,
    *,
    output: str | Path | None = None,
    options: FileOptions | None = None,
    progress: Progress | None = None,
) -> FileSummary:
    """Stream ``source`` (``-``: stdin) through ``job`` and write the result to ``output``.

    Args:
        source: The input file, or ``-`` for stdin.
        job: A :class:`ScanJob`, :class:`RedactJob` or :class:`RestoreJob`.
        output: Where to write (``-``: stdout; ``None``: nowhere, e.g. for a scan). Written to a
            temp file and renamed at the end, so a failure never leaves a partial file.
        options: Format, fields or columns, chunk size, workers, bad-record policy, in-place.
        progress: Called with (bytes read, total bytes or ``None``) after each chunk.

    Returns:
        The :class:`FileSummary` (counts per entity and field, masked examples, timing).

    Raises:
        DataError: Unreadable input, bad encoding, a malformed record (unless ``skip_bad``), an
            unknown column or field; the message names the file and line, never the content.
        ConfigError: Bad options (output is the input without ``in_place``, bad operators, no key).
    """
    options = options or FileOptions()
    name = str(source)
    fmt = make_format(options, name)
    target = _check_target(source, output, options.in_place)
    summary = FileSummary(name, None if target is None else str(target), fmt.name, options.max_examples)
    summary.explain = options.explain
    started = time.perf_counter()
    with _open_input(source) as (stream, size):
        executor = Executor(job, options.workers)
        try:
            with _open_output(target, source, options.encoding) as out:
                summary.notes.extend(executor.submit("notes", None).result())
                chunks = read_chunks(
                    stream,
                    fmt,
                    chunk_size=options.chunk_size,
                    skip_bad=options.skip_bad,
                    encoding=options.encoding,
                    source=name,
                )
                _stream(chunks, fmt, executor, out, summary, progress, size)
        finally:
            executor.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _stream(
    chunks: Iterator[Chunk],
    fmt: FileFormat,
    executor: Executor,
    out: IO[str] | None,
    summary: FileSummary,
    progress: Progress | None,
    size: int | None,
) -> None:
    first = next(chunks, None)
    if first is None:
        return
    selection = fmt.choose(first.records, lambda texts: executor.submit("scan", texts).result())
    summary.notes.extend(selection.notes)
    if out is not None and first.bom:
        out.write(first.bom)
    window = 2 * executor.workers + 1
    pending: deque[_Pending] = deque()
    for chunk in itertools.chain([first], chunks):
        active = [_active(r, selection) for r in chunk.records]
        counted = [(r, a) for r, a in zip(chunk.records, active, strict=True) if r.counted]
        batch = Batch([[r.texts[i] for i in a] for r, a in counted])
        if selection.whole:
            batch.whole = [[selection.whole.get(r.fields[i]) for i in a] for r, a in counted]
        pending.append((chunk, active, executor.submit("run", batch)))
        if len(pending) >= window:
            _finish(pending.popleft(), fmt, out, summary, progress, size)
    while pending:
        _finish(pending.popleft(), fmt, out, summary, progress, size)


def _active(record: Record, selection: Selection) -> list[int]:
    if selection.fields is None:
        return list(range(len(record.texts)))
    return [i for i, label in enumerate(record.fields) if label in selection.fields]


def _finish(
    item: _Pending,
    fmt: FileFormat,
    out: IO[str] | None,
    summary: FileSummary,
    progress: Progress | None,
    size: int | None,
) -> None:
    chunk, active, future = item
    outcomes: list[Outcome] = future.result()
    results = iter(outcomes)
    for record, slots in zip(chunk.records, active, strict=True):
        if not record.counted:
            if out is not None:
                out.write(record.raw)
            continue
        outcome = next(results)
        if outcome.error is not None:
            raise DataError(f"{summary.input} line {record.line}: {outcome.error}")
        originals = [record.texts[i] for i in slots]
        new: dict[int, str] = {}
        if outcome.texts is not None:
            new = {slots[j]: t for j, t in enumerate(outcome.texts) if t != originals[j]}
        summary.add(record.line, [record.fields[i] for i in slots], originals, outcome.spans, bool(new))
        if out is not None:
            out.write(fmt.render(record, new) if new else record.raw)
    for bad in chunk.bad:
        log.warning("%s line %d skipped: %s", summary.input, bad.line, bad.reason)
        summary.add_bad(bad.line, bad.reason)
    if progress is not None:
        progress(chunk.bytes_read, size)
