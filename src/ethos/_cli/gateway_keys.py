"""``ethos gateway keys``: create, list and revoke the gateway's API keys."""

from __future__ import annotations

import typer

app = typer.Typer(help="Create, list and revoke gateway API keys (stored only as hashes).", no_args_is_help=True)
