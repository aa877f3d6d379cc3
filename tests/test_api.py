"""The curated top-level API: every listed name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ethos


@pytest.mark.parametrize("name", sorted(ethos.__all__))
def test_when_a_public_name_is_used_then_it_resolves(name: str) -> None:
    assert getattr(ethos, name) is not None


def test_when_an_unknown_name_is_used_then_attribute_error_names_it() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = ethos.no_such_thing  # type: ignore[attr-defined]


def test_when_scanning_and_anonymizing_through_the_top_level_then_pii_is_replaced() -> None:
    texts = ["Mail ana.souza@example.org or call +44 20 7946 0958."]
    [spans] = ethos.scan(texts)
    assert {s.entity for s in spans} >= {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    [clean] = ethos.anonymize(texts)
    assert "ana.souza@example.org" not in clean.text
    assert "<EMAIL_ADDRESS_1>" in clean.text


def test_when_importing_ethos_then_the_pii_engine_is_not_loaded() -> None:
    code = "import sys, ethos; print('ethos.pii' in sys.modules, 'spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.split() == ["False", "False"]
