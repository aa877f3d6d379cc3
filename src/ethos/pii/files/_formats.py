"""File formats: how records are read from lines, which strings in them are scanned, how they are written.

A :class:`Record` carries the *slots* of one record (a line's text, a JSON line's string values,
a CSV row's cells), each with a field label. The first chunk decides which labels are worked on
(:meth:`FileFormat.choose`); a record whose slots do not change is written back byte for byte.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ethos.errors import DataError
from ethos.pii.files._lines import Line
from ethos.types import Span

__all__ = ["BadRecord", "FileFormat", "JsonlFormat", "Record", "Scanner", "Selection", "TextFormat", "split_eol"]

Scanner = Callable[[list[str]], list[list[Span]]]


@dataclass(slots=True)
class Record:
    """One record and its slots.

    Attributes:
        line: 1-based line where the record starts.
        raw: The record's text as read, with its line terminator(s).
        texts: The slot values.
        fields: The field label of each slot (a dotted JSON path, a column name, ``text``).
        payload: What the format needs to write the record again.
        counted: ``False`` for lines that are not records (a CSV header, a blank JSONL line).
    """

    line: int
    raw: str
    texts: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    payload: Any = None
    counted: bool = True


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not be read: its line and why (never its content)."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Selection:
    """Which field labels are worked on (``None``: all), why in words, and whole-value fields.

    ``whole`` maps a field label to an entity type when every value of that field *is* one
    such entity (a CSV column headed ``email``): its values are replaced whole, without scanning.
    """

    fields: frozenset[str] | None
    notes: tuple[str, ...] = ()
    whole: dict[str, str] = field(default_factory=dict)


def split_eol(text: str) -> tuple[str, str]:
    """Split a line into its content and its terminator (CR LF, LF or nothing)."""
    if text.endswith("\r\n"):
        return text[:-2], "\r\n"
    if text.endswith("\n"):
        return text[:-1], "\n"
    return text, ""


class FileFormat(ABC):
    """How one kind of file is read and written."""

    name: ClassVar[str]

    @abstractmethod
    def records(self, lines: Iterator[Line]) -> Iterator[Record | BadRecord]:
        """Read records from decoded lines (undecodable lines become :class:`BadRecord`)."""

    def choose(self, sample: Sequence[Record], scan: Scanner) -> Selection:
        """Pick the fields to work on from the first chunk (default: every slot)."""
        return Selection(None)

    @abstractmethod
    def render(self, record: Record, new: dict[int, str]) -> str:
        """The record's text with slot ``i`` replaced by ``new[i]``."""


class TextFormat(FileFormat):
    """Plain text: each line is a record, or (``whole=True``) the whole input is one record.

    Args:
        whole: Treat the input as one document (not streamed: it is held in memory).
    """

    name = "text"

    def __init__(self, *, whole: bool = False) -> None:
        """Store the mode."""
        self.whole = whole

    def records(self, lines: Iterator[Line]) -> Iterator[Record | BadRecord]:
        """One record per line, or one for everything."""
        if self.whole:
            parts: list[str] = []
            for line in lines:
                if line.text is None:
                    yield BadRecord(line.number, line.error or "unreadable")
                    return
                parts.append(line.text)
            text = "".join(parts)
            yield Record(1, text, [text], ["text"], "")
            return
        for line in lines:
            if line.text is None:
                yield BadRecord(line.number, line.error or "unreadable")
                continue
            content, eol = split_eol(line.text)
            yield Record(line.number, line.text, [content], ["text"], eol)

    def render(self, record: Record, new: dict[int, str]) -> str:
        """The new text with the original line terminator."""
        return str(new.get(0, record.texts[0])) + str(record.payload)


