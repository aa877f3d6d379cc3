"""Rate and concurrency limits: token buckets per key, and counted slots for parallel requests.

Everything here runs on the event loop on every request: O(1), no I/O, no awaits. A short lock
makes it safe from threads too.

**Rate.** Each key (and one bucket for all callers without a key) has two token buckets
(requests per minute, tokens per minute) that refill continuously at ``limit / 60`` per second up
to ``limit``, so a key may burst a minute's worth and then runs at its rate (OWASP API4
"unrestricted resource consumption"; reference/gateway.md §6). A request is admitted with an
*estimate* of its tokens (:func:`estimate_tokens`) and settled with the real count once the
upstream reports usage. A refused request consumes nothing.

**Concurrency.** A global cap (``[server] max_concurrency``) and a per-key cap
(``max_parallel``) on requests in flight; full means an immediate 429, never a queue.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from ethos.errors import RequestRefused
from ethos.gateway._config import LimitsConfig
from ethos.gateway._keys import ApiKey

__all__ = ["ConcurrencyLimiter", "RateLimiter", "Slot", "Ticket", "estimate_tokens", "prompt_tokens"]

CHARS_PER_TOKEN = 4
"""The estimate's divisor: about four characters per token for English text with BPE tokenizers."""

DEFAULT_ANSWER_TOKENS = 256
"""Tokens reserved for the answer when the request sets no ``max_tokens``."""

_EPSILON = 1e-9


def estimate_tokens(texts: Sequence[str], max_tokens: int | None) -> int:
    """Estimate a request's tokens before the call: ``ceil(chars / 4) + (max_tokens or 256)``.

    A deliberately cheap heuristic (no tokenizer on the hot path); the limiter settles the
    difference once the upstream reports the real usage.
    """
    answer = max_tokens if max_tokens is not None and max_tokens > 0 else DEFAULT_ANSWER_TOKENS
    return prompt_tokens(texts) + answer


