"""The Ollama wire format (``/api/chat``, ``/api/generate``, ``/api/embed``, ``/api/tags``).

Requests map onto canonical (OpenAI-shaped) form: ``options.temperature/top_p/seed/stop/
presence_penalty/frequency_penalty`` become top-level fields, ``options.num_predict`` becomes
``max_tokens``, message ``images`` become ``image_url`` parts. Everything OpenAI cannot express
travels in ``canonical["x_ollama"]`` so that an Ollama caller in front of an Ollama upstream loses
nothing. Ollama streams unless told not to, so a missing ``stream`` means ``True``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from ethos.errors import RequestRefused
from ethos.gateway._types import Endpoint
from ethos.gateway._wire import _check as check
from ethos.gateway._wire._openai import tool_arguments

PATHS: dict[str, str] = {
    "chat": "/api/chat",
    "completion": "/api/generate",
    "embedding": "/api/embed",
    "models": "/api/tags",
}

MAPPED_OPTIONS = ("temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty")
"""``options`` keys that have an OpenAI field of the same name."""

STATS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration", "created_at", "context")
"""Reply fields without an OpenAI equivalent, kept for Ollama callers in the canonical ``x_ollama``."""

# Top-level request keys that become canonical fields, and keys a route does not read: neither
# travels in x_ollama (a "prompt" sent to /api/chat must not reach the upstream unguarded).
_NOT_EXTRA = {
    "chat": {"model", "messages", "stream", "options", "tools", "logprobs", "top_logprobs", "prompt", "input"},
    "completion": {"model", "prompt", "stream", "options", "messages", "input"},
    "embedding": {"model", "input", "prompt", "messages", "stream", "options"},
}


def decode_request(endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """Check an Ollama caller's body for ``endpoint`` and return the canonical request."""
    body = check.body_object(body)
    canonical: dict[str, Any] = {"model": check.model(body)}
    check.boolean(body, "stream", "stream")
    check.obj(body, "options", "options")
    if endpoint == "chat":
        _check_messages(body.get("messages", []))
        canonical["messages"] = [_canonical_message(m) for m in body.get("messages", [])]
        for key in ("tools", "logprobs", "top_logprobs"):
            if body.get(key) is not None:
                canonical[key] = body[key]
        check.boolean(body, "logprobs", "logprobs")
        check.integer(body, "top_logprobs", "top_logprobs", (0, 20))
    elif endpoint == "completion":
        prompt = body.get("prompt", "")
        if not isinstance(prompt, str):
            raise check.invalid("prompt", "a string", prompt)
        canonical["prompt"] = prompt
        for key in ("system", "suffix", "template"):
            check.string(body, key, key)
    elif endpoint == "embedding":
        canonical["input"] = _embed_input(body)
    if endpoint != "embedding":
        canonical["stream"] = body.get("stream") is not False
        _take_options(body.get("options") or {}, canonical)
    extra = {key: value for key, value in body.items() if key not in _NOT_EXTRA.get(endpoint, {"model"})}
    options = {k: v for k, v in (body.get("options") or {}).items() if not _mapped(k, v, canonical)}
    if options:
        extra["options"] = options
    # Always present (maybe empty) for an Ollama caller: encoders tell the caller's format by it.
    canonical["x_ollama"] = extra
    return canonical


def _take_options(options: dict[str, Any], canonical: dict[str, Any]) -> None:
    for key in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        check.number(options, key, f"options.{key}")
    check.integer(options, "seed", "options.seed", check.INT64)
    check.stop(options, "stop", "options.stop")
    check.integer(options, "num_predict", "options.num_predict", (-2, check.MAX_TOKENS))
    for key in MAPPED_OPTIONS:
        if options.get(key) is not None:
            canonical[key] = options[key]
    if options.get("num_predict") is not None and options["num_predict"] >= 1:
        canonical["max_tokens"] = options["num_predict"]


def _mapped(key: str, value: Any, canonical: dict[str, Any]) -> bool:
    if key == "num_predict":
        return "max_tokens" in canonical
    # Embeddings map no options: they all stay in x_ollama.
    return key in MAPPED_OPTIONS and value is not None and "input" not in canonical


def _embed_input(body: dict[str, Any]) -> str | list[str]:
    if "input" not in body and isinstance(body.get("prompt"), str):
        return str(body["prompt"])  # the legacy /api/embeddings form
    value: str | list[str] = body.get("input")  # type: ignore[assignment]
    check.texts(value, "input")
    return value


def _check_messages(messages: Any) -> None:
    check.messages(messages, roles=check.OLLAMA_ROLES, allow_empty=True)
    for i, message in enumerate(messages):
        if isinstance(message.get("content"), list):
            raise check.invalid(f"messages[{i}].content", "a string", message["content"])
        images = message.get("images")
        if images is not None and not (isinstance(images, list) and all(isinstance(x, str) for x in images)):
            raise check.invalid(f"messages[{i}].images", "a list of base64 strings", images)


_MIME = (("/9j/", "image/jpeg"), ("iVBOR", "image/png"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))


def _canonical_message(message: dict[str, Any]) -> dict[str, Any]:
    out = dict(message)
    if out.get("content") is None:
        out["content"] = ""
    images = out.pop("images", None)
    if images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": out["content"]}]
        for image in images:
            mime = next((m for prefix, m in _MIME if image.startswith(prefix)), "image/png")
            parts.append({"type": "image_url", "image_url": {"url": f"data:{mime};base64,{image}"}})
        out["content"] = parts
    if isinstance(out.get("tool_calls"), list):
        out["tool_calls"] = [_openai_call(call, i) for i, call in enumerate(out["tool_calls"])]
    return out


