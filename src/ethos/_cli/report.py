"""``ethos report``: write self-contained documents from stored runs (HTML or Markdown).

``run`` and ``history`` are here; the model card, datasheet and compliance records live in
:mod:`ethos._cli.report_docs`. Records and renderers are imported inside the commands, so
``ethos --help`` stays fast.
"""

from __future__ import annotations

import typer

from ethos._cli import report_docs
from ethos._cli.report_run import history, run

app = typer.Typer(
    name="report",
    help="Write reports from stored runs: one run, a model's history, model cards, datasheets.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.command("run")(run)
app.command("history")(history)
app.command("card")(report_docs.card)
app.command("datasheet")(report_docs.datasheet)
app.command("transparency")(report_docs.transparency)
app.command("gdpr")(report_docs.gdpr)
