"""Operators on hand-made spans: placeholders, redact, mask, keyed pseudonyms and surrogates, encryption."""

from __future__ import annotations

import re

import pytest

from ethos.errors import ConfigError, DataError, UnknownNameError
from ethos.pii.anonymize import (
    Anonymizer,
    PiiKey,
    anonymize,
    generate_key,
    merge_overlaps,
    operator_registry,
    restore,
)
from ethos.types import Span

KEY_A = PiiKey(bytes(range(32)))
KEY_B = PiiKey(bytes(range(1, 33)))


def spans_of(text: str, *items: tuple[str, str]) -> list[Span]:
    """Spans for each (value, entity), at every occurrence of the value."""
    out = []
    for value, entity in items:
        out += [Span(m.start(), m.end(), entity, 0.9) for m in re.finditer(re.escape(value), text)]
    return sorted(out, key=lambda s: s.start)


def run(text: str, spans: list[Span], op: str, key: PiiKey | None = None, **params: object) -> str:
    return Anonymizer({"DEFAULT": {"name": op, "params": params}}, key=key).rewrite(text, spans).text


TEXT = "Ann met Bob. Later ANN  met  carl, and Bob wrote to ann@example.org."
SPANS = spans_of(TEXT, ("Ann", "PERSON"), ("Bob", "PERSON"), ("ANN", "PERSON"), ("carl", "PERSON"),
                 ("ann@example.org", "EMAIL_ADDRESS"))


def test_when_values_repeat_in_a_document_then_placeholders_are_numbered_consistently() -> None:
    out = run(TEXT, SPANS, "placeholder")
    assert out == (
        "<PERSON_1> met <PERSON_2>. Later <PERSON_1>  met  <PERSON_3>, and <PERSON_2> wrote to <EMAIL_ADDRESS_1>."
    )


def test_when_two_documents_are_anonymized_then_numbering_restarts_in_each() -> None:
    texts = ["Bob and Ann", "Ann and Bob"]
    spans = [spans_of(t, ("Ann", "PERSON"), ("Bob", "PERSON")) for t in texts]
    out = [r.text for r in anonymize(texts, spans)]
    assert out == ["<PERSON_1> and <PERSON_2>", "<PERSON_1> and <PERSON_2>"]


def test_when_the_fields_of_one_record_are_rewritten_then_they_share_placeholder_numbers() -> None:
    engine = Anonymizer()
    texts = ["from Ann", "to Bob, cc Ann"]
    spans = [spans_of(t, ("Ann", "PERSON"), ("Bob", "PERSON")) for t in texts]
    assert [r.text for r in engine.rewrite_record(texts, spans)] == ["from <PERSON_1>", "to <PERSON_2>, cc <PERSON_1>"]


@pytest.mark.parametrize(
    ("op", "params", "expected"),
    [
        ("redact", {}, "card  ok"),
        ("mask", {}, "card ******************* ok"),
        ("mask", {"count": 4}, "card **** 1111 1111 1111 ok"),
        ("mask", {"count": 5, "from_end": True, "char": "#"}, "card 4111 1111 1111##### ok"),
        ("mask", {"count": 99}, "card ******************* ok"),
        ("keep", {}, "card 4111 1111 1111 1111 ok"),
        ("placeholder", {"format": "[{entity}]"}, "card [CREDIT_CARD] ok"),
    ],
)
def test_when_a_simple_operator_runs_then_the_span_is_replaced_as_documented(
    op: str, params: dict[str, object], expected: str
) -> None:
    text = "card 4111 1111 1111 1111 ok"
    assert run(text, [Span(5, 24, "CREDIT_CARD", 1.0)], op, **params) == expected


