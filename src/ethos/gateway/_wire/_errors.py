"""Error bodies in each wire format: OpenAI's nested object, Ollama's flat string."""

from __future__ import annotations

from typing import Any

from ethos.gateway._types import Format

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout",
}


def error_type(status: int) -> str:
    """OpenAI's error ``type`` for an HTTP status."""
    return _OPENAI_TYPES.get(status, "invalid_request_error" if 400 <= status < 500 else "server_error")


def error_body(fmt: Format, status: int, reason: str, message: str) -> dict[str, Any]:
    """The body of an error answer, as the caller's client library expects it.

    Args:
        fmt: The caller's wire format.
        status: The HTTP status sent with it.
        reason: The gateway's stable dotted code (``auth.missing_key`` ...).
        message: A human message that says what to do.

    Returns:
        OpenAI: ``{"error": {"message", "type", "param": None, "code": reason}}``;
        Ollama: ``{"error": message, "code": reason}``.
    """
    if fmt == "ollama":
        return {"error": message, "code": reason}
    return {"error": {"message": message, "type": error_type(status), "param": None, "code": reason}}
