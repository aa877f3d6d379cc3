"""A real loopback model server for tests: a tiny transformers model behind the OpenAI and Ollama APIs.

One starlette app serves both wire formats (as Ollama itself does):

- OpenAI: ``GET /v1/models``, ``POST /v1/completions`` (echo + log-probs in the legacy shape, or the
  chat shape), ``POST /v1/chat/completions``, ``POST /v1/embeddings``; SSE streaming.
- Ollama: ``GET /api/version``, ``GET /api/tags``, ``POST /api/show``, ``POST /api/generate``,
  ``POST /api/chat``, ``POST /api/embed``; NDJSON streaming.

Decoding is greedy at temperature 0. Faults are set per server on :attr:`LoopbackServer.faults`
(see :class:`Faults`) and every request is recorded in :attr:`LoopbackServer.requests`::

    with LoopbackServer(TinyLM(path)) as server:
        server.faults.fail_first = 2
        httpx.get(server.url + "/v1/models")   # 503, 503, then 200

The server runs uvicorn in a background thread on ``127.0.0.1`` with an OS-assigned port.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers.server_model import TinyLM

MODEL_NAME = "tiny-gpt2"
OLLAMA_NAME = "tiny-gpt2:latest"


@dataclass
class Faults:
    """Misbehaviour to inject; every field's default is "behave".

    Attributes:
        fail_first: Answer this many requests (any route) with ``fail_status`` before serving.
        fail_status: The status of those failures (429, 503, ...).
        fail_paths: When given, only requests to these paths fail (e.g. ``("/v1/completions",)``).
        retry_after: ``Retry-After`` header value sent with those failures, e.g. ``"0"``.
        delay: Seconds to wait before answering each request (for timeout tests).
        api_key: Require ``Authorization: Bearer <api_key>`` (401 otherwise).
        malformed: ``"field"``: drop a required field from the reply; ``"json"``: send invalid JSON.
        stream_error: Break streams after the first chunk with an in-band error (SSE error event /
            NDJSON ``{"error": ...}`` line) while the HTTP status stays 200.
        reject_echo: Refuse ``echo`` on ``/v1/completions`` exactly as llama-server does.
        ollama_version: What ``/api/version`` reports; log-probs are ignored below 0.12.11.
        add_bos: Prepend a BOS token to every prompt, shown in echoed tokens (Llama-style servers).
        completions_logprobs: Log-prob shape on ``/v1/completions``: ``"legacy"`` (vLLM, OpenAI) or
            ``"chat"`` (``{"content": [...]}``, as Ollama and newer llama-server send).
        token_bytes: Include ``bytes`` in chat-shape log-prob entries.
        sse_comments: Send ``: ping`` comment lines in SSE streams (llama-server keep-alives).
        reply: Script the generated text: the model emits exactly these tokens (then stops), with
            their real log-probs; ``max_tokens`` and stop strings still apply. For gateway tests
            that need known output (e.g. PII split across stream chunks).
        token_delay: Seconds between streamed pieces (for time-to-first-token and buffering tests).
    """

    fail_first: int = 0
    fail_status: int = 503
    fail_paths: tuple[str, ...] = ()
    retry_after: str | None = None
    delay: float = 0.0
    api_key: str | None = None
    malformed: Literal["", "field", "json"] = ""
    stream_error: bool = False
    reject_echo: bool = False
    ollama_version: str = "0.13.5"
    add_bos: bool = False
    completions_logprobs: Literal["legacy", "chat"] = "legacy"
    token_bytes: bool = True
    sse_comments: bool = False
    reply: str | None = None
    token_delay: float = 0.0

    def reset(self) -> None:
        """Back to the defaults."""
        for f in fields(self):
            setattr(self, f.name, f.default)


@dataclass(frozen=True)
class RecordedRequest:
    """What the server received: method, path, headers (lower-case names) and the JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ServerState:
    """What the routes share: the model, the faults and the request log."""

    lm: TinyLM
    faults: Faults = field(default_factory=Faults)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self, path: str) -> bool:
        """Whether this request is one of the ``fail_first`` to fail (counts it down)."""
        with self.lock:
            if self.faults.fail_paths and path not in self.faults.fail_paths:
                return False
            if self.faults.fail_first > 0:
                self.faults.fail_first -= 1
                return True
            return False


