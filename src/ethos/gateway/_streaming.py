"""Streamed answers: upstream frames in, guarded frames out, in the caller's format, as they come.

Each text of each choice (content, refusal, reasoning, each tool call's arguments) gets its own
chain of guard filters. A filter may hold text back (a PII value or a placeholder may be
incomplete); what it holds is released at the choice's last chunk. Failures after
the first byte cannot change the HTTP status any more, so they become a well-formed in-band error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from starlette.responses import StreamingResponse

from ethos.gateway import _wire as wire
from ethos.gateway._exchange import Exchange, as_refusal, upstream_failure
from ethos.gateway._types import GuardContext, TextFilter
from ethos.gateway.guards import decorate_final_chunk

if TYPE_CHECKING:
    from ethos.gateway._pipeline import Gateway
    from ethos.gateway._upstream import UpstreamStream


class _ChoiceFilters:
    """The guard filters of every text of one streamed answer, created on first use.

    Each choice's content has a chain of filters, and so has each of its other model-written texts
    (refusal and reasoning deltas, each tool call's arguments): a value split across two argument
    fragments is held back like one split across two content deltas.
    """

    def __init__(self, gateway: Gateway, ctx: GuardContext) -> None:
        self._gateway = gateway
        self._ctx = ctx
        self._chains: dict[tuple[int, str], list[TextFilter]] = {}
        self._sent: list[str] = []  # the first choice's content as sent (for the disclaimer check and the log)
        self._calls: dict[str, dict[str, str]] = {}  # the first choice's tool calls as sent, by field

    def _chain(self, index: int, field: str) -> list[TextFilter]:
        chain = self._chains.get((index, field))
        if chain is None:
            made = (guard.stream_filter(self._ctx) for guard in self._gateway.guards)
            chain = self._chains[(index, field)] = [f for f in made if f is not None]
        return chain

    def _pass(self, index: int, field: str, text: str, finished: bool) -> str:
        for flt in self._chain(index, field):
            text = flt.feed(text)
            if finished:
                text += flt.finish()
        return text

    def apply(self, index: int, text: str, finished: bool) -> str:
        """Pass one piece of a choice's content through its chain; flush the chain when the choice ends."""
        text = self._pass(index, _CONTENT, text, finished)
        if index == 0:
            self._sent.append(text)
        return text

    def apply_side(self, chunk: dict[str, Any], finishing: set[int]) -> None:
        """Guard a chat chunk's side texts in place; a finishing choice also gets every held-back tail."""
        seen = set()
        for index, field, text in wire.chunk_side_texts(chunk):
            seen.add((index, field))
            out = self._pass(index, field, text, index in finishing)
            wire.set_chunk_side_text(chunk, index, field, out)
            self._keep_call(index, field, out)
        for index, field in list(self._chains):
            if index in finishing and field != _CONTENT and (index, field) not in seen:
                rest = self._pass(index, field, "", True)
                if rest:
                    wire.set_chunk_side_text(chunk, index, field, rest)
                    self._keep_call(index, field, rest)
        for field, name in wire.chunk_tool_names(chunk):
            self._calls.setdefault(field, {"name": "", "arguments": ""})["name"] += name

    def _keep_call(self, index: int, field: str, sent: str) -> None:
        if index == 0 and field.startswith("tool_calls."):
            self._calls.setdefault(field, {"name": "", "arguments": ""})["arguments"] += sent

    def tool_calls(self) -> list[dict[str, str]]:
        """The first choice's tool calls as the caller got them, in index order."""
        return [self._calls[field] for field in sorted(self._calls, key=lambda f: int(f.rsplit(".", 1)[1]))]

    def answer(self) -> str:
        """The first choice's content sent so far."""
        return "".join(self._sent)


_CONTENT = "content"
"""The chain key of a choice's content (side texts use their field names, see ``wire.chunk_side_texts``)."""


class _Cleanup:
    """Releases a stream's resources exactly once.

    It runs from the body's ``finally``, or from the response when the body never ran (the caller
    left before the first byte).
    """

    def __init__(self, gateway: Gateway, exchange: Exchange, upstream: UpstreamStream, stack: ExitStack) -> None:
        self._parts: tuple[Gateway, Exchange, UpstreamStream, ExitStack] | None = (gateway, exchange, upstream, stack)

    async def __call__(self) -> None:
        if self._parts is None:
            return
        gateway, exchange, upstream, stack = self._parts
        self._parts = None
        try:
            await upstream.aclose()
        finally:
            stack.close()
            gateway.metrics.in_flight.dec()
            gateway.recorder.finish(exchange)


class _GuardedStream(StreamingResponse):
    """A streaming response that always runs its cleanup, even if its body never started."""

    def __init__(self, content: AsyncIterator[bytes], cleanup: _Cleanup, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._cleanup = cleanup

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._cleanup()


async def stream_answer(
    gateway: Gateway,
    exchange: Exchange,
    canonical: dict[str, Any],
    path: str,
    upstream_body: dict[str, Any],
    stack: ExitStack,
) -> StreamingResponse:
    """Open the upstream stream and return the caller's streaming response.

    The concurrency slot and rate ticket in ``stack`` are released when the stream ends, not when
    this function returns.
    """
    with gateway.upstream_timer(exchange):  # until the headers: the rest is the caller's stream
        upstream = await gateway.upstream.stream(path, upstream_body)
    if upstream.status != 200:
        error = await upstream.read_error()
        await upstream.aclose()
        raise upstream_failure(upstream.status, error)
    options = canonical.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    encoder = wire.StreamEncoder(exchange.caller, exchange.endpoint, exchange.model, include_usage=include_usage)
    cleanup = _Cleanup(gateway, exchange, upstream, stack)
    body = _frames(gateway, exchange, upstream, encoder, cleanup)
    return _GuardedStream(body, cleanup, media_type=encoder.media_type, headers=gateway.headers(exchange))


async def _frames(
    gateway: Gateway, exchange: Exchange, upstream: UpstreamStream, encoder: Any, cleanup: _Cleanup
) -> AsyncIterator[bytes]:
    ctx = exchange.ctx
    if ctx is None:  # stream_answer runs only after the request was parsed
        raise RuntimeError("streamed answer without a guard context")
    filters = _ChoiceFilters(gateway, ctx)
    decorated = False
    try:
        async for chunk in upstream.events(exchange.endpoint):
            exchange.take_usage(chunk.get("usage"))
            finishing = set()
            for index, text, finished in wire.chunk_texts(chunk):
                wire.set_chunk_text(chunk, index, filters.apply(index, text, finished))
                if finished:
                    finishing.add(index)
            if exchange.endpoint == "chat":
                filters.apply_side(chunk, finishing)
            if finishing and not decorated:
                decorated = True
                decorate_final_chunk(chunk, exchange.endpoint, ctx, gateway.config, filters.answer())
            frame = encoder.encode(chunk)
            if frame:
                yield frame
        yield encoder.close()
    except Exception as exc:  # every failure mid-stream becomes an in-band error
        refusal = as_refusal(exc)
        if refusal.reason == "upstream.error":
            refusal.reason = "upstream.in_band"
        exchange.status, exchange.reason = refusal.status, refusal.reason
        yield encoder.error(refusal.status, refusal.reason, str(refusal))
    finally:
        exchange.log_answer = filters.answer()
        exchange.log_tool_calls = filters.tool_calls() or None
        await cleanup()
