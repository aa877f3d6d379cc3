"""Paired twin tests equal scipy's on the same arrays; flip rate; ties and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ethos.audit.fairness import flip_rate, flip_rate_estimate, paired_test
from ethos.errors import DataError


def _mean_diff(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def _twins(seed: int, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.5, 0.2, n)
    return a, a - shift + rng.normal(0, 0.1, n)


@pytest.mark.parametrize("n,shift,alternative", [(8, 0.1, "two-sided"), (12, 0.0, "greater"), (200, 0.03, "two-sided"),
                                                 (40, 0.05, "less")])  # fmt: skip
def test_when_permuting_then_result_equals_scipys_permutation_test(n: int, shift: float, alternative: str) -> None:
    a, b = _twins(n, n, shift)
    ours = paired_test(a, b, method="permutation", seed=3, n_resamples=5000, alternative=alternative)  # type: ignore[arg-type]
    ref = stats.permutation_test((a, b), _mean_diff, permutation_type="samples", vectorized=True, n_resamples=5000,
                                 alternative=alternative, rng=np.random.default_rng(3))  # fmt: skip
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert ours.mean_difference == pytest.approx(float(np.mean(a - b)))
    assert ours.n == n


def test_when_two_to_the_n_fits_in_the_resamples_then_the_test_is_exact() -> None:
    a, b = _twins(1, 10, 0.1)  # 2**10 = 1024 sign patterns
    exact = paired_test(a, b, n_resamples=1024)
    monte_carlo = paired_test(a, b, n_resamples=1023, seed=5)
    assert exact.method.startswith("permutation (exact")
    assert monte_carlo.method.startswith("permutation (Monte Carlo")
    # The exact p-value is a multiple of 1/1024 and does not depend on the seed.
    assert exact.p_value * 1024 == pytest.approx(round(exact.p_value * 1024))
    assert paired_test(a, b, n_resamples=1024, seed=99).p_value == exact.p_value
    # Hand count: share of the 1024 sign patterns whose |mean| reaches the observed one.
    d = a - b
    signs = np.array([[1 if (k >> i) & 1 else -1 for i in range(10)] for k in range(1024)])
    by_hand = np.mean(np.abs(signs @ d / 10) >= abs(d.mean()) - 1e-12)
    assert exact.p_value == pytest.approx(by_hand)


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
def test_when_using_wilcoxon_then_result_equals_scipys(zero_method: str) -> None:
    rng = np.random.default_rng(4)
    a = rng.integers(0, 2, 80).astype(float)
    b = np.where(rng.random(80) < 0.8, a, 1 - a)
    ours = paired_test(a, b, method="wilcoxon", zero_method=zero_method)  # type: ignore[arg-type]
    ref = stats.wilcoxon(a - b, zero_method=zero_method)
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert ours.method == f"wilcoxon (zero_method={zero_method})"


@pytest.mark.parametrize("method", ["permutation", "wilcoxon"])
def test_when_every_difference_is_zero_then_p_is_one_not_nan(method: str) -> None:
    same = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1] * 3
    result = paired_test(same, same, method=method)  # type: ignore[arg-type]
    assert result.p_value == 1.0
    assert result.mean_difference == 0.0


def test_when_a_planted_difference_exists_then_the_permutation_test_finds_it() -> None:
    a, b = _twins(7, 60, 0.15)
    assert paired_test(a, b, seed=0).p_value < 0.01
    assert paired_test(a, b, seed=0, alternative="less").p_value > 0.5


def test_when_bootstrapping_the_mean_difference_then_the_interval_holds_it_and_repeats_per_seed() -> None:
    a, b = _twins(8, 50, 0.05)
    first, again = paired_test(a, b, seed=2), paired_test(a, b, seed=2)
    assert first.ci_low is not None and first.ci_high is not None
    assert first.ci_low <= first.mean_difference <= first.ci_high
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)


def test_when_counting_flips_then_the_rate_is_the_share_of_twins_that_differ() -> None:
    a = [1, 1, 0, 0, 1, 0, 1, 1]
    b = [1, 0, 0, 1, 1, 0, 1, 0]
    assert flip_rate(a, b) == pytest.approx(3 / 8)
    estimate = flip_rate_estimate(a, b, seed=1, n_boot=500)
    assert estimate.value == pytest.approx(3 / 8)
    assert estimate.ci_low is not None and estimate.ci_high is not None
    assert estimate.ci_low <= 3 / 8 <= estimate.ci_high
    assert flip_rate_estimate(a, b, seed=1, n_boot=500) == estimate


BAD = {
    "lengths": (([1, 0], [1]), "a has 2 values but b has 1"),
    "empty": (([], []), "no twin pairs"),
    "nan": (([1.0, float("nan")], [1.0, 0.0]), "pairs 1 are not"),
}


@pytest.mark.parametrize("args,message", list(BAD.values()), ids=list(BAD))
def test_when_twins_are_bad_then_a_data_error_says_why(args: tuple[list[float], list[float]], message: str) -> None:
    with pytest.raises(DataError, match=message):
        paired_test(*args)
    with pytest.raises(DataError, match=message):
        flip_rate(*args)


def test_when_the_method_is_unknown_then_value_error() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        paired_test([1, 0], [0, 1], method="ttest")  # type: ignore[arg-type]
