"""Streamed answers in the caller's format: SSE events for OpenAI callers, NDJSON lines for Ollama's."""

from __future__ import annotations

import json
from typing import Any

from ethos.gateway._types import Endpoint, Format
from ethos.gateway._wire._errors import error_body
from ethos.gateway._wire._ollama import now
from ethos.gateway._wire._ollama_reply import final_counts, native_message, reasoning_text


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class StreamEncoder:
    """Turns canonical chunks into the caller's frames, one call per chunk.

    OpenAI callers get ``data: {chunk}`` events and ``data: [DONE]``; the usage chunk only when they
    asked for it (``stream_options.include_usage``). Ollama callers get one object per line; the
    last one (``done: true``) carries ``done_reason``, the eval counts and any ``x_ethos``, so the
    finish chunk is held until the usage chunk (or :meth:`close`) arrives.

    Attributes:
        media_type: ``text/event-stream`` or ``application/x-ndjson``.
    """

    def __init__(self, fmt: Format, endpoint: Endpoint, model: str, *, include_usage: bool) -> None:
        """Encode for a caller of format ``fmt`` on ``endpoint``, naming the model as it did."""
        self._fmt = fmt
        self._chat = endpoint == "chat"
        self._model = model
        self._include_usage = include_usage
        self._final: dict[str, Any] | None = None
        self._calls: dict[int, dict[str, Any]] = {}
        self._done = False
        self.media_type = "text/event-stream" if fmt == "openai" else "application/x-ndjson"

    def encode(self, chunk: dict[str, Any]) -> bytes:
        """The frame(s) for one canonical chunk; ``b""`` when there is nothing to send yet."""
        if self._fmt == "openai":
            return self._openai(chunk)
        return self._ollama(chunk)

    def close(self) -> bytes:
        """The stream's end: ``data: [DONE]`` or Ollama's pending last line."""
        if self._fmt == "openai":
            return b"data: [DONE]\n\n"
        if self._done:
            return b""
        self._done = True
        calls = _dumps(self._calls_line()) + b"\n" if self._calls else b""
        final = self._final if self._final is not None else self._final_line("stop", {})
        return calls + _dumps(final) + b"\n"

    def error(self, status: int, reason: str, message: str) -> bytes:
        """An in-band error frame that the official clients raise on."""
        if self._fmt == "openai":
            return b"data: " + _dumps(error_body("openai", status, reason, message)) + b"\n\n"
        return _dumps(error_body("ollama", status, reason, message)) + b"\n"

    def _openai(self, chunk: dict[str, Any]) -> bytes:
        unasked = not self._include_usage and chunk.get("usage") is not None and "x_ethos" not in chunk
        if unasked and not chunk.get("choices"):
            return b""
        out = {key: value for key, value in chunk.items() if key != "x_ollama"}
        out["model"] = self._model
        if not self._include_usage:
            out.pop("usage", None)
        return b"data: " + _dumps(out) + b"\n\n"

    def _ollama(self, chunk: dict[str, Any]) -> bytes:
        choices = chunk.get("choices") or []
        choice = next((c for c in choices if c.get("index", 0) == 0), None)
        if choice is None:  # the usage chunk: fill in the held last line and send it
            if self._final is None:
                self._final = self._final_line("stop", {})
            self._final.update(final_counts(chunk.get("usage"), chunk.get("x_ollama") or {}))
            if "x_ethos" in chunk:
                self._final["x_ethos"] = chunk["x_ethos"]
            return self.close()
        line = self._piece(choice)
        frame = _dumps(line) + b"\n" if line is not None else b""
        if choice.get("finish_reason") is not None:
            if self._calls:
                frame += _dumps(self._calls_line()) + b"\n"
            reason = "length" if choice["finish_reason"] == "length" else "stop"
            self._final = self._final_line(reason, chunk)
        return frame

    def _piece(self, choice: dict[str, Any]) -> dict[str, Any] | None:
        """One text line (``done: false``), or ``None`` when the choice has no text to send.

        Tool-call fragments are gathered instead: Ollama sends each call whole, so they go out
        together in one line before the last (see :meth:`_calls_line`).
        """
        out: dict[str, Any] = {"model": self._model, "created_at": now()}
        if self._chat:
            delta = choice.get("delta") or {}
            self._gather_calls(delta.get("tool_calls"))
            if not delta.get("content") and not reasoning_text(delta):
                return None
            out["message"] = native_message({**delta, "role": "assistant", "tool_calls": None})
        else:
            if not choice.get("text"):
                return None
            out["response"] = choice["text"]
        out["done"] = False
        return out

    def _gather_calls(self, calls: Any) -> None:
        """Add OpenAI tool-call fragments (keyed by their ``index``) to the calls gathered so far."""
        for place, call in enumerate(calls if isinstance(calls, list) else ()):
            if not isinstance(call, dict):
                continue
            index = call.get("index", place)
            whole = self._calls.setdefault(index if isinstance(index, int) else place, {"name": "", "arguments": ""})
            function = call.get("function") or {}
            for key in ("name", "arguments"):  # canonical arguments are JSON text, in pieces or whole
                if isinstance(function.get(key), str):
                    whole[key] += function[key]

    def _calls_line(self) -> dict[str, Any]:
        """The gathered tool calls as one Ollama line (arguments parsed into objects)."""
        calls = [{"function": self._calls[i]} for i in sorted(self._calls)]
        self._calls = {}
        message = native_message({"role": "assistant", "content": "", "tool_calls": calls})
        return {"model": self._model, "created_at": now(), "message": message, "done": False}

    def _final_line(self, reason: str, chunk: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self._model, "created_at": now()}
        if self._chat:
            message: dict[str, Any] = {"role": "assistant", "content": ""}
            choice: dict[str, Any] = next(iter(chunk.get("choices") or []), {})
            annotations = (choice.get("delta") or {}).get("annotations")
            if annotations is not None:
                message["annotations"] = annotations
            out["message"] = message
        else:
            out["response"] = ""
        out["done"] = True
        out["done_reason"] = reason
        if "x_ethos" in chunk:
            out["x_ethos"] = chunk["x_ethos"]
        return out
