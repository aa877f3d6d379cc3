"""A fast loopback model server for bench/gateway_bench.py: fixed answers, no model, no waiting.

One aiohttp process (uvloop when installed) on 127.0.0.1 that answers at once:

* ``POST /v1/chat/completions``: a fixed ``chat.completion`` (333 B, with ``usage``); with
  ``"stream": true``, SSE with 5 ``chat.completion.chunk`` events, a usage chunk and ``data: [DONE]``;
* ``GET /v1/models``: one model;
* ``POST /api/chat``: Ollama's fixed answer (NDJSON, 5 chunks + the final one, when streaming);
* ``GET /api/tags``: one model;
* ``GET /bench/seen``: how many chat requests arrived, and how many still held the prompt's e-mail address.

The completion mentions an e-mail address, so answer guards have something to mask. Run::

    python bench/_gateway_upstream.py [--port 0]

It prints ``PORT <n>`` on stdout once it listens (``--port 0`` picks a free port) and serves until
it is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time

from aiohttp import web

MODEL = "bench"
WORDS = ["Hello Maria! ", "I noted your details; ", "our team will write ", "from help@example.org ", "shortly."]
ANSWER = "".join(WORDS)
USAGE = {"prompt_tokens": 31, "completion_tokens": 19, "total_tokens": 50}
CREATED = int(time.time())


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


CHAT_BODY = _dumps({
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": CREATED,
    "model": MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
    "usage": USAGE,
}).encode()  # fmt: skip


def _chunk(delta: dict[str, str], finish: str | None) -> bytes:
    body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    return b"data: " + _dumps(body).encode() + b"\n\n"


def _sse_events() -> list[bytes]:
    events = [_chunk({"role": "assistant", "content": WORDS[0]}, None)]
    events += [_chunk({"content": word}, None) for word in WORDS[1:-1]]
    events.append(_chunk({"content": WORDS[-1]}, "stop"))
    usage = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
             "choices": [], "usage": USAGE}  # fmt: skip
    events.append(b"data: " + _dumps(usage).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


SSE_EVENTS = _sse_events()
MODELS_BODY = _dumps({"object": "list", "data": [{"id": MODEL, "object": "model", "created": CREATED,
                                                      "owned_by": "bench"}]}).encode()  # fmt: skip
OLLAMA_DONE = {"done": True, "done_reason": "stop", "total_duration": 1000, "load_duration": 0, "eval_count": 19,
               "prompt_eval_count": 31, "prompt_eval_duration": 100, "eval_duration": 900}  # fmt: skip
OLLAMA_BODY = _dumps({"model": MODEL, "created_at": "2026-01-01T00:00:00Z",
                          "message": {"role": "assistant", "content": ANSWER}, **OLLAMA_DONE}).encode()  # fmt: skip
OLLAMA_LINES = [
    _dumps({"model": MODEL, "created_at": "2026-01-01T00:00:00Z", "message": {"role": "assistant", "content": w},
                "done": False}).encode() + b"\n" for w in WORDS
] + [_dumps({"model": MODEL, "created_at": "2026-01-01T00:00:00Z", "message": {"role": "assistant", "content": ""},
                 **OLLAMA_DONE}).encode() + b"\n"]  # fmt: skip
TAGS_BODY = _dumps({"models": [{"name": MODEL, "model": MODEL, "modified_at": "2026-01-01T00:00:00Z", "size": 1,
                                    "digest": "0" * 64, "details": {}}]}).encode()  # fmt: skip


SEEN = {"requests": 0, "with_email": 0}
EMAIL = b"maria.keller@example.com"  # the bench prompt's e-mail address: a PII guard must not let it through


async def chat(request: web.Request) -> web.StreamResponse:
    """OpenAI chat completions: the fixed answer, or its SSE stream when asked."""
    raw = await request.read()
    SEEN["requests"] += 1
    SEEN["with_email"] += EMAIL in raw
    body = json.loads(raw)
    if not body.get("stream"):
        return web.Response(body=CHAT_BODY, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for event in SSE_EVENTS:
        await response.write(event)
    await response.write_eof()
    return response


async def ollama_chat(request: web.Request) -> web.StreamResponse:
    """Ollama chat: one JSON object, or NDJSON lines (Ollama streams unless told not to)."""
    body = await request.json()
    if body.get("stream") is False:
        return web.Response(body=OLLAMA_BODY, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    for line in OLLAMA_LINES:
        await response.write(line)
    await response.write_eof()
    return response


async def fixed(body: bytes, request: web.Request) -> web.Response:
    """A fixed JSON body (model lists)."""
    return web.Response(body=body, content_type="application/json")


async def serve(port: int) -> None:
    """Listen on 127.0.0.1:``port``, print the port, serve until SIGTERM/SIGINT."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", lambda r: fixed(MODELS_BODY, r))
    app.router.add_post("/api/chat", ollama_chat)
    app.router.add_get("/api/tags", lambda r: fixed(TAGS_BODY, r))
    app.router.add_get("/bench/seen", lambda r: fixed(_dumps(SEEN).encode(), r))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    """Parse ``--port`` and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as 'PORT <n>')")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.port))
    else:
        uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
