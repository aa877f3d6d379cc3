"""PERSON span repair rules on spaCy docs whose entities are set by hand (no model: the rules alone)."""

from __future__ import annotations

import pytest

from ethos.pii.detect._names import CUE_SCORE, MAX_NAME_TOKENS, repair

spacy = pytest.importorskip("spacy")
_NLP = spacy.blank("en")


def _repaired(text: str, *ents: tuple[str, str]) -> list[tuple[str, str, str]]:
    """Set ``(words, label)`` entities on a blank-pipeline doc, repair, return (text, label, rule)."""
    doc = _NLP(text)
    spans = []
    for words, label in ents:
        start = text.index(words)
        span = doc.char_span(start, start + len(words), label=label)
        assert span is not None, words
        spans.append(span)
    doc.ents = spans
    return [(text[h.start : h.end], h.label, h.rule) for h in repair(doc)]


def _persons(text: str, *ents: tuple[str, str]) -> list[str]:
    return [t for t, label, _ in _repaired(text, *ents) if label == "PERSON"]


TRIM = [
    ("imperative verb", "Call Ana Souza at noon.", "Call Ana Souza", "Ana Souza"),
    ("greeting", "Dear Maria Gonzalez, thanks.", "Dear Maria Gonzalez", "Maria Gonzalez"),
    ("title", "Dr. Ana Souza flew.", "Dr. Ana Souza", "Ana Souza"),
    ("title without dot", "I met Mrs Smith today.", "Mrs Smith", "Smith"),
    ("role noun", "Customer Li Wei wants a refund.", "Customer Li Wei", "Li Wei"),
    ("interjection", "Sorry Julia, I missed it.", "Sorry Julia", "Julia"),
]


@pytest.mark.parametrize(("case", "text", "ner", "expected"), TRIM, ids=[c[0] for c in TRIM])
def test_when_a_person_span_starts_with_a_cue_word_then_it_is_trimmed(case: str, text: str, ner: str,
                                                                      expected: str) -> None:
    assert _persons(text, (ner, "PERSON")) == [expected]


EXTEND = [
    ("first name before", "Ana Souza called from Lisbon.", "Souza", "Ana Souza"),
    ("surname after", "Nicole Le Goff: call me.", "Nicole Le", "Nicole Le Goff"),
    ("particles before", "It belongs to Chantal van der Dussen now.", "Dussen", "Chantal van der Dussen"),
    ("hyphenated first name", "Jean-Luc Picard approved it.", "Luc Picard", "Jean-Luc Picard"),
    ("not a weekday", "Monday Souza called.", "Souza", "Souza"),
    ("not an adverb at sentence start", "Yesterday Souza called.", "Souza", "Souza"),
    ("not across a line break", "Thanks,\nKevin\nMiller Ltd", "Kevin", "Kevin"),
    ("not across a comma", "Ana, Souza and Bo came.", "Souza", "Souza"),
    ("not an acronym", "VPN Souza called.", "Souza", "Souza"),
]


@pytest.mark.parametrize(("case", "text", "ner", "expected"), EXTEND, ids=[c[0] for c in EXTEND])
def test_when_name_parts_touch_a_person_span_then_it_grows_over_them_only(case: str, text: str, ner: str,
                                                                         expected: str) -> None:
    assert _persons(text, (ner, "PERSON")) == [expected]


def test_when_a_span_would_grow_past_the_limit_then_it_stops() -> None:
    text = "Aa Bb Cc Dd Ee Ff Gg Hh arrived."
    assert len(_persons(text, ("Dd", "PERSON"))[0].split()) == MAX_NAME_TOKENS


def test_when_a_neighbour_belongs_to_another_multiword_entity_then_it_is_not_taken() -> None:
    found = _repaired("New York Souza called.", ("New York", "GPE"), ("Souza", "PERSON"))
    assert ("New York", "GPE", "") in found
    assert ("Souza", "PERSON", "") in found


def test_when_two_person_fragments_touch_then_they_are_merged() -> None:
    assert _persons("Ana Souza called.", ("Ana", "PERSON"), ("Souza", "PERSON")) == ["Ana Souza"]


def test_when_a_person_span_holds_a_lower_case_verb_then_it_is_split() -> None:
    assert _persons("Bernard joined Chevalier today.", ("Bernard joined Chevalier", "PERSON")) == [
        "Bernard", "Chevalier"]


def test_when_a_person_span_holds_digits_then_it_is_left_whole_for_the_noise_filter() -> None:
    assert _persons("Request 3ab2107c completed.", ("Request 3ab2107c", "PERSON")) == ["Request 3ab2107c"]


SECOND_CHANCE = [
    ("verb and two name words", "Please call Ana Souza at noon.", "Ana Souza", "'call'"),
    ("greeting and one name word", "Hi Tom, see you.", "Tom", "'hi'"),
    ("title and surname", "Ask Mr. Okafor today.", "Okafor", "'mr.'"),
    ("my name is", "Hello, my name is Ibrahim Musa.", "Ibrahim Musa", "'name is'"),
    ("signature", "Best regards,\nSofia Lindqvist\nAccounts", "Sofia Lindqvist", "a sign-off"),
    ("mail header", "From: Laura Bianchi <l@example.com>", "Laura Bianchi", "'from:'"),
]


@pytest.mark.parametrize(("case", "text", "name", "cue"), SECOND_CHANCE, ids=[c[0] for c in SECOND_CHANCE])
def test_when_name_words_follow_a_strong_cue_then_they_are_a_person(case: str, text: str, name: str,
                                                                   cue: str) -> None:
    assert (name, "PERSON", f"name after {cue}") in _repaired(text)


NO_SECOND_CHANCE = [
    ("one word after a verb", "Please call Ana today."),
    ("organisation after a verb", "Contact Apple Support for help."),
    ("generic addressee", "Dear Customer, your order shipped."),
    ("team greeting", "Hi Team, the build is green."),
    ("weekday after a verb", "Meet Monday Morning people."),
    ("header field mid-line", "Sent from: Paris Office"),
    ("no cue", "Anna Souza called."),
]


@pytest.mark.parametrize(("case", "text"), NO_SECOND_CHANCE, ids=[c[0] for c in NO_SECOND_CHANCE])
def test_when_the_cue_is_weak_or_the_words_are_not_names_then_no_person_is_added(case: str, text: str) -> None:
    assert _persons(text) == []


def test_when_ner_labels_a_name_after_a_cue_as_an_organisation_then_it_becomes_a_person() -> None:
    found = _repaired("Dear Shannon Price, thank you.", ("Dear Shannon Price", "ORG"))
    assert found == [("Shannon Price", "PERSON", "name after 'dear' (spaCy ORG)")]


def test_when_an_entity_after_a_cue_runs_into_a_non_name_then_it_keeps_its_label() -> None:
    assert _repaired("Hi London Team, hello.", ("London", "GPE")) == [("London", "GPE", "")]


def test_when_an_organisation_has_no_cue_then_it_keeps_its_label() -> None:
    assert _repaired("We invoiced Acme Corp today.", ("Acme Corp", "ORG")) == [("Acme Corp", "ORG", "")]


def test_when_a_name_comes_from_a_cue_then_its_score_is_below_ner_scores() -> None:
    from ethos.pii.detect._ner import SCORES

    assert 0.4 <= CUE_SCORE < SCORES["PERSON"]
