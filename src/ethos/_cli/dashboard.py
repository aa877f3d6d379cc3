"""``ethos dashboard``: serve a local, read-only web view of the run database until Ctrl-C.

The host defaults to 127.0.0.1. ``ETHOS_DASHBOARD_HOST`` may name another loopback address, but
a host reachable from other machines is taken only from an explicit ``--host`` flag, and then
with a warning: the dashboard has no login.
"""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path

import typer

from ethos._cli._common import HOME_OPTION, settings_from_flags
from ethos._cli._output import console, err_console
from ethos._util.deps import require

DEFAULT_HOST = "127.0.0.1"
_HOST_ENV = "ETHOS_DASHBOARD_HOST"

HOST_OPTION = typer.Option(
    None, "--host", help=f"Address to listen on [env: {_HOST_ENV} (loopback only); default {DEFAULT_HOST}]."
)
PORT_OPTION = typer.Option(
    8765, "--port", min=0, max=65535, envvar="ETHOS_DASHBOARD_PORT", help="Port to listen on (0: any free port)."
)
RULES_OPTION = typer.Option(
    None, "--rules", envvar="ETHOS_DASHBOARD_RULES", help="Gate rules (TOML) to evaluate; breached ones show in red."
)
OPEN_OPTION = typer.Option(False, "--open", help="Open the dashboard in the default web browser.")


def dashboard(
    host: str | None = HOST_OPTION,
    port: int = PORT_OPTION,
    rules: Path | None = RULES_OPTION,
    open_browser: bool = OPEN_OPTION,
    home: Path | None = HOME_OPTION,
) -> None:
    """Serve a read-only web dashboard of models, runs, trends and gates on 127.0.0.1 (Ctrl-C stops it)."""
    for module in ("starlette", "uvicorn", "jinja2"):
        require(module, extra="dashboard", purpose="ethos dashboard")
    from ethos.records import load_rules
    from ethos.reports.dashboard import LOOPBACK_HOSTS, bind, check_host, create_app, is_loopback, serve

    chosen = host or os.environ.get(_HOST_ENV, "").strip() or DEFAULT_HOST
    warning = check_host(chosen, port, explicit=host is not None)
    rule_set = load_rules(rules) if rules is not None else None
    db_path = settings_from_flags(home).db_path
    hosts = list(LOOPBACK_HOSTS) if is_loopback(chosen) else ["*"]
    app = create_app(db_path, rules=rule_set, allowed_hosts=hosts)
    sock = bind(chosen, port)
    shown = f"[{chosen.strip('[]')}]" if ":" in chosen else chosen
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    if warning:
        err_console.print(f"warning: {warning}", markup=False)
    console.print(f"Ethos dashboard at {url} (read-only view of {db_path}); press Ctrl-C to stop", markup=False)

    def open_in_browser() -> None:
        webbrowser.open(url)

    serve(app, sock, on_started=open_in_browser if open_browser else None)
    console.print("dashboard stopped", markup=False)