def test_when_the_same_key_is_used_twice_then_pseudonyms_are_equal_and_other_keys_differ() -> None:
    first = run(TEXT, SPANS, "pseudonym", KEY_A)
    again = Anonymizer({"DEFAULT": "pseudonym"}, key=PiiKey(bytes(range(32)))).rewrite(TEXT, SPANS).text
    other = run(TEXT, SPANS, "pseudonym", KEY_B)
    assert first == again
    assert first != other
    tokens = re.findall(r"<PERSON_([0-9a-f]{8})>", first)
    assert len(tokens) == 5
    assert tokens[0] == tokens[2] == "".join(re.findall(r"<PERSON_([0-9a-f]{8})>", run("ann", [Span(0, 3, "PERSON", 1)],
                                                                                      "pseudonym", KEY_A)))
    assert len(set(tokens)) == 3  # Ann/ANN, Bob, carl


def test_when_pseudonyms_are_made_in_different_documents_then_the_same_value_links() -> None:
    texts = ["Dear Ann", "Ann again"]
    spans = [spans_of(t, ("Ann", "PERSON")) for t in texts]
    out = [r.text for r in anonymize(texts, spans, operators={"PERSON": "pseudonym"}, key=KEY_A)]
    assert out[0].removeprefix("Dear ") == out[1].removesuffix(" again")


def test_when_pseudonym_format_and_length_are_set_then_they_are_used() -> None:
    out = run("Ann", [Span(0, 3, "PERSON", 1)], "pseudonym", KEY_A, format="{entity}-{digest}", length=16)
    assert re.fullmatch(r"PERSON-[0-9a-f]{16}", out)


def test_when_surrogates_are_made_then_they_are_stable_per_key_and_keep_the_shape() -> None:
    text = "John Smith, +1 (415) 555-0100, 4111 1111 1111 1111, 123-45-6789"
    spans = spans_of(text, ("John Smith", "PERSON"), ("+1 (415) 555-0100", "PHONE_NUMBER"),
                     ("4111 1111 1111 1111", "CREDIT_CARD"), ("123-45-6789", "US_SSN"))
    a1, a2, b = (run(text, spans, "surrogate", k) for k in (KEY_A, PiiKey(bytes(range(32))), KEY_B))
    assert a1 == a2
    assert a1 != b
    name, phone, card, ssn = a1.split(", ")
    assert name != "John Smith" and len(name.split()) == 2
    assert re.fullmatch(r"\+\d \(\d{3}\) \d{3}-\d{4}", phone) and phone != "+1 (415) 555-0100"
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", card) and _luhn_ok(card.replace(" ", ""))
    assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", ssn)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def test_when_values_are_encrypted_then_restore_gives_the_exact_text_back() -> None:
    text = "Zoë Ünal <zoe@example.org> said: «hi» 🙂"
    spans = spans_of(text, ("Zoë Ünal", "PERSON"), ("zoe@example.org", "EMAIL_ADDRESS"))
    out = run(text, spans, "encrypt", KEY_A)
    assert "Zoë" not in out and "zoe@" not in out
    assert out.count("⟦ENC:") == 2
    assert restore([out], KEY_A) == [text]


def test_when_equal_values_are_encrypted_then_the_tokens_differ() -> None:
    out = run("Ann Ann", spans_of("Ann Ann", ("Ann", "PERSON")), "encrypt", KEY_A)
    first, second = out.split(" ")
    assert first != second


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda t: t, "another key"),
        (lambda t: t.replace("ENC:PERSON:", "ENC:LOCATION:"), "moved to another entity type"),
        (lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:], "one character altered"),
    ],
    ids=["wrong-key", "entity-swapped", "tampered"],
)
def test_when_a_token_cannot_be_authenticated_then_restore_refuses(change: object, why: str) -> None:
    token = run("Ann", [Span(0, 3, "PERSON", 1)], "encrypt", KEY_A)
    key = KEY_B if why == "another key" else KEY_A
    with pytest.raises(DataError, match="another key or altered") as info:
        restore([change(token)], key)  # type: ignore[operator]
    assert "Ann" not in str(info.value)


