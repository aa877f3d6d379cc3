"""What the dashboard's pages show, worked out from records (never recomputed): rows and figures.

Numbers are shown to four significant digits; each cell also carries the stored value in full
in ``data-value`` so that a reader (or a test) can check it against the record.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ethos.records import MetricRecord, RuleResult, RunSummary
from ethos.reports.dashboard._gates import GateView
from ethos.reports.dashboard._runs import ModelStats

__all__ = [
    "MetricRow",
    "ModelRow",
    "fmt",
    "group_label",
    "metric_rows",
    "model_rows",
    "trend_figures",
    "version_label",
]

_PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563")


def fmt(value: float | None) -> str:
    """A number to four significant digits; ``undefined`` for NaN, empty for ``None``."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return "undefined"
    return f"{value:.4g}"


def group_label(group: dict[str, str]) -> str:
    """``key=value, …``, or ``(all)`` for the overall value."""
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "(all)"


def version_label(summary: RunSummary) -> str:
    """A short name for the model version a run measured: its weight digest, shortened."""
    digest = summary.model_digest
    if not digest:
        return "digest unknown"
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}:{hexdigest[:10]}" if hexdigest else digest[:16]


@dataclass(frozen=True)
class MetricRow:
    """One metric of a run, with the rules that judged it."""

    metric: MetricRecord
    gates: tuple[RuleResult, ...] = ()

    @property
    def group(self) -> str:
        """The group label."""
        return group_label(self.metric.group)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The rules this metric failed."""
        return tuple(r for r in self.gates if r.status == "fail")


def metric_rows(run_id: str, metrics: Sequence[MetricRecord], gates: GateView | None) -> list[MetricRow]:
    """The run's metrics in record order, each with its gate results."""
    rows = []
    for m in metrics:
        judged = tuple(gates.for_metric(run_id, m.name, m.group)) if gates is not None else ()
        rows.append(MetricRow(m, judged))
    return rows


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
    """Plotly figures (as JSON-ready dicts), one per benchmark and overall metric, over finished runs.

    The x axis is the run's time, oldest first; points carry the model version (weight digest)
    and run id in their hover text, and their confidence interval as error bars.
    """
    series: dict[tuple[str, str], list[tuple[RunSummary, MetricRecord]]] = defaultdict(list)
    for s in sorted(summaries, key=lambda s: (s.created_at, s.id)):
        if s.status != "finished":
            continue
        for m in s.metrics:
            if not m.group:
                series[(s.benchmark, m.name)].append((s, m))
    return [_figure(benchmark, name, points, i) for i, ((benchmark, name), points) in enumerate(sorted(series.items()))]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _distance(low: float | None, high: float | None) -> float | None:
    # Length of an error bar: None (no bar) when either end is missing or undefined.
    low, high = _finite(low), _finite(high)
    return None if low is None or high is None else high - low


def _figure(benchmark: str, name: str, points: list[tuple[RunSummary, MetricRecord]], index: int) -> dict[str, Any]:
    ys = [_finite(m.value) for _, m in points]
    above = [_distance(y, m.ci_high) for y, (_, m) in zip(ys, points, strict=True)]
    below = [_distance(m.ci_low, y) for y, (_, m) in zip(ys, points, strict=True)]
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": [s.created_at.isoformat() for s, _ in points],
        "y": ys,
        "error_y": {"type": "data", "symmetric": False, "array": above, "arrayminus": below, "visible": True},
        "text": [f"{version_label(s)} · run {s.id[:12]}" for s, _ in points],
        "customdata": [s.id for s, _ in points],
        "hovertemplate": "%{y:.4g}<br>%{text}<extra></extra>",
        "line": {"color": _PALETTE[index % len(_PALETTE)]},
    }
    layout = {
        "title": {"text": f"{benchmark} · {name}"},
        "xaxis": {"title": {"text": "run time (UTC)"}},
        "yaxis": {"title": {"text": name}},
        "height": 320,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "showlegend": False,
    }
    return {"id": f"trend-{index}", "benchmark": benchmark, "metric": name, "data": [trace], "layout": layout}
