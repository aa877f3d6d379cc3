"""Read an HTML report back with the stdlib parser: metric rows, scripts, the CSP and every URL attribute."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any


@dataclass
class MetricRow:
    """One ``tr[data-metric]``: its metric name, group and ``td[data-field]`` cells (data-value, text)."""

    name: str
    group: dict[str, str]
    run: str | None
    cells: dict[str, tuple[str | None, str]] = field(default_factory=dict)


class ReportParser(HTMLParser):
    """Collects what the tests check; text inside ``<script>`` is kept apart from page text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[MetricRow] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.csp: str | None = None
        self.urls: list[tuple[str, str, str]] = []
        self.elements: list[str] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._script_text: list[str] = []
        self._cell: tuple[str, str | None] | None = None
        self._cell_text: list[str] = []
        self._in_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append(tag)
        for name in ("src", "href", "action", "data", "srcset", "poster"):
            if a.get(name):
                self.urls.append((tag, name, str(a[name])))
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")
        elif tag == "script":
            self._script, self._script_text = a, []
        elif tag == "tr":
            self._in_row = "data-metric" in a
            if self._in_row:
                group = json.loads(a.get("data-group") or "{}")
                self.rows.append(MetricRow(str(a["data-metric"]), group, a.get("data-run")))
        elif tag == "td" and "data-field" in a and self._in_row:
            self._cell, self._cell_text = (str(a["data-field"]), a.get("data-value")), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._script_text)))
            self._script = None
        elif tag == "tr":
            self._in_row = False
        elif tag == "td" and self._cell is not None:
            name, value = self._cell
            self.rows[-1].cells[name] = (value, "".join(self._cell_text).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_text.append(data)
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell_text.append(data)

    @property
    def page_text(self) -> str:
        """The visible text (outside scripts), joined."""
        return " ".join(self.text)

    def figures(self) -> dict[str, Any]:
        """The JSON data blocks (``<script type="application/json">``) by id."""
        return {str(a["id"]): json.loads(body) for a, body in self.scripts if a.get("type") == "application/json"}

    def executable(self) -> list[str]:
        """Bodies of the scripts a browser would run."""
        return [body for a, body in self.scripts if a.get("type") in (None, "", "text/javascript")]


def parse(html: str) -> ReportParser:
    """Parse a report."""
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    return parser


def shown(value: float | None) -> str:
    """How a report prints a recorded number (four significant digits)."""
    if value is None:
        return ""
    return "undefined" if value != value else f"{value:.4g}"  # noqa: PLR0124 - NaN check
