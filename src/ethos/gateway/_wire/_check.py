"""Validation of callers' request bodies: every refusal names the field path and what it expects.

The limits here are also what the OpenAPI document publishes (``ethos.gateway._openapi`` reads
them), so a body the document calls valid is accepted and any other gets a documented 400.
"""

from __future__ import annotations

from typing import Any

from ethos.errors import RequestRefused

MAX_TOKENS = 131_072
"""The largest ``max_tokens`` (and ``num_predict``) a caller may ask for: the longest common context."""

MAX_CHOICES = 8
"""The largest ``n``: each choice costs a whole generation upstream."""

INT64 = (-(2**63), 2**63 - 1)

NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
"""OpenAI's sampling numbers and their documented ranges."""

INT_RANGES: dict[str, tuple[int, int]] = {
    "max_tokens": (1, MAX_TOKENS),
    "max_completion_tokens": (1, MAX_TOKENS),
    "n": (1, MAX_CHOICES),
    "seed": INT64,
    "top_logprobs": (0, 20),
}
"""OpenAI's integer fields and their ranges."""

CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
OLLAMA_ROLES = ("system", "user", "assistant", "tool")


def describe(value: Any) -> str:
    """A short name for a JSON value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return "an object"


def invalid(path: str, expected: str, value: Any) -> RequestRefused:
    """The refusal for one bad field: ``path: expected X, got Y``."""
    return RequestRefused(f"{path}: expected {expected}, got {describe(value)}", reason="request.invalid", status=400)


def body_object(body: Any) -> dict[str, Any]:
    """The body itself, which must be a JSON object."""
    if not isinstance(body, dict):
        raise invalid("the request body", "a JSON object", body)
    return body


def model(body: dict[str, Any]) -> str:
    """The required, non-empty ``model`` string."""
    value = body.get("model")
    if not isinstance(value, str) or not value.strip():
        raise invalid("model", "a non-empty string naming the model", value)
    return value


def is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number (booleans are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """Whether ``value`` is a JSON integer (booleans are not; ``2.0`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def number(body: dict[str, Any], key: str, path: str, bounds: tuple[float, float] | None = None) -> None:
    """Check an optional number field, within ``bounds`` when given (``null`` is allowed)."""
    value = body.get(key)
    if value is None:
        return
    if not is_number(value):
        raise invalid(path, "a number", value)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise _out_of_range(path, "a number", bounds, value)


def integer(body: dict[str, Any], key: str, path: str, bounds: tuple[int, int] | None = None) -> None:
    """Check an optional integer field, within ``bounds`` when given (``null`` is allowed)."""
    value = body.get(key)
    if value is None:
        return
    if not is_int(value):
        raise invalid(path, "an integer", value)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise _out_of_range(path, "an integer", bounds, value)


def _out_of_range(path: str, kind: str, bounds: tuple[float, float], value: Any) -> RequestRefused:
    return RequestRefused(
        f"{path}: expected {kind} from {bounds[0]} to {bounds[1]}, got {value}", reason="request.invalid", status=400
    )


def boolean(body: dict[str, Any], key: str, path: str) -> None:
    """Check an optional boolean field (``null`` is allowed)."""
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise invalid(path, "true or false", value)


def string(body: dict[str, Any], key: str, path: str) -> None:
    """Check an optional string field (``null`` is allowed)."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(path, "a string", value)


def obj(body: dict[str, Any], key: str, path: str) -> None:
    """Check an optional object field (``null`` is allowed)."""
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise invalid(path, "an object", value)


def stop(body: dict[str, Any], key: str, path: str) -> None:
    """Check an optional stop field: a string or a list of strings."""
    value = body.get(key)
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise invalid(path, "a string or a list of strings", value)


def texts(value: Any, path: str) -> None:
    """Check a string or a list of strings (``prompt``, ``input``); token-id lists are refused."""
    if isinstance(value, str):
        return
    if isinstance(value, list) and value:
        for i, item in enumerate(value):
            if not isinstance(item, str):
                expected = "a string (token ids are not accepted: the gateway's guards read text)"
                raise invalid(f"{path}[{i}]", expected, item)
        return
    raise invalid(path, "a string or a non-empty list of strings", value)


def messages(value: Any, *, roles: tuple[str, ...], allow_empty: bool) -> None:
    """Check a chat ``messages`` list: objects with a known ``role`` and text content."""
    if not isinstance(value, list) or (not value and not allow_empty):
        raise invalid("messages", "a non-empty list of message objects", value)
    for i, message in enumerate(value):
        path = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid(path, "an object with role and content", message)
        role = message.get("role")
        if not isinstance(role, str) or role not in roles:
            raise invalid(f"{path}.role", f"one of {', '.join(roles)}", role)
        content(message.get("content"), f"{path}.content")
        if "tool_calls" in message and message["tool_calls"] is not None:
            tool_calls(message["tool_calls"], f"{path}.tool_calls")


def content(value: Any, path: str) -> None:
    """Check a message's content: a string, a list of content parts, or null."""
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list):
        raise invalid(path, "a string, a list of content parts or null", value)
    for i, part in enumerate(value):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise invalid(f"{path}[{i}]", 'a content part object with a "type"', part)
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise invalid(f"{path}[{i}].text", "a string", part.get("text"))


def tool_calls(value: Any, path: str) -> None:
    """Check an assistant message's ``tool_calls``: a list of objects with a ``function`` object."""
    if not isinstance(value, list):
        raise invalid(path, "a list of tool calls", value)
    for i, call in enumerate(value):
        if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
            raise invalid(f"{path}[{i}]", 'an object with a "function" object', call)
        arguments = call["function"].get("arguments")
        if arguments is not None and not isinstance(arguments, str | dict):
            raise invalid(f"{path}[{i}].function.arguments", "a string or an object", arguments)
