"""The gateway's ASGI app: routes for both APIs, operations endpoints and the lifespan.

Routes are plain Starlette endpoints with no per-request middleware (LiteLLM's stack of ~14
middlewares is most of its 12 ms, reference/baseline-gateway.md); CORS is added only when
configured.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ethos import __version__
from ethos.errors import RequestRefused
from ethos.gateway import _wire as wire
from ethos.gateway._auditlog import AuditLog
from ethos.gateway._config import GatewayConfig, default_paths
from ethos.gateway._exchange import Exchange, upstream_failure
from ethos.gateway._keys import KeyStore
from ethos.gateway._metrics import Metrics
from ethos.gateway._pipeline import Gateway
from ethos.gateway._types import Endpoint, Format
from ethos.gateway._upstream import Upstream
from ethos.gateway.guards import build_guards

INFERENCE_ROUTES: tuple[tuple[str, Format, Endpoint], ...] = (
    ("/v1/chat/completions", "openai", "chat"),
    ("/v1/completions", "openai", "completion"),
    ("/v1/embeddings", "openai", "embedding"),
    ("/api/chat", "ollama", "chat"),
    ("/api/generate", "ollama", "completion"),
    ("/api/embed", "ollama", "embedding"),
    ("/api/embeddings", "ollama", "embedding"),
)
MODEL_ROUTES: tuple[tuple[str, Format], ...] = (("/v1/models", "openai"), ("/api/tags", "ollama"))
# Ollama's model management: an admin scope only, and only in front of an Ollama upstream.
ADMIN_ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/pull", "POST"),
    ("/api/push", "POST"),
    ("/api/create", "POST"),
    ("/api/copy", "POST"),
    ("/api/delete", "DELETE"),
    ("/api/show", "POST"),
    ("/api/ps", "GET"),
)
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def create_app(config: GatewayConfig, *, keys: KeyStore | None = None) -> Starlette:
    """Build the gateway app for ``config``.

    Args:
        config: The validated settings (see :func:`ethos.gateway.load_config`).
        keys: The key store to use; by default the one at ``[keys] path`` (none when
            ``[server] require_keys`` is false).

    Guards (and the PII engine) load here, so a misconfiguration fails before the port opens.
    """
    keys_path, audit_dir = default_paths(config)
    if keys is None and config.server.require_keys:
        keys = KeyStore(keys_path)
    audit = None
    if config.audit.enabled:
        audit = AuditLog(
            audit_dir, content=config.audit.content, key=_audit_key(config), rotate_bytes=config.audit.rotate_bytes
        )
    gateway = Gateway(
        config,
        keys=keys,
        guards=build_guards(config),
        upstream=Upstream(config.upstream, max_connections=config.server.max_concurrency),
        audit=audit,
        metrics=Metrics(),
    )
    routes = [
        *(
            Route(path, partial(_inference, gateway, caller, endpoint, path), methods=["POST"])
            for path, caller, endpoint in INFERENCE_ROUTES
        ),
        *(Route(path, partial(_models, gateway, caller, path), methods=["GET"]) for path, caller in MODEL_ROUTES),
        *(Route(path, partial(_admin, gateway, path), methods=[method]) for path, method in ADMIN_ROUTES),
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/metrics", partial(_metrics, gateway), methods=["GET"]),
        Route("/openapi.json", partial(_openapi, _OpenApiDocument(config)), methods=["GET"]),
    ]
    middleware = []
    if config.server.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.server.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
            )
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if audit is not None:
            audit.open()
        await gateway.upstream.start()
        await gateway.recorder.start()
        try:
            yield
        finally:
            await gateway.recorder.stop()
            await gateway.upstream.close()
            if audit is not None:
                audit.close()

    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
    )
    # Starlette would answer "/api/chat/" with a 307 to "/api/chat" before any key is checked: a
    # gateway answers only its exact routes, and anything else with a 404 in the caller's format.
    app.router.redirect_slashes = False
    app.state.gateway = gateway
    return app


def _audit_key(config: GatewayConfig) -> bytes | None:
    if config.audit.encrypt_key_file is None:
        return None
    from ethos.gateway._auditlog import load_key

    return load_key(config.audit.encrypt_key_file)


async def _inference(gateway: Gateway, caller: Format, endpoint: Endpoint, route: str, request: Request) -> Response:
    return await gateway.handle(request, caller, endpoint, route)


async def _models(gateway: Gateway, caller: Format, route: str, request: Request) -> Response:
    exchange = Exchange(route=route, caller=caller, endpoint="models")
    try:
        key = gateway.authenticate(request)
        exchange.key_id = key.key_id if key else None
        gateway.authorize(key, "models", None)
        path = "/v1/models" if gateway.upstream.kind == "openai" else "/api/tags"
        reply = await gateway.timed_request("GET", path, None, exchange)
        if reply.status != 200:
            raise upstream_failure(reply.status, reply.body)
        names = gateway.public_model_names(wire.decode_models(gateway.upstream.kind, reply.body))
        if key is not None:
            names = [name for name in names if key.allows_model(name)]
        same = caller == gateway.upstream.kind and not gateway.config.upstream.aliases
        body = wire.encode_models(caller, names, reply.body if same else None)
    except Exception as exc:
        return gateway.refuse(exchange, exc)
    gateway.recorder.finish(exchange)
    return JSONResponse(body, headers=gateway.headers(exchange))


async def _admin(gateway: Gateway, route: str, request: Request) -> Response:
    """Pass Ollama's model management through, for admin keys only."""
    exchange = Exchange(route=route, caller="ollama", endpoint="admin")
    try:
        key = gateway.authenticate(request)
        exchange.key_id = key.key_id if key else None
        if key is not None and not key.admin:
            raise RequestRefused(
                f"{route} manages models and needs an admin key (key {key.key_id} is not one)",
                reason="auth.admin_required",
                status=403,
            )
        gateway.authorize(key, "admin", None)
        if gateway.upstream.kind != "ollama":
            raise RequestRefused(
                f"{route} exists only in front of an Ollama upstream", reason="route.unsupported", status=404
            )
        body = await gateway.read_body(request) if request.method != "GET" else b""
        status, headers, chunks = await gateway.upstream.raw(
            request.method, route, body, {"content-type": request.headers.get("content-type", "application/json")}
        )
    except Exception as exc:
        return gateway.refuse(exchange, exc)
    exchange.status = status
    gateway.recorder.finish(exchange)
    kept = {name: value for name, value in headers.items() if name.lower() not in _HOP_HEADERS}
    return StreamingResponse(chunks, status_code=status, headers={**kept, **gateway.headers(exchange)})


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