class JsonlFormat(FileFormat):
    """JSON Lines: the chosen fields (dotted paths into nested objects; lists are walked), else every string.

    Non-string values are left alone. Blank lines are copied.

    Args:
        fields: Dotted paths, e.g. ``("text", "messages.content")``; empty: every string value.
        source: The file's name, for errors.
    """

    name = "jsonl"

    def __init__(self, fields: Sequence[str] = (), *, source: str = "input") -> None:
        """Store the fields."""
        self.fields = tuple(dict.fromkeys(fields))
        self.source = source

    def records(self, lines: Iterator[Line]) -> Iterator[Record | BadRecord]:
        """Parse each line; malformed ones become :class:`BadRecord` (the message never quotes the line)."""
        for line in lines:
            if line.text is None:
                yield BadRecord(line.number, line.error or "unreadable")
                continue
            content, eol = split_eol(line.text)
            if not content.strip():
                yield Record(line.number, line.text, counted=False)
                continue
            try:
                obj = [json.loads(content)]  # a holder, so a line that is one bare string is scanned too
                refs, labels = self._slots(obj)
            except json.JSONDecodeError as exc:
                yield BadRecord(line.number, f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            except RecursionError:
                yield BadRecord(line.number, "JSON nested too deeply to process")
                continue
            texts = [c[k] for c, k in refs]
            yield Record(line.number, line.text, texts, labels, (obj, refs, eol))

    def _slots(self, obj: list[Any]) -> tuple[list[tuple[Any, Any]], list[str]]:
        """``(container, key)`` and the field label of each string to scan in the record ``obj[0]``."""
        refs: list[tuple[Any, Any]] = []
        labels: list[str] = []
        if self.fields:
            for path in self.fields:
                for ref in _walk(obj, path.split(".")):
                    refs.append(ref)
                    labels.append(path)
        else:
            for ref, label in _strings(obj, ""):
                refs.append(ref)
                labels.append(label or "(value)")
        return refs, labels

    def choose(self, sample: Sequence[Record], scan: Scanner) -> Selection:
        """Refuse fields that no record of the first chunk has (a typo would silently leak PII)."""
        seen = {f for r in sample for f in r.fields}
        missing = [f for f in self.fields if f not in seen]
        if missing and any(r.counted for r in sample):
            keys = sorted(
                {label for r in sample if r.counted for _, label in _strings(r.payload[0], "", every=True) if label}
            )
            shown = ", ".join(keys[:40]) + (" ..." if len(keys) > 40 else "")
            raise DataError(
                f"{self.source}: field {', '.join(repr(m) for m in missing)} holds no string in the first "
                f"{len(sample)} records; fields there: {shown or 'none'}"
            )
        return Selection(None)

    def render(self, record: Record, new: dict[int, str]) -> str:
        """The JSON line with the new strings, in the original key order."""
        obj, refs, eol = record.payload
        for i, value in new.items():
            container, key = refs[i]
            container[key] = value
        return json.dumps(obj[0], ensure_ascii=False) + str(eol)


def _walk(node: Any, path: list[str]) -> Iterator[tuple[Any, Any]]:
    """``(container, key)`` of each string at ``path``; lists on the way are walked element by element."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
        return
    if not path or not isinstance(node, dict) or path[0] not in node:
        return
    head, rest = path[0], path[1:]
    child = node[head]
    if not rest:
        if isinstance(child, str):
            yield node, head
        elif isinstance(child, list):
            yield from ((child, i) for i, item in enumerate(child) if isinstance(item, str))
        return
    yield from _walk(child, rest)


def _strings(node: Any, prefix: str, *, every: bool = False) -> Iterator[tuple[tuple[Any, Any], str]]:
    """Every string value (or, with ``every``, every leaf) with its dotted label."""
    items: Iterator[tuple[Any, Any]]
    if isinstance(node, dict):
        items = iter(node.items())
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        label = prefix if isinstance(node, list) else (f"{prefix}.{key}" if prefix else str(key))
        if isinstance(value, dict | list):
            yield from _strings(value, label, every=every)
        elif isinstance(value, str) or every:
            yield (node, key), label
