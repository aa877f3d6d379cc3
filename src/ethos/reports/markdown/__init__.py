"""The Markdown report: the same content as the HTML report, as tables, without plots.

Registered as renderer ``md``; needs no extra. Record text is escaped for Markdown tables and
inline HTML, since Markdown viewers render raw HTML.
"""

from __future__ import annotations

from ethos.reports.markdown._renderer import MarkdownRenderer, md_escape

__all__ = ["MarkdownRenderer", "md_escape"]
