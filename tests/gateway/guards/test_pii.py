"""The PII guard: placeholders in prompts, masking and restoring in answers, fail-closed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from ethos.errors import RequestRefused
from ethos.gateway._config import GatewayConfig, PiiConfig
from ethos.gateway._types import GuardContext
from ethos.gateway.guards import PiiGuard, build_guards
from ethos.pii import Analyzer, AnalyzerConfig
from ethos.pii.detect import Recognizer, recognizer_registry
from ethos.types import Span

EMAIL = "jane.doe@example.com"
PHONE = "+44 20 7946 0958"


def make_ctx() -> GuardContext:
    return GuardContext()


@pytest.fixture(scope="module")
def guard() -> PiiGuard:
    return PiiGuard(PiiConfig(enabled=True)).load()


def test_when_a_value_repeats_across_messages_then_it_gets_one_placeholder(guard: PiiGuard) -> None:
    ctx = make_ctx()
    out = guard.check_prompt([f"Mail {EMAIL} or call {PHONE}.", f"Again: {EMAIL.upper()}"], ctx)
    assert out == ["Mail <EMAIL_ADDRESS_1> or call <PHONE_NUMBER_1>.", "Again: <EMAIL_ADDRESS_1>"]
    assert ctx.vault == {"<EMAIL_ADDRESS_1>": EMAIL, "<PHONE_NUMBER_1>": PHONE}
    assert ctx.redactions == {"EMAIL_ADDRESS": 2, "PHONE_NUMBER": 1}


def test_when_prompt_is_redacted_then_the_decision_holds_counts_and_never_values(guard: PiiGuard) -> None:
    ctx = make_ctx()
    guard.check_prompt([f"{EMAIL} and bob@corp.org, phone {PHONE}"], ctx)
    [decision] = ctx.decisions
    assert (decision.guard, decision.action, decision.reason) == ("pii", "modify", "pii.redacted")
    assert decision.detail == "EMAIL_ADDRESS×2, PHONE_NUMBER×1"
    assert EMAIL not in repr(ctx.decisions) and "bob" not in repr(ctx.decisions)


def test_when_nothing_is_found_then_texts_pass_unchanged_and_nothing_is_recorded(guard: PiiGuard) -> None:
    ctx = make_ctx()
    texts = ["What is the capital of France?", ""]
    assert guard.check_prompt(texts, ctx) == texts
    assert ctx.decisions == [] and ctx.vault == {}


def test_when_the_caller_typed_a_placeholder_then_ours_skip_its_number(guard: PiiGuard) -> None:
    ctx = make_ctx()
    out = guard.check_prompt([f"Replace <EMAIL_ADDRESS_1> with {EMAIL}"], ctx)
    assert out == ["Replace <EMAIL_ADDRESS_1> with <EMAIL_ADDRESS_2>"]
    answer = guard.check_answer("Done: <EMAIL_ADDRESS_1> is now <EMAIL_ADDRESS_2>.", ctx)
    # The caller's own token is left alone; only ours is restored.
    assert answer == f"Done: <EMAIL_ADDRESS_1> is now {EMAIL}."


def test_when_the_answer_has_new_personal_data_then_it_is_masked_and_placeholders_restored(guard: PiiGuard) -> None:
    ctx = make_ctx()
    guard.check_prompt([f"My mail is {EMAIL}"], ctx)
    out = guard.check_answer("I wrote to <EMAIL_ADDRESS_1>; cc bob@corp.org.", ctx)
    assert out == f"I wrote to {EMAIL}; cc ************."
    reasons = [d.reason for d in ctx.decisions]
    assert reasons == ["pii.redacted", "pii.answer_masked", "pii.restored"]


@pytest.mark.parametrize(
    ("operator", "expected"),
    [("redact", "cc ."), ("placeholder", "cc <EMAIL_ADDRESS_2>."), ("mask", "cc ************.")],
)
def test_when_an_answer_operator_is_set_then_new_values_use_it(operator: str, expected: str) -> None:
    guard = PiiGuard(PiiConfig(enabled=True, answer_operator=operator, restore=False)).load()  # type: ignore[arg-type]
    ctx = make_ctx()
    guard.check_prompt([f"Mail {EMAIL}"], ctx)
    # The placeholder operator numbers past the vault's <EMAIL_ADDRESS_1>, so it is never "restored".
    assert guard.check_answer("cc bob@corp.org.", ctx) == expected


def test_when_restore_is_off_then_placeholders_reach_the_caller() -> None:
    guard = PiiGuard(PiiConfig(enabled=True, restore=False, mask_answers=False)).load()
    ctx = make_ctx()
    guard.check_prompt([f"Mail {EMAIL}"], ctx)
    assert guard.check_answer("Sent to <EMAIL_ADDRESS_1>, cc bob@corp.org", ctx) == (
        "Sent to <EMAIL_ADDRESS_1>, cc bob@corp.org"
    )
    assert guard.stream_filter(ctx) is None


def test_when_pii_is_enabled_then_build_guards_loads_one_pii_guard() -> None:
    assert [g.name for g in build_guards(GatewayConfig(pii=PiiConfig(enabled=True)))][-1] == "pii"
    assert "pii" not in [g.name for g in build_guards(GatewayConfig())]


# -- fail closed -------------------------------------------------------------------------------------


class ExplodingRecognizer(Recognizer):
    """A real recognizer whose backend is broken: every call raises."""

    name = "gateway_test_exploding"
    entities = frozenset({"GATEWAY_TEST_BOOM"})

    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        raise RuntimeError("recognizer backend crashed")


@pytest.fixture
def broken_analyzer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Analyzer]:
    recognizer_registry.names()  # load the built-ins first
    monkeypatch.setitem(recognizer_registry._items, ExplodingRecognizer.name, ExplodingRecognizer)
    yield Analyzer(AnalyzerConfig(spacy_model=None)).load()


def test_when_the_analyzer_raises_on_a_prompt_then_the_request_is_refused_with_503(broken_analyzer: Analyzer) -> None:
    guard = PiiGuard(PiiConfig(enabled=True), analyzer=broken_analyzer)
    ctx = make_ctx()
    with pytest.raises(RequestRefused) as info:
        guard.check_prompt([f"Mail {EMAIL}"], ctx)
    assert (info.value.status, info.value.reason) == (503, "pii.unavailable")
    assert EMAIL not in str(info.value)
    assert ctx.vault == {}


def test_when_the_analyzer_raises_on_an_answer_then_nothing_is_released(broken_analyzer: Analyzer) -> None:
    guard = PiiGuard(PiiConfig(enabled=True, stream_holdback=16), analyzer=broken_analyzer)
    with pytest.raises(RequestRefused, match="PII guard could not check"):
        guard.check_answer(f"Mail {EMAIL}", make_ctx())
    flt = guard.stream_filter(make_ctx())
    assert flt is not None
    with pytest.raises(RequestRefused):
        for piece in [f"Mail {EMAIL} ", "and a long tail of harmless words " * 4]:
            assert EMAIL not in flt.feed(piece)
        flt.finish()


class CountingRecognizer(Recognizer):
    """A real recognizer that finds nothing and counts the texts it was asked about."""

    name = "gateway_test_counting"
    entities = frozenset({"GATEWAY_TEST_COUNT"})
    seen: list[str] = []

    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        CountingRecognizer.seen.extend(texts)
        return [[] for _ in texts]


@pytest.fixture
def counting_analyzer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Analyzer]:
    recognizer_registry.names()
    monkeypatch.setitem(recognizer_registry._items, CountingRecognizer.name, CountingRecognizer)
    CountingRecognizer.seen = []
    yield Analyzer(AnalyzerConfig(spacy_model=None)).load()


def test_when_a_chat_resends_its_history_then_only_new_prompt_texts_are_scanned(counting_analyzer: Analyzer) -> None:
    guard = PiiGuard(PiiConfig(enabled=True), analyzer=counting_analyzer)
    system, first = "You are a helpful assistant.", f"Mail {EMAIL} please"
    turn_1 = guard.check_prompt([system, first], make_ctx())
    turn_2_ctx = make_ctx()
    turn_2 = guard.check_prompt([system, first, "Sent.", f"Now call {PHONE}"], turn_2_ctx)
    assert CountingRecognizer.seen == [system, first, "Sent.", f"Now call {PHONE}"]  # nothing scanned twice
    assert turn_2[:2] == turn_1 == [system, "Mail <EMAIL_ADDRESS_1> please"]
    assert turn_2[3] == "Now call <PHONE_NUMBER_1>"
    assert turn_2_ctx.vault == {"<EMAIL_ADDRESS_1>": EMAIL, "<PHONE_NUMBER_1>": PHONE}


def test_when_the_prompt_cache_is_off_then_every_text_is_scanned_every_time(counting_analyzer: Analyzer) -> None:
    guard = PiiGuard(PiiConfig(enabled=True, prompt_cache=0), analyzer=counting_analyzer)
    for _ in range(2):
        guard.check_prompt(["same text"], make_ctx())
    assert CountingRecognizer.seen == ["same text", "same text"]


def test_when_the_prompt_cache_is_full_then_the_least_recently_used_text_is_scanned_again(
    counting_analyzer: Analyzer,
) -> None:
    guard = PiiGuard(PiiConfig(enabled=True, prompt_cache=2), analyzer=counting_analyzer)
    for text in ["a", "b", "a", "c", "b", "a"]:  # "b" falls out when "c" comes, then "a" when "b" comes back
        guard.check_prompt([text], make_ctx())
    assert CountingRecognizer.seen == ["a", "b", "c", "b", "a"]
