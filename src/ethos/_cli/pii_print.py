"""Tables for ``ethos pii``: summaries of a file run, findings (masked), evaluation scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console

from ethos._cli._output import table

if TYPE_CHECKING:
    from ethos.pii.files import FileSummary

__all__ = ["print_eval", "print_findings", "print_summary"]


def print_summary(summary: FileSummary, console: Console, *, title: str) -> None:
    """Counts per entity type and per field, records and speed, notes and masked examples."""
    entities = sorted(summary.entities.items(), key=lambda kv: (-kv[1], kv[0]))
    if entities:
        table(title, ["entity", "count"], entities, target=console)
        field_rows = [
            (name, ", ".join(f"{e} {n}" for e, n in counts.most_common()))
            for name, counts in sorted(summary.fields.items())
        ]
        table("per field", ["field", "findings"], field_rows, target=console)
    else:
        console.print("no personal data found", markup=False)
    if summary.examples and summary.max_examples <= 5:
        rows = [(f.line, f.field, f.entity, f.masked) for f in summary.examples]
        table("examples (values masked)", ["line", "field", "entity", "value"], rows, target=console)
    changed = f"{summary.records_changed} changed, " if summary.output is not None else ""
    line = (
        f"{summary.records_read} records read, {changed}{summary.records_skipped} skipped "
        f"in {summary.seconds:.2f} s ({summary.records_per_second:,.0f} records/s)"
    )
    console.print(line, markup=False, highlight=False)
    for bad_line, reason in summary.bad_records[:10]:
        console.print(f"skipped line {bad_line}: {reason}", markup=False, highlight=False)
    for note in summary.notes:
        console.print(f"note: {note}", markup=False, highlight=False)


def print_findings(summary: FileSummary, console: Console, *, explain: bool) -> None:
    """The kept findings, values masked, with their explanations when asked."""
    columns = ["line", "field", "start", "end", "entity", "score", "value"]
    rows: list[list[Any]] = []
    for f in summary.examples:
        row: list[Any] = [f.line, f.field, f.start, f.end, f.entity, f"{f.score:.2f}", f.masked]
        if explain:
            ex = f.explanation or {}
            parts = [str(ex.get("recognizer"))]
            if ex.get("pattern"):
                parts.append(f"pattern {ex['pattern']}")
            if ex.get("context_boost"):
                parts.append(f"context +{ex['context_boost']:.2f}")
            if ex.get("validation") is not None:
                parts.append("validated" if ex["validation"] else "failed validation")
            row.append("; ".join(parts))
        rows.append(row)
    table(f"findings (first {len(rows)}, values masked)", columns + (["why"] if explain else []), rows, target=console)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_eval(report: dict[str, Any], console: Console, *, notes: Sequence[str] = ()) -> None:
    """Per-entity and entity-agnostic precision, recall, F1, F2, then texts per second."""
    keys = ("precision", "recall", "f1", "f2")
    rows = [
        [name, *(_num(m[k]) for k in keys), m.get("support", ""), m.get("predicted", "")]
        for name, m in sorted(report["per_entity"].items())
    ]
    overall = report["overall"]
    rows.append(["all (entity-agnostic)", *(_num(overall[k]) for k in keys), overall.get("support", ""),
                 overall.get("predicted", "")])
    title = f"detection scores (character IoU ≥ {report.get('iou', 0.5)})"
    table(title, ["entity", "precision", "recall", "F1", "F2", "gold", "predicted"], rows, target=console)
    speed = report.get("texts_per_second")
    console.print(f"{'n/a' if speed is None else f'{speed:,.0f}'} texts/s", markup=False, highlight=False)
    for note in notes:
        console.print(f"note: {note}", markup=False, highlight=False)