@pytest.mark.parametrize("op", ["pseudonym", "surrogate", "encrypt"])
def test_when_a_keyed_operator_has_no_key_then_it_refuses_and_says_how_to_get_one(op: str) -> None:
    with pytest.raises(ConfigError, match="ethos pii keygen"):
        Anonymizer({"PERSON": op})


def test_when_an_operator_name_is_misspelt_then_the_error_suggests_the_right_one() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'pseudonym'") as info:
        Anonymizer({"PERSON": "pseudonim"})
    assert "placeholder" in str(info.value)
    assert set(operator_registry.names()) >= {"redact", "mask", "placeholder", "pseudonym", "surrogate", "encrypt"}


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"name": "mask", "params": {"count": -1}}, "'count'"),
        ({"name": "mask", "params": {"char": "ab"}}, "'char'"),
        ({"name": "mask", "params": {"colour": "red"}}, "'colour'"),
        ({"name": "placeholder", "params": {"format": "<{who}>"}}, "'format'"),
    ],
)
def test_when_operator_params_are_invalid_then_the_error_names_the_parameter(
    spec: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        Anonymizer({"DEFAULT": spec})


def test_when_spans_overlap_then_no_character_of_either_is_left() -> None:
    text = "call 555-0100-22 now"
    spans = [Span(5, 13, "PHONE_NUMBER", 0.5), Span(9, 16, "US_SSN", 0.9)]
    assert merge_overlaps(spans) == [Span(5, 16, "US_SSN", 0.9)]
    assert run(text, spans, "redact") == "call  now"


def test_when_entity_names_are_variants_then_operators_apply_to_the_canonical_type() -> None:
    engine = Anonymizer({"EMAIL": "redact", "DEFAULT": "mask"})
    out = engine.rewrite("a@b.co x", [Span(0, 6, "EMAIL_ADDRESS", 1.0), Span(7, 8, "PERSON", 1.0)])
    assert out.text == " *"
    assert [(r.entity, r.operator, r.out_start, r.out_end) for r in out.replacements] == [
        ("EMAIL_ADDRESS", "redact", 0, 0),
        ("PERSON", "mask", 1, 2),
    ]


def test_when_anonymize_is_given_only_texts_then_it_scans_them_with_the_analyzer() -> None:
    from ethos.pii.detect import Analyzer, AnalyzerConfig

    analyzer = Analyzer(AnalyzerConfig(spacy_model=None))
    out = anonymize(["write to ann@example.org or bob@example.com, then ann@example.org"], analyzer=analyzer)
    assert out[0].text == "write to <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1>"


def test_when_anonymize_gets_a_bare_string_then_it_asks_for_a_list() -> None:
    with pytest.raises(ConfigError, match="list of texts"):
        anonymize("Ann", [[]])  # type: ignore[arg-type]


def test_when_a_fresh_key_is_generated_then_it_differs_and_its_repr_hides_it() -> None:
    a, b = generate_key(), generate_key()
    assert a != b
    assert a.secret.hex() not in repr(a) and a.fingerprint in repr(a)


def test_when_names_are_taken_from_ethos_pii_then_the_anonymize_package_stays_a_package() -> None:
    import importlib
    import types

    import ethos.pii

    assert ethos.pii.Anonymizer is Anonymizer  # lazily re-exported
    package = importlib.import_module("ethos.pii.anonymize")
    assert isinstance(ethos.pii.anonymize, types.ModuleType) and ethos.pii.anonymize is package
    assert package.anonymize is anonymize


def test_when_threads_share_one_anonymizer_then_surrogates_stay_stable() -> None:
    from concurrent.futures import ThreadPoolExecutor

    engine = Anonymizer({"DEFAULT": "surrogate"}, key=KEY_A)
    names = [f"Person Number{i}" for i in range(40)]
    expected = [engine.rewrite(n, [Span(0, len(n), "PERSON", 1.0)]).text for n in names]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(5):
            got = list(pool.map(lambda n: engine.rewrite(n, [Span(0, len(n), "PERSON", 1.0)]).text, names))
            assert got == expected
