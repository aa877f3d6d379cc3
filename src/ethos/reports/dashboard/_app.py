"""The dashboard's ASGI app: server-rendered pages over a read-only run database.

Pages: ``/`` (models and runs, filtered by ``?model=`` and ``?benchmark=``), ``/runs/{id}`` (one
run: header, metrics with intervals, per-group values, gate results) and ``/model?spec=`` (one
model's runs and metric trends). Everything the pages load is served from ``/static/`` — Plotly
included — and a Content-Security-Policy forbids any other origin, so the browser makes no
request beyond this server. Requests for any host name but the bound ones are refused (a web page
elsewhere cannot read the dashboard through DNS rebinding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ethos.errors import EthosError
from ethos.records import GateRules
from ethos.reports.dashboard._gates import GateCache, GateView
from ethos.reports.dashboard._pages import RUN_LIMIT, Pages
from ethos.reports.dashboard._runs import ReadOnlyRuns

__all__ = ["LOOPBACK_HOSTS", "SECURITY_HEADERS", "create_app"]

_HERE = Path(__file__).parent

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1", "[::1]")
"""Host names the dashboard answers to when bound to the loopback interface."""

SECURITY_HEADERS: dict[str, str] = {
    # Scripts and styles from this server only; Plotly adds inline <style> elements, hence
    # 'unsafe-inline' for styles (never for scripts). No connect-src: pages make no requests.
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
"""Headers sent with every response."""

_STATIC_CACHE = "public, max-age=86400"


class _SecurityHeaders:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` (and caching rules) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                cache = _STATIC_CACHE if static else "no-store"
                headers.append((b"cache-control", cache.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class _State:
    runs: ReadOnlyRuns
    gate_cache: GateCache | None
    pages: Pages

    def gates(self) -> GateView | None:
        return None if self.gate_cache is None else self.gate_cache.view()


def _state(request: Request) -> _State:
    state: _State = request.app.state.dashboard
    return state


# Page handlers are plain functions: Starlette runs them in its thread pool, so SQLite reads and
# template rendering never block the event loop (ReadOnlyRuns serialises its connection).
def _index(request: Request) -> Response:
    state = _state(request)
    model = request.query_params.get("model") or None
    benchmark = request.query_params.get("benchmark") or None
    limit = request.query_params.get("limit", "")
    shown = int(limit) if limit.isdigit() else RUN_LIMIT
    html = state.pages.index(state.runs, state.gates(), model=model, benchmark=benchmark, limit=shown)
    return HTMLResponse(html)


def _run(request: Request) -> Response:
    state = _state(request)
    run_id = request.path_params["run_id"]
    summary = state.runs.summary(run_id)
    record = state.runs.header(run_id) if summary is not None else None
    if summary is None or record is None:
        raise HTTPException(404, f"no run {run_id!r} in {state.runs.path}")
    previous_id = state.runs.previous_finished(record)
    previous = state.runs.header(previous_id) if previous_id is not None else None
    return HTMLResponse(state.pages.run(record, summary, state.gates(), previous))


def _model(request: Request) -> Response:
    state = _state(request)
    spec = request.query_params.get("spec", "")
    summaries = state.runs.summaries(model=spec) if spec else []
    if not summaries:
        raise HTTPException(404, f"no runs of model {spec!r} in {state.runs.path}")
    return HTMLResponse(state.pages.model(spec, summaries, state.gates()))


async def _plotly(request: Request) -> Response:
    return FileResponse(_state(request).pages.plotly_js, media_type="text/javascript")


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else str(exc)
    html = _state(request).pages.error(status, detail)
    return HTMLResponse(html, status_code=status)


def create_app(
    db_path: Path,
    *,
    rules: GateRules | None = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
) -> Starlette:
    """The dashboard app over the database at ``db_path``, opened read-only now.

    Args:
        db_path: The run database (``Settings.db_path``).
        rules: Gate rules to evaluate on every page (see :mod:`ethos.reports.dashboard._gates`).
        allowed_hosts: Host names to answer to (``Host`` header); ``("*",)`` answers to any.

    Raises:
        StoreError: The database is missing, not Ethos's, or needs a migration.
        MissingDependencyError: Plotly (``ethos[reports]``) is not installed.
    """
    runs = ReadOnlyRuns(db_path)
    try:
        pages = Pages.load()
    except BaseException:
        runs.close()
        raise
    routes = [
        Route("/", _index),
        Route("/runs/{run_id}", _run),
        Route("/model", _model),
        Route("/static/plotly.min.js", _plotly),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(_SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
    ]
    handlers: dict[Any, Any] = {HTTPException: _http_error, EthosError: _http_error}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.dashboard = _State(runs=runs, gate_cache=None if rules is None else GateCache(rules, runs), pages=pages)
    return app
