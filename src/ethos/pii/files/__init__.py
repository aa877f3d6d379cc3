"""Streaming PII work on files: plain text, stdin, JSON Lines and CSV, in bounded memory.

::

    from ethos.pii.files import FileOptions, RedactJob, process_file

    summary = process_file("chats.jsonl", RedactJob(), output="chats.clean.jsonl",
                           options=FileOptions(fields=("messages.content",), workers=2))
    print(summary.to_json()["entities"])

Records are read in chunks (:func:`read_chunks`), worked on here or in worker processes, and
written in input order to a temp file that replaces the output only at the end.
"""

from __future__ import annotations

from ethos.pii.files._csv import HEADER_ENTITIES, PII_HEADER_WORDS, CsvFormat
from ethos.pii.files._formats import BadRecord, FileFormat, JsonlFormat, Record, Selection, TextFormat
from ethos.pii.files._jobs import Batch, Executor, Outcome, RedactJob, RestoreJob, ScanJob
from ethos.pii.files._lines import Line, LineSource
from ethos.pii.files._pipeline import Chunk, FileOptions, Progress, make_format, read_chunks
from ethos.pii.files._process import process_file
from ethos.pii.files._summary import FileSummary, Finding, mask_for_display

__all__ = [
    "HEADER_ENTITIES",
    "PII_HEADER_WORDS",
    "BadRecord",
    "Batch",
    "Chunk",
    "CsvFormat",
    "Executor",
    "FileFormat",
    "FileOptions",
    "FileSummary",
    "Finding",
    "JsonlFormat",
    "Line",
    "LineSource",
    "Outcome",
    "Progress",
    "Record",
    "RedactJob",
    "RestoreJob",
    "ScanJob",
    "Selection",
    "TextFormat",
    "make_format",
    "mask_for_display",
    "process_file",
    "read_chunks",
]
