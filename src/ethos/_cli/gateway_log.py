"""``ethos gateway log``: verify and read the gateway's tamper-evident audit log."""

from __future__ import annotations

import typer

app = typer.Typer(help="Verify and read the gateway's hash-chained audit log.", no_args_is_help=True)
