"""Rendering the dashboard's pages with Jinja2 (autoescaped) from read-only records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ethos._util.deps import require
from ethos.records import RunRecord, RunSummary, compare_runs
from ethos.reports._plots import plotly_js_path
from ethos.reports._view import fmt
from ethos.reports.dashboard._gates import GateView
from ethos.reports.dashboard._runs import ReadOnlyRuns
from ethos.reports.dashboard._views import group_label, metric_rows, model_rows, signed, trend_figures, version_label

__all__ = ["RUN_LIMIT", "Pages"]

RUN_LIMIT = 200
"""Runs listed per page by default (newest first); the trends always use every run."""

_TEMPLATES = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} s"


@dataclass(frozen=True)
class Pages:
    """The page renderers: one Jinja2 environment with autoescape on, and the Plotly bundle."""

    env: Any
    plotly_js: Path

    @classmethod
    def load(cls) -> Pages:
        """Build the environment.

        Raises:
            MissingDependencyError: Jinja2 or Plotly is missing.
        """
        jinja2 = require("jinja2", extra="dashboard", purpose="the dashboard's pages")
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(
            fmt=fmt, signed=signed, group=group_label, when=_when, seconds=_seconds, version=version_label
        )
        return cls(env=env, plotly_js=plotly_js_path())

    def _render(self, name: str, **context: Any) -> str:
        return str(self.env.get_template(name).render(**context))

    def index(  # noqa: PLR0913 - the page's query parameters
        self,
        runs: ReadOnlyRuns,
        gates: GateView | None,
        *,
        model: str | None,
        benchmark: str | None,
        limit: int = RUN_LIMIT,
    ) -> str:
        """The model list and the newest ``limit`` runs (0: all), filtered by model spec and benchmark name."""
        models = model_rows(runs.models(), gates)
        return self._render(
            "index.html",
            title="Runs",
            models=models,
            runs=runs.summaries(model=model, benchmark=benchmark, limit=limit or None),
            total=runs.count(model=model, benchmark=benchmark),
            all_models=[m.spec for m in models],
            all_benchmarks=runs.benchmarks(),
            model=model or "",
            benchmark=benchmark or "",
            gates=gates,
            failed=gates.failed_runs() if gates is not None else set(),
        )

    def run(
        self, record: RunRecord, summary: RunSummary, gates: GateView | None, previous: RunRecord | None = None
    ) -> str:
        """One run: header, overall metrics (with the change since ``previous``), per-group metrics, gates."""
        comparison = compare_runs(previous, record) if previous is not None else None
        rows = metric_rows(record.id, record.metrics, gates, comparison)
        return self._render(
            "run.html",
            title=f"Run {record.id}",
            run=record,
            summary=summary,
            previous=previous,
            comparison=comparison,
            overall=[r for r in rows if not r.metric.group],
            grouped=[r for r in rows if r.metric.group],
            gate_results=gates.for_run(record.id) if gates is not None else [],
            gates=gates,
        )

    def model(self, spec: str, summaries: Sequence[RunSummary], gates: GateView | None) -> str:
        """One model: its metric trends over versions and its runs."""
        return self._render(
            "model.html",
            title=f"Model {spec}",
            spec=spec,
            runs=summaries[:RUN_LIMIT],
            total=len(summaries),
            figures=trend_figures(summaries),
            gate_results=gates.for_model(spec) if gates is not None else [],
            failed=gates.failed_runs() if gates is not None else set(),
            gates=gates,
        )

    def error(self, status: int, detail: str) -> str:
        """An error page (unknown run or model, unreadable database)."""
        return self._render("error.html", title=f"Error {status}", status=status, detail=detail, gates=None)
