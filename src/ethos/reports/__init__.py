"""Reports: documents rendered from stored run records (HTML, Markdown, model cards, dashboards).

Reports only READ records; they never recompute a number. This package imports only the core and
``ethos.records``; anything else (a PII masker, say) is passed in by the caller.
"""

from __future__ import annotations

__all__: list[str] = []
