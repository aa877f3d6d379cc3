"""Pattern recognizers through the public Analyzer, patterns only (no spaCy)."""

from __future__ import annotations

import pytest

from ethos.pii.detect import CONTEXT_BOOST, Analyzer, AnalyzerConfig
from ethos.types import Span

PATTERNS_ONLY = AnalyzerConfig(spacy_model=None)
BECH32 = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(PATTERNS_ONLY).load()


def found(analyzer: Analyzer, text: str) -> set[tuple[str, str]]:
    return {(s.entity, text[s.start : s.end]) for s in analyzer.scan_one(text)}


TRUE_POSITIVES = [
    ("email", "Write to jane.doe+news@mail.example.co.uk today.", "EMAIL_ADDRESS", "jane.doe+news@mail.example.co.uk"),
    ("phone international", "Call +44 20 7946 0958 after six.", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("phone US grouping", "My cell is (415) 555-2671.", "PHONE_NUMBER", "(415) 555-2671"),
    ("phone German trunk prefix", "Telefon: 030 12345678", "PHONE_NUMBER", "030 12345678"),
    ("visa grouped", "card 4111 1111 1111 1111 expires soon", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("amex compact", "Amex 378282246310005 please", "CREDIT_CARD", "378282246310005"),
    ("iban grouped", "IBAN DE89 3704 0044 0532 0130 00 for rent", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("iban compact", "send to GB82WEST12345698765432.", "IBAN_CODE", "GB82WEST12345698765432"),
    ("ssn", "SSN 536-22-8726 on file", "US_SSN", "536-22-8726"),
    ("ipv4", "login from 203.0.113.77 failed", "IP_ADDRESS", "203.0.113.77"),
    ("ipv6", "host 2001:db8::8a2e:370:7334 is up", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("url", "see https://example.org/a/b?c=1.", "URL", "https://example.org/a/b?c=1"),
    ("iso date", "born on 1988-10-14.", "DATE_TIME", "1988-10-14"),
    ("written date", "It happened on March 3rd, 2021 at noon.", "DATE_TIME", "March 3rd, 2021"),
    ("age years old", "She is 42 years old.", "AGE", "42"),
    ("age aged", "a man aged 67 was seen", "AGE", "67"),
    ("zip after state", "Austin, TX 78701", "ZIP_CODE", "78701"),
    ("zip with context", "zip code 02118", "ZIP_CODE", "02118"),
    ("street", "She lives at 1600 Pennsylvania Avenue NW now.", "STREET_ADDRESS", "1600 Pennsylvania Avenue NW"),
    ("continental street", "Wohnt in der Hauptstraße 5a.", "STREET_ADDRESS", "Hauptstraße 5a"),
    ("passport with context", "passport number 912803456", "US_PASSPORT", "912803456"),
    ("licence with context", "driver's license D1234567", "US_DRIVER_LICENSE", "D1234567"),
    ("bitcoin base58", "btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 thanks", "CRYPTO", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
    ("bitcoin bech32", f"to {BECH32}", "CRYPTO", BECH32),
    ("ethereum", f"eth {ETH}", "CRYPTO", ETH),
    ("aws key", "export KEY=AKIAIOSFODNN7EXAMPLE", "API_KEY", "AKIAIOSFODNN7EXAMPLE"),
    ("github token", "token ghp_" + "a1B2" * 9, "API_KEY", "ghp_" + "a1B2" * 9),
    ("assigned password", "db_password = Xk9#mQ2$vL8pW4", "SECRET", "Xk9#mQ2$vL8pW4"),
]


@pytest.mark.parametrize(("case", "text", "entity", "value"), TRUE_POSITIVES, ids=[c[0] for c in TRUE_POSITIVES])
def test_when_a_value_is_present_then_it_is_found(analyzer: Analyzer, case: str, text: str, entity: str,
                                                  value: str) -> None:
    assert (entity, value) in found(analyzer, text)


REJECTED = [
    ("bad luhn", "card 4111 1111 1111 1112 expires soon", "CREDIT_CARD"),
    ("bad iban checksum", "IBAN DE89 3704 0044 0532 0130 01 for rent", "IBAN_CODE"),
    ("iban wrong length", "IBAN DE89 3704 0044 0532 0130 0 for rent", "IBAN_CODE"),
    ("ssn area 000", "SSN 000-22-8726 on file", "US_SSN"),
    ("ssn area 9xx", "SSN 923-22-8726 on file", "US_SSN"),
    ("ssn group 00", "SSN 536-00-8726 on file", "US_SSN"),
    ("ip out of range", "login from 203.0.113.777 failed", "IP_ADDRESS"),
    ("version string", "upgraded to 1.2.3.4.5 today", "IP_ADDRESS"),
    ("bitcoin bad checksum", "btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 thanks", "CRYPTO"),
    ("log timestamp", "[2024-03-01 12:00:03] INFO started", "DATE_TIME"),
    ("version not a date", "Deploy 2.16.82 to staging", "DATE_TIME"),
    ("uuid fragment not a phone", "Request 63d85381-dcd2-4168-9547-5c92582592e1 done", "PHONE_NUMBER"),
    ("placeholder password", "password: ********", "SECRET"),
    ("passport number without context", "order 912803456 shipped", "US_PASSPORT"),
    ("bare zip without context", "we sold 02118 units", "ZIP_CODE"),
]


@pytest.mark.parametrize(("case", "text", "entity"), REJECTED, ids=[c[0] for c in REJECTED])
def test_when_a_lookalike_fails_validation_then_it_is_not_reported(analyzer: Analyzer, case: str, text: str,
                                                                   entity: str) -> None:
    assert entity not in {e for e, _ in found(analyzer, text)}


def _span(analyzer: Analyzer, text: str, entity: str) -> Span:
    return next(s for s in analyzer.scan_one(text) if s.entity == entity)


def test_when_a_context_word_precedes_then_the_score_rises_and_is_explained(analyzer: Analyzer) -> None:
    plain = _span(analyzer, "ref 536-22-8726", "US_SSN")
    boosted = _span(analyzer, "my ssn is 536-22-8726", "US_SSN")
    assert plain.explanation is not None and boosted.explanation is not None
    assert plain.explanation.context_boost == 0.0
    assert boosted.explanation.context_boost == pytest.approx(CONTEXT_BOOST)
    assert boosted.score == pytest.approx(plain.score + CONTEXT_BOOST)
    assert boosted.explanation.note == "context word 'ssn'"


def test_when_a_validator_passes_then_the_explanation_says_so(analyzer: Analyzer) -> None:
    span = _span(analyzer, "card 4111111111111111", "CREDIT_CARD")
    assert span.explanation is not None
    assert span.explanation.recognizer == "credit_card"
    assert span.explanation.validation is True
    assert span.explanation.pattern in {"4-4-4-4 grouping", "compact 13-19 digits"}
    assert span.score == 1.0
