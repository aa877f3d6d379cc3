"""``ethos dashboard``: a local, read-only web view of the run database.

Server-rendered pages (Jinja2, autoescaped; no JS framework, no build step) list models and runs,
show one run's metrics with their intervals and per-group values, plot each model's metric trends
(Plotly, served from this machine), and, given gate rules, mark the runs and metrics that break
them. The database is opened with SQLite's read-only mode; the server binds to 127.0.0.1 unless
told otherwise, answers only to the host names it is bound under, sends a Content-Security-Policy
that forbids every other origin, and makes no outside requests (no telemetry, no CDN).

Needs the ``dashboard`` extra (starlette, uvicorn, jinja2, plotly)::

    from ethos.reports.dashboard import create_app
    app = create_app(settings.db_path, rules=load_rules(Path("gates.toml")))
"""

from ethos.reports.dashboard._app import LOOPBACK_HOSTS, SECURITY_HEADERS, create_app
from ethos.reports.dashboard._gates import GateView, evaluate_database
from ethos.reports.dashboard._runs import ReadOnlyRuns
from ethos.reports.dashboard._serve import PUBLIC_HOST_WARNING, bind, check_host, is_loopback, serve

__all__ = [
    "LOOPBACK_HOSTS",
    "PUBLIC_HOST_WARNING",
    "SECURITY_HEADERS",
    "GateView",
    "ReadOnlyRuns",
    "bind",
    "check_host",
    "create_app",
    "evaluate_database",
    "is_loopback",
    "serve",
]
