"""What every finished request leaves behind: metrics, one structured log line and an audit entry.

Metrics and the log line are written at once. The audit entry is built and appended by one
background task fed through a queue: the chain then follows completion order, and redacting the
content for the log (when the PII guard is off) costs the caller no latency.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ethos.gateway._auditlog import AuditLog
from ethos.gateway._exchange import Exchange
from ethos.gateway._metrics import Metrics

_QUEUE_SIZE = 10_000
_UPSTREAM_REASONS = {
    "upstream.timeout": "timeout",
    "upstream.unreachable": "unreachable",
    "upstream.error": "status_5xx",
    "upstream.malformed": "malformed",
    "upstream.in_band": "in_band",
}


class Recorder:
    """Turns finished exchanges into metrics, log lines and audit entries."""

    def __init__(
        self,
        audit: AuditLog | None,
        metrics: Metrics,
        logger: logging.Logger,
        *,
        redact_content: bool,
    ) -> None:
        """Keep the sinks; :meth:`start` must run inside the event loop before requests arrive.

        ``redact_content``: redact logged content here (``[audit] content = "redacted"`` and the PII
        guard does not already mask every entity in prompts and answers).
        """
        self.audit = audit
        self.metrics = metrics
        self.log = logger
        self.redact_content = redact_content
        self._queue: asyncio.Queue[dict[str, Any] | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._redactor: Any = None

    async def start(self) -> None:
        """Start the audit writer task."""
        if self.audit is not None:
            self._queue = asyncio.Queue(_QUEUE_SIZE)
            self._task = asyncio.create_task(self._drain(), name="ethos-audit-writer")

    async def stop(self) -> None:
        """Write every queued entry, then stop the writer."""
        if self._queue is not None and self._task is not None:
            await self._queue.put(None)
            await self._task
            self._queue = self._task = None

    def finish(self, exchange: Exchange) -> None:
        """Record one finished request (success or refusal)."""
        seconds = exchange.elapsed()
        metrics = self.metrics
        metrics.observe_request(exchange.route, exchange.status, seconds)
        if exchange.reason in _UPSTREAM_REASONS:
            metrics.upstream_error(_UPSTREAM_REASONS[exchange.reason])
        elif exchange.reason and exchange.status < 500:
            metrics.blocked(exchange.reason)
        ctx = exchange.ctx
        if ctx is not None:
            if ctx.redactions:
                metrics.redacted(ctx.redactions)
            for decision in ctx.decisions:
                if decision.action == "block" and decision.reason != exchange.reason:
                    metrics.blocked(decision.reason)
        if exchange.prompt_tokens is not None or exchange.completion_tokens is not None:
            metrics.tokens(exchange.prompt_tokens or 0, exchange.completion_tokens or 0)
        entry = self._entry(exchange, seconds)
        self.log.info("request", extra={"fields": entry})
        if self._queue is not None:
            entry["content"] = self._content(exchange)
            try:
                self._queue.put_nowait(entry)
            except asyncio.QueueFull:
                self._write(entry)  # back-pressure: never drop an audit entry

    def _entry(self, exchange: Exchange, seconds: float) -> dict[str, Any]:
        ctx = exchange.ctx
        return {
            "request_id": exchange.request_id,
            "key_id": exchange.key_id,
            "route": exchange.route,
            "endpoint": exchange.endpoint,
            "caller": exchange.caller,
            "model": exchange.model,
            "status": exchange.status,
            "reason": exchange.reason,
            "latency_ms": round(seconds * 1000, 3),
            "upstream_ms": round(exchange.upstream_s * 1000, 3),
            "prompt_tokens": exchange.prompt_tokens,
            "completion_tokens": exchange.completion_tokens,
            "decisions": [{"guard": d.guard, "action": d.action, "reason": d.reason, "detail": d.detail}
                          for d in ctx.decisions]
            if ctx
            else [],
            "redactions": dict(ctx.redactions) if ctx else {},
        }

    def _content(self, exchange: Exchange) -> dict[str, Any] | None:
        ctx = exchange.ctx
        if ctx is None or not ctx.log_content or exchange.log_prompt is None:
            return None
        content: dict[str, Any] = {"prompt": list(exchange.log_prompt)}
        if exchange.log_answer is not None:
            content["answer"] = exchange.log_answer
        if exchange.log_tool_calls:
            content["tool_calls"] = [dict(call) for call in exchange.log_tool_calls]
        # Raw values are swapped back for their placeholders here; the unguarded case is redacted
        # by the writer task (see _redact), so no clear-text personal data reaches the disk.
        if ctx.vault:
            content["answer"] = _unrestore(content.get("answer"), ctx.vault)
            for call in content.get("tool_calls", ()):
                call["arguments"] = _unrestore(call["arguments"], ctx.vault)
        return content

    async def _drain(self) -> None:
        queue = self._queue
        while queue is not None and (entry := await queue.get()) is not None:
            self._write(entry)

    def _write(self, entry: dict[str, Any]) -> None:
        if self.audit is None:
            return
        content = entry.get("content")
        if content is not None and self.redact_content:
            entry["content"] = self._redact(content)
        try:
            self.audit.append(entry)
        except OSError:
            self.log.exception("audit log write failed", extra={"request_id": entry.get("request_id")})

    def _redact(self, content: dict[str, Any]) -> dict[str, Any]:
        """Replace personal data in logged content with placeholders (patterns only: fast, no NER)."""
        if self._redactor is None:
            from ethos.pii import AnalyzerConfig, cached_analyzer
            from ethos.pii.anonymize import Anonymizer

            self._redactor = (cached_analyzer(AnalyzerConfig(spacy_model=None)), Anonymizer())
        analyzer, anonymizer = self._redactor
        prompt = content.get("prompt", [])
        calls = content.get("tool_calls", [])
        texts = [*prompt, content.get("answer") or "", *(call["arguments"] for call in calls)]
        spans = analyzer.scan(texts)
        redacted = [str(anonymizer.rewrite(text, found)) for text, found in zip(texts, spans, strict=True)]
        out: dict[str, Any] = {"prompt": redacted[: len(prompt)]}
        if "answer" in content:
            out["answer"] = redacted[len(prompt)]
        if calls:
            arguments = redacted[len(prompt) + 1 :]
            out["tool_calls"] = [{**call, "arguments": a} for call, a in zip(calls, arguments, strict=True)]
        return out


def _unrestore(text: str | None, vault: dict[str, str]) -> str | None:
    if not text:
        return text
    for placeholder, value in sorted(vault.items(), key=lambda item: -len(item[1])):
        text = text.replace(value, placeholder)
    return text
