"""Compliance documents filled from configuration and runs: a transparency report and GDPR Art. 30 / 32 records.

::

    from ethos.reports.compliance import GDPR_QUESTIONS, GdprInputs, latest_runs, render_gdpr

    with RunStore.open(settings.db_path) as store:
        runs = latest_runs(store)
    text = render_gdpr(GdprInputs(GDPR_QUESTIONS.load(Path("org.toml")), runs), article=30)

Unknowns are marked TODO (:data:`ethos.reports.card.TODO_MARK`), never guessed.
"""

from __future__ import annotations

from ethos.reports.compliance._evidence import audit_table, latest_runs
from ethos.reports.compliance._gdpr import GDPR_QUESTIONS, GdprInputs, render_gdpr
from ethos.reports.compliance._transparency import TRANSPARENCY_QUESTIONS, TransparencyInputs, render_transparency

__all__ = [
    "GDPR_QUESTIONS",
    "TRANSPARENCY_QUESTIONS",
    "GdprInputs",
    "TransparencyInputs",
    "audit_table",
    "latest_runs",
    "render_gdpr",
    "render_transparency",
]
