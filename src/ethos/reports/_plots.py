"""Plotly figures as plain JSON-ready dicts, and the plotly.js bundle to inline them offline.

Nothing here imports Plotly's Python package: figures are the dicts ``Plotly.newPlot`` takes, and
the browser bundle is the ``plotly.min.js`` file shipped inside that package (found with
:func:`importlib.util.find_spec`, about 4.8 MB). Values are copied from records; the only arithmetic
is the length of an error bar (``ci_high − value``), which Plotly's format requires.

::

    figure = group_bar_figure("ss", metrics)            # per-group bars with CI error bars
    html = f"<script>{plotly_js()}</script>"             # inline once per page
    data = f'<script type="application/json">{script_json(figure)}</script>'
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ethos.errors import MissingDependencyError
from ethos.records import MetricRecord

__all__ = [
    "PALETTE",
    "TrendPoint",
    "group_bar_figure",
    "group_label",
    "plain",
    "plotly_js",
    "plotly_js_path",
    "script_json",
    "trend_figure",
]

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
"""Colours of successive series (colour-blind-safe enough for eight series)."""

_LAYOUT: dict[str, Any] = {
    "height": 340,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 90},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` inside the installed Plotly package (Plotly itself is not imported).

    Raises:
        MissingDependencyError: Plotly is not installed (``pip install 'ethos[reports]'``).
    """
    spec = importlib.util.find_spec("plotly")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(location) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    raise MissingDependencyError("plotly", "reports", "plots in reports (plotly.min.js; or use --no-plots)")


@functools.lru_cache(maxsize=1)
def plotly_js() -> str:
    """The text of :func:`plotly_js_path`, safe to put inside a ``<script>`` element."""
    text = plotly_js_path().read_text(encoding="utf-8")
    # A literal "</script" inside the bundle would end the element early.
    return text.replace("</script", "<\\/script")


def script_json(value: Any) -> str:
    r"""Strict JSON (NaN → null) that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` are written as ``\u`` escapes, so untrusted text in labels cannot close
    the element or open a comment; ``JSON.parse`` restores them.
    """
    text = json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def group_label(group: dict[str, str]) -> str:
    """``key=value, …`` for a disaggregated metric; ``(all)`` for the overall value."""
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "(all)"


def plain(text: str) -> str:
    """``text`` for a Plotly label: its ``<tags>`` (Plotly renders a few, links included) shown as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _value(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _bar(low: float | None, high: float | None) -> float | None:
    low, high = _value(low), _value(high)
    return None if low is None or high is None else max(high - low, 0.0)


def group_bar_figure(name: str, metrics: Sequence[MetricRecord], *, title: str | None = None) -> dict[str, Any]:
    """A bar chart of one metric per group, with its confidence interval as error bars.

    Args:
        name: The metric name (the y axis title).
        metrics: The metric's per-group records, in the order to draw them.
        title: The figure title (default: ``name`` by group).
    """
    ys = [_value(m.value) for m in metrics]
    trace = {
        "type": "bar",
        "name": plain(name),
        "x": [plain(group_label(m.group)) for m in metrics],
        "y": ys,
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": [_bar(y, m.ci_high) for y, m in zip(ys, metrics, strict=True)],
            "arrayminus": [_bar(m.ci_low, y) for y, m in zip(ys, metrics, strict=True)],
            "visible": True,
        },
        "customdata": [m.n for m in metrics],
        "hovertemplate": "%{x}<br>%{y:.4g} (n=%{customdata})<extra></extra>",
        "marker": {"color": PALETTE[0]},
    }
    layout = {
        **_LAYOUT,
        "title": {"text": plain(title or f"{name} by group")},
        "yaxis": {"title": {"text": plain(name)}, "zeroline": True},
        "xaxis": {"automargin": True},
        "showlegend": False,
    }
    return {"data": [trace], "layout": layout}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One run's value of a metric, for a trend line."""

    x: str
    """Where on the x axis: the run's ISO time."""
    metric: MetricRecord
    """The recorded value and interval."""
    label: str
    """Hover text: model revision or digest, run id."""


def trend_figure(title: str, y_title: str, series: Mapping[str, Sequence[TrendPoint]]) -> dict[str, Any]:
    """Lines over runs, one per comparable series, each with its confidence interval as a band.

    Args:
        title: The figure title.
        y_title: The y axis title (the metric name).
        series: Series name → points in x order. Runs that may not be compared (another benchmark
            version or variant) belong in separate series.
    """
    data: list[dict[str, Any]] = []
    for i, (name, points) in enumerate(series.items()):
        data.extend(_trend_traces(name, points, PALETTE[i % len(PALETTE)]))
    layout = {
        **_LAYOUT,
        "title": {"text": plain(title)},
        "xaxis": {"title": {"text": "run time (UTC)"}, "type": "date"},
        "yaxis": {"title": {"text": plain(y_title)}},
        "showlegend": len(series) > 1,
        "legend": {"orientation": "h", "y": -0.3},
    }
    return {"data": data, "layout": layout}


def _trend_traces(raw_name: str, points: Sequence[TrendPoint], colour: str) -> list[dict[str, Any]]:
    name = plain(raw_name)
    xs = [p.x for p in points]
    band = [p for p in points if _value(p.metric.ci_low) is not None and _value(p.metric.ci_high) is not None]
    line = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": xs,
        "y": [_value(p.metric.value) for p in points],
        "text": [plain(p.label) for p in points],
        "hovertemplate": "%{y:.4g}<br>%{text}<extra>" + name + "</extra>",
        "line": {"color": colour},
        "marker": {"color": colour},
    }
    if not band:
        return [line]
    shade = {"color": colour, "width": 0}
    lower = {
        "type": "scatter", "mode": "lines", "x": [p.x for p in band], "y": [p.metric.ci_low for p in band],
        "line": shade, "hoverinfo": "skip", "showlegend": False, "name": f"{name} CI low",
    }  # fmt: skip
    upper = {
        **lower, "y": [p.metric.ci_high for p in band], "fill": "tonexty", "fillcolor": _translucent(colour),
        "name": f"{name} CI high",
    }  # fmt: skip
    return [lower, upper, line]


def _translucent(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},0.18)"
