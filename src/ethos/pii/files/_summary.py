"""The summary of one file run: counts, speed and examples, never with clear-text personal data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ethos.types import Span

__all__ = ["FileSummary", "Finding", "mask_for_display"]

_MAX_BAD = 100
_MAX_FIELDS = 1000  # JSON keys can be data (user ids as keys): the per-field table must not grow with the file
OTHER_FIELDS = "(other fields)"


def mask_for_display(value: str) -> str:
    """The value's shape only: letters and digits become ``*``, separators stay (``j.doe@x.org`` → ``*.***@*.***``).

    Long values are cut to 40 characters, so a summary never holds a value in clear text.
    """
    shape = "".join("*" if ch.isalnum() else ch for ch in value[:40])
    return shape + ("…" if len(value) > 40 else "")


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding, for display: where, what type, and the value's shape (see :func:`mask_for_display`)."""

    line: int
    field: str
    entity: str
    score: float
    masked: str
    start: int
    end: int
    explanation: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = {k: getattr(self, k) for k in ("line", "field", "entity", "score", "masked", "start", "end")}
        if self.explanation is not None:
            out["explanation"] = self.explanation
        return out


def _explain(span: Span) -> dict[str, Any] | None:
    ex = span.explanation
    if ex is None:
        return None
    # the free-text note is left out: only structured facts, which cannot carry the value
    return {
        "recognizer": ex.recognizer,
        "pattern": ex.pattern,
        "original_score": ex.original_score,
        "context_boost": ex.context_boost,
        "validation": ex.validation,
    }


@dataclass
class FileSummary:
    """Counts and timings of one run over a file.

    Attributes:
        input: The input's name (``-`` for stdin).
        output: The output's name, ``-`` for stdout, ``None`` when nothing was written.
        format: ``text``, ``jsonl`` or ``csv``.
        records_read: Records read (blank lines and a CSV header are not records).
        records_changed: Records with at least one replacement.
        records_skipped: Bad records skipped (``skip_bad``); ``bad_records`` says where and why.
        entities: Findings per entity type.
        fields: Findings per field (JSON path, column, ``text``), then per entity type; beyond 1,000
            distinct fields, the rest are counted under ``(other fields)``.
        notes: Remarks: columns chosen and why, detection limits.
        examples: Up to ``max_examples`` findings, masked.
        seconds: Wall time.
    """

    input: str
    output: str | None
    format: str
    max_examples: int = 5
    records_read: int = 0
    records_changed: int = 0
    records_skipped: int = 0
    bad_records: list[tuple[int, str]] = field(default_factory=list)
    entities: Counter[str] = field(default_factory=Counter)
    fields: dict[str, Counter[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    examples: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    explain: bool = False

    def add_bad(self, line: int, reason: str) -> None:
        """Count a skipped record (the first 100 are listed)."""
        self.records_skipped += 1
        if len(self.bad_records) < _MAX_BAD:
            self.bad_records.append((line, reason))

    def add(self, line: int, labels: list[str], texts: list[str], spans: list[list[Span]], changed: bool) -> None:
        """Count one record's findings."""
        self.records_read += 1
        self.records_changed += changed
        for label, text, found in zip(labels, texts, spans, strict=True):
            for span in found:
                self.entities[span.entity] += 1
                if label not in self.fields and len(self.fields) >= _MAX_FIELDS:
                    label = OTHER_FIELDS
                self.fields.setdefault(label, Counter())[span.entity] += 1
                if len(self.examples) < self.max_examples:
                    masked = mask_for_display(text[span.start : span.end])
                    explanation = _explain(span) if self.explain else None
                    finding = Finding(line, label, span.entity, round(span.score, 4), masked, span.start, span.end,
                                      explanation)
                    self.examples.append(finding)

    @property
    def records_per_second(self) -> float:
        """Records read per second of wall time."""
        return self.records_read / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (what ``--report`` writes)."""
        return {
            "input": self.input,
            "output": self.output,
            "format": self.format,
            "records": {"read": self.records_read, "changed": self.records_changed, "skipped": self.records_skipped},
            "bad_records": [{"line": line, "reason": reason} for line, reason in self.bad_records],
            "entities": dict(self.entities.most_common()),
            "fields": {k: dict(v.most_common()) for k, v in sorted(self.fields.items())},
            "examples": [f.to_json() for f in self.examples],
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_per_second, 1),
        }