def prompt_tokens(texts: Sequence[str]) -> int:
    """A tokenizer-free estimate of texts' tokens: ``ceil(characters / 4)`` (OpenAI's rule of thumb for English)."""
    return -(-sum(len(text) for text in texts) // CHARS_PER_TOKEN)


@dataclass(slots=True)
class _Bucket:
    """A pair of token buckets for one key; ``level`` values may dip below zero after settling."""

    rpm: int
    tpm: int
    requests: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.updated = now
        if self.rpm:
            self.requests = min(float(self.rpm), self.requests + elapsed * self.rpm / 60.0)
        if self.tpm:
            self.tokens = min(float(self.tpm), self.tokens + elapsed * self.tpm / 60.0)


@dataclass(slots=True)
class Ticket:
    """What :meth:`RateLimiter.admit` reserved for one request; settle it exactly once.

    Attributes:
        key_id: The key's id, or ``None`` for the anonymous bucket.
        tokens: The tokens charged so far (the estimate until settled).
        settled: Whether :meth:`RateLimiter.settle` has run.
    """

    key_id: str | None
    tokens: int
    settled: bool = False
    _bucket: _Bucket | None = field(default=None, repr=False)


class RateLimiter:
    """Requests-per-minute and tokens-per-minute token buckets per key id."""

    def __init__(self, defaults: LimitsConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        """Use ``defaults`` for keys without their own limits; ``clock`` counts seconds (monotonic)."""
        self._defaults = defaults
        self._clock = clock
        self._buckets: dict[str | None, _Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, key: ApiKey | None, est_tokens: int) -> Ticket:
        """Admit one request estimated at ``est_tokens`` tokens, or refuse it without charging.

        A request estimated above the whole per-minute token budget is admitted when the bucket is
        full and leaves it in debt, so large requests are slowed, not refused forever.

        Raises:
            RequestRefused: ``limit.requests`` or ``limit.tokens``, status 429, with ``Retry-After``
                (whole seconds until both buckets would admit it).
        """
        key_id = key.key_id if key else None
        rpm, tpm = self._limits(key)
        if not rpm and not tpm:
            return Ticket(key_id, est_tokens)
        now = self._clock()
        with self._lock:
            bucket = self._bucket(key_id, rpm, tpm, now)
            need = min(float(est_tokens), float(tpm))
            wait_requests = (1.0 - bucket.requests) * 60.0 / rpm if rpm and bucket.requests < 1.0 - _EPSILON else 0.0
            wait_tokens = (need - bucket.tokens) * 60.0 / tpm if tpm and bucket.tokens < need - _EPSILON else 0.0
            if wait_requests or wait_tokens:
                raise _refused(key_id, rpm, tpm, wait_requests, wait_tokens)
            if rpm:
                bucket.requests -= 1.0
            if tpm:
                bucket.tokens -= est_tokens
        return Ticket(key_id, est_tokens, _bucket=bucket if tpm else None)

    def settle(self, ticket: Ticket, actual_tokens: int | None) -> None:
        """Charge or refund the difference between the estimate and ``actual_tokens`` (once).

        ``None`` (the upstream reported no usage) keeps the estimate.
        """
        bucket = ticket._bucket
        now = self._clock()
        with self._lock:
            if ticket.settled:
                return
            ticket.settled = True
            if actual_tokens is None or bucket is None:
                return
            bucket.refill(now)
            bucket.tokens = min(float(bucket.tpm), bucket.tokens - (actual_tokens - ticket.tokens))
            ticket.tokens = actual_tokens

    def _limits(self, key: ApiKey | None) -> tuple[int, int]:
        rpm = key.requests_per_minute if key and key.requests_per_minute is not None else None
        tpm = key.tokens_per_minute if key and key.tokens_per_minute is not None else None
        return (
            self._defaults.requests_per_minute if rpm is None else rpm,
            self._defaults.tokens_per_minute if tpm is None else tpm,
        )

    def _bucket(self, key_id: str | None, rpm: int, tpm: int, now: float) -> _Bucket:
        bucket = self._buckets.get(key_id)
        if bucket is None or bucket.rpm != rpm or bucket.tpm != tpm:
            bucket = self._buckets[key_id] = _Bucket(rpm, tpm, float(rpm), float(tpm), now)
        else:
            bucket.refill(now)
        return bucket


def _refused(key_id: str | None, rpm: int, tpm: int, wait_requests: float, wait_tokens: float) -> RequestRefused:
    retry = max(1, math.ceil(max(wait_requests, wait_tokens) - _EPSILON))
    who = f"API key {key_id}" if key_id else "callers without a key"
    if wait_requests:
        what, reason = f"{rpm} requests per minute", "limit.requests"
    else:
        what, reason = f"{tpm} tokens per minute", "limit.tokens"
    return RequestRefused(
        f"{who} reached its limit of {what}; retry in {retry} s",
        reason=reason,
        status=429,
        headers={"Retry-After": str(retry)},
    )


class Slot:
    """One request's place in the concurrency count; taken on ``__enter__``, given back once."""

    __slots__ = ("_held", "_key_id", "_limiter", "_max_parallel")

    def __init__(self, limiter: ConcurrencyLimiter, key_id: str | None, max_parallel: int) -> None:
        self._limiter = limiter
        self._key_id = key_id
        self._max_parallel = max_parallel
        self._held = False

    def __enter__(self) -> None:
        if self._held:
            raise RuntimeError("a concurrency slot is entered once")
        self._limiter._take(self._key_id, self._max_parallel)
        self._held = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def release(self) -> None:
        """Give the slot back; later calls do nothing (safe from a stream's ``finally`` too)."""
        if self._held:
            self._held = False
            self._limiter._give(self._key_id)


class ConcurrencyLimiter:
    """Caps requests in flight: all together, and per key."""

    def __init__(self, max_concurrency: int) -> None:
        """Allow at most ``max_concurrency`` requests in flight in total (0: no global cap)."""
        self._max = max_concurrency
        self._total = 0
        self._per_key: dict[str | None, int] = {}
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Requests holding a slot now."""
        return self._total

    def enter(self, key: ApiKey | None, max_parallel: int) -> Slot:
        """A context manager holding one slot for ``key`` while its block (or stream) runs.

        The slot is taken when the block is entered, without waiting, and given back exactly once
        on exit (or by an explicit ``release()``), whatever the block raised.

        Raises:
            RequestRefused: On entry, when the gateway or the key is full: ``limit.concurrency``,
                status 429, ``Retry-After: 1``.
        """
        return Slot(self, key.key_id if key else None, max_parallel)

    def _take(self, key_id: str | None, max_parallel: int) -> None:
        with self._lock:
            if self._max and self._total >= self._max:
                raise _busy(f"the gateway is serving its maximum of {self._max} requests at once")
            count = self._per_key.get(key_id, 0)
            if max_parallel and count >= max_parallel:
                who = f"API key {key_id}" if key_id else "callers without a key"
                raise _busy(f"{who} already has {count} requests in flight (its limit is {max_parallel})")
            self._per_key[key_id] = count + 1
            self._total += 1

    def _give(self, key_id: str | None) -> None:
        with self._lock:
            self._total -= 1
            count = self._per_key.get(key_id, 1) - 1
            if count > 0:
                self._per_key[key_id] = count
            else:
                self._per_key.pop(key_id, None)


def _busy(what: str) -> RequestRefused:
    return RequestRefused(
        f"{what}; retry in a moment", reason="limit.concurrency", status=429, headers={"Retry-After": "1"}
    )
