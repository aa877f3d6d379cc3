"""Rate limits (token buckets with exact refill arithmetic on a fake clock) and concurrency slots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from ethos.errors import RequestRefused
from ethos.gateway._config import LimitsConfig
from ethos.gateway._keys import ApiKey
from ethos.gateway._limits import ConcurrencyLimiter, RateLimiter, estimate_tokens

T0 = datetime(2027, 3, 1, tzinfo=UTC)


def key(key_id: str = "aaaaaaaaaaaa", **limits: int | None) -> ApiKey:
    return ApiKey(key_id, key_id, T0, None, None, **limits)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.t = 500.0

    def __call__(self) -> float:
        return self.t


def limiter(rpm: int = 0, tpm: int = 0) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    return RateLimiter(LimitsConfig(requests_per_minute=rpm, tokens_per_minute=tpm), clock=clock), clock


def refused(call: object, *args: object) -> RequestRefused:
    with pytest.raises(RequestRefused) as info:
        call(*args)  # type: ignore[operator]
    return info.value


# -- estimate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "max_tokens", "expected"),
    [
        ([], None, 256),
        (["abcd"], None, 1 + 256),
        (["abcde"], None, 2 + 256),  # ceil(5 / 4)
        (["ab", "cde"], 10, 2 + 10),  # characters of all texts together
        (["x" * 400], 1000, 100 + 1000),
        (["x" * 8], 0, 2 + 256),  # max_tokens 0 is "not given"
    ],
)
def test_when_estimating_then_it_is_chars_over_four_rounded_up_plus_the_answer_budget(
    texts: list[str], max_tokens: int | None, expected: int
) -> None:
    assert estimate_tokens(texts, max_tokens) == expected


# -- requests per minute ------------------------------------------------------------------------------


def test_when_a_key_spends_its_minute_then_the_next_request_waits_exactly_the_refill_time() -> None:
    rate, clock = limiter(rpm=60)  # one request per second, a burst of 60
    k = key()
    for _ in range(60):
        rate.admit(k, 1)
    refusal = refused(rate.admit, k, 1)
    assert (refusal.status, refusal.reason) == (429, "limit.requests")
    assert refusal.headers == {"Retry-After": "1"}
    clock.t += 0.999
    assert refused(rate.admit, k, 1).headers["Retry-After"] == "1"
    clock.t += 0.001
    rate.admit(k, 1)


def test_when_the_rate_is_slow_then_retry_after_is_the_whole_seconds_until_one_request_refills() -> None:
    rate, clock = limiter(rpm=4)  # one request per 15 s
    k = key()
    for _ in range(4):
        rate.admit(k, 1)
    assert refused(rate.admit, k, 1).headers["Retry-After"] == "15"
    clock.t += 10.5
    assert refused(rate.admit, k, 1).headers["Retry-After"] == "5"  # ceil(4.5)
    clock.t += 4.5
    rate.admit(k, 1)
    assert refused(rate.admit, k, 1).headers["Retry-After"] == "15"


def test_when_time_passes_then_the_bucket_refills_to_its_capacity_and_no_further() -> None:
    rate, clock = limiter(rpm=6)
    k = key()
    for _ in range(6):
        rate.admit(k, 1)
    clock.t += 3600  # an hour idle: still only a minute's worth
    for _ in range(6):
        rate.admit(k, 1)
    assert refused(rate.admit, k, 1).reason == "limit.requests"


def test_when_keys_have_own_limits_then_they_override_the_defaults_and_zero_is_unlimited() -> None:
    rate, _ = limiter(rpm=2)
    strict, free, default = key("a" * 12, requests_per_minute=1), key("b" * 12, requests_per_minute=0), key("c" * 12)
    rate.admit(strict, 1)
    assert refused(rate.admit, strict, 1).headers["Retry-After"] == "60"
    for _ in range(1000):
        rate.admit(free, 1)
    rate.admit(default, 1)
    rate.admit(default, 1)
    assert refused(rate.admit, default, 1).reason == "limit.requests"


def test_when_no_key_is_used_then_all_anonymous_callers_share_one_bucket() -> None:
    rate, _ = limiter(rpm=3)
    for _ in range(3):
        rate.admit(None, 1)
    refusal = refused(rate.admit, None, 1)
    assert "without a key" in str(refusal)
    rate.admit(key(), 1)  # a key has its own bucket


# -- tokens per minute ------------------------------------------------------------------------------


def test_when_tokens_run_out_then_limit_tokens_with_the_seconds_until_the_estimate_fits() -> None:
    rate, clock = limiter(tpm=600)  # 10 tokens per second
    k = key()
    rate.admit(k, 550)
    refusal = refused(rate.admit, k, 100)  # 50 left, 50 missing: 5 s
    assert (refusal.status, refusal.reason) == (429, "limit.tokens")
    assert refusal.headers["Retry-After"] == "5"
    clock.t += 5
    rate.admit(k, 100)


def test_when_a_request_is_refused_then_it_consumes_nothing() -> None:
    rate, _ = limiter(rpm=2, tpm=100)
    k = key()
    rate.admit(k, 90)
    for _ in range(5):
        assert refused(rate.admit, k, 50).reason == "limit.tokens"  # would not fit: the request is not counted
    rate.admit(k, 10)  # the second request of the minute, and the last ten tokens
    assert refused(rate.admit, k, 1).reason == "limit.requests"


def test_when_both_buckets_are_short_then_retry_after_covers_the_longer_wait() -> None:
    rate, _ = limiter(rpm=1, tpm=60)  # 1 request per 60 s, 1 token per s
    k = key()
    rate.admit(k, 60)
    refusal = refused(rate.admit, k, 30)
    assert refusal.reason == "limit.requests"
    assert refusal.headers["Retry-After"] == "60"


def test_when_settled_with_fewer_tokens_then_the_difference_is_refunded() -> None:
    rate, _ = limiter(tpm=1000)
    k = key()
    ticket = rate.admit(k, 900)
    assert refused(rate.admit, k, 200).reason == "limit.tokens"
    rate.settle(ticket, 100)
    assert ticket.tokens == 100
    rate.admit(k, 900)  # 100 used, 900 left


def test_when_settled_with_more_tokens_then_the_extra_is_charged() -> None:
    rate, clock = limiter(tpm=600)
    k = key()
    ticket = rate.admit(k, 100)
    rate.settle(ticket, 550)  # 50 left
    refusal = refused(rate.admit, k, 60)
    assert refusal.headers["Retry-After"] == "1"  # 10 missing at 10 per second
    clock.t += 1
    rate.admit(k, 60)


def test_when_settled_twice_or_with_no_usage_then_nothing_more_changes() -> None:
    rate, _ = limiter(tpm=1000)
    k = key()
    ticket = rate.admit(k, 500)
    rate.settle(ticket, None)  # usage unknown: the estimate stands
    rate.settle(ticket, 0)  # already settled: ignored
    rate.admit(k, 500)
    assert refused(rate.admit, k, 1).reason == "limit.tokens"


def test_when_a_refund_would_overfill_the_bucket_then_it_stops_at_capacity() -> None:
    rate, clock = limiter(tpm=100)
    k = key()
    ticket = rate.admit(k, 100)
    clock.t += 60  # refilled to 100 meanwhile
    rate.settle(ticket, 0)
    rate.admit(k, 100)
    assert refused(rate.admit, k, 1).reason == "limit.tokens"


def test_when_one_request_is_larger_than_a_minutes_tokens_then_it_passes_on_a_full_bucket_and_leaves_debt() -> None:
    rate, clock = limiter(tpm=60)
    k = key()
    rate.admit(k, 120)  # a full bucket admits it, and owes 60
    refusal = refused(rate.admit, k, 1)
    assert refusal.headers["Retry-After"] == "61"  # back to 1 token from -60 at 1 per second
    clock.t += 61
    rate.admit(k, 1)


# -- concurrency ------------------------------------------------------------------------------------


def test_when_the_gateway_is_full_then_limit_concurrency_with_retry_after_one() -> None:
    gate = ConcurrencyLimiter(2)
    with gate.enter(key("a" * 12), 0), gate.enter(key("b" * 12), 0):
        refusal = refused(gate.enter(key("c" * 12), 0).__enter__)
        assert (refusal.status, refusal.reason, refusal.headers) == (429, "limit.concurrency", {"Retry-After": "1"})
        assert gate.in_flight == 2
    assert gate.in_flight == 0
    with gate.enter(key("c" * 12), 0):
        pass


def test_when_a_key_is_at_its_max_parallel_then_only_that_key_waits() -> None:
    gate = ConcurrencyLimiter(100)
    a, b = key("a" * 12), key("b" * 12)
    with gate.enter(a, 1):
        assert "already has 1" in str(refused(gate.enter(a, 1).__enter__))
        with gate.enter(b, 1):
            pass
    with gate.enter(a, 1):
        pass


def test_when_the_block_raises_then_the_slot_is_given_back() -> None:
    gate = ConcurrencyLimiter(1)
    k = key()
    with pytest.raises(ValueError, match="boom"), gate.enter(k, 1):
        raise ValueError("boom")
    assert gate.in_flight == 0
    with gate.enter(k, 1):
        assert gate.in_flight == 1


def test_when_entry_is_refused_then_nothing_is_held() -> None:
    gate = ConcurrencyLimiter(5)
    k = key()
    with gate.enter(k, 1):
        for _ in range(3):
            refused(gate.enter(k, 1).__enter__)
        assert gate.in_flight == 1
    assert gate.in_flight == 0


def test_when_a_slot_is_released_twice_then_it_counts_once() -> None:
    gate = ConcurrencyLimiter(3)
    k = key()
    outer = gate.enter(k, 0)
    outer.__enter__()
    with gate.enter(k, 0):
        outer.release()
        outer.release()
        outer.__exit__(None, None, None)
        assert gate.in_flight == 1


def test_when_a_generator_holding_a_slot_is_closed_early_then_the_slot_is_given_back() -> None:
    gate = ConcurrencyLimiter(1)
    k = key()

    async def stream() -> AsyncIterator[str]:
        with gate.enter(k, 1):
            for i in range(10):
                yield str(i)
                await asyncio.sleep(0)

    async def consume_part() -> list[str]:
        chunks: list[str] = []
        agen = stream()
        async for chunk in agen:
            chunks.append(chunk)
            if len(chunks) == 3:
                assert gate.in_flight == 1
                break
        await agen.aclose()  # what a server does when the client goes away
        return chunks

    assert asyncio.run(consume_part()) == ["0", "1", "2"]
    assert gate.in_flight == 0
