"""The self-contained HTML report: Jinja2 templates (autoescaped), Plotly inlined, a strict CSP.

Registered as renderer ``html``. Needs ``ethos[reports]`` (jinja2; plotly for plots).
"""

from __future__ import annotations

from ethos.reports.html._renderer import HtmlRenderer, content_security_policy

__all__ = ["HtmlRenderer", "content_security_policy"]
