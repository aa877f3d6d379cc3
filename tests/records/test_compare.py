"""Comparing two stored runs: matching by (name, group), deltas, MOVER significance and mismatch warnings."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ethos.errors import ConfigError
from ethos.records import BenchmarkInfo, DataFile, MetricRecord, RunRecord, RunStore, compare_runs
from tests.helpers.records import make_record

RUN_A = "01JAAAAAAAAAAAAAAAAAAAAAAA"
RUN_B = "01JBBBBBBBBBBBBBBBBBBBBBBB"


def _metric(value: float, low: float | None = None, high: float | None = None, **fields: Any) -> MetricRecord:
    return MetricRecord(name=fields.pop("name", "ss"), value=value, ci_low=low, ci_high=high, n=100, **fields)


def _stored_pair(
    tmp_path: Path,
    metrics_a: list[MetricRecord],
    metrics_b: list[MetricRecord],
    a_fields: dict[str, Any] | None = None,
    **b_fields: Any,
) -> tuple[RunRecord, RunRecord]:
    """Save two runs in a real store and read them back, as `ethos runs compare` does."""
    a_fields = a_fields or {}
    info = b_fields.pop("benchmark_info", None)
    run_b = make_record(RUN_B, minutes=1, metrics=metrics_b, **b_fields)
    if info is not None:
        run_b = run_b.model_copy(update={"benchmark": BenchmarkInfo(**info)})
    with RunStore(tmp_path / "ethos.db") as store:
        store.save(make_record(RUN_A, metrics=metrics_a, **a_fields))
        store.save(run_b)
        return store.get(RUN_A), store.get(RUN_B)


@pytest.mark.parametrize(
    ("a", "b", "significant", "interval"),
    [
        # symmetric half-widths 0.05 and 0.05: Δ ± √(0.05² + 0.05²) = Δ ± 0.0707
        ((0.50, 0.45, 0.55), (0.70, 0.65, 0.75), True, (0.2 - 0.05 * math.sqrt(2), 0.2 + 0.05 * math.sqrt(2))),
        ((0.50, 0.45, 0.55), (0.55, 0.50, 0.60), False, (0.05 - 0.05 * math.sqrt(2), 0.05 + 0.05 * math.sqrt(2))),
        # the intervals overlap (0.53 < 0.55), yet the difference is significant: not the overlap rule
        ((0.50, 0.45, 0.55), (0.58, 0.53, 0.63), True, (0.08 - 0.05 * math.sqrt(2), 0.08 + 0.05 * math.sqrt(2))),
        # a drop: the interval lies below 0
        ((0.80, 0.78, 0.82), (0.70, 0.69, 0.71), True, (-0.1 - math.hypot(0.01, 0.02), -0.1 + math.hypot(0.01, 0.02))),
        # asymmetric intervals: each side combines the distances that face it (MOVER)
        ((0.50, 0.40, 0.52), (0.60, 0.59, 0.70), True, (0.1 - math.hypot(0.01, 0.02), 0.1 + math.hypot(0.10, 0.10))),
    ],
    ids=["clear-rise", "within-noise", "overlapping-but-significant", "drop", "asymmetric"],
)
def test_when_both_runs_have_intervals_then_significance_follows_the_interval_of_the_difference(
    tmp_path: Path,
    a: tuple[float, float, float],
    b: tuple[float, float, float],
    significant: bool,
    interval: tuple[float, float],
) -> None:
    run_a, run_b = _stored_pair(tmp_path, [_metric(*a)], [_metric(*b)])
    (delta,) = compare_runs(run_a, run_b).deltas
    assert delta.delta == pytest.approx(b[0] - a[0])
    assert delta.relative_delta == pytest.approx((b[0] - a[0]) / a[0])
    assert (delta.delta_ci_low, delta.delta_ci_high) == pytest.approx(interval)
    assert delta.significant is significant


def test_when_intervals_come_from_independent_bootstraps_then_mover_matches_the_bootstrap_of_the_difference() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(0.0, 1.0, 400), rng.normal(0.25, 1.5, 300)
    means_x = np.array([rng.choice(x, x.size).mean() for _ in range(4000)])
    means_y = np.array([rng.choice(y, y.size).mean() for _ in range(4000)])

    def record(values: np.ndarray, means: np.ndarray) -> MetricRecord:
        low, high = np.percentile(means, [2.5, 97.5])
        return _metric(float(values.mean()), float(low), float(high))

    run_a = make_record(RUN_A, metrics=[record(x, means_x)])
    run_b = make_record(RUN_B, metrics=[record(y, means_y)])
    (delta,) = compare_runs(run_a, run_b).deltas
    # the reference: a bootstrap of the difference itself (the two resamplings are independent)
    low, high = np.percentile(means_y - means_x, [2.5, 97.5])
    assert delta.delta_ci_low == pytest.approx(low, abs=0.02)
    assert delta.delta_ci_high == pytest.approx(high, abs=0.02)


def test_when_an_interval_is_missing_or_a_value_undefined_then_significance_is_unknown_not_guessed(
    tmp_path: Path,
) -> None:
    metrics_a = [_metric(0.5), _metric(0.5, 0.4, 0.6, name="acc"), _metric(math.nan, name="bias")]
    metrics_b = [_metric(0.9, 0.85, 0.95), _metric(0.9, 0.85, 0.95, name="acc"), _metric(0.1, name="bias")]
    run_a, run_b = _stored_pair(tmp_path, metrics_a, metrics_b)
    deltas = {d.name: d for d in compare_runs(run_a, run_b).deltas}
    assert deltas["ss"].delta == pytest.approx(0.4) and deltas["ss"].significant is None
    assert deltas["acc"].significant is True
    assert deltas["bias"].delta is None and deltas["bias"].significant is None


@pytest.mark.parametrize(("a", "expected"), [(0.0, None), (-0.5, 0.2), (2.0, -0.05)], ids=["zero", "negative", "pos"])
def test_when_computing_the_relative_change_then_it_is_relative_to_the_magnitude_of_a(
    a: float, expected: float | None
) -> None:
    b = a + 0.1 if a <= 0 else a - 0.1
    (delta,) = compare_runs(make_record(RUN_A, metrics=[_metric(a)]), make_record(RUN_B, metrics=[_metric(b)])).deltas
    assert delta.relative_delta == (None if expected is None else pytest.approx(expected))


def test_when_groups_are_compared_then_they_match_by_name_and_group_whatever_the_key_order(tmp_path: Path) -> None:
    both = {"bias_type": "race", "lang": "en"}
    metrics_a = [_metric(0.6, 0.5, 0.7), _metric(0.4, 0.3, 0.5, group=both), _metric(0.5, group={"bias_type": "age"})]
    reordered = {"lang": "en", "bias_type": "race"}
    metrics_b = [_metric(0.6, 0.5, 0.7), _metric(0.9, 0.8, 1.0, group=reordered), _metric(0.5, group={"x": "y"})]
    run_a, run_b = _stored_pair(tmp_path, metrics_a, metrics_b)
    assert [d.group for d in compare_runs(run_a, run_b).deltas] == [{}]  # overall values only by default
    deltas = compare_runs(run_a, run_b, all_groups=True).deltas
    assert [(d.group, d.a is not None, d.b is not None) for d in deltas] == [
        ({}, True, True),
        (both, True, True),
        ({"bias_type": "age"}, True, False),  # only in A
        ({"x": "y"}, False, True),  # only in B, listed last
    ]
    assert deltas[1].delta == pytest.approx(0.5) and deltas[1].significant is True
    assert deltas[2].delta is None and deltas[3].delta is None


def test_when_metrics_are_named_then_only_those_are_compared_and_an_unknown_name_lists_the_known_ones() -> None:
    run_a = make_record(RUN_A, metrics=[_metric(0.5), _metric(0.7, name="acc")])
    run_b = make_record(RUN_B, metrics=[_metric(0.6), _metric(0.8, name="acc")])
    assert [d.name for d in compare_runs(run_a, run_b, metrics=["acc"]).deltas] == ["acc"]
    with pytest.raises(ConfigError, match=r"'sss' is in neither run; metrics of these runs: acc, ss"):
        compare_runs(run_a, run_b, metrics=["sss"])


def _data(sha: str) -> tuple[DataFile, ...]:
    return (DataFile(source="https://example.org/dev.json", sha256=sha * 64),)


@pytest.mark.parametrize(
    ("b_fields", "fields"),
    [
        ({}, []),
        ({"settings": {"batch_size": 4, "dtype": "float32", "chunk_size": 9}}, []),  # execution only
        ({"benchmark_info": {"name": "stereoset", "version": "2.0"}}, ["benchmark.version"]),
        ({"benchmark": "crows_pairs"}, ["benchmark.name"]),
        ({"settings": {"batch_size": 16, "dtype": "float32", "variant": "generate"}}, ["settings.variant"]),
        ({"settings": {"batch_size": 16, "dtype": "float16"}}, ["settings.dtype"]),
        ({"data": _data("b")}, ["data"]),
    ],
    ids=["same", "batch-size-only", "version", "benchmark", "variant", "dtype", "data"],
)
def test_when_runs_differ_in_what_they_measured_then_each_difference_is_named(
    tmp_path: Path, b_fields: dict[str, Any], fields: list[str]
) -> None:
    b_fields = {"data": _data("a"), **b_fields}  # the same data files unless the case says otherwise
    run_a, run_b = _stored_pair(tmp_path, [_metric(0.5)], [_metric(0.6)], {"data": _data("a")}, **b_fields)
    result = compare_runs(run_a, run_b)
    assert [m.field for m in result.mismatches] == fields
    assert result.comparable is (not fields)


def test_when_a_setting_differs_then_the_message_names_it_and_both_values() -> None:
    run_a = make_record(RUN_A, settings={"variant": "loglik"})
    run_b = make_record(RUN_B, settings={})
    (mismatch,) = compare_runs(run_a, run_b).mismatches
    assert mismatch.message == "settings.variant differs: A has 'loglik', B has nothing"


def test_when_comparing_then_the_result_names_both_runs_and_the_rule(tmp_path: Path) -> None:
    run_a, run_b = _stored_pair(tmp_path, [_metric(0.5)], [_metric(0.6)], model="hf:./tiny-bert")
    result = compare_runs(run_a, run_b)
    assert (result.run_a, result.run_b, result.model_b, result.benchmark_a) == (
        RUN_A,
        RUN_B,
        "hf:./tiny-bert",
        "stereoset v1.0",
    )
    assert "MOVER" in result.significance_rule and "independent" in result.significance_rule
