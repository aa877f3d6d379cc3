"""Labelled texts: ``{"text": str, "spans": [{"start": int, "end": int, "entity": str}]}`` per JSONL line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ethos._util.atomic import atomic_open
from ethos.errors import DataError
from ethos.pii.detect import canonical_entity
from ethos.types import Span

__all__ = ["LabeledText", "read_labeled", "texts_of", "write_labeled"]


@dataclass(frozen=True, slots=True)
class LabeledText:
    """A text and its gold spans (character offsets, end exclusive, canonical entity names)."""

    text: str
    spans: tuple[Span, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSONL record of this text."""
        return {"text": self.text, "spans": [{"start": s.start, "end": s.end, "entity": s.entity} for s in self.spans]}


def read_labeled(path: Path) -> list[LabeledText]:
    """Read a labelled JSONL file; entity names are mapped through :func:`canonical_entity`.

    Blank lines are skipped.

    Raises:
        DataError: When the file cannot be read or decoded, holds no record, or a line is not a
            valid record; the message names the file and the line number.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a BOM (Windows tools) is not data
    except OSError as exc:
        raise DataError(f"cannot read labelled file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text; convert it to UTF-8") from None
    items = [_parse(path, n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not items:  # scores of nothing are all null: almost surely the wrong file
        raise DataError(f'{path} holds no labelled text; expected one {{"text": ..., "spans": [...]}} per line')
    return items


def _parse(path: Path, n: int, line: str) -> LabeledText:
    where = f"{path}, line {n}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply to read") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise DataError(f'{where}: expected an object with a string "text" and a list "spans"')
    text = record["text"]
    raw_spans = record.get("spans", [])
    if not isinstance(raw_spans, list):
        raise DataError(f'{where}: "spans" must be a list of {{"start", "end", "entity"}} objects')
    return LabeledText(text, tuple(_span(where, i, s, len(text)) for i, s in enumerate(raw_spans)))


def _span(where: str, i: int, raw: Any, length: int) -> Span:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: spans[{i}] must be an object with start, end and entity")
    start, end, entity = raw.get("start"), raw.get("end"), raw.get("entity")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise DataError(f"{where}: spans[{i}] needs integer start and end (character offsets)")
    if not isinstance(entity, str) or not entity.strip():
        raise DataError(f"{where}: spans[{i}] needs a non-empty string entity")
    if not 0 <= start < end <= length:
        raise DataError(f"{where}: spans[{i}] {start}..{end} is not inside the text (0..{length}, end exclusive)")
    return Span(start, end, canonical_entity(entity), 1.0)


def write_labeled(path: Path, items: Iterable[LabeledText]) -> None:
    """Write ``items`` as JSONL, atomically (the file appears complete or not at all)."""
    with atomic_open(path) as fh:
        for item in items:
            fh.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")


def texts_of(items: Sequence[LabeledText]) -> list[str]:
    """The texts of ``items``, in order."""
    return [item.text for item in items]
