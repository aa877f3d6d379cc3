"""The request pipeline: auth, parsing, scope, limits, guards, the upstream call and the answer.

Order matters and is deliberate: the key is checked before the body is read (strangers cannot make
us parse megabytes), the scope before the model's existence is revealed, the limits before any
work is spent upstream, and the guards before anything leaves the machine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ethos.errors import EthosError, RequestRefused
from ethos.gateway import _wire as wire
from ethos.gateway._auditlog import AuditLog
from ethos.gateway._config import GatewayConfig
from ethos.gateway._exchange import Exchange, as_refusal, upstream_failure
from ethos.gateway._keys import ApiKey, KeyStore
from ethos.gateway._limits import ConcurrencyLimiter, RateLimiter, estimate_tokens
from ethos.gateway._metrics import Metrics
from ethos.gateway._record import Recorder
from ethos.gateway._streaming import stream_answer
from ethos.gateway._types import Endpoint, Format, Guard, GuardContext
from ethos.gateway._upstream import Upstream
from ethos.gateway.guards import apply_disclaimer, decorate_response

log = logging.getLogger("ethos.gateway")


class Gateway:
    """The parts one running gateway shares across requests, and the handler that uses them."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        keys: KeyStore | None,
        guards: list[Guard],
        upstream: Upstream,
        audit: AuditLog | None,
        metrics: Metrics,
    ) -> None:
        """Store the parts; nothing is started here (the app's lifespan does that)."""
        self.config = config
        self.keys = keys
        self.guards = guards
        self.upstream = upstream
        self.rate = RateLimiter(config.limits)
        self.concurrency = ConcurrencyLimiter(config.server.max_concurrency)
        self._pii_on = any(guard.name == "pii" for guard in guards)
        # The log trusts the guard's redaction only when it covers what the log's own redaction would:
        # every entity, answers included (else model-written personal data is logged in clear).
        guard_redacts = self._pii_on and config.pii.mask_answers and config.pii.entities is None
        self.recorder = Recorder(
            audit, metrics, log, redact_content=config.audit.content == "redacted" and not guard_redacts
        )
        self.metrics = metrics
        self._reverse_aliases = {upstream: public for public, upstream in config.upstream.aliases.items()}
        # spaCy NER takes milliseconds per text: run it in a worker thread so one request's scan does
        # not stall every other request on the event loop (patterns alone cost well under 1 ms).
        self._offload = self._pii_on and config.pii.spacy_model is not None

    # -- the parts every route uses -------------------------------------------------------------

    def authenticate(self, request: Request) -> ApiKey | None:
        """Return the caller's key (``None`` when keys are off), or raise a 401 refusal."""
        if self.keys is None:
            return None
        header = request.headers.get("authorization")
        token = None
        if header:
            scheme, _, value = header.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else None
        return self.keys.authenticate(token or None)

    def authorize(self, key: ApiKey | None, endpoint: Endpoint, model: str | None) -> None:
        """Raise a 403 refusal when the key's scope does not cover the endpoint or the model."""
        if self.keys is not None and key is not None:
            self.keys.authorize(key, endpoint, model)

    async def read_body(self, request: Request) -> bytes:
        """Read the body within ``max_body_bytes``; refuse (413) as soon as it is known to be larger."""
        limit = self.config.server.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_json(self, request: Request) -> Any:
        """Read the body (see :meth:`read_body`) and parse it strictly (no repeated keys)."""
        return wire.parse_json(await self.read_body(request))

    def resolve_model(self, model: str) -> str:
        """Return the upstream's name for a public model name, or 404 when it is not served."""
        served = self.config.upstream.models
        if served and model not in served:
            raise RequestRefused(
                f"model {model!r} is not served by this gateway; served models: {', '.join(served)}",
                reason="model.not_served",
                status=404,
            )
        return self.config.upstream.aliases.get(model, model)

    def public_model_names(self, upstream_names: list[str]) -> list[str]:
        """Map upstream model names to the names callers use, keeping only served ones."""
        names = [self._reverse_aliases.get(name, name) for name in upstream_names]
        served = self.config.upstream.models
        return [name for name in names if name in served] if served else names

    # -- inference routes -----------------------------------------------------------------------

    async def handle(self, request: Request, caller: Format, endpoint: Endpoint, route: str) -> Response:
        """Serve one chat, completion or embedding request end to end."""
        exchange = Exchange(route=route, caller=caller, endpoint=endpoint)
        stack = ExitStack()
        self.metrics.in_flight.inc()
        try:
            response = await self._serve(request, exchange, stack)
        except Exception as exc:  # every failure becomes a well-formed answer
            stack.close()
            self.metrics.in_flight.dec()
            return self.refuse(exchange, exc)
        if not isinstance(response, StreamingResponse):
            # a stream releases its slot, ticket and in-flight count when it ends (see _streaming)
            stack.close()
            self.metrics.in_flight.dec()
            self.recorder.finish(exchange)
        return response

    async def _serve(self, request: Request, exchange: Exchange, stack: ExitStack) -> Response:
        key = self.authenticate(request)
        exchange.key_id = key.key_id if key else None
        if request.query_params:
            # The model a key may use is read from the body only: a second source (``?model=``) is
            # how scopes get bypassed (LiteLLM #41810), so inference routes take no query at all.
            raise RequestRefused(
                f"query parameters are not accepted on {exchange.route} (got {', '.join(request.query_params)}); "
                "put every field in the JSON body",
                reason="request.query_not_allowed",
            )
        body = await self.read_json(request)
        canonical = wire.decode_request(exchange.caller, exchange.endpoint, body)
        exchange.model = model = canonical["model"]
        self.authorize(key, exchange.endpoint, model)
        upstream_model = self.resolve_model(model)
        if self.upstream.kind == "openai" and _is_ollama_load(exchange, canonical):
            return JSONResponse(_ollama_load_reply(model), headers=self.headers(exchange))
        ctx = exchange.ctx = GuardContext(
            log_content=(key.log_content if key else True) and _request_allows_logging(request),
            system_prompts=wire.system_texts(canonical) if exchange.endpoint == "chat" else [],
        )
        stack.enter_context(self.concurrency.enter(key, _max_parallel(key, self.config)))
        texts = wire.prompt_texts(exchange.endpoint, canonical)
        ticket = self.rate.admit(key, estimate_tokens(texts, wire.get_max_tokens(canonical)))
        stack.callback(lambda: self.rate.settle(ticket, exchange.total_tokens()))
        if self._offload:
            await run_in_threadpool(self._guard_prompt, canonical, texts, ctx, exchange)
        else:
            self._guard_prompt(canonical, texts, ctx, exchange)
        path, upstream_body = wire.encode_request(self.upstream.kind, exchange.endpoint, canonical, upstream_model)
        if canonical.get("stream") and exchange.endpoint != "embedding":
            return await stream_answer(self, exchange, canonical, path, upstream_body, stack)
        return await self._answer(exchange, path, upstream_body)

    def _guard_prompt(self, canonical: dict[str, Any], texts: list[str], ctx: GuardContext, exchange: Exchange) -> None:
        extra = canonical.get("x_ollama")
        if isinstance(extra, dict) and extra.get("context"):
            # Token ids cannot be read by any guard (the same reason token-id prompts are refused).
            raise RequestRefused(
                "'context' (token ids of an earlier answer) cannot be checked by the gateway's guards; "
                "send the conversation as /api/chat messages instead",
                reason="request.unsupported",
            )
        for guard in self.guards:
            texts = guard.check_prompt(texts, ctx)
        if self._pii_on and _drop_logprobs(canonical):
            # Log-probs carry the upstream's token texts: they would show what masking removed and
            # the placeholders that restoring replaced.
            ctx.record("pii", "modify", "pii.logprobs_dropped", "log-probs are not returned while the PII guard is on")
        wire.set_prompt_texts(exchange.endpoint, canonical, texts)
        exchange.log_prompt = texts
        if exchange.endpoint in ("chat", "completion"):
            apply_disclaimer(canonical, exchange.endpoint, self.config.disclaimer)
            cap = self.config.policy.max_answer_tokens
            asked = wire.get_max_tokens(canonical)
            if cap and (asked is None or asked > cap):
                wire.set_max_tokens(canonical, cap)

    async def _answer(self, exchange: Exchange, path: str, upstream_body: dict[str, Any]) -> Response:
        reply = await self.timed_request("POST", path, upstream_body, exchange)
        if reply.status != 200:
            raise upstream_failure(reply.status, reply.body)
        canonical = wire.decode_response(self.upstream.kind, exchange.endpoint, reply.body)
        exchange.take_usage(canonical.get("usage"))
        if exchange.endpoint != "embedding" and exchange.ctx is not None:
            if self._offload:
                await run_in_threadpool(self._guard_answer, canonical, exchange.ctx, exchange)
            else:
                self._guard_answer(canonical, exchange.ctx, exchange)
        body = wire.encode_response(exchange.caller, exchange.endpoint, canonical, exchange.model)
        return JSONResponse(body, headers=self.headers(exchange))

    def _guard_answer(self, canonical: dict[str, Any], ctx: GuardContext, exchange: Exchange) -> None:
        answers = wire.answer_texts(exchange.endpoint, canonical)
        side = wire.answer_side_texts(canonical) if exchange.endpoint == "chat" else []
        for guard in self.guards:
            answers = [guard.check_answer(text, ctx) for text in answers]
            side = [guard.check_answer(text, ctx) for text in side]
        wire.set_answer_texts(exchange.endpoint, canonical, answers)
        if side:
            wire.set_answer_side_texts(canonical, side)
        exchange.log_answer = answers[0] if answers else ""
        exchange.log_tool_calls = wire.answer_tool_calls(canonical) or None
        decorate_response(canonical, exchange.endpoint, ctx, self.config)

    async def timed_request(self, method: str, path: str, body: dict[str, Any] | None, exchange: Exchange) -> Any:
        """Call the upstream, adding the wait to the exchange's upstream time."""
        with self.upstream_timer(exchange):
            return await self.upstream.request(method, path, body)

    @contextmanager
    def upstream_timer(self, exchange: Exchange) -> Iterator[None]:
        """Count the time inside as waiting on the upstream: in the exchange and the upstream histogram."""
        started = exchange.elapsed()
        try:
            yield
        finally:
            waited = exchange.elapsed() - started
            exchange.upstream_s += waited
            self.metrics.observe_upstream(exchange.route, waited)

    # -- answers --------------------------------------------------------------------------------

    def headers(self, exchange: Exchange) -> dict[str, str]:
        """The gateway's response headers: the request id and its own overhead in milliseconds."""
        return {"x-request-id": exchange.request_id, "x-ethos-overhead-ms": f"{exchange.overhead_ms():.2f}"}

    def refuse(self, exchange: Exchange, exc: Exception) -> Response:
        """Answer a refusal or failure in the caller's format, and record it."""
        refusal = as_refusal(exc)
        if refusal.reason == "internal":
            log.exception("internal error", extra={"request_id": exchange.request_id})
        elif not isinstance(exc, EthosError | RequestRefused):
            log.warning("unexpected error: %s", type(exc).__name__)
        exchange.status, exchange.reason = refusal.status, refusal.reason
        self.recorder.finish(exchange)
        body = wire.error_body(exchange.caller, refusal.status, refusal.reason, str(refusal))
        return JSONResponse(body, status_code=refusal.status, headers={**refusal.headers, **self.headers(exchange)})


