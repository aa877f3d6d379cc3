"""What a report shows, taken from records without recomputing them: the view every renderer draws.

A :class:`RunView` is one run (header, headline metrics, per-group metrics, worst examples,
notes); a :class:`HistoryView` is one model's runs over time (a trend per benchmark and metric).
Renderers (HTML, Markdown) only lay these out, so both show the same content.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ethos.records import MetricRecord, RunRecord
from ethos.reports._examples import ExampleSection, worst_examples
from ethos.reports._notes import MetricNote, metric_note
from ethos.reports._plots import TrendPoint, group_bar_figure, trend_figure

__all__ = [
    "GroupSection",
    "HistoryView",
    "RunView",
    "TrendSection",
    "ci_text",
    "fmt",
    "history_view",
    "raw",
    "run_view",
    "series_key",
]

Rows = tuple[tuple[str, str], ...]
_LONG = 300


def fmt(value: float | None) -> str:
    """A recorded number as reports print it: four significant digits, ``undefined`` for NaN/inf."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return "undefined"
    return f"{value:.4g}"


def raw(value: float | None) -> str:
    """The recorded number in full (``repr``), for machine-readable attributes; empty for ``None``."""
    return "" if value is None else repr(float(value))


def ci_text(m: MetricRecord) -> str:
    """``[low, high]`` as printed, or empty when the record has no interval."""
    if m.ci_low is None or m.ci_high is None:
        return ""
    return f"[{fmt(m.ci_low)}, {fmt(m.ci_high)}]"


def _json_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= _LONG else text[: _LONG - 1] + "…"


@dataclass(frozen=True, slots=True)
class GroupSection:
    """One metric disaggregated by group: its rows, a bar chart and its note."""

    name: str
    rows: tuple[MetricRecord, ...]
    note: MetricNote
    figure: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RunView:
    """Everything a one-run report shows."""

    run: RunRecord
    title: str
    summary: Rows
    provenance: dict[str, Rows]
    headline: tuple[MetricRecord, ...]
    groups: tuple[GroupSection, ...]
    examples: ExampleSection
    notes: tuple[tuple[str, MetricNote], ...]

    @property
    def variant(self) -> str:
        """The benchmark variant the run recorded, or empty."""
        return str(self.run.settings.get("variant") or "")


def run_view(
    run: RunRecord, *, plots: bool = True, examples: int = 5, mask: Callable[[str], str] | None = None
) -> RunView:
    """Build the view of one run.

    Args:
        run: The record.
        plots: Build the per-group figures.
        examples: How many worst examples to show (0: none).
        mask: Masks personal data in sample text; without it, text is left out (never shown clear).
    """
    bench = run.benchmark.name
    by_name: dict[str, list[MetricRecord]] = {}
    for m in run.metrics:
        if m.group:
            by_name.setdefault(m.name, []).append(m)
    groups = tuple(
        GroupSection(name, tuple(rows), metric_note(bench, name), group_bar_figure(name, rows) if plots else None)
        for name, rows in by_name.items()
    )
    names = list(dict.fromkeys(m.name for m in run.metrics))
    return RunView(
        run=run,
        title=f"{bench} on {run.model.spec}",
        summary=_summary(run),
        provenance=_provenance(run),
        headline=run.overall_metrics(),
        groups=groups,
        examples=worst_examples(run, examples, mask),
        notes=tuple((n, metric_note(bench, n)) for n in names),
    )


def _summary(run: RunRecord) -> Rows:
    errors = sum(1 for s in run.samples if s.error is not None)
    rows = [
        ("Run", run.id),
        ("Status", run.status),
        ("Model", run.model.spec),
        ("Weights digest", run.model.digest or "unknown"),
        ("Model revision", run.model.revision or "unknown"),
        ("Benchmark", f"{run.benchmark.name} v{run.benchmark.version}"),
        ("Variant", str(run.settings.get("variant") or "not recorded")),
        ("Samples", f"{len(run.samples)} ({errors} with errors)"),
        ("Created (UTC)", run.created_at.isoformat()),
        ("Finished (UTC)", run.finished_at.isoformat() if run.finished_at else "not finished"),
        ("Duration", "unknown" if run.duration is None else f"{run.duration:.1f} s"),
        ("Ethos version", run.ethos_version),
        ("Record schema", str(run.schema_version)),
    ]
    if run.tags:
        rows.append(("Tags", ", ".join(run.tags)))
    return tuple(rows)


