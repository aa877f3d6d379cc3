"""Counterfactual twins: flip rate and paired significance tests on twin differences.

Two decisions (or scores) per twin pair, ``a[i]`` and ``b[i]``, differ only in the demographic
attribute. The *flip rate* is the share of pairs whose decision differs. The paired tests ask
whether the differences ``d = a - b`` are centred on zero:

- ``permutation``: the sign-flip (paired) permutation test of the mean difference, i.e.
  :func:`scipy.stats.permutation_test` with ``permutation_type="samples"``. It is exact (all
  ``2**n`` sign patterns) when ``2**n <= n_resamples`` and Monte Carlo with ``n_resamples``
  random patterns otherwise (scipy's p-value then counts the observed pattern, so p >= 1/(R+1)).
- ``wilcoxon``: the Wilcoxon signed-rank test, :func:`scipy.stats.wilcoxon` with
  ``zero_method="wilcox"`` by default (pairs with zero difference are dropped before ranking,
  scipy's default); ``"pratt"`` and ``"zsplit"`` are accepted.

When every difference is zero (or there are none after dropping zeros) the data carry no
evidence of a difference and the p-value is 1.0, not NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ethos._util.deps import require
from ethos.audit.fairness._bootstrap import percentile_interval
from ethos.audit.fairness._report import Estimate
from ethos.errors import DataError

__all__ = ["PairedTest", "flip_rate", "flip_rate_estimate", "paired_test"]

Alternative = Literal["two-sided", "greater", "less"]
_METHODS = ("permutation", "wilcoxon")
_ZERO_METHODS = ("wilcox", "pratt", "zsplit")
_BOOT_CHUNK = 2_000_000
_FLIP_METHOD = "percentile bootstrap over twin pairs"


@dataclass(frozen=True, slots=True)
class PairedTest:
    """The result of a paired test on twin differences ``a - b``.

    Attributes:
        statistic: The test statistic: the mean difference (permutation) or scipy's Wilcoxon statistic.
        p_value: The p-value (1.0 when every difference is zero).
        method: ``permutation (exact, 2^n sign flips)``, ``permutation (Monte Carlo, R resamples)``
            or ``wilcoxon (zero_method=…)``.
        n: Number of pairs.
        mean_difference: Mean of ``a - b``.
        ci_low: Lower bound of the bootstrap interval of the mean difference.
        ci_high: Upper bound of that interval.
        alternative: ``two-sided``, ``greater`` (a > b) or ``less``.
    """

    statistic: float
    p_value: float
    method: str
    n: int
    mean_difference: float
    ci_low: float | None = None
    ci_high: float | None = None
    alternative: str = "two-sided"


def _pairs(a: Sequence[Any] | npt.ArrayLike, b: Sequence[Any] | npt.ArrayLike) -> tuple[Any, Any]:
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1:
        raise DataError(f"twin values must be one-dimensional, got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise DataError(f"twins must come in pairs: a has {len(x)} values but b has {len(y)}")
    if len(x) == 0:
        raise DataError("no twin pairs: a and b are empty")
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if len(bad):
        raise DataError(f"twin values must be finite numbers; pairs {', '.join(map(str, bad[:5].tolist()))} are not")
    return x, y


def flip_rate(decisions_a: Sequence[Any] | npt.ArrayLike, decisions_b: Sequence[Any] | npt.ArrayLike) -> float:
    """Share of twin pairs whose decision differs between the two versions.

    Raises:
        DataError: The sequences differ in length, are empty or hold non-numbers.
    """
    x, y = _pairs(decisions_a, decisions_b)
    return float(np.mean(x != y))


def flip_rate_estimate(
    decisions_a: Sequence[Any] | npt.ArrayLike,
    decisions_b: Sequence[Any] | npt.ArrayLike,
    *,
    seed: int = 0,
    n_boot: int = 1000,
    confidence: float = 0.95,
) -> Estimate:
    """:func:`flip_rate` with a percentile bootstrap interval over twin pairs (seeded)."""
    x, y = _pairs(decisions_a, decisions_b)
    flips = (x != y).astype(np.float64)
    low, high = _mean_interval(flips, seed=seed, n_boot=n_boot, confidence=confidence)
    return Estimate(float(flips.mean()), low, high, _FLIP_METHOD if low is not None else "")


def _mean_interval(
    values: npt.NDArray[np.float64], *, seed: int, n_boot: int, confidence: float
) -> tuple[float | None, float | None]:
    n = len(values)
    if n < 2 or n_boot < 1:  # noqa: PLR2004 - one value cannot vary
        return None, None
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _BOOT_CHUNK // n)
    means: list[npt.NDArray[np.float64]] = []
    done = 0
    while done < n_boot:
        batch = min(per_chunk, n_boot - done)
        means.append(values[rng.integers(0, n, (batch, n))].mean(axis=1))
        done += batch
    return percentile_interval(np.concatenate(means), confidence)


def paired_test(  # noqa: PLR0913 - the data, then keyword-only settings
    a: Sequence[Any] | npt.ArrayLike,
    b: Sequence[Any] | npt.ArrayLike,
    *,
    method: Literal["permutation", "wilcoxon"] = "permutation",
    seed: int = 0,
    n_resamples: int = 10_000,
    alternative: Alternative = "two-sided",
    zero_method: Literal["wilcox", "pratt", "zsplit"] = "wilcox",
    confidence: float = 0.95,
) -> PairedTest:
    """Test whether twin differences ``a - b`` are centred on zero.

    Args:
        a: One value per pair (decision 0/1 or score) for the first version of each twin.
        b: The value for the other version, in the same order.
        method: ``permutation`` (sign-flip test of the mean difference) or ``wilcoxon``.
        seed: Seed for Monte Carlo permutations and the bootstrap interval.
        n_resamples: Random sign patterns for the Monte Carlo test, and bootstrap resamples of
            the mean difference (capped at 10,000 for the interval).
        alternative: ``two-sided``, ``greater`` (a tends to exceed b) or ``less``.
        zero_method: How ``wilcoxon`` treats zero differences (scipy's parameter).
        confidence: Coverage of the mean difference's interval.

    Raises:
        DataError: The inputs are not paired finite numbers.
        ValueError: An unknown ``method``, ``zero_method`` or ``alternative``.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    if zero_method not in _ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {', '.join(_ZERO_METHODS)}, got {zero_method!r}")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be two-sided, greater or less, got {alternative!r}")
    x, y = _pairs(a, b)
    d = x - y
    low, high = _mean_interval(d, seed=seed, n_boot=min(n_resamples, 10_000), confidence=confidence)
    if method == "permutation":
        stat, p, label = _permutation(x, y, seed=seed, n_resamples=n_resamples, alternative=alternative)
    else:
        stat, p, label = _wilcoxon(d, zero_method=zero_method, alternative=alternative)
    return PairedTest(stat, p, label, len(d), float(d.mean()), low, high, alternative)


