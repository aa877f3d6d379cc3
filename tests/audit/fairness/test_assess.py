"""``assess``: every number equals fairlearn's on the same arrays, textbook cases, intervals, bad input."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fm
from sklearn import metrics as skm

from ethos.audit.fairness import FairnessReport, assess
from ethos.errors import DataError

N_BOOT = 200


@dataclass(frozen=True)
class Case:
    """A seeded random dataset: decisions, truth, scores and one or two sensitive columns."""

    name: str
    seed: int
    n: int
    columns: dict[str, tuple[str, ...]]
    base_rates: tuple[float, ...] = (0.5,)

    def build(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        rng = np.random.default_rng(self.seed)
        sensitive = {col: rng.choice(values, self.n) for col, values in self.columns.items()}
        first = next(iter(sensitive.values()))
        levels = sorted(set(first.tolist()))
        rate = np.array([self.base_rates[levels.index(v) % len(self.base_rates)] for v in first])
        y_pred = (rng.random(self.n) < rate).astype(int)
        y_true = (rng.random(self.n) < 0.4 + 0.2 * y_pred).astype(int)
        scores = rng.random(self.n) + 0.1 * y_pred
        return y_pred, y_true, scores, sensitive


CASES = [
    Case("two_groups", 1, 300, {"sex": ("F", "M")}, (0.3, 0.6)),
    Case("three_groups", 2, 500, {"race": ("a", "b", "c")}, (0.2, 0.5, 0.45)),
    Case("five_groups_small", 3, 120, {"age": ("18-25", "26-35", "36-50", "51-65", "66+")}, (0.5, 0.4, 0.3)),
    Case("two_columns", 4, 800, {"race": ("a", "b", "c"), "sex": ("F", "M")}, (0.35, 0.55, 0.5)),
    Case("two_columns_large", 5, 5000, {"race": ("w", "x", "y", "z"), "sex": ("F", "M", "X")}, (0.4, 0.42)),
]


def _frame(sensitive: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(sensitive)


@pytest.fixture(params=CASES, ids=lambda c: c.name)
def case(request: pytest.FixtureRequest) -> tuple[Any, ...]:
    data = request.param.build()
    y_pred, y_true, scores, sensitive = data
    report = assess(y_pred, sensitive, y_true=y_true, scores=scores, seed=0, n_boot=N_BOOT)
    return (*data, report)


def test_when_data_is_random_then_headlines_equal_fairlearns_functions(case: tuple[Any, ...]) -> None:
    y_pred, y_true, _, sensitive, report = case
    sf = _frame(sensitive)
    expected = {
        "demographic_parity_difference": fm.demographic_parity_difference(y_true, y_pred, sensitive_features=sf),
        "demographic_parity_ratio": fm.demographic_parity_ratio(y_true, y_pred, sensitive_features=sf),
        "equalized_odds_difference": fm.equalized_odds_difference(y_true, y_pred, sensitive_features=sf),
        "equal_opportunity_difference": fm.equal_opportunity_difference(y_true, y_pred, sensitive_features=sf),
    }
    for name, value in expected.items():
        assert getattr(report, name).value == pytest.approx(value, abs=1e-12), name
    assert report.four_fifths_rule_passed == (expected["demographic_parity_ratio"] >= 0.8)


def test_when_data_is_random_then_group_rates_equal_fairlearns_metric_frame(case: tuple[Any, ...]) -> None:
    y_pred, y_true, scores, sensitive, report = case
    metrics = {
        "selection_rate": fm.selection_rate,
        "tpr": fm.true_positive_rate,
        "fpr": fm.false_positive_rate,
        "tnr": fm.true_negative_rate,
        "fnr": fm.false_negative_rate,
        "accuracy": skm.accuracy_score,
        "count": fm.count,
    }
    mf = fm.MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=_frame(sensitive))
    expected = mf.by_group.dropna()
    assert len(report.by_group) == len(expected)
    for index, row in expected.iterrows():
        key = "|".join(index) if isinstance(index, tuple) else index
        group = report.by_group[key]
        for name in metrics:
            assert getattr(group, name) == pytest.approx(row[name], abs=1e-12), (key, name)
        mask = np.all([sensitive[c] == v for c, v in group.labels.items()], axis=0)
        assert group.mean_score == pytest.approx(scores[mask].mean())
        tn, fp, fn, tp = skm.confusion_matrix(y_true[mask], y_pred[mask], labels=[0, 1]).ravel()
        assert (group.tn, group.fp, group.fn, group.tp) == (tn, fp, fn, tp)
    assert report.overall.selection_rate == pytest.approx(mf.overall["selection_rate"])
    assert report.overall.accuracy == pytest.approx(mf.overall["accuracy"])


def test_when_scores_are_given_then_mean_score_gap_equals_fairlearns(case: tuple[Any, ...]) -> None:
    _, _, scores, sensitive, report = case
    mf = fm.MetricFrame(metrics=fm.mean_prediction, y_true=scores, y_pred=scores, sensitive_features=_frame(sensitive))
    assert report.mean_score_gap is not None
    assert report.mean_score_gap.value == pytest.approx(mf.difference(method="between_groups"))


def test_when_bootstrapping_then_every_interval_holds_its_point_estimate(case: tuple[Any, ...]) -> None:
    report = case[-1]
    for name, estimate in report.headlines().items():
        assert estimate.ci_low is not None and estimate.ci_high is not None, name
        assert estimate.ci_low <= estimate.value <= estimate.ci_high, name
    for key, group in report.by_group.items():
        low, high = group.intervals["selection_rate"]
        assert low is not None and high is not None
        assert low <= group.selection_rate <= high, key


def test_when_the_seed_is_the_same_then_intervals_are_identical_and_another_seed_differs() -> None:
    y_pred, y_true, _, sensitive = CASES[1].build()
    first, again, other = (assess(y_pred, sensitive, y_true=y_true, seed=s, n_boot=N_BOOT) for s in (7, 7, 8))
    assert first.to_json() == again.to_json()
    assert first.demographic_parity_difference.ci_low != other.demographic_parity_difference.ci_low


def test_when_y_true_is_absent_then_odds_metrics_are_none_and_dp_still_equals_fairlearn() -> None:
    y_pred, _, _, sensitive = CASES[0].build()
    report = assess(y_pred, sensitive["sex"], n_boot=N_BOOT)
    assert report.equalized_odds_difference is None and report.equal_opportunity_difference is None
    assert report.mean_score_gap is None
    expected = fm.demographic_parity_difference(y_pred, y_pred, sensitive_features=sensitive["sex"])
    assert report.demographic_parity_difference.value == pytest.approx(expected)
    assert report.by_group["F"].tpr is None and report.by_group["F"].tp is None


# -- textbook examples -------------------------------------------------------------------------------


def test_when_selection_rates_are_point_six_and_point_three_then_parity_fails_the_four_fifths_rule() -> None:
    # 10 applicants per group: 6 of group A and 3 of group B are selected.
    y_pred = [1] * 6 + [0] * 4 + [1] * 3 + [0] * 7
    group = ["A"] * 10 + ["B"] * 10
    report = assess(y_pred, group, n_boot=N_BOOT)
    assert report.by_group["A"].selection_rate == pytest.approx(0.6)
    assert report.by_group["B"].selection_rate == pytest.approx(0.3)
    assert report.demographic_parity_difference.value == pytest.approx(0.3)
    assert report.demographic_parity_ratio.value == pytest.approx(0.5)
    assert report.four_fifths_rule_passed is False


def test_when_ratio_is_exactly_four_fifths_then_the_rule_passes() -> None:
    y_pred = [1] * 5 + [0] * 5 + [1] * 4 + [0] * 6
    report = assess(y_pred, ["A"] * 10 + ["B"] * 10, n_boot=0)
    assert report.demographic_parity_ratio.value == pytest.approx(0.8)
    assert report.four_fifths_rule_passed is True
    assert report.demographic_parity_ratio.ci_low is None  # n_boot=0: no interval


def test_when_a_tiny_table_is_counted_by_hand_then_confusion_matrices_and_rates_match() -> None:
    #            y_true  y_pred   group A: tp=2 fp=1 fn=1 tn=1 ; group B: tp=1 fp=1 fn=1 tn=2
    rows = [(1, 1, "A"), (1, 1, "A"), (0, 1, "A"), (1, 0, "A"), (0, 0, "A"),
            (1, 1, "B"), (0, 1, "B"), (1, 0, "B"), (0, 0, "B"), (0, 0, "B")]  # fmt: skip
    y_true, y_pred, group = (list(col) for col in zip(*rows, strict=True))
    report = assess(y_pred, group, y_true=y_true, n_boot=0)
    a, b = report.by_group["A"], report.by_group["B"]
    assert (a.tp, a.fp, a.fn, a.tn, a.count) == (2, 1, 1, 1, 5)
    assert (b.tp, b.fp, b.fn, b.tn, b.count) == (1, 1, 1, 2, 5)
    rates = ("selection_rate", "tpr", "fpr", "precision", "accuracy")
    assert [getattr(a, r) for r in rates] == pytest.approx([3 / 5, 2 / 3, 1 / 2, 2 / 3, 3 / 5])
    assert [getattr(b, r) for r in rates] == pytest.approx([2 / 5, 1 / 2, 1 / 3, 1 / 2, 3 / 5])
    assert report.equal_opportunity_difference is not None and report.equalized_odds_difference is not None
    assert report.equal_opportunity_difference.value == pytest.approx(2 / 3 - 1 / 2)
    assert report.equalized_odds_difference.value == pytest.approx(max(2 / 3 - 1 / 2, 1 / 2 - 1 / 3))
    assert (report.overall.tp, report.overall.fp, report.overall.fn, report.overall.tn) == (3, 2, 2, 3)


def test_when_labels_are_strings_then_positive_label_names_the_selected_value() -> None:
    y_pred = ["hire", "hire", "reject", "reject", "hire", "reject"]
    report = assess(y_pred, ["A", "A", "A", "B", "B", "B"], positive_label="hire", n_boot=0)
    assert report.by_group["A"].selection_rate == pytest.approx(2 / 3)
    assert report.by_group["B"].selection_rate == pytest.approx(1 / 3)


def test_when_two_sensitive_columns_then_groups_are_intersections_keyed_with_a_bar() -> None:
    y_pred = [1, 0, 1, 1, 0, 0, 1, 0]
    sensitive = {"sex": ["F", "F", "M", "M", "F", "M", "F", "M"], "race": ["a", "b", "a", "b", "a", "b", "b", "a"]}
    report = assess(y_pred, sensitive, n_boot=0)
    assert list(report.by_group) == ["F|a", "F|b", "M|a", "M|b"]
    assert report.by_group["F|b"].labels == {"sex": "F", "race": "b"}
    assert report.columns == ("sex", "race")


# -- undefined values --------------------------------------------------------------------------------


def test_when_a_group_has_no_positive_labels_then_its_tpr_and_the_odds_metrics_are_undefined() -> None:
    y_true = [1, 0, 1, 0, 0, 0, 0, 0]
    y_pred = [1, 0, 0, 1, 1, 0, 1, 0]
    group = ["A"] * 4 + ["B"] * 4
    report = assess(y_pred, group, y_true=y_true, n_boot=N_BOOT)
    assert report.by_group["B"].tpr is None and report.by_group["B"].fnr is None
    assert report.by_group["B"].fpr == pytest.approx(0.5)
    for estimate in (report.equalized_odds_difference, report.equal_opportunity_difference):
        assert estimate is not None and estimate.value is None
        assert estimate.note is not None and "'B'" in estimate.note and "no positive labels" in estimate.note
    doc = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert doc["equalized_odds_difference"] is None and doc["by_group"]["B"]["tpr"] is None


def test_when_no_group_is_ever_selected_then_the_ratio_and_the_four_fifths_verdict_are_undefined() -> None:
    report = assess([0, 0, 0, 0], ["A", "A", "B", "B"], n_boot=N_BOOT)
    assert report.demographic_parity_difference.value == 0.0
    assert report.demographic_parity_ratio.value is None
    assert report.demographic_parity_ratio.note is not None
    assert report.four_fifths_rule_passed is None


# -- output shapes ------------------------------------------------------------------------------------


def test_when_serialised_then_json_is_strict_and_has_the_documented_keys(case: tuple[Any, ...]) -> None:
    report: FairnessReport = case[-1]
    doc = json.loads(json.dumps(report.to_json(), allow_nan=False))
    keys = ("by_group", "demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference")
    for key in (*keys, "four_fifths_rule_passed", "confidence_intervals", "ci_method"):
        assert key in doc
    some = next(iter(doc["by_group"].values()))
    assert {"count", "selection_rate", "tpr", "fpr", "tp", "fp", "tn", "fn", "ci"} <= set(some)


def test_when_converting_to_metric_values_then_headlines_and_every_group_are_present(case: tuple[Any, ...]) -> None:
    report: FairnessReport = case[-1]
    values = report.metric_values()
    overall = {m.name: m for m in values if not m.group}
    assert overall["demographic_parity_ratio"].value == report.demographic_parity_ratio.value
    assert overall["four_fifths_rule_passed"].value == float(bool(report.four_fifths_rule_passed))
    grouped = [m for m in values if m.group and m.name == "selection_rate"]
    assert len(grouped) == len(report.by_group)
    for m in grouped:
        key = "|".join(m.group[c] for c in report.columns)
        assert m.value == report.by_group[key].selection_rate and m.n == report.by_group[key].count
        assert not math.isnan(m.value)


# -- bad input ------------------------------------------------------------------------------------------

BAD_INPUTS = {
    "lengths_differ": (dict(y_pred=[0, 1, 1], sensitive=["a", "b"]), "sensitive has 2 rows but y_pred has 3"),
    "y_true_length": (dict(y_pred=[0, 1], sensitive=["a", "b"], y_true=[1]), "y_true has 1 rows"),
    "non_binary_pred": (dict(y_pred=[0, 1, 2, 1], sensitive=list("abab")), "3 distinct values: 0, 1, 2"),
    "non_binary_truth": (dict(y_pred=[0, 1, 1], sensitive=list("aba"), y_true=[0, 1, 2]), "y_true must be binary"),
    "string_labels": (dict(y_pred=["yes", "no"], sensitive=list("ab")), "'no', 'yes', none of which"),
    "nan_pred": (dict(y_pred=[0, float("nan"), 1], sensitive=list("aba")), "missing values (None/NaN) at rows 1"),
    "none_sensitive": (dict(y_pred=[0, 1, 1], sensitive=["a", None, "b"]), "sensitive has missing values"),
    "nan_score": (dict(y_pred=[0, 1], sensitive=list("ab"), scores=[0.1, float("nan")]), "scores has missing"),
    "text_score": (dict(y_pred=[0, 1], sensitive=list("ab"), scores=[0.1, "high"]), "scores must be numbers"),
    "one_group": (dict(y_pred=[0, 1, 1], sensitive=["a", "a", "a"]), "only one group ('a')"),
    "one_group_column": (
        dict(y_pred=[0, 1], sensitive={"race": ["a", "b"], "sex": ["F", "F"]}),
        "sensitive column 'sex' has only one group",
    ),
    "empty": (dict(y_pred=[], sensitive=[]), "y_pred is empty"),
    "separator_clash": (
        dict(y_pred=[0, 1, 1, 0], sensitive={"a": ["x|y", "x", "x", "x|y"], "b": ["z", "y|z", "z", "y|z"]}),
        "both make the key 'x|y|z'",
    ),
    "expected_group_missing": (
        dict(y_pred=[0, 1], sensitive=["a", "b"], groups=["a", "b", "c"]),
        "group 'c' has no rows (after filtering)",
    ),
}


@pytest.mark.parametrize("kwargs,message", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_when_input_is_bad_then_a_data_error_names_the_problem(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=None) as info:
        assess(n_boot=0, **kwargs)
    assert message in str(info.value)


def test_when_confidence_is_out_of_range_then_value_error() -> None:
    with pytest.raises(ValueError, match="confidence"):
        assess([0, 1], ["a", "b"], confidence=1.5)


def test_when_progress_is_given_then_it_reaches_the_number_of_resamples() -> None:
    seen: list[tuple[int, int]] = []
    assess([0, 1, 1, 0], ["a", "a", "b", "b"], n_boot=50, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (50, 50)


@pytest.mark.parametrize("rates", [(0.3, 0.5), (0.4, 0.4)], ids=["gap", "no_gap"])
def test_when_repeating_a_known_experiment_then_the_parity_interval_covers_the_truth_about_95_percent(
    rates: tuple[float, float],
) -> None:
    # A fresh max - min per resample would cover a true gap of 0 in ~0% of repetitions (it is
    # biased upwards); the fixed-pair interval should cover the truth near its nominal 95 %.
    truth, covered, reps = abs(rates[1] - rates[0]), 0, 60
    for rep in range(reps):
        rng = np.random.default_rng(100 + rep)
        group = rng.integers(0, 2, 300)
        y_pred = (rng.random(300) < np.asarray(rates)[group]).astype(int)
        estimate = assess(y_pred, group, seed=rep, n_boot=300).demographic_parity_difference
        assert estimate.ci_low is not None and estimate.ci_high is not None
        covered += estimate.ci_low <= truth <= estimate.ci_high
    assert covered / reps >= 0.88


def test_when_sensitive_is_a_dataframe_or_named_series_then_its_column_names_label_the_groups() -> None:
    frame = pd.DataFrame({"sex": ["F", "M", "F", "M"], "race": ["a", "a", "b", "b"], "hired": [1, 0, 1, 1]})
    crossed = assess(frame["hired"], frame[["sex", "race"]], n_boot=0)
    assert list(crossed.by_group) == ["F|a", "F|b", "M|a", "M|b"] and crossed.columns == ("sex", "race")
    assert assess(frame["hired"], frame["sex"], n_boot=0).by_group["M"].labels == {"sex": "M"}


def test_when_a_categorical_keeps_a_category_with_no_rows_then_the_empty_group_is_an_error() -> None:
    filtered = pd.Series(pd.Categorical(["F", "M", "F", "M"], categories=["F", "M", "X"]), name="sex")
    with pytest.raises(DataError, match="group 'X' has no rows .*sensitive column 'sex' declares it as a category"):
        assess([1, 0, 1, 1], filtered, n_boot=0)


def test_when_pandas_marks_a_value_missing_then_the_row_is_named() -> None:
    with pytest.raises(DataError, match="y_pred has missing values .* at rows 1"):
        assess(pd.array([1, pd.NA, 0, 1], dtype="Int64"), ["F", "M", "F", "M"], n_boot=0)
