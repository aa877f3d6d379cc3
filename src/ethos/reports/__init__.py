"""Reports: documents rendered from stored run records (HTML, Markdown, model cards, dashboards).

Reports only READ records; they never recompute a number. This package imports only the core and
``ethos.records``; anything else (a PII masker, say) is passed in by the caller::

    from ethos.records import RunStore
    from ethos.reports import ReportOptions, render

    with RunStore.open(settings.db_path, create=False) as store:
        run = store.get("01J")
    render([run], Path("report.html"))                                   # one run, HTML with plots
    render(runs, Path("history.md"), format="md", options=ReportOptions(kind="history"))

Renderers are registered by format name in :data:`renderer_registry` (``html``, ``md``); what a
metric means is kept in one table (:func:`metric_note`), so a new suite appears in every report.
"""

from __future__ import annotations

from ethos.reports._examples import Example, ExampleSection, worst_examples
from ethos.reports._notes import CI_NOTE, METRIC_NOTES, MetricNote, generic_note, metric_note
from ethos.reports._render import Renderer, ReportOptions, render, render_text, renderer, renderer_registry
from ethos.reports._view import HistoryView, RunView, fmt, history_view, raw, run_view

__all__ = [
    "CI_NOTE",
    "METRIC_NOTES",
    "Example",
    "ExampleSection",
    "HistoryView",
    "MetricNote",
    "ReportOptions",
    "Renderer",
    "RunView",
    "fmt",
    "generic_note",
    "history_view",
    "metric_note",
    "raw",
    "render",
    "render_text",
    "renderer",
    "renderer_registry",
    "run_view",
    "worst_examples",
]
