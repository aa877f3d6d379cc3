"""The synthetic labelled set: determinism, exact gold spans, coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethos.pii.detect import CANONICAL_ENTITIES
from ethos.pii.evaluate import read_labeled
from ethos.pii.synthetic import TEMPLATES, generate, write_jsonl


@pytest.fixture(scope="module")
def items() -> list:
    return generate(400, seed=7)


def test_when_the_seed_is_the_same_then_the_set_is_identical(items: list) -> None:
    assert generate(400, seed=7) == items
    assert generate(400, seed=8) != items


def test_when_generating_then_every_gold_span_is_exact_and_inside_its_text(items: list) -> None:
    for item in items:
        for span in item.spans:
            value = item.text[span.start : span.end]
            assert value and value == value.strip(), (item.text, span)
        assert all(a.end <= b.start for a, b in zip(item.spans, item.spans[1:], strict=False))


def test_when_generating_then_coverage_meets_the_design(items: list) -> None:
    types = {s.entity for item in items for s in item.spans}
    assert len(TEMPLATES) >= 40
    assert len(types) >= 12 and types <= set(CANONICAL_ENTITIES)
    counts = {len(item.spans) for item in items}
    assert 0 in counts and max(counts) == 4


def test_when_written_then_the_file_reads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.jsonl"
    written = write_jsonl(path, n=50, seed=1)
    assert read_labeled(path) == written


def test_when_a_template_names_an_unknown_slot_then_generation_refuses() -> None:
    with pytest.raises(ValueError, match="unknown slot"):
        generate(1, templates=("Hello {NOBODY}",))