async def _metrics(gateway: Gateway, request: Request) -> Response:
    """Prometheus metrics; an admin key is needed when keys are on (they reveal traffic)."""
    exchange = Exchange(route="/metrics", caller="openai", endpoint="admin")
    try:
        key = gateway.authenticate(request)
        if key is not None and not key.admin:
            raise RequestRefused("/metrics needs an admin key", reason="auth.admin_required", status=403)
    except Exception as exc:
        return gateway.refuse(exchange, exc)
    body, content_type = gateway.metrics.render()
    return Response(body, media_type=content_type)


class _OpenApiDocument:
    """``/openapi.json``'s body, built on first request (the config does not change while serving)."""

    def __init__(self, config: GatewayConfig) -> None:
        self._config = config
        self._body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            from ethos.gateway._openapi import openapi_document

            self._body = json.dumps(openapi_document(self._config), ensure_ascii=False).encode()
        return self._body


async def _openapi(document: _OpenApiDocument, request: Request) -> Response:
    return Response(document.body(), media_type="application/json")


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Unknown routes and wrong methods, in the format the path suggests."""
    caller: Format = "ollama" if request.url.path.startswith("/api/") else "openai"
    reason = "route.not_found" if exc.status_code == 404 else "route.method_not_allowed"
    message = f"{request.method} {request.url.path} is not served by this gateway"
    headers = dict(exc.headers or {})
    return JSONResponse(wire.error_body(caller, exc.status_code, reason, message), exc.status_code, headers=headers)