def _provenance(run: RunRecord) -> dict[str, Rows]:
    out: dict[str, Rows] = {}
    out["Data files"] = tuple(
        (f.source, f"sha256 {f.sha256}" + ("" if f.size is None else f", {f.size} bytes")) for f in run.data
    )
    out["Seeds"] = tuple((k, str(v)) for k, v in run.seeds.items())
    out["Settings"] = tuple((k, _json_text(v)) for k, v in run.settings.items())
    t = run.timings
    timing = [("started", t.started.isoformat()), ("finished", t.finished.isoformat() if t.finished else "")]
    timing += [("seconds", "" if t.seconds is None else f"{t.seconds:.3f}")]
    timing += [(f"stage {k} (s)", f"{v:.3f}") for k, v in t.stages.items()]
    out["Timings"] = tuple(timing)
    if run.energy is not None:
        out["Energy"] = tuple(
            (k, _json_text(v)) for k, v in run.energy.model_dump(mode="json").items() if v is not None
        )
    env = run.environment.model_dump(mode="json")
    packages = env.pop("packages", {})
    rows = [(k, _json_text(v)) for k, v in env.items() if v is not None]
    out["Environment"] = tuple(rows + [(f"package {k}", v) for k, v in packages.items()])
    return out


@dataclass(frozen=True, slots=True)
class TrendSection:
    """One benchmark's metric over a model's runs: a line per comparable series, and the table."""

    benchmark: str
    metric: str
    note: MetricNote
    rows: tuple[tuple[RunRecord, MetricRecord, str], ...]
    figure: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class HistoryView:
    """Everything a history report shows: a model's runs, oldest first, and trends of their metrics."""

    title: str
    runs: tuple[RunRecord, ...]
    trends: tuple[TrendSection, ...]
    models: tuple[str, ...]


def series_key(run: RunRecord) -> str:
    """Which runs may share a trend line: same benchmark version and variant."""
    variant = run.settings.get("variant")
    return f"v{run.benchmark.version}" + (f" · {variant}" if variant else "")


def history_view(runs: Sequence[RunRecord], *, plots: bool = True, title: str | None = None) -> HistoryView:
    """Build the view of several runs (any models and benchmarks), oldest first.

    Only overall (not disaggregated) metrics are trended; runs with another benchmark version or
    variant form separate series, since their numbers are not comparable.
    """
    ordered = tuple(sorted(runs, key=lambda r: (r.created_at, r.id)))
    found: dict[tuple[str, str], list[tuple[RunRecord, MetricRecord, str]]] = {}
    for run in ordered:
        for m in run.overall_metrics():
            found.setdefault((run.benchmark.name, m.name), []).append((run, m, series_key(run)))
    trends = tuple(
        TrendSection(bench, name, metric_note(bench, name), tuple(rows), _trend(bench, name, rows) if plots else None)
        for (bench, name), rows in sorted(found.items())
    )
    models = tuple(dict.fromkeys(r.model.spec for r in ordered))
    return HistoryView(title or f"History of {', '.join(models) or 'no runs'}", ordered, trends, models)


def _trend(bench: str, name: str, rows: Sequence[tuple[RunRecord, MetricRecord, str]]) -> dict[str, Any]:
    series: dict[str, list[TrendPoint]] = {}
    for run, m, key in rows:
        version = run.model.revision or (run.model.digest or "digest unknown")[:19]
        series.setdefault(key, []).append(TrendPoint(run.created_at.isoformat(), m, f"{version} · run {run.id[:12]}"))
    return trend_figure(f"{bench} · {name}", name, series)