def _openai_call(call: dict[str, Any], index: int) -> dict[str, Any]:
    function = call.get("function") or {}
    arguments = tool_arguments(function.get("arguments", {}))
    return {
        "id": call.get("id") or f"call_{index}",
        "type": "function",
        "function": {"name": function.get("name", ""), "arguments": arguments},
    }


# -- to an Ollama upstream -------------------------------------------------------------------------


def encode_request(endpoint: Endpoint, canonical: dict[str, Any], model: str) -> tuple[str, dict[str, Any]]:
    """The path and native body for an Ollama upstream; ``model`` is the upstream's name."""
    extra = canonical.get("x_ollama")
    body: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
    if endpoint == "embedding":
        body.update(model=model, input=canonical["input"])
        if canonical.get("dimensions") is not None:
            body["dimensions"] = canonical["dimensions"]
        return PATHS[endpoint], body
    if (canonical.get("n") or 1) > 1:
        raise RequestRefused(
            "n: an Ollama upstream gives one choice per request; leave n out or set it to 1",
            reason="request.unsupported",
        )
    body["model"] = model
    if endpoint == "chat":
        body["messages"] = [_native_message(m) for m in canonical["messages"]]
        for key in ("tools", "logprobs", "top_logprobs"):
            if canonical.get(key) is not None:
                body[key] = canonical[key]
    else:
        body["prompt"] = _single_prompt(canonical["prompt"])
        if not isinstance(extra, dict):  # an OpenAI caller: a completion continues the text as given
            body["raw"] = True
        if isinstance(canonical.get("suffix"), str):
            body["suffix"] = canonical["suffix"]
    body["stream"] = bool(canonical.get("stream"))
    options = _native_options(canonical, body.get("options"))
    if options:
        body["options"] = options
    _map_response_format(canonical.get("response_format"), body)
    return PATHS[endpoint], body


def _native_options(canonical: dict[str, Any], kept: Any) -> dict[str, Any]:
    options = dict(kept) if isinstance(kept, dict) else {}
    for key in MAPPED_OPTIONS:
        if canonical.get(key) is not None:
            options[key] = canonical[key]
    limit = canonical.get("max_completion_tokens") or canonical.get("max_tokens")
    if limit is not None:
        options["num_predict"] = limit
    return options


def _map_response_format(fmt: Any, body: dict[str, Any]) -> None:
    if not isinstance(fmt, dict):
        return
    if fmt.get("type") == "json_object":
        body["format"] = "json"
    elif fmt.get("type") == "json_schema" and isinstance(fmt.get("json_schema"), dict):
        schema = fmt["json_schema"].get("schema")
        if isinstance(schema, dict):
            body["format"] = schema


def _single_prompt(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and len(prompt) == 1:
        return str(prompt[0])
    raise RequestRefused(
        "prompt: an Ollama upstream completes one prompt per request; send a string or a one-item list",
        reason="request.unsupported",
    )


def _native_message(message: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in message.items() if key not in ("name", "tool_call_id", "refusal")}
    content = message.get("content")
    if isinstance(content, list):
        texts, images = [], []
        for part in content:
            if part.get("type") == "text":
                texts.append(part.get("text", ""))
            elif part.get("type") == "image_url":
                image_url = part.get("image_url")
                url = image_url.get("url", "") if isinstance(image_url, dict) else ""
                if isinstance(url, str) and url.startswith("data:") and "," in url:
                    images.append(url.split(",", 1)[1])
        out["content"] = "\n".join(texts)
        if images:
            out["images"] = images
    elif content is None:
        out["content"] = ""
    if isinstance(message.get("tool_calls"), list):
        out["tool_calls"] = [native_call(call) for call in message["tool_calls"]]
    return out


def native_call(call: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool call in Ollama's shape (arguments as an object)."""
    function = call.get("function") or {}
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            arguments = {"arguments": arguments}
    return {"function": {"name": function.get("name", ""), "arguments": arguments}}


# -- replies ---------------------------------------------------------------------------------------


def finish_reason(done_reason: Any) -> str:
    """OpenAI's ``finish_reason`` for Ollama's ``done_reason`` (``load`` and unknown -> ``stop``)."""
    return "length" if done_reason == "length" else "stop"


def usage(body: dict[str, Any]) -> dict[str, int]:
    """OpenAI's usage object from Ollama's eval counts."""
    prompt_count, eval_count = body.get("prompt_eval_count"), body.get("eval_count")
    prompt = prompt_count if isinstance(prompt_count, int) else 0
    completion = eval_count if isinstance(eval_count, int) else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def stats(body: dict[str, Any]) -> dict[str, Any]:
    """The reply's Ollama-only fields (durations, ``created_at``, ``context``)."""
    return {key: body[key] for key in STATS if key in body}


def new_id(endpoint: Endpoint) -> str:
    """An OpenAI-style id for an answer Ollama sent without one."""
    return f"{'chatcmpl' if endpoint == 'chat' else 'cmpl'}-{uuid.uuid4().hex[:24]}"


def now() -> str:
    """Ollama's ``created_at`` for this instant."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def created(body: dict[str, Any]) -> int:
    """Unix seconds of the reply (now: Ollama's ``created_at`` is an ISO string)."""
    return int(time.time())
