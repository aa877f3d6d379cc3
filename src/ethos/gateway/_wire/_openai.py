"""The OpenAI wire format: callers' bodies checked into canonical form, canonical form out again.

Canonical form *is* OpenAI's shape, so this codec mostly checks and copies. Fields it does not
know pass through untouched between an OpenAI caller and an OpenAI upstream; Ollama-only fields
(``x_ollama``) are mapped where OpenAI has an equivalent and dropped otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from ethos.errors import MalformedResponseError
from ethos.gateway._types import Endpoint
from ethos.gateway._wire import _check as check

PATHS: dict[str, str] = {
    "chat": "/v1/chat/completions",
    "completion": "/v1/completions",
    "embedding": "/v1/embeddings",
    "models": "/v1/models",
}

# Keys only the gateway may put in a canonical dict; a caller sending them is ignored.
_INTERNAL = ("x_ollama", "x_ethos")


def decode_request(endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """Check an OpenAI caller's body for ``endpoint`` and return the canonical request."""
    body = check.body_object(body)
    check.model(body)
    check.boolean(body, "stream", "stream")
    check.obj(body, "stream_options", "stream_options")
    if isinstance(body.get("stream_options"), dict):
        check.boolean(body["stream_options"], "include_usage", "stream_options.include_usage")
    for key, bounds in check.NUMBER_RANGES.items():
        check.number(body, key, key, bounds)
    for key, int_bounds in check.INT_RANGES.items():
        check.integer(body, key, key, int_bounds)
    check.stop(body, "stop", "stop")
    check.string(body, "user", "user")
    if endpoint == "chat":
        check.messages(body.get("messages"), roles=check.CHAT_ROLES, allow_empty=False)
        check.boolean(body, "logprobs", "logprobs")
        for message in body["messages"]:
            for call in message.get("tool_calls") or ():
                # Arguments as an object become OpenAI's JSON string, so the guards read them too.
                if isinstance(call["function"].get("arguments"), dict):
                    call["function"]["arguments"] = tool_arguments(call["function"]["arguments"])
    elif endpoint == "completion":
        check.texts(body.get("prompt"), "prompt")
        check.integer(body, "logprobs", "logprobs", (0, 20))
        check.boolean(body, "echo", "echo")
        check.string(body, "suffix", "suffix")
    elif endpoint == "embedding":
        check.texts(body.get("input"), "input")
        check.integer(body, "dimensions", "dimensions", (1, 65_536))
        encoding = body.get("encoding_format")
        if encoding is not None and encoding not in ("float", "base64"):
            raise check.invalid("encoding_format", '"float" or "base64"', encoding)
    return {key: value for key, value in body.items() if key not in _INTERNAL}


def encode_request(endpoint: Endpoint, canonical: dict[str, Any], model: str) -> tuple[str, dict[str, Any]]:
    """The path and body for an OpenAI upstream; ``model`` is the upstream's name for the model."""
    body = {key: value for key, value in canonical.items() if key not in _INTERNAL}
    body["model"] = model
    extra = canonical.get("x_ollama")
    if isinstance(extra, dict):
        _map_ollama_extras(endpoint, body, extra)
    path = PATHS[endpoint]
    if endpoint == "completion" and isinstance(extra, dict) and not extra.get("raw"):
        path = PATHS["chat"]
        _as_chat(body, extra)
    elif endpoint == "chat":
        body["messages"] = [_openai_message(m) for m in body["messages"]]
    if body.get("stream") and endpoint != "embedding":
        # The gateway's token limits need the upstream's usage, asked or not by the caller.
        options = body.get("stream_options")
        body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return path, body


def _as_chat(body: dict[str, Any], extra: dict[str, Any]) -> None:
    """Ollama's templated generate is a one-turn chat: send it to the chat route (answers map back)."""
    prompt = body.pop("prompt")
    for key in ("suffix", "echo", "logprobs", "best_of"):
        body.pop(key, None)
    system = extra.get("system")
    messages = [{"role": "system", "content": system}] if isinstance(system, str) and system else []
    body["messages"] = [*messages, {"role": "user", "content": prompt}]


def _map_ollama_extras(endpoint: Endpoint, body: dict[str, Any], extra: dict[str, Any]) -> None:
    """Carry the Ollama-only fields OpenAI can express; the rest are dropped (documented)."""
    fmt = extra.get("format")
    if fmt == "json":
        body["response_format"] = {"type": "json_object"}
    elif isinstance(fmt, dict):
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "schema", "schema": fmt}}
    if endpoint == "completion" and extra.get("raw") and isinstance(extra.get("suffix"), str):
        body["suffix"] = extra["suffix"]
    if endpoint == "embedding" and check.is_int(extra.get("dimensions")):
        body["dimensions"] = extra["dimensions"]


_OLLAMA_MESSAGE_KEYS = ("thinking", "tool_name", "images")


def _openai_message(message: dict[str, Any]) -> dict[str, Any]:
    if not any(key in message for key in _OLLAMA_MESSAGE_KEYS):
        return message
    return {key: value for key, value in message.items() if key not in _OLLAMA_MESSAGE_KEYS}


# -- responses -------------------------------------------------------------------------------------


def decode_response(endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """Check an OpenAI upstream's non-streamed reply; it is already canonical."""
    if not isinstance(body, dict):
        raise MalformedResponseError(f"the upstream's reply is {check.describe(body)}, not a JSON object")
    if endpoint == "embedding":
        data = _list(body, "data")
        for i, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("embedding"), list | str):
                raise MalformedResponseError(f"the upstream's reply lacks data[{i}].embedding")
        return body
    for i, choice in enumerate(_list(body, "choices")):
        if not isinstance(choice, dict):
            raise MalformedResponseError(f"the upstream's reply has choices[{i}] that is not an object")
        if endpoint == "chat":
            message = choice.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("content", ""), str | None):
                raise MalformedResponseError(f"the upstream's reply lacks choices[{i}].message.content")
        elif isinstance(choice.get("message"), dict) and "text" not in choice:
            choice["text"] = choice.pop("message").get("content") or ""  # a generate sent as chat
        elif not isinstance(choice.get("text"), str):
            raise MalformedResponseError(f"the upstream's reply lacks choices[{i}].text")
    return body


def _list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list):
        raise MalformedResponseError(f"the upstream's reply lacks the list {key!r}")
    return value


def encode_response(endpoint: Endpoint, canonical: dict[str, Any], model: str) -> dict[str, Any]:
    """The canonical answer as an OpenAI caller gets it, under the model name the caller used."""
    out = {key: value for key, value in canonical.items() if key != "x_ollama"}
    out["model"] = model
    return out


def decode_models(body: Any) -> list[str]:
    """Model ids from ``GET /v1/models``."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise MalformedResponseError("the upstream's model list lacks the list 'data'")
    return [item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)]


def encode_models(names: list[str], upstream_body: Any | None) -> dict[str, Any]:
    """``GET /v1/models`` for ``names``, keeping the upstream's entries when it spoke OpenAI too."""
    known: dict[str, Any] = {}
    if isinstance(upstream_body, dict) and isinstance(upstream_body.get("data"), list):
        known = {e["id"]: e for e in upstream_body["data"] if isinstance(e, dict) and isinstance(e.get("id"), str)}
    data = [known.get(name) or {"id": name, "object": "model", "created": 0, "owned_by": "ethos"} for name in names]
    return {"object": "list", "data": data}


def tool_arguments(arguments: Any) -> str:
    """Tool-call arguments as OpenAI sends them: a JSON string."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
