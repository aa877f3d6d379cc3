"""Run the gateway on loopback for tests, and a scripted upstream that streams chosen pieces.

:class:`GatewayServer` is :class:`~tests.helpers.servers.AppServer` with the app's lifespan on (the
gateway opens its audit log, upstream pool and audit writer there, and drains the writer when it
stops)::

    config = gateway_config(upstream.url, "openai", tmp_path)
    store = KeyStore(tmp_path / "keys.db")
    with GatewayServer(create_app(config, keys=store), graceful_s=2) as gw:
        httpx.get(gw.url + "/healthz")

:class:`ScriptedUpstream` is a real Starlette app (both APIs, streaming and not) whose answer is a
list of text pieces sent one frame each, so a test decides where a value is split.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.helpers.servers import AppServer

MODEL = "tiny-gpt2"
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "The nurse said that she would help"},
]
PROMPT = "The engineer explained that he had"


class GatewayServer(AppServer):
    """An ASGI app (the gateway) under uvicorn in a thread, lifespan on.

    Attributes:
        url: ``http://127.0.0.1:<port>`` (``https://`` with a certificate).
        openai_url: ``url + "/v1"``, the base URL the ``openai`` client wants.
    """

    def __init__(
        self, app: Any, *, graceful_s: float = 2.0, certfile: Path | None = None, keyfile: Path | None = None
    ) -> None:
        """Bind a loopback port; ``graceful_s`` is how long stopping waits for requests in flight."""
        super().__init__(app, certfile=certfile, keyfile=keyfile, lifespan=True, graceful_s=graceful_s)
        self.openai_url = self.url + "/v1"

    def begin_stop(self) -> threading.Thread:
        """Ask the server to stop without waiting (a graceful shutdown starts); join the thread returned."""
        if self._server is None or self._thread is None:
            raise RuntimeError("the gateway server is not running")
        self._server.should_exit = True
        return self._thread


def gateway_config(upstream_url: str, kind: str, home: Path, **sections: dict[str, Any]) -> Any:
    """A :class:`GatewayConfig` in front of ``upstream_url`` with keys and the audit log under ``home``.

    ``sections`` override whole sections by name, e.g. ``pii={"enabled": True}``.
    """
    from ethos.gateway._config import GatewayConfig

    data: dict[str, Any] = {
        "upstream": {"kind": kind, "url": upstream_url, "timeout_s": 30.0},
        "keys": {"path": str(home / "keys.db")},
        "audit": {"dir": str(home / "audit")},
        "policy": {"prompt_injection": "off", "secrets": "off", "system_prompt_leak": "off"},
        "disclaimer": {"text": ""},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return GatewayConfig.model_validate(data)


def issue_key(store: Any, name: str = "tests", **scope: Any) -> str:
    """Create a key in ``store`` and return its secret token (the only time it is shown)."""
    _, token = store.create(name, **scope)
    return str(token)


# -- a scripted upstream --------------------------------------------------------------------------


class Script:
    """What :class:`ScriptedUpstream` answers, and what it received.

    Attributes:
        pieces: The answer's text, one streamed frame per piece (joined when not streaming).
        deltas: When set, a streamed chat answer sends these instead of ``pieces``, one per frame,
            as they are: OpenAI ``delta`` objects, or Ollama ``message`` objects (role and empty
            content added). Its finish reason is ``tool_calls`` when any delta has tool calls.
        requests: ``(path, body)`` of every request, in order.
    """

    def __init__(self) -> None:
        """An empty script."""
        self.pieces: list[str] = ["ok"]
        self.deltas: list[dict[str, Any]] | None = None
        self.requests: list[tuple[str, Any]] = []

    def bodies(self) -> str:
        """Every request body received, as one JSON text (to search for values that must not be there)."""
        return "\n".join(json.dumps(body, ensure_ascii=False) for _, body in self.requests)


def _openai_frames(script: Script, body: dict[str, Any], chat: bool) -> AsyncIterator[bytes]:
    head = {"id": "x-1", "created": 0, "model": body.get("model", MODEL)}
    head["object"] = "chat.completion.chunk" if chat else "text_completion"

    def choice(text: str | None, finish: str | None) -> dict[str, Any]:
        if chat:
            delta = {} if text is None else {"content": text}
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}

    async def frames() -> AsyncIterator[bytes]:
        if chat:
            yield _sse({**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        if chat and script.deltas is not None:
            for delta in script.deltas:
                yield _sse({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            finish = "tool_calls" if any("tool_calls" in delta for delta in script.deltas) else "stop"
            yield _sse({**head, "choices": [choice(None, finish)]})
        else:
            for piece in script.pieces:
                yield _sse({**head, "choices": [choice(piece, None)]})
            yield _sse({**head, "choices": [choice(None, "stop")]})
        yield b"data: [DONE]\n\n"

    return frames()


def _sse(obj: Any) -> bytes:
    return f"data: {json.dumps(obj)}\n\n".encode()


def _ollama_lines(script: Script, body: dict[str, Any], chat: bool) -> AsyncIterator[bytes]:
    def piece(text: str) -> dict[str, Any]:
        return {"message": {"role": "assistant", "content": text}} if chat else {"response": text}

    async def lines() -> AsyncIterator[bytes]:
        base = {"model": body.get("model", MODEL), "created_at": "2026-01-01T00:00:00Z"}
        if chat and script.deltas is not None:
            for message in script.deltas:
                line = {**base, "message": {"role": "assistant", "content": "", **message}, "done": False}
                yield (json.dumps(line) + "\n").encode()
        else:
            for text in script.pieces:
                yield (json.dumps({**base, **piece(text), "done": False}) + "\n").encode()
        final = {**base, **piece(""), "done": True, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 5}
        yield (json.dumps(final) + "\n").encode()

    return lines()


def _whole(script: Script, path: str, body: dict[str, Any]) -> dict[str, Any]:
    text = "".join(script.pieces)
    model = body.get("model", MODEL)
    if path.startswith("/v1/"):
        chat = path == "/v1/chat/completions"
        answer: dict[str, Any] = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
        return {
            "id": "x-1",
            "object": "chat.completion" if chat else "text_completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, **answer, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
        }
    key = "message" if path == "/api/chat" else "response"
    value: Any = {"role": "assistant", "content": text} if key == "message" else text
    return {"model": model, "created_at": "2026-01-01T00:00:00Z", key: value, "done": True, "done_reason": "stop"}


def scripted_app(script: Script) -> Starlette:
    """A model server that answers every generation request with ``script.pieces``."""

    async def generate(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        path = request.url.path
        script.requests.append((path, body))
        openai = path.startswith("/v1/")
        chat = path.endswith("chat") or path.endswith("chat/completions")
        if body.get("stream", not openai):
            if openai:
                return StreamingResponse(_openai_frames(script, body, chat), media_type="text/event-stream")
            return StreamingResponse(_ollama_lines(script, body, chat), media_type="application/x-ndjson")
        return JSONResponse(_whole(script, path, body))

    async def models(request: Request) -> Response:
        if request.url.path == "/v1/models":
            return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0}]})
        return JSONResponse({"models": [{"name": MODEL, "model": MODEL, "size": 1, "digest": "0" * 64}]})

    paths = ("/v1/chat/completions", "/v1/completions", "/api/chat", "/api/generate")
    routes = [Route(path, generate, methods=["POST"]) for path in paths]
    routes += [Route(path, models, methods=["GET"]) for path in ("/v1/models", "/api/tags")]
    return Starlette(routes=routes)


class ScriptedUpstream(AppServer):
    """:func:`scripted_app` on a loopback port; ``script`` is changed by tests at any time."""

    def __init__(self) -> None:
        """Build the app around a fresh :class:`Script`."""
        self.script = Script()
        super().__init__(scripted_app(self.script))


def assert_refused(response: Any, status: int, reason: str, caller: str) -> None:
    """Check a refusal: its status, the caller's error shape and the gateway's reason code.

    OpenAI's shape is ``{"error": {"message", "type", "param", "code": reason}}``; Ollama's is
    ``{"error": "<message>", "code": reason}`` (its client reads ``error`` only).
    """
    assert response.status_code == status, response.text
    body = response.json()
    if caller == "openai":
        error = body["error"]
        assert isinstance(error, dict), body
        assert isinstance(error["message"], str) and error["message"], body
        assert error["code"] == reason, body
    else:
        assert isinstance(body["error"], str) and body["error"], body
        assert body.get("code") == reason, body
    assert "Traceback" not in response.text