def _mean_difference(x: Any, y: Any, axis: int) -> Any:
    return np.mean(x - y, axis=axis)


def _permutation(x: Any, y: Any, *, seed: int, n_resamples: int, alternative: str) -> tuple[float, float, str]:
    n = len(x)
    exact = n < 63 and 2**n <= n_resamples  # noqa: PLR2004 - 2**63 overflows scipy's count
    label = f"permutation (exact, 2^{n} sign flips)" if exact else f"permutation (Monte Carlo, {n_resamples} resamples)"
    if not np.any(x != y):
        return 0.0, 1.0, label
    stats = require("scipy.stats", extra="fairness", purpose="paired permutation tests")
    res = stats.permutation_test(
        (x, y),
        _mean_difference,
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        alternative=alternative,
        rng=np.random.default_rng(seed),
    )
    return float(res.statistic), min(1.0, float(res.pvalue)), label


def _wilcoxon(d: Any, *, zero_method: str, alternative: str) -> tuple[float, float, str]:
    label = f"wilcoxon (zero_method={zero_method})"
    if not np.any(d != 0):
        return 0.0, 1.0, label
    stats = require("scipy.stats", extra="fairness", purpose="Wilcoxon signed-rank tests")
    res = stats.wilcoxon(d, zero_method=zero_method, alternative=alternative)
    p = float(res.pvalue)
    return float(res.statistic), 1.0 if p != p else min(1.0, p), label
