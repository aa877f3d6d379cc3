"""Streamed answers through the PII guard: same output as the whole answer, never half a value."""

from __future__ import annotations

import random

import pytest

from ethos.gateway._config import PiiConfig
from ethos.gateway._types import GuardContext, TextFilter
from ethos.gateway.guards import PiiGuard

EMAIL = "jane.doe@example.com"
PHONE = "+44 20 7946 0958"
VALUES = [EMAIL, PHONE, "bob@corp.org", "192.168.10.24", "4111 1111 1111 1111", "https://example.org/a/b?c=1",
          "<EMAIL_ADDRESS_1>", "<PHONE_NUMBER_1>", "<PERSON_9>", "GB82 WEST 1234 5698 7654 32"]
WORDS = ["the", "invoice", "is", "ready,", "please", "call", "me", "at", "or", "write", "to", "phone:", "mail",
         "thanks.", "\n", "see", "you", "soon", "regarding", "order", "12", "(urgent)"]


def make_ctx() -> GuardContext:
    return GuardContext()


def seeded_text(seed: int, n_words: int = 40) -> str:
    rng = random.Random(seed)
    parts = [rng.choice(VALUES) if rng.random() < 0.2 else rng.choice(WORDS) for _ in range(n_words)]
    return " ".join(parts)


@pytest.fixture(scope="module")
def guard() -> PiiGuard:
    return PiiGuard(PiiConfig(enabled=True, stream_holdback=32)).load()


def prepared_ctx(guard: PiiGuard) -> GuardContext:
    ctx = make_ctx()
    guard.check_prompt([f"I am {EMAIL}, phone {PHONE}"], ctx)
    assert set(ctx.vault) == {"<EMAIL_ADDRESS_1>", "<PHONE_NUMBER_1>"}
    return ctx


def run(flt: TextFilter, pieces: list[str]) -> list[str]:
    return [flt.feed(p) for p in pieces] + [flt.finish()]


@pytest.mark.parametrize("seed", range(6))
def test_when_an_answer_is_split_at_every_offset_then_the_stream_equals_check_answer(
    guard: PiiGuard, seed: int
) -> None:
    ctx = prepared_ctx(guard)
    text = seeded_text(seed)
    expected = guard.check_answer(text, ctx)
    for cut in range(len(text) + 1):
        flt = guard.stream_filter(ctx)
        assert flt is not None
        assert "".join(run(flt, [text[:cut], text[cut:]])) == expected, f"seed {seed}, cut at {cut}"


@pytest.mark.parametrize("seed", range(20))
def test_when_an_answer_comes_in_random_small_chunks_then_the_stream_equals_check_answer(
    guard: PiiGuard, seed: int
) -> None:
    ctx = prepared_ctx(guard)
    rng = random.Random(1000 + seed)
    text = seeded_text(1000 + seed, n_words=120)
    pieces, i = [], 0
    while i < len(text):
        step = rng.randint(1, 9)
        pieces.append(text[i : i + step])
        i += step
    flt = guard.stream_filter(ctx)
    assert flt is not None
    assert "".join(run(flt, pieces)) == guard.check_answer(text, ctx)


@pytest.mark.parametrize(
    ("pieces", "secret"),
    [
        (["Write to jane.do", "e@example.com today, and then some more words to push it out"], "jane.do"),
        (["Call +44 20 79", "46 0958 now, and then some more words to push it out of the window"], "+44 20"),
        (["Sent to <EMAIL_ADD", "RESS_1> earlier, and then some more words to push it out"], "<EMAIL_ADD"),
    ],
)
def test_when_a_value_is_split_across_chunks_then_no_part_leaves_in_clear(
    guard: PiiGuard, pieces: list[str], secret: str
) -> None:
    ctx = make_ctx()
    ctx.vault["<EMAIL_ADDRESS_1>"] = "caller@example.net"
    flt = guard.stream_filter(ctx)
    assert flt is not None
    outputs = run(flt, pieces)
    assert all(secret not in out for out in outputs)
    joined = "".join(outputs)
    assert joined == guard.check_answer("".join(pieces), ctx)
    assert "jane" not in joined and "7946" not in joined and "<EMAIL_ADD" not in joined


def test_when_text_streams_then_it_is_released_before_the_end_with_a_bounded_holdback(guard: PiiGuard) -> None:
    flt = guard.stream_filter(make_ctx())
    assert flt is not None
    sent = 0
    fed = 0
    for word in ("lorem ipsum dolor sit amet " * 20).split(" "):
        piece = word + " "
        fed += len(piece)
        sent += len(flt.feed(piece))
        held = fed - sent
        assert held <= 32 + 16 + 2 * len("lorem "), f"held {held} characters"
    assert sent > 0
    assert sent + len(flt.finish()) == fed


def test_when_a_long_run_without_spaces_streams_then_it_is_cut_anyway(guard: PiiGuard) -> None:
    flt = guard.stream_filter(make_ctx())
    assert flt is not None
    blob = "QUJD" * 100
    out = [flt.feed(blob[i : i + 10]) for i in range(0, len(blob), 10)]
    assert sum(len(o) for o in out) > len(blob) // 2
    assert "".join(out) + flt.finish() == blob


def test_when_a_stream_masks_and_restores_then_decisions_are_recorded_once_at_the_end(guard: PiiGuard) -> None:
    ctx = prepared_ctx(guard)
    flt = guard.stream_filter(ctx)
    assert flt is not None
    run(flt, ["Mail <EMAIL_ADDRESS_1>", " and bob@corp.org", "."])
    assert [d.reason for d in ctx.decisions] == ["pii.redacted", "pii.answer_masked", "pii.restored"]
    assert flt.finish() == ""
