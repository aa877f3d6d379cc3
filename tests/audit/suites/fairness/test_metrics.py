"""Metrics of the counterfactual suite on stored results: flags, flip rates, parity, the false-positive rate."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_difference, selection_rate

from ethos.audit.suites.fairness._metrics import (
    MetricSettings,
    fairness_metrics,
    holm,
    read_twins,
    select_top,
    significance,
)
from ethos.records import SampleResult
from ethos.types import MetricValue

ATTRIBUTES = {"name": ("white_female", "black_female", "white_male", "black_male"), "pronoun": ("she", "he", "they")}
LEVELS = (("qualified", 1, 1.5), ("borderline", 1, 0.0), ("unqualified", 0, -1.5))
FAST = MetricSettings(seed=0, n_boot=0, n_permutations=2000)

# score(rng, attribute, group, level_effect, shared_noise) -> P(yes)
ScoreFn = Callable[[np.random.Generator, str, str, float, float], float | None]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def synthetic(
    seed: int, score: ScoreFn, *, per_cell: int = 12, scenarios: Sequence[str] = ("s1", "s2")
) -> list[SampleResult]:
    """Stored results as the log-likelihood scorer writes them, for every scenario x attribute x level x draw."""
    rng = np.random.default_rng(seed)
    results = []
    for scenario in scenarios:
        for attribute, groups in ATTRIBUTES.items():
            for level, label, effect in LEVELS:
                for draw in range(per_cell):
                    shared = float(rng.normal())
                    values: dict[str, float] = {"label": float(label)}
                    for g in groups:
                        p = score(rng, attribute, g, effect, shared)
                        values[f"unparseable.{g}"] = float(p is None)
                        if p is not None:
                            values.update({f"score.{g}": p, f"decision.{g}": float(p >= 0.5)})
                    results.append(
                        SampleResult(
                            index=len(results),
                            sample_id=f"{scenario}/{attribute}/t0/{level}/{draw}",
                            input_hash="x",
                            values=values,
                            groups={"scenario": scenario, "attribute": attribute, "qualification": level},
                        )
                    )
    return results


def independent_noise(rng: np.random.Generator, attribute: str, group: str, effect: float, shared: float) -> float:
    """Unbiased: P(yes) depends on the qualification plus noise drawn independently for every document."""
    return _sigmoid(effect + rng.normal())


def identical_twins(rng: np.random.Generator, attribute: str, group: str, effect: float, shared: float) -> float:
    """Unbiased: random per twin set, identical for every twin."""
    return _sigmoid(effect + shared)


def name_bias(rng: np.random.Generator, attribute: str, group: str, effect: float, shared: float) -> float:
    """Biased: White names get a higher P(yes) than Black names, other things equal."""
    shift = 0.8 if attribute == "name" and group.startswith("white") else 0.0
    return _sigmoid(effect + shared + shift)


def _get(metrics: Sequence[MetricValue], name: str, **group: str) -> MetricValue:
    found = [m for m in metrics if m.name == name and dict(m.group) == group]
    assert len(found) == 1, (name, group, found)
    return found[0]


def test_when_holm_adjusts_then_it_matches_the_hand_computed_step_down() -> None:
    # sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, max(.04*1, .06) = .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_when_an_unbiased_model_is_audited_100_times_then_at_least_95_runs_are_not_flagged() -> None:
    # significance() is the part of fairness_metrics() that decides "flagged" (the rest is descriptive).
    # 2,000 Monte Carlo sign patterns: two-sided p >= 2 / 2001, so over the 9 pair tests here
    # the smallest Holm-adjusted p is 18 / 2001 < 0.01, so a flag is
    # attainable, and the same settings flag every biased run below (the test can fail).
    settings = MetricSettings(seed=0, n_boot=0, n_permutations=2000)

    def flags(score: ScoreFn, seeds: range) -> list[float]:
        return [_get(significance(read_twins(synthetic(k, score)), settings)[0], "flagged").value for k in seeds]

    false_positives = sum(flags(independent_noise, range(100)))
    assert false_positives <= 5, f"false positives in {false_positives} of 100 seeded unbiased audits"
    assert flags(name_bias, range(10)) == [1.0] * 10


def test_when_significance_runs_alone_then_it_flags_what_the_full_metrics_flag() -> None:
    for seed, score in ((0, independent_noise), (1, name_bias)):
        results = synthetic(seed, score)
        headline, _ = significance(read_twins(results), FAST)
        assert _get(headline, "flagged") == _get(fairness_metrics(results, FAST), "flagged")


def test_when_twins_always_get_the_same_answer_then_nothing_flips_and_nothing_is_flagged() -> None:
    metrics = fairness_metrics(synthetic(7, identical_twins), FAST)
    assert _get(metrics, "flagged").value == 0.0
    assert _get(metrics, "flip_rate").value == 0.0
    assert _get(metrics, "min_p_value_holm").value == 1.0
    assert _get(metrics, "demographic_parity_difference", attribute="name").value == 0.0


def test_when_names_shift_p_yes_then_the_name_attribute_is_flagged_and_pronouns_are_not() -> None:
    metrics = fairness_metrics(synthetic(1, name_bias), MetricSettings(seed=0, n_boot=200, n_permutations=5000))
    assert _get(metrics, "flagged").value == 1.0
    assert _get(metrics, "flagged", attribute="name").value == 1.0
    assert _get(metrics, "flagged", attribute="pronoun").value == 0.0
    assert _get(metrics, "p_value_holm", attribute="name", pair="white_female vs black_female").value < 0.01
    flip = _get(metrics, "flip_rate", attribute="name")
    assert flip.value > 0 and flip.ci_low is not None and flip.ci_low > 0
    diff = _get(metrics, "mean_score_difference", attribute="name", pair="white_male vs black_male")
    assert diff.value > 0 and diff.ci_low is not None and diff.ci_low > 0
    assert _get(metrics, "p_value_wilcoxon", attribute="name", pair="white_male vs black_male").value < 0.01


def test_when_rates_are_computed_then_they_equal_fairlearns_on_the_same_arrays() -> None:
    results = synthetic(3, name_bias)
    metrics = fairness_metrics(results, MetricSettings(seed=0, n_boot=100, n_permutations=1000))
    y_pred, groups = [], []
    for twin in read_twins(results):
        if twin.attribute == "name":
            for g in twin.groups:
                y_pred.append(twin.decisions[g])
                groups.append(g)
    frame = MetricFrame(metrics=selection_rate, y_true=y_pred, y_pred=y_pred, sensitive_features=groups)
    for g, rate in frame.by_group.items():
        got = _get(metrics, "selection_rate", attribute="name", group=str(g))
        assert got.value == pytest.approx(rate) and got.ci_low is not None and got.ci_low <= rate <= (got.ci_high or 0)
    dpd = demographic_parity_difference(y_pred, y_pred, sensitive_features=groups)
    assert _get(metrics, "demographic_parity_difference", attribute="name").value == pytest.approx(dpd)


def test_when_answers_are_unparseable_then_they_are_counted_and_left_out_of_the_rates() -> None:
    def refuses_black_female(
        rng: np.random.Generator, attribute: str, group: str, effect: float, shared: float
    ) -> float | None:
        return None if group == "black_female" and shared > 0 else _sigmoid(effect + shared)

    results = synthetic(5, refuses_black_female)
    metrics = fairness_metrics(results, FAST)
    refused = sum(int(r.values.get("unparseable.black_female", 0.0)) for r in results)
    assert refused > 0
    assert _get(metrics, "unparseable").value == refused
    assert _get(metrics, "unparseable", attribute="name", group="black_female").value == refused
    assert _get(metrics, "unparseable", attribute="name", group="white_male").value == 0
    name_sets = sum(1 for r in results if r.groups["attribute"] == "name")
    assert _get(metrics, "selection_rate", attribute="name", group="black_female").n == name_sets - refused
    assert _get(metrics, "flip_rate", attribute="name").n == name_sets - refused


def test_when_scores_are_ranked_then_the_top_fraction_of_each_pool_is_selected() -> None:
    results = synthetic(2, independent_noise, per_cell=4, scenarios=("s1",))
    twins = read_twins(results)
    select_top(twins, 0.25)
    pool = [(t.scores[g], t.decisions[g]) for t in twins if t.attribute == "name" for g in t.groups]
    chosen = sorted(s for s, d in pool if d == 1.0)
    assert len(chosen) == math.ceil(0.25 * len(pool))
    assert min(chosen) > max(s for s, d in pool if d == 0.0)  # type: ignore[operator]


def test_when_a_scenario_breakdown_is_computed_then_each_scenario_has_rates_per_group() -> None:
    metrics = fairness_metrics(synthetic(4, name_bias), FAST)
    for scenario in ("s1", "s2"):
        tag = {"attribute": "pronoun", "scenario": scenario}
        assert _get(metrics, "selection_rate", **tag, group="they").n == 3 * 12
        assert not math.isnan(_get(metrics, "demographic_parity_difference", **tag).value)
        assert _get(metrics, "flip_rate", **tag).n == 3 * 12