Family = Literal["openai", "ollama"]
Handler = Callable[[ServerState, Any], Awaitable[Response]]


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_response(family: Family, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in the family's shape: OpenAI's nested object or Ollama's flat string."""
    if family == "ollama":
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    kind = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}
    body = {"error": {"message": message, "type": kind.get(status, "server_error"), "param": None, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def json_response(state: ServerState, body: Any, malform: Callable[[Any], None] | None = None) -> Response:
    """A JSON reply, broken as ``faults.malformed`` asks (``malform`` drops the route's required field)."""
    if state.faults.malformed == "json":
        return Response('{"truncated": ', media_type="application/json")
    if state.faults.malformed == "field" and malform is not None:
        malform(body)
    return JSONResponse(body)


def known_model(name: object) -> bool:
    """Whether ``name`` names the served model (with or without Ollama's ``:latest`` tag)."""
    return name in (MODEL_NAME, OLLAMA_NAME)


def endpoint(family: Family, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with request recording and the transport faults (auth, failures, delay)."""

    async def route(request: Request) -> Response:
        state: ServerState = request.app.state.server
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return error_response(family, 400, "request body is not JSON")
        state.requests.append(RecordedRequest(request.method, request.url.path, dict(request.headers), body))
        faults = state.faults
        if faults.delay:
            await asyncio.sleep(faults.delay)
        if faults.api_key and request.headers.get("authorization") != f"Bearer {faults.api_key}":
            return error_response(family, 401, "Incorrect API key provided")
        if state.take_failure(request.url.path):
            headers = {"Retry-After": faults.retry_after} if faults.retry_after is not None else None
            message = "Rate limit reached" if faults.fail_status == 429 else "Service temporarily unavailable"
            return error_response(family, faults.fail_status, message, headers)
        if request.method == "POST" and not isinstance(body, dict):
            return error_response(family, 400, "request body must be a JSON object")
        return await handler(state, body or {})

    return route


def build_app(lm: TinyLM) -> Starlette:
    """The starlette app serving ``lm`` over both APIs; ``app.state.server`` holds the :class:`ServerState`."""
    from tests.helpers import server_ollama, server_openai

    routes = [
        Route(path, endpoint(family, handler), methods=[method])
        for family, table in (("openai", server_openai.ROUTES), ("ollama", server_ollama.ROUTES))
        for path, method, handler in table
    ]
    app = Starlette(routes=routes)
    app.state.server = ServerState(lm)
    return app


class AppServer:
    """Any ASGI app served by uvicorn in a background thread on 127.0.0.1 (OS-assigned port).

    Attributes:
        url: ``http://127.0.0.1:<port>``; ``https://`` when given a certificate.
        port: The port.
    """

    def __init__(
        self,
        app: Any,
        *,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        lifespan: bool = False,
        graceful_s: float = 2.0,
    ) -> None:
        """Bind the socket now; :meth:`start` (or ``with``) serves; with ``certfile``/``keyfile`` it speaks HTTPS.

        ``lifespan`` runs the app's startup and shutdown; ``graceful_s`` is how long stopping waits
        for requests in flight.
        """
        self.app = app
        self._lifespan = lifespan
        self._graceful_s = graceful_s
        self._tls = (certfile, keyfile) if certfile is not None else None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving and wait until the socket accepts requests."""
        import uvicorn

        certfile, keyfile = self._tls or (None, None)
        config = uvicorn.Config(
            self.app,
            log_level="error",
            lifespan="on" if self._lifespan else "off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=max(1, math.ceil(self._graceful_s)),  # uvicorn: whole seconds; None waits forever
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="app-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("app server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> Self:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server."""
        self.stop()


class LoopbackServer(AppServer):
    """The tiny-model server of :func:`build_app` (OpenAI and Ollama APIs), served by :class:`AppServer`.

    Attributes:
        url: ``http://127.0.0.1:<port>`` (Ollama's base URL); ``https://`` when given a certificate.
        openai_url: ``url + "/v1"`` (the OpenAI base URL).
        faults: The :class:`Faults` in force; change them at any time.
        requests: Every request received, in order.
    """

    def __init__(self, lm: TinyLM, *, certfile: Path | None = None, keyfile: Path | None = None) -> None:
        """Build the app; :meth:`start` (or ``with``) runs it; with ``certfile``/``keyfile`` it speaks HTTPS."""
        super().__init__(build_app(lm), certfile=certfile, keyfile=keyfile)
        self.state: ServerState = self.app.state.server
        self.openai_url = self.url + "/v1"

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self.state.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far."""
        return self.state.requests

    def reset(self) -> None:
        """Clear the faults and the request log."""
        self.state.faults.reset()
        self.state.requests.clear()


class ApiServer:
    """One API of a running :class:`LoopbackServer`, as the test fixtures hand it out.

    Attributes:
        server: The running server.
        api: ``"openai"`` or ``"ollama"``.
        url: The server's root URL, ``http://127.0.0.1:<port>``.
        base_url: The API's base URL: ``url + "/v1"`` for OpenAI, ``url`` for Ollama.
        model: The model name to use with this API.
    """

    def __init__(self, server: LoopbackServer, api: Family) -> None:
        """View ``server`` through ``api``."""
        self.server = server
        self.api = api
        self.url = server.url
        self.base_url = server.openai_url if api == "openai" else server.url
        self.model = MODEL_NAME if api == "openai" else OLLAMA_NAME

    @property
    def faults(self) -> Faults:
        """The faults in force (shared by both APIs)."""
        return self.server.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request the server received since the fixture started."""
        return self.server.requests

    def set_faults(self, **changes: Any) -> Faults:
        """Set fault fields by name, e.g. ``set_faults(fail_first=2, retry_after="0")``."""
        for name, value in changes.items():
            if not hasattr(self.server.faults, name):
                raise AttributeError(f"no fault named {name!r}")
            setattr(self.server.faults, name, value)
        return self.server.faults

    def spec(self, model: str | None = None) -> str:
        """The Ethos model spec for this API, e.g. ``openai:tiny-gpt2@http://127.0.0.1:5555/v1``."""
        return f"{self.api}:{self.model if model is None else model}@{self.base_url}"

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [r.path for r in self.server.requests]
