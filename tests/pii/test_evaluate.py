"""Span matching, metrics and the labelled-JSONL reader, on hand-computed cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethos.errors import DataError
from ethos.pii.detect import Analyzer, AnalyzerConfig
from ethos.pii.evaluate import (
    EntityMetrics,
    LabeledText,
    evaluate,
    f_beta,
    iou,
    match_spans,
    read_labeled,
    score_predictions,
    write_labeled,
)
from ethos.types import Span


def S(start: int, end: int, entity: str = "PERSON") -> Span:
    return Span(start, end, entity, 1.0)


IOU_CASES = [
    ("identical", S(0, 10), S(0, 10), 1.0),
    ("half inside", S(0, 10), S(0, 5), 0.5),
    ("touching", S(0, 5), S(5, 10), 0.0),
    ("disjoint", S(0, 5), S(7, 10), 0.0),
    ("shifted", S(0, 6), S(3, 9), 3 / 9),
]


@pytest.mark.parametrize(("case", "a", "b", "expected"), IOU_CASES, ids=[c[0] for c in IOU_CASES])
def test_when_computing_iou_then_it_is_overlap_over_union(case: str, a: Span, b: Span, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)
    assert iou(b, a) == pytest.approx(expected)


def test_when_iou_equals_the_threshold_then_it_matches_and_just_below_it_does_not() -> None:
    assert match_spans([S(0, 10)], [S(0, 5)], threshold=0.5, typed=True) == 1
    assert match_spans([S(0, 10)], [S(0, 4)], threshold=0.5, typed=True) == 0


def test_when_one_prediction_covers_two_gold_spans_then_it_counts_once() -> None:
    gold = [S(0, 4), S(5, 9)]
    assert match_spans(gold, [S(0, 9)], threshold=0.4, typed=False) == 1


def test_when_matching_greedily_then_the_best_overlap_is_paired_first() -> None:
    gold = [S(0, 10), S(8, 20)]
    predicted = [S(0, 9), S(9, 20)]
    assert match_spans(gold, predicted, threshold=0.5, typed=False) == 2


def test_when_types_differ_then_only_entity_agnostic_matching_counts() -> None:
    gold, predicted = [S(0, 5, "PERSON")], [S(0, 5, "LOCATION")]
    assert match_spans(gold, predicted, threshold=0.5, typed=False) == 1
    assert match_spans(gold, predicted, threshold=0.5, typed=True) == 0


def test_when_precision_and_recall_are_known_then_f1_and_f2_match_hand_values() -> None:
    m = EntityMetrics(true_positives=2, predicted=4, support=3)  # P = 0.5, R = 2/3
    assert m.precision == pytest.approx(0.5)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert m.f2 == pytest.approx(5 * 0.5 * (2 / 3) / (4 * 0.5 + 2 / 3))
    assert f_beta(0.0, 0.0, 2.0) == 0.0
    assert EntityMetrics(0, 0, 3).precision is None and EntityMetrics(0, 0, 3).f1 is None


def test_when_scoring_a_set_then_overall_and_per_entity_counts_add_up() -> None:
    gold = [[S(0, 4, "PERSON"), S(10, 20, "EMAIL_ADDRESS")], [S(0, 5, "LOCATION")]]
    predicted = [[S(0, 4, "PERSON"), S(10, 20, "URL")], [S(0, 5, "LOCATION"), S(8, 9, "PERSON")]]
    report = score_predictions(gold, predicted, iou_threshold=0.5, texts_per_second=10.0)
    assert (report.overall.true_positives, report.overall.predicted, report.overall.support) == (3, 4, 3)
    assert report.per_entity["PERSON"] == EntityMetrics(1, 2, 1)
    assert report.per_entity["EMAIL_ADDRESS"] == EntityMetrics(0, 0, 1)
    assert report.per_entity["URL"] == EntityMetrics(0, 1, 0)
    doc = report.to_json()
    assert set(doc) >= {"overall", "per_entity", "texts_per_second"}
    assert set(doc["overall"]) >= {"precision", "recall", "f1", "f2"}
    assert doc["per_entity"]["PERSON"]["support"] == 1
    assert json.loads(json.dumps(doc)) == doc


def test_when_lengths_differ_then_scoring_refuses() -> None:
    with pytest.raises(ValueError, match="1 gold texts but 0 predicted"):
        score_predictions([[]], [])


def test_when_reading_a_file_then_names_are_mapped_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"text": "Jane in Paris", "spans": [{"start": 0, "end": 4, "entity": "PER"},
                                                                  {"start": 8, "end": 13, "entity": "GPE"}]})
                    + "\n\n", encoding="utf-8")
    items = read_labeled(path)
    assert items == [LabeledText("Jane in Paris", (S(0, 4, "PERSON"), S(8, 13, "LOCATION")))]
    write_labeled(tmp_path / "copy.jsonl", items)
    assert read_labeled(tmp_path / "copy.jsonl") == items


BAD_LINES = [
    ("not json", "{oops", "line 2: not valid JSON"),
    ("no text", json.dumps({"spans": []}), 'line 2: expected an object with a string "text"'),
    ("spans not a list", json.dumps({"text": "a", "spans": {}}), '"spans" must be a list'),
    ("float offset", json.dumps({"text": "abc", "spans": [{"start": 0.0, "end": 1, "entity": "X"}]}), "integer"),
    ("outside text", json.dumps({"text": "abc", "spans": [{"start": 1, "end": 9, "entity": "X"}]}), "not inside"),
    ("empty span", json.dumps({"text": "abc", "spans": [{"start": 1, "end": 1, "entity": "X"}]}), "not inside"),
    ("no entity", json.dumps({"text": "abc", "spans": [{"start": 0, "end": 1}]}), "entity"),
]


@pytest.mark.parametrize(("case", "line", "message"), BAD_LINES, ids=[c[0] for c in BAD_LINES])
def test_when_a_line_is_malformed_then_the_error_names_file_and_line(tmp_path: Path, case: str, line: str,
                                                                     message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "ok", "spans": []}) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        read_labeled(path)
    assert str(path) in str(info.value) and "line 2" in str(info.value)


def test_when_the_file_is_missing_or_not_utf8_then_a_data_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_labeled(tmp_path / "missing.jsonl")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"text": "caf\xe9", "spans": []}'.encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_labeled(latin)


def test_when_the_file_starts_with_a_utf8_bom_then_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "a@example.org", "spans": [{"start": 0, "end": 13, "entity": "EMAIL"}]}\n')
    assert [s.entity for s in read_labeled(path)[0].spans] == ["EMAIL_ADDRESS"]


def test_when_a_line_is_nested_too_deeply_then_a_data_error_names_it(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(DataError, match="deep.jsonl, line 1: .*nested too deeply"):
        read_labeled(path)


def test_when_the_file_holds_no_text_then_a_data_error_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    with pytest.raises(DataError, match="empty.jsonl holds no labelled text"):
        read_labeled(empty)


def test_when_evaluating_an_analyzer_then_metrics_and_throughput_are_reported() -> None:
    items = [
        LabeledText("mail jane@example.org now", (S(5, 21, "EMAIL_ADDRESS"),)),
        LabeledText("call +44 20 7946 0958", (S(5, 21, "PHONE_NUMBER"),)),
        LabeledText("nothing here", ()),
    ]
    done: list[int] = []
    report = evaluate(Analyzer(AnalyzerConfig(spacy_model=None)).load(), items, batch_size=2, on_progress=done.append)
    assert done == [2, 3]
    assert report.overall.f1 == 1.0 and report.n_texts == 3
    assert report.texts_per_second is not None and report.texts_per_second > 0
