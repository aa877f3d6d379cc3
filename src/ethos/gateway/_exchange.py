"""One request's bookkeeping: timings, outcome, token counts and the audit/metrics/log record it becomes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ethos.errors import (
    MalformedResponseError,
    RequestRefused,
    ServerResponseError,
    ServerTimeoutError,
    ServerUnreachableError,
)
from ethos.gateway._types import Endpoint, Format, GuardContext


@dataclass(slots=True)
class Exchange:
    """What the gateway knows about one request while it handles it.

    Attributes:
        route: The route template (``/v1/chat/completions``): a bounded label for metrics.
        caller: The caller's wire format.
        endpoint: What the route does.
        request_id: Our id, sent back as ``X-Request-Id``.
        started: ``perf_counter`` at arrival.
        upstream_s: Seconds spent waiting on the upstream (for the overhead figure).
        status: The HTTP status sent (or the in-band error's status for a broken stream).
        reason: The refusal or error code, ``""`` for success.
        key_id: The caller's key id once authenticated.
        model: The public model name once parsed.
        prompt_tokens: From the upstream's usage, when it reported one.
        completion_tokens: Likewise.
        ctx: The guards' shared state, once the request was parsed.
        log_prompt: The prompt texts as sent upstream (redacted when the PII guard ran).
        log_answer: The answer as the caller got it.
        log_tool_calls: The tool calls of the answer's first choice as the caller got them
            (``{"name", "arguments"}``), when it made any.
    """

    route: str
    caller: Format
    endpoint: Endpoint
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)
    upstream_s: float = 0.0
    status: int = 200
    reason: str = ""
    key_id: str | None = None
    model: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ctx: GuardContext | None = None
    log_prompt: list[str] | None = None
    log_answer: str | None = None
    log_tool_calls: list[dict[str, str]] | None = None

    def elapsed(self) -> float:
        """Seconds since the request arrived."""
        return time.perf_counter() - self.started

    def overhead_ms(self) -> float:
        """Milliseconds the gateway itself spent (elapsed minus waiting on the upstream)."""
        return max(0.0, (self.elapsed() - self.upstream_s) * 1000.0)

    def take_usage(self, usage: Any) -> None:
        """Keep the token counts of an OpenAI-shaped ``usage`` object, when it is one."""
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(prompt, int):
                self.prompt_tokens = prompt
            if isinstance(completion, int):
                self.completion_tokens = completion

    def total_tokens(self) -> int | None:
        """Prompt plus completion tokens, when the upstream reported both or either."""
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)


def as_refusal(exc: Exception) -> RequestRefused:
    """Turn an upstream failure into the refusal the caller sees (502/504 with a reason code).

    Anything unexpected becomes a 500 ``internal`` whose message says nothing about the request.
    """
    if isinstance(exc, RequestRefused):
        return exc
    if isinstance(exc, ServerTimeoutError):
        message = f"the model server did not answer in time: {exc}"
        return RequestRefused(message, reason="upstream.timeout", status=504)
    if isinstance(exc, ServerUnreachableError):
        return RequestRefused(f"the model server is unreachable: {exc}", reason="upstream.unreachable", status=502)
    if isinstance(exc, MalformedResponseError):
        message = f"the model server sent a malformed reply: {exc}"
        return RequestRefused(message, reason="upstream.malformed", status=502)
    if isinstance(exc, ServerResponseError):
        status = exc.status if 400 <= exc.status < 500 else 502
        reason = "upstream.rejected" if status < 500 else "upstream.error"
        return RequestRefused(f"the model server answered with an error: {exc}", reason=reason, status=status)
    return RequestRefused("the gateway failed to handle this request", reason="internal", status=500)


def upstream_failure(status: int, body: Any) -> RequestRefused:
    """The refusal for an upstream's non-200 reply, keeping 4xx statuses and its message."""
    message = _error_message(body) or f"HTTP {status}"
    if 400 <= status < 500:
        reason = "upstream.not_found" if status == 404 else "upstream.rejected"
        return RequestRefused(f"the model server refused the request: {message}", reason=reason, status=status)
    return RequestRefused(f"the model server failed: {message}", reason="upstream.error", status=502)


def _error_message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body.get("message"))
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, str):
            return error[:500]
    if isinstance(body, str):
        return body[:500]
    return ""
