"""The Analyzer's filters, overlap resolution, lists, config and registry (patterns only: no spaCy)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ethos.errors import ConfigError, UnknownNameError
from ethos.pii import cached_analyzer, scan
from ethos.pii.detect import Analyzer, AnalyzerConfig, canonical_entity, recognizer_registry
from ethos.pii.detect._resolve import resolve
from ethos.types import Explanation, Span


def _patterns(**kwargs: object) -> Analyzer:
    return Analyzer(AnalyzerConfig(spacy_model=None, **kwargs)).load()  # type: ignore[arg-type]


def test_when_spans_of_different_entities_overlap_then_the_higher_score_wins() -> None:
    text = "abcdefghij"
    spans = [Span(0, 6, "A", 0.5), Span(4, 10, "B", 0.9)]
    assert resolve(text, spans, entities=None, threshold=0.0) == [Span(4, 10, "B", 0.9)]


def test_when_scores_tie_then_the_longer_span_wins() -> None:
    spans = [Span(0, 4, "A", 0.7), Span(2, 9, "B", 0.7)]
    assert resolve("x" * 10, spans, entities=None, threshold=0.0) == [Span(2, 9, "B", 0.7)]


def test_when_a_span_lies_inside_another_entity_then_the_larger_wins_even_with_a_lower_score() -> None:
    spans = [Span(0, 20, "URL", 0.6), Span(7, 16, "IP_ADDRESS", 0.9)]
    assert resolve("x" * 20, spans, entities=None, threshold=0.0) == [Span(0, 20, "URL", 0.6)]


def test_when_same_entity_spans_overlap_then_they_merge_keeping_the_best_explanation() -> None:
    best = Explanation(recognizer="deny_list")
    spans = [Span(0, 4, "PERSON", 1.0, best), Span(0, 10, "PERSON", 0.85, Explanation(recognizer="spacy_ner"))]
    assert resolve("x" * 10, spans, entities=None, threshold=0.0) == [Span(0, 10, "PERSON", 1.0, best)]


def test_when_resolving_then_the_result_is_sorted_and_disjoint() -> None:
    spans = [Span(8, 12, "A", 0.5), Span(0, 3, "B", 0.5), Span(2, 9, "C", 0.6), Span(11, 14, "D", 0.4)]
    out = resolve("x" * 20, spans, entities=None, threshold=0.0)
    assert [s.start for s in out] == sorted(s.start for s in out)
    assert all(a.end <= b.start for a, b in zip(out, out[1:], strict=False))


def test_when_a_string_is_allow_listed_then_it_is_never_reported() -> None:
    text = "Mail support@ethos.example or jane@example.org"
    spans = _patterns(allow_list=("support@ethos.example",)).scan_one(text)
    assert [text[s.start : s.end] for s in spans] == ["jane@example.org"]


def test_when_a_string_is_deny_listed_then_it_is_always_reported_with_score_one() -> None:
    text = "Ask Project Falcon or falconry club"
    spans = _patterns(deny_list={"ORG": ("Project Falcon",)}).scan_one(text)
    assert [(s.entity, text[s.start : s.end], s.score) for s in spans] == [("ORGANIZATION", "Project Falcon", 1.0)]
    assert spans[0].explanation == Explanation(recognizer="deny_list", pattern="deny list entry", original_score=1.0)


def test_when_the_threshold_rises_then_weaker_spans_are_dropped() -> None:
    text = "login from 203.0.113.77, zip code 02118"
    low = {s.entity for s in _patterns(threshold=0.4).scan_one(text)}
    high = {s.entity for s in _patterns(threshold=0.9).scan_one(text)}
    assert {"IP_ADDRESS", "ZIP_CODE"} <= low
    assert "ZIP_CODE" not in high


def test_when_entities_are_restricted_then_only_those_are_reported_and_variants_are_accepted() -> None:
    analyzer = _patterns(entities=("email", "PHONE"))
    assert analyzer.config.entities == ("EMAIL_ADDRESS", "PHONE_NUMBER")
    spans = analyzer.scan_one("jane@example.org, +44 20 7946 0958, SSN 536-22-8726")
    assert {s.entity for s in spans} == {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    assert analyzer.entities == ("EMAIL_ADDRESS", "PHONE_NUMBER")


def test_when_an_unknown_entity_is_asked_for_then_the_error_suggests_a_close_name() -> None:
    with pytest.raises(UnknownNameError, match="PHONE_NUMBER"):
        _patterns(entities=("PHONE_NUMBRE",))


@pytest.mark.parametrize(("texts", "fragment"), [([5], "text 0 is int"), (["ok", None], "text 1 is NoneType")])
def test_when_a_text_is_not_a_string_then_a_config_error_names_it(texts: list[object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        scan(texts, config=AnalyzerConfig(spacy_model=None))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="list of texts"):
        _patterns().scan("a@example.org")


def test_when_config_has_an_unknown_field_then_validation_fails() -> None:
    with pytest.raises(ValidationError):
        AnalyzerConfig(treshold=0.3)  # type: ignore[call-arg]


def test_when_spacy_model_is_none_then_patterns_still_work_and_notes_say_so() -> None:
    analyzer = _patterns()
    assert any("patterns only" in n for n in analyzer.notes)
    assert [s.entity for s in analyzer.scan_one("Jane Doe, jane@example.org")] == ["EMAIL_ADDRESS"]


def test_when_the_pipeline_is_not_installed_then_notes_name_it_and_patterns_work() -> None:
    analyzer = Analyzer(AnalyzerConfig(spacy_model="xx_no_such_pipeline_sm")).load()
    assert any("'xx_no_such_pipeline_sm' is not installed" in n for n in analyzer.notes)
    assert [s.entity for s in analyzer.scan_one("mail jane@example.org")] == ["EMAIL_ADDRESS"]


def test_when_constructed_then_nothing_is_loaded_until_load() -> None:
    analyzer = Analyzer(AnalyzerConfig(spacy_model="xx_no_such_pipeline_sm"))
    assert analyzer.notes == ()  # the pipeline has not been looked for yet
    assert analyzer.load() is analyzer.load()
    assert len(analyzer.notes) == 1


def test_when_scanning_a_batch_then_each_text_gets_its_own_list() -> None:
    texts = ["", "nothing here", "jane@example.org"]
    assert [len(spans) for spans in _patterns().scan(texts)] == [0, 0, 1]


def test_when_scan_is_called_twice_with_one_config_then_one_analyzer_is_reused() -> None:
    config = AnalyzerConfig(spacy_model=None, entities=("EMAIL_ADDRESS",))
    first = cached_analyzer(config)
    assert cached_analyzer(AnalyzerConfig(spacy_model=None, entities=("EMAIL_ADDRESS",))) is first
    assert scan("jane@example.org", config=config)[0][0].entity == "EMAIL_ADDRESS"
    with pytest.raises(ValueError, match="either"):
        scan(["x"], analyzer=first, config=config)


NAME_TABLE = [
    ("email", "EMAIL_ADDRESS"), ("E-MAIL", "EMAIL_ADDRESS"), ("PHONE", "PHONE_NUMBER"), ("GPE", "LOCATION"),
    ("LOC", "LOCATION"), ("FAC", "LOCATION"), ("PER", "PERSON"), ("ORG", "ORGANIZATION"), ("NORP", "NRP"),
    ("DATE", "DATE_TIME"), ("time", "DATE_TIME"), ("SSN", "US_SSN"), ("IBAN", "IBAN_CODE"), ("ipv4", "IP_ADDRESS"),
    ("zip code", "ZIP_CODE"), ("PASSPORT", "US_PASSPORT"), ("password", "SECRET"), ("PERSON", "PERSON"),
    ("SOMETHING_ELSE", "SOMETHING_ELSE"),
]


@pytest.mark.parametrize(("name", "canonical"), NAME_TABLE)
def test_when_a_variant_entity_name_is_given_then_it_maps_to_the_canonical_one(name: str, canonical: str) -> None:
    assert canonical_entity(name) == canonical


def test_when_listing_recognizers_then_every_canonical_entity_has_one() -> None:
    from ethos.pii.detect import CANONICAL_ENTITIES

    covered = {e for name in recognizer_registry.names() for e in recognizer_registry.get(name).entities}
    assert set(CANONICAL_ENTITIES) <= covered
    with pytest.raises(UnknownNameError, match="Did you mean 'email'"):
        recognizer_registry.get("emial")
