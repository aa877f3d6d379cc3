"""Render run and history views to one self-contained HTML file.

The file loads nothing: plotly.js is inlined once, figures are JSON data blocks drawn by one
small inline script, and a Content-Security-Policy meta tag allows only those two scripts (by
their SHA-256) and no remote loads at all. Record contents are untrusted text: templates
autoescape everything, and JSON inside ``<script>`` is escaped by
:func:`ethos.reports._plots.script_json`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethos import __version__
from ethos._util.deps import require
from ethos.reports._notes import CI_NOTE
from ethos.reports._plots import group_label, plotly_js, script_json
from ethos.reports._render import ReportOptions, renderer
from ethos.reports._view import fmt, history_view, raw, run_view

if TYPE_CHECKING:
    from ethos.records import RunRecord

__all__ = ["BOOT_JS", "HtmlRenderer", "content_security_policy"]

_TEMPLATES = Path(__file__).parent / "templates"

BOOT_JS = """(function () {
  if (typeof Plotly === "undefined") { return; }
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var fig = JSON.parse(document.getElementById(el.getAttribute("data-figure")).textContent);
    Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true});
  });
})();"""
"""Draws every figure's JSON data block with Plotly."""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@functools.lru_cache(maxsize=2)
def _script_hashes(with_plots: bool) -> str:
    return f"{_sha256(plotly_js())} {_sha256(BOOT_JS)}" if with_plots else "'none'"


def content_security_policy(*, plots: bool) -> str:
    """The report's CSP: no network at all; only the report's own inline scripts may run.

    Styles may be inline (the report's own, and those Plotly adds); images only from ``data:``.
    """
    return (
        f"default-src 'none'; script-src {_script_hashes(plots)}; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    jinja2 = require("jinja2", extra="reports", purpose="HTML reports")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt=fmt, raw=raw, group=group_label, script_json=script_json)
    return env


@renderer("html")
class HtmlRenderer:
    """One self-contained HTML page per report (about 4.9 MB with plots, tens of kB without)."""

    suffix = ".html"

    def render_text(self, runs: Sequence[RunRecord], options: ReportOptions) -> str:
        """The page for ``runs``: a run report for one run, else a history report.

        Raises:
            MissingDependencyError: Jinja2 (or, for plots, Plotly) is not installed.
            ConfigError: No runs, or several for a ``run`` report.
        """
        kind = options.kind_for(runs)
        env = _environment()
        js = plotly_js() if options.plots else ""
        common: dict[str, Any] = {
            "csp": content_security_policy(plots=options.plots),
            "ethos_version": __version__,
            "plotly_js": js,
            "boot_js": BOOT_JS if options.plots else "",
            "ci_note": CI_NOTE,
            "plots_note": "" if options.plots else "Plots were left out (--no-plots).",
        }
        if kind == "run":
            view = run_view(runs[0], plots=options.plots, examples=options.examples, mask=options.mask)
            return str(env.get_template("run.html").render(view=view, title=options.title or view.title, **common))
        history = history_view(runs, plots=options.plots, title=options.title)
        return str(env.get_template("history.html").render(view=history, title=history.title, **common))
