"""Evidence from the run store for compliance documents: each model's latest audits and their numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ethos.records import RunRecord, RunStore
from ethos.reports._notes import ci_label
from ethos.reports.card import BenchmarkNote, headline_metrics
from ethos.reports.card._markdown import fmt_ci, fmt_num, table

__all__ = ["audit_table", "latest_runs"]

_SHOWN = 3
_SHORT = 12


def latest_runs(store: RunStore, models: Sequence[str] = ()) -> tuple[RunRecord, ...]:
    """The latest finished run of each benchmark of each model (every model in the store when none is named).

    A named model without finished runs is simply absent; the document says so.
    """
    summaries = store.query(status="finished")  # newest first
    wanted = set(models)
    latest: dict[tuple[str, str], str] = {}
    for s in summaries:
        if wanted and s.model not in wanted and s.model.partition(":")[2] not in wanted:
            continue
        latest.setdefault((s.model, s.benchmark), s.id)
    return tuple(store.get(latest[key]) for key in sorted(latest))


def audit_table(runs: Sequence[RunRecord], notes: Mapping[str, BenchmarkNote]) -> list[str]:
    """One row per run: model, benchmark, run, date and its first headline metrics with intervals."""
    if not runs:
        return ["No finished audit run is on file. Run `ethos audit run --model SPEC --suite bias` first."]
    rows = []
    for run in runs:
        note = notes.get(run.benchmark.name) or BenchmarkNote(run.benchmark.name)
        ordered = headline_metrics(run, note)
        chosen = [m for m in ordered if m.name in note.headline] or ordered
        shown = [f"{m.name} = {fmt_num(m.value)}" + (f" {fmt_ci(m)}" if fmt_ci(m) else "") for m in chosen[:_SHOWN]]
        finished = run.finished_at.date().isoformat() if run.finished_at else ""
        rows.append(
            (
                run.model.spec,
                f"{run.benchmark.name} v{run.benchmark.version}",
                run.id[:_SHORT],
                finished,
                "; ".join(shown) or "no metrics",
            )
        )
    return table(["model", "benchmark", "run", "finished", f"headline metrics [{ci_label(runs)}]"], rows)
