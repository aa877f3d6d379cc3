"""The datasheet: Gebru et al.'s sections from the questionnaire, with measured statistics and provenance.

Measured parts come in as plain data: :class:`FileStats` (checksum, size, record count and personal
data *counts* per entity type and per field, which the CLI gets from ``ethos.pii``; this module
never sees a value) and :class:`OptoutReceipt` (what ``ethos optout apply`` removed, from its
signed receipt).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ethos import __version__
from ethos.reports.card import Answers, dump_yaml
from ethos.reports.card._markdown import bullet_answers, table
from ethos.reports.datasheet._questions import DATASHEET_QUESTIONS

__all__ = ["DatasheetInputs", "FileStats", "OptoutReceipt", "render_datasheet"]

_SHORT = 16


@dataclass(frozen=True, slots=True)
class FileStats:
    """What was measured about one data file.

    Attributes:
        path: The file as the user named it.
        sha256: Hex SHA-256 of its bytes.
        size: Size in bytes.
        format: ``text``, ``jsonl`` or ``csv`` as read for the PII scan, or ``None`` when not scanned.
        records: Records read (lines, JSON objects or CSV rows), or ``None`` when not scanned.
        pii_entities: Findings per entity type; ``None`` when the file was not scanned for PII.
        pii_fields: Findings per field (JSON path, CSV column, ``text``), then per entity type.
        notes: Remarks of the scan (columns chosen, detection limits).
    """

    path: str
    sha256: str
    size: int
    format: str | None = None
    records: int | None = None
    pii_entities: Mapping[str, int] | None = None
    pii_fields: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OptoutReceipt:
    """An opt-out application, as its receipt states it (ids and counts only, never identifiers).

    Attributes:
        path: The receipt file.
        dataset: The input it was applied to.
        output: The cleaned output it wrote.
        applied_at: When (UTC, ISO 8601).
        removed: Total rows or lines removed.
        units: ``rows`` or ``lines``.
        units_before: Units before removal.
        units_after: Units after removal.
        sha256_after: Checksum of the output.
        matches: The data file given to the datasheet whose checksum equals ``sha256_after``, if any.
    """

    path: str
    dataset: str
    output: str
    applied_at: str
    removed: int
    units: str
    units_before: int
    units_after: int
    sha256_after: str
    matches: str | None = None


@dataclass(frozen=True, slots=True)
class DatasheetInputs:
    """Everything a datasheet is rendered from."""

    answers: Answers = field(default_factory=DATASHEET_QUESTIONS.empty)
    files: Sequence[FileStats] = ()
    receipts: Sequence[OptoutReceipt] = ()


def render_datasheet(inputs: DatasheetInputs) -> str:
    """The datasheet as Markdown."""
    a = inputs.answers
    name = a.text("dataset", "name") or ", ".join(f.path for f in inputs.files) or "unnamed data set"
    version = a.text("dataset", "version")
    parts = [
        [
            f"# Datasheet: {name}" + (f" (version {version})" if version else ""),
            "",
            f'_Written by Ethos {__version__} after Gebru et al., "Datasheets for Datasets" (CACM 2021). '
            "Sizes, checksums, record counts, personal-data counts and opt-out removals are measured; each "
            "question marked TODO is for a person to answer._",
        ],
        _section(a, "motivation"),
        [*_section(a, "composition"), "", *_measured(inputs.files)],
        _section(a, "collection"),
        _section(a, "preprocessing"),
        _section(a, "uses"),
        [*_section(a, "distribution"), "", *_provenance(inputs.files)],
        [*_section(a, "maintenance"), "", *_receipts(inputs.receipts)],
    ]
    body = "\n\n".join("\n".join(p).rstrip() for p in parts) + "\n"
    return f"---\n{dump_yaml(_front_matter(inputs, name))}---\n\n{body}"


_SIZE_BOUNDS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))  # fmt: skip


def _front_matter(inputs: DatasheetInputs, name: str) -> dict[str, object]:
    """Hugging Face dataset-card metadata (hub-docs ``datasetcard.md``), so the datasheet can be a data set's README."""
    a = inputs.answers
    meta: dict[str, object] = {"pretty_name": name}
    licence = a.text("distribution", "license")
    if licence:
        meta["license"] = licence
    language = a.get("dataset", "language")
    if isinstance(language, tuple):
        meta["language"] = list(language)
    counts = [f.records for f in inputs.files]
    if counts and all(c is not None for c in counts):
        total = sum(c for c in counts if c is not None)
        meta["size_categories"] = [next((label for bound, label in _SIZE_BOUNDS if total < bound), "n>1B")]
    meta["tags"] = ["ethos", "datasheet"]
    return meta


def _section(a: Answers, key: str) -> list[str]:
    section = a.questionnaire.section(key)
    return [f"## {section.title}", "", *bullet_answers(a, section)]


def _measured(files: Sequence[FileStats]) -> list[str]:
    if not files:
        return ["### Measured", "", "No data file was given (`--data FILE`), so nothing was measured."]
    out = ["### Measured", ""]
    out += table(
        ["file", "format", "records", "bytes", "sha256"],
        [
            (f.path, f.format or "", "" if f.records is None else f.records, f.size, f.sha256[:_SHORT] + "…")
            for f in files
        ],
    )
    out += ["", "### Personal data found", "", _pii_note(files), ""]
    scanned = [f for f in files if f.pii_entities is not None]
    entities = sorted({e for f in scanned for e in (f.pii_entities or {})})
    if entities:
        rows = [(f.path, *((f.pii_entities or {}).get(e, 0) for e in entities)) for f in scanned]
        out += table(["file", *entities], rows)
        out += ["", "Per field:", ""]
        per_field = [
            (f.path, name, entity, count)
            for f in scanned
            for name, counts in sorted(f.pii_fields.items())
            for entity, count in sorted(counts.items())
        ]
        out += table(["file", "field", "entity", "findings"], per_field)
    elif scanned:
        out.append("No personal data was detected in the scanned files.")
    notes = [f"- {f.path}: {note}" for f in scanned for note in f.notes]
    return out + (["", "Scan notes:", "", *notes] if notes else [])


def _pii_note(files: Sequence[FileStats]) -> str:
    skipped = [f.path for f in files if f.pii_entities is None]
    text = (
        "Counts of findings by Ethos's PII detector (patterns with validators, plus NER where enabled). "
        "Values are never shown. Detectors miss some personal data and flag some non-personal data, so read "
        "these as estimates."
    )
    return text + (f" Not scanned: {', '.join(skipped)}." if skipped else "")


def _provenance(files: Sequence[FileStats]) -> list[str]:
    if not files:
        return []
    out = ["### Files as measured", "", "Full SHA-256 checksums, to tie this datasheet to exact bytes:", ""]
    return out + [f"- `{f.path}`: `{f.sha256}` ({f.size} bytes)" for f in files]


def _receipts(receipts: Sequence[OptoutReceipt]) -> list[str]:
    out = ["### Opt-out requests honoured", ""]
    if not receipts:
        return [*out, "No opt-out receipt was given (`--optout-receipt FILE`)."]
    rows = [
        (
            r.applied_at,
            r.dataset,
            r.output,
            f"{r.removed} {r.units}",
            f"{r.units_before} → {r.units_after}",
            r.matches or "no given file",
            r.path,
        )
        for r in receipts
    ]
    out += table(["applied", "input", "output", "removed", "before → after", "output is", "receipt"], rows)
    out += [
        "",
        "Receipts are signed by `ethos optout apply`; check one with "
        "`ethos optout verify-receipt RECEIPT --data FILE`.",
    ]
    return out
