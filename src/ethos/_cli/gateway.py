"""``ethos gateway``: serve a model behind keys, TLS, limits and guards; manage keys and the audit log."""

from __future__ import annotations

import typer

from ethos._cli import gateway_keys, gateway_log

app = typer.Typer(
    help="Serve any local LLM behind API keys, TLS, limits, PII and policy guards, and an audit log.",
    no_args_is_help=True,
)
app.add_typer(gateway_keys.app, name="keys")
app.add_typer(gateway_log.app, name="log")
