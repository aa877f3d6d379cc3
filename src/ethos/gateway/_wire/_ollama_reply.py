"""Ollama's replies: native bodies into canonical answers and back, and the model list."""

from __future__ import annotations

from typing import Any

from ethos.errors import MalformedResponseError
from ethos.gateway._types import Endpoint
from ethos.gateway._wire import _check as check
from ethos.gateway._wire._ollama import created, finish_reason, native_call, new_id, now, stats, usage
from ethos.gateway._wire._openai import tool_arguments


def decode_response(endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """An Ollama upstream's non-streamed reply as a canonical answer."""
    if not isinstance(body, dict):
        raise MalformedResponseError(f"the upstream's reply is {check.describe(body)}, not a JSON object")
    if endpoint == "embedding":
        return _decode_embeddings(body)
    if endpoint == "chat":
        message = body.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise MalformedResponseError("the upstream's reply lacks message.content (a string)")
        choice: dict[str, Any] = {"index": 0, "message": canonical_message(message)}
        kind = "chat.completion"
    else:
        if not isinstance(body.get("response"), str):
            raise MalformedResponseError("the upstream's reply lacks response (a string)")
        choice = {"index": 0, "text": body["response"]}
        kind = "text_completion"
    has_tools = endpoint == "chat" and bool(choice["message"].get("tool_calls"))
    choice["logprobs"] = {"content": body["logprobs"]} if isinstance(body.get("logprobs"), list) else None
    choice["finish_reason"] = "tool_calls" if has_tools else finish_reason(body.get("done_reason"))
    answer = {
        "id": new_id(endpoint),
        "object": kind,
        "created": created(body),
        "model": body.get("model", ""),
        "choices": [choice],
        "usage": usage(body),
    }
    extra = stats(body)
    if extra:
        answer["x_ollama"] = extra
    return answer


def canonical_message(message: dict[str, Any]) -> dict[str, Any]:
    """An Ollama answer message in OpenAI's shape: tool-call arguments as JSON text, ``thinking`` as ``reasoning``."""
    out: dict[str, Any] = {"role": message.get("role") or "assistant", "content": message["content"]}
    if isinstance(message.get("thinking"), str) and message["thinking"]:
        out["reasoning"] = message["thinking"]  # the name Ollama's own OpenAI layer gives it
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {
                    "name": (call.get("function") or {}).get("name", ""),
                    "arguments": tool_arguments((call.get("function") or {}).get("arguments", {})),
                },
            }
            for i, call in enumerate(calls)
            if isinstance(call, dict)
        ]
    return out


def _decode_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    vectors = body.get("embeddings")
    if not isinstance(vectors, list) or not all(isinstance(v, list) for v in vectors):
        raise MalformedResponseError("the upstream's reply lacks embeddings (a list of vectors)")
    count = usage(body)["prompt_tokens"]
    answer: dict[str, Any] = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": body.get("model", ""),
        "usage": {"prompt_tokens": count, "total_tokens": count},
    }
    extra = stats(body)
    if extra:
        answer["x_ollama"] = extra
    return answer


# -- to an Ollama caller ---------------------------------------------------------------------------


def encode_response(endpoint: Endpoint, canonical: dict[str, Any], model: str) -> dict[str, Any]:
    """A canonical answer as an Ollama caller gets it (the first choice; Ollama has no ``n``)."""
    kept = canonical.get("x_ollama")
    extra: dict[str, Any] = kept if isinstance(kept, dict) else {}
    if endpoint == "embedding":
        out = _encode_embeddings(canonical, model, extra)
    else:
        choices = canonical.get("choices") or [{}]
        choice = choices[0]
        out = {"model": model, "created_at": extra.get("created_at") or now()}
        if endpoint == "chat":
            out["message"] = native_message(choice.get("message") or {})
        else:
            out["response"] = choice.get("text") or ""
        out["done"] = True
        out["done_reason"] = "length" if choice.get("finish_reason") == "length" else "stop"
        out.update(final_counts(canonical.get("usage"), extra))
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
            out["logprobs"] = logprobs["content"]
    if "x_ethos" in canonical:
        out["x_ethos"] = canonical["x_ethos"]
    return out


def native_message(message: dict[str, Any]) -> dict[str, Any]:
    """An answer message in Ollama's shape: tool-call arguments as objects, reasoning as ``thinking``."""
    out: dict[str, Any] = {"role": message.get("role") or "assistant", "content": message.get("content") or ""}
    thinking = reasoning_text(message)
    if thinking:
        out["thinking"] = thinking
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = [native_call(call) for call in calls if isinstance(call, dict)]
    if "annotations" in message:
        out["annotations"] = message["annotations"]
    return out


def reasoning_text(message: dict[str, Any]) -> str:
    """An OpenAI-shaped message's reasoning: ``reasoning`` (Ollama, newer vLLM) or ``reasoning_content``."""
    for key in ("reasoning", "reasoning_content"):
        if isinstance(message.get(key), str) and message[key]:
            return str(message[key])
    return ""


def final_counts(usage: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """The stats of Ollama's last object: durations (when the upstream was Ollama) and eval counts."""
    out: dict[str, Any] = {k: extra[k] for k in ("total_duration", "load_duration") if k in extra}
    if isinstance(usage, dict):
        out["prompt_eval_count"] = usage.get("prompt_tokens", 0)
    if "prompt_eval_duration" in extra:
        out["prompt_eval_duration"] = extra["prompt_eval_duration"]
    if isinstance(usage, dict):
        out["eval_count"] = usage.get("completion_tokens", 0)
    if "eval_duration" in extra:
        out["eval_duration"] = extra["eval_duration"]
    if "context" in extra:
        out["context"] = extra["context"]
    return out


def _encode_embeddings(canonical: dict[str, Any], model: str, extra: dict[str, Any]) -> dict[str, Any]:
    data = sorted(canonical.get("data") or [], key=lambda item: item.get("index", 0))
    vectors = [item.get("embedding") for item in data]
    out: dict[str, Any] = {"model": model, "embeddings": vectors}
    if len(vectors) == 1:
        out["embedding"] = vectors[0]  # what the legacy /api/embeddings route answers
    out.update({k: extra[k] for k in ("total_duration", "load_duration") if k in extra})
    usage = canonical.get("usage")
    if isinstance(usage, dict):
        out["prompt_eval_count"] = usage.get("prompt_tokens", 0)
    return out


# -- model lists -----------------------------------------------------------------------------------


def decode_models(body: Any) -> list[str]:
    """Model names from ``GET /api/tags``."""
    models = body.get("models") if isinstance(body, dict) else None
    if not isinstance(models, list):
        raise MalformedResponseError("the upstream's model list lacks the list 'models'")
    names = []
    for entry in models:
        if isinstance(entry, dict):
            name = entry.get("name") or entry.get("model")
            if isinstance(name, str):
                names.append(name)
    return names


def encode_models(names: list[str], upstream_body: Any | None) -> dict[str, Any]:
    """``GET /api/tags`` for ``names``, keeping the upstream's entries when it spoke Ollama too."""
    known: dict[str, Any] = {}
    if isinstance(upstream_body, dict) and isinstance(upstream_body.get("models"), list):
        for entry in upstream_body["models"]:
            if isinstance(entry, dict) and isinstance(entry.get("name") or entry.get("model"), str):
                known[entry.get("name") or entry["model"]] = entry
    models = [
        known.get(name) or {"name": name, "model": name, "modified_at": now(), "size": 0, "digest": "", "details": {}}
        for name in names
    ]
    return {"models": models}
