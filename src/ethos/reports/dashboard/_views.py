"""What the dashboard's pages show, worked out from records (never recomputed): rows and figures.

Numbers are shown as the HTML report shows them (:func:`ethos.reports.fmt`: four significant
digits, ``undefined`` for NaN); each cell also carries the stored value in full in ``data-value``
so that a reader (or a test) can check it against the record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ethos.records import Comparison, MetricDelta, MetricRecord, RuleResult, RunSummary
from ethos.reports._plots import TrendPoint, group_label, trend_figure
from ethos.reports.dashboard._gates import GateView, group_key
from ethos.reports.dashboard._runs import ModelStats

__all__ = [
    "MetricRow",
    "ModelRow",
    "group_label",
    "metric_rows",
    "model_rows",
    "signed",
    "trend_figures",
    "version_label",
]


def version_label(summary: RunSummary) -> str:
    """A short name for the model version a run measured: its weight digest, shortened."""
    digest = summary.model_digest
    if not digest:
        return "digest unknown"
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}:{hexdigest[:10]}" if hexdigest else digest[:16]


@dataclass(frozen=True)
class MetricRow:
    """One metric of a run, with the rules that judged it and its change since the previous run."""

    metric: MetricRecord
    gates: tuple[RuleResult, ...] = ()
    change: MetricDelta | None = None

    @property
    def group(self) -> str:
        """The group label."""
        return group_label(self.metric.group)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The rules this metric failed."""
        return tuple(r for r in self.gates if r.status == "fail")


def metric_rows(
    run_id: str, metrics: Sequence[MetricRecord], gates: GateView | None, comparison: Comparison | None = None
) -> list[MetricRow]:
    """The run's metrics in record order, each with its gate results and its delta in ``comparison``."""
    changes = {} if comparison is None else {(d.name, group_key(d.group)): d for d in comparison.deltas}
    rows = []
    for m in metrics:
        judged = tuple(gates.for_metric(run_id, m.name, m.group)) if gates is not None else ()
        rows.append(MetricRow(m, judged, changes.get((m.name, group_key(m.group)))))
    return rows


def signed(value: float | None) -> str:
    """A change to four significant digits with its sign (``+0.0723``); empty for ``None``."""
    if value is None:
        return ""
    return "undefined" if value != value else f"{value:+.4g}"  # noqa: PLR0124 - NaN check


@dataclass(frozen=True)
class ModelRow:
    """One model in the model list, with the rules its latest runs failed."""

    stats: ModelStats
    failed_rules: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        """The model spec."""
        return self.stats.spec


def model_rows(models: Sequence[ModelStats], gates: GateView | None) -> list[ModelRow]:
    """One row per model, in the given order."""
    rows = []
    for m in models:
        failed = tuple(r.name for r in gates.for_model(m.spec) if r.status == "fail") if gates is not None else ()
        rows.append(ModelRow(m, failed))
    return rows


def trend_figures(summaries: Sequence[RunSummary]) -> list[dict[str, Any]]:
    """Plotly figures (JSON-ready dicts), one per benchmark and overall metric, over finished runs.

    Drawn by :func:`ethos.reports._plots.trend_figure`, as in the HTML history report: the x axis
    is the run's time, oldest first, one line per benchmark version (runs of different versions
    are not comparable), the confidence interval as a band. Points carry the model version (weight
    digest) and run id in their hover text, and the run id as ``customdata`` for click-through.
    """
    series: dict[tuple[str, str], dict[str, list[tuple[RunSummary, MetricRecord]]]] = defaultdict(dict)
    for s in sorted(summaries, key=lambda s: (s.created_at, s.id)):
        if s.status != "finished":
            continue
        for m in s.metrics:
            if not m.group:
                series[(s.benchmark, m.name)].setdefault(f"{s.benchmark} v{s.benchmark_version}", []).append((s, m))
    figures = []
    for index, ((benchmark, name), lines) in enumerate(sorted(series.items())):
        points = {
            line: [TrendPoint(s.created_at.isoformat(), m, f"{version_label(s)} · run {s.id[:12]}") for s, m in runs]
            for line, runs in lines.items()
        }
        figure = trend_figure(f"{benchmark} · {name}", name, points)
        main_traces = [t for t in figure["data"] if t.get("mode") == "lines+markers"]
        for trace, runs in zip(main_traces, lines.values(), strict=True):
            trace["customdata"] = [s.id for s, _ in runs]
        figures.append({"id": f"trend-{index}", "benchmark": benchmark, "metric": name, **figure})
    return figures
