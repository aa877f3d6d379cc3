"""Streamed answers: SSE (OpenAI) and NDJSON (Ollama) frames in, canonical chunks, frames out.

Network chunks split frames anywhere, so both parsers buffer bytes until a line ends. An upstream
may report a failure *inside* a 200 stream (an SSE ``{"error": ...}`` event, an NDJSON
``{"error": ...}`` line): that raises, as does a stream that ends before its terminator, so a
truncated answer is never passed off as a whole one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from ethos.errors import MalformedResponseError, ServerResponseError, ServerUnreachableError
from ethos.gateway._types import Endpoint, Format
from ethos.gateway._wire._ollama import created, finish_reason, new_id, stats, usage
from ethos.gateway._wire._ollama_reply import canonical_message


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[bytes, bool]]:
    """``(line, ended)`` from arbitrarily split chunks, without line ends.

    ``ended`` is False only for a last line the stream cut off.
    """
    pending = b""
    async for chunk in chunks:
        if not chunk:
            continue
        pending += chunk
        if b"\n" not in chunk:
            continue
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield (line[:-1] if line.endswith(b"\r") else line), True
    if pending:
        yield pending, False


def _load(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise MalformedResponseError(f"the upstream sent a {what} that is not JSON: {data[:80]!r}") from None


def _early_close() -> ServerUnreachableError:
    return ServerUnreachableError("upstream closed the stream early, before its end marker; the answer is incomplete")


def _in_band(obj: dict[str, Any]) -> ServerResponseError:
    error = obj.get("error", obj.get("message"))
    if isinstance(error, dict):
        error = error.get("message", error)
    return ServerResponseError(f"the upstream failed mid-stream: {error}", status=502)


async def _sse(endpoint: Endpoint, chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    data: list[bytes] = []
    async for line, _ in _lines(chunks):
        if not line:  # an event ends
            if not data:
                continue
            payload = b"\n".join(data)
            data = []
            if payload.strip() == b"[DONE]":
                return
            obj = _load(payload, "server-sent event")
            if not isinstance(obj, dict):
                raise MalformedResponseError("the upstream sent an event that is not a JSON object")
            if "error" in obj or obj.get("object") == "error":
                raise _in_band(obj)
            if not isinstance(obj.setdefault("choices", []), list):
                raise MalformedResponseError("the upstream sent a chunk whose choices is not a list")
            if endpoint == "completion" and obj.get("object") == "chat.completion.chunk":
                _chat_to_text(obj)
            yield obj
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
        # comments (":"), event:, id: and retry: lines carry nothing we use
    if data and b"\n".join(data).strip() == b"[DONE]":
        return
    raise _early_close()


def _chat_to_text(chunk: dict[str, Any]) -> None:
    """A chat chunk as a completion chunk (an Ollama generate that went to an OpenAI chat route)."""
    chunk["object"] = "text_completion"
    for choice in chunk["choices"]:
        if isinstance(choice, dict) and "text" not in choice:
            delta = choice.pop("delta", None)
            choice["text"] = (delta.get("content") if isinstance(delta, dict) else None) or ""


async def _ndjson(endpoint: Endpoint, chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    head: dict[str, Any] = {
        "id": new_id(endpoint),
        "object": "chat.completion.chunk" if endpoint == "chat" else "text_completion",
        "created": 0,
    }
    first = True
    calls = 0  # tool calls so far: Ollama numbers each line's calls from 0, callers need one index per call
    async for line, ended in _lines(chunks):
        if not line.strip():
            continue
        try:
            obj = _load(line, "line")
        except MalformedResponseError:
            if not ended:
                raise _early_close() from None
            raise
        if not isinstance(obj, dict):
            raise MalformedResponseError("the upstream sent a line that is not a JSON object")
        if "error" in obj:
            raise _in_band(obj)
        if first:
            head.update(created=created(obj), model=obj.get("model", ""))
        choice = _ollama_choice(endpoint, obj, first, calls)
        calls += len((choice.get("delta") or {}).get("tool_calls") or ())
        first = False
        if obj.get("done") is True:
            choice["finish_reason"] = "tool_calls" if calls else finish_reason(obj.get("done_reason"))
            yield {**head, "choices": [choice]}
            final = {**head, "choices": [], "usage": usage(obj)}
            if extra := stats(obj):
                final["x_ollama"] = extra
            yield final
            return
        yield {**head, "choices": [choice]}
    raise _early_close()


def _ollama_choice(endpoint: Endpoint, obj: dict[str, Any], first: bool, calls_before: int) -> dict[str, Any]:
    logprobs = {"content": obj["logprobs"]} if isinstance(obj.get("logprobs"), list) else None
    if endpoint == "chat":
        message = obj.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise MalformedResponseError("the upstream sent a line without message.content (a string)")
        delta = canonical_message(message)
        if not first:
            delta.pop("role", None)
        if "tool_calls" in delta:
            numbered = enumerate(delta["tool_calls"], start=calls_before)
            delta["tool_calls"] = [{**call, "index": i, "id": f"call_{i}"} for i, call in numbered]
        return {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": None}
    if not isinstance(obj.get("response"), str):
        raise MalformedResponseError("the upstream sent a line without response (a string)")
    return {"index": 0, "text": obj["response"], "logprobs": logprobs, "finish_reason": None}


def decode_stream(fmt: Format, endpoint: Endpoint, chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    """Canonical chunks from an upstream's streamed body.

    Args:
        fmt: The upstream's wire format (SSE for ``openai``, NDJSON for ``ollama``).
        endpoint: ``chat`` or ``completion``.
        chunks: The body as it arrives, split anywhere.

    Returns:
        An async iterator of canonical chunks; Ollama's last line becomes a chunk with
        ``finish_reason`` followed by a usage chunk (empty ``choices``).

    Raises:
        ServerResponseError: (while iterating) the upstream reported an error in the stream.
        ServerUnreachableError: (while iterating) the stream ended before its terminator.
        MalformedResponseError: (while iterating) a frame is not JSON or lacks its text.
    """
    return _sse(endpoint, chunks) if fmt == "openai" else _ndjson(endpoint, chunks)