def _drop_logprobs(canonical: dict[str, Any]) -> bool:
    """Remove log-prob requests; return whether any was asking for them."""
    asked = [canonical.pop(name, None) for name in ("logprobs", "top_logprobs")]
    extra = canonical.get("x_ollama")
    if isinstance(extra, dict):
        asked += [extra.pop(name, None) for name in ("logprobs", "top_logprobs")]
    return any(value not in (None, False, 0) for value in asked)


def _request_allows_logging(request: Request) -> bool:
    """A request may opt out of content logging (never in): ``X-Ethos-Log-Content: false``."""
    value = request.headers.get("x-ethos-log-content")
    return value is None or value.strip().lower() not in ("0", "false", "no", "off")


def _is_ollama_load(exchange: Exchange, canonical: dict[str, Any]) -> bool:
    """Ollama's ``/api/generate`` with an empty prompt only loads the model (nothing is generated)."""
    extra = canonical.get("x_ollama") or {}
    return (
        exchange.caller == "ollama"
        and exchange.endpoint == "completion"
        and canonical.get("prompt") == ""
        and not extra.get("system")
        and not extra.get("images")
    )


def _ollama_load_reply(model: str) -> dict[str, Any]:
    # An OpenAI-compatible server has no "load" call; answering it here is what Ollama would say.
    from ethos.gateway._wire._ollama import now

    return {"model": model, "created_at": now(), "response": "", "done": True, "done_reason": "load"}


def _too_large(limit: int) -> RequestRefused:
    return RequestRefused(
        f"the request body is larger than the gateway's limit of {limit} bytes ([server] max_body_bytes)",
        reason="limit.body_size",
        status=413,
    )


def _max_parallel(key: ApiKey | None, config: GatewayConfig) -> int:
    if key is not None and key.max_parallel is not None:
        return key.max_parallel
    return config.limits.max_parallel
