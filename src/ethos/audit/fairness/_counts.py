"""Per-group confusion counts and the rates and gaps derived from them, vectorised over resamples.

This is the engine of the bootstrap: a resample of rows is summarised by a count array of shape
``(resamples, groups, 4)`` holding ``tn, fp, fn, tp`` per group (without a ground truth, every
row is counted as a "negative" truth, so ``fp + tp`` is the number selected), plus per-group score
sums. Every statistic is then a few array operations on those counts, so 1,000 resamples cost
about as much as one pass of fairlearn's :class:`MetricFrame`.

The formulas are fairlearn's (``selection_rate``, ``true_positive_rate``,
``false_positive_rate``, ``demographic_parity_difference`` / ``_ratio`` with
``method="between_groups"``, ``equalized_odds_difference`` with ``agg="worst_case"``,
``equal_opportunity_difference``); the tests check this module against fairlearn on the same
arrays. The one deliberate difference: a rate whose denominator is zero (TPR of a group with no
positive labels) is NaN here, where fairlearn reports 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

__all__ = [
    "HEADLINES",
    "RATES",
    "Counts",
    "Pair",
    "applicable",
    "count_cells",
    "extreme_pairs",
    "gap",
    "headline_values",
    "min_over_max",
    "pair_values",
    "rates",
]

TN, FP, FN, TP = range(4)
Counts = npt.NDArray[np.float64]
Array = npt.NDArray[np.float64]


def count_cells(
    codes: npt.NDArray[np.intp],
    cells: npt.NDArray[np.intp],
    n_groups: int,
    scores: npt.NDArray[np.float64] | None = None,
) -> tuple[Counts, Array | None]:
    """Confusion counts (and score sums) per group, for one or many row selections.

    Args:
        codes: Group index of every row: shape ``(n,)``, or ``(resamples, n)``.
        cells: ``2 * y_true + y_pred`` of every row (0 tn, 1 fp, 2 fn, 3 tp), shape ``(resamples, n)``
            or ``(n,)`` for a single selection.
        n_groups: Number of groups.
        scores: Optional score per row, shaped like ``cells``.

    Returns:
        ``counts`` of shape ``(resamples, groups, 4)`` and score sums ``(resamples, groups)``.
    """
    cells2 = np.atleast_2d(cells)
    batch, n = cells2.shape
    slot = np.arange(batch, dtype=np.intp)[:, None] * n_groups + np.broadcast_to(codes, (batch, n))
    counts = np.bincount((slot * 4 + cells2).ravel(), minlength=batch * n_groups * 4)
    sums: Array | None = None
    if scores is not None:
        weights = np.atleast_2d(scores).ravel()
        sums = np.bincount(slot.ravel(), weights=weights, minlength=batch * n_groups).astype(np.float64)
        sums = sums.reshape(batch, n_groups)
    return counts.reshape(batch, n_groups, 4).astype(np.float64), sums


def _ratio(num: Array, den: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def rates(counts: Counts, sums: Array | None = None) -> dict[str, Array]:
    """Per-group rates from counts of shape ``(..., groups, 4)``; NaN where a denominator is 0."""
    tn, fp, fn, tp = (counts[..., i] for i in (TN, FP, FN, TP))
    n = tn + fp + fn + tp
    out = {
        "count": n,
        "selection_rate": _ratio(fp + tp, n),
        "tpr": _ratio(tp, tp + fn),
        "fpr": _ratio(fp, fp + tn),
        "tnr": _ratio(tn, fp + tn),
        "fnr": _ratio(fn, tp + fn),
        "accuracy": _ratio(tp + tn, n),
        "precision": _ratio(tp, tp + fp),
    }
    if sums is not None:
        out["mean_score"] = _ratio(sums, n)
    return out


RATES = ("selection_rate", "tpr", "fpr", "tnr", "fnr", "accuracy", "precision", "mean_score")
"""Per-group rates that carry bootstrap intervals."""


def gap(values: Array) -> Array:
    """``max - min`` over the last axis (groups); NaN if any group's value is NaN."""
    with np.errstate(invalid="ignore"):
        out: Array = values.max(axis=-1) - values.min(axis=-1)
    return out


def min_over_max(values: Array) -> Array:
    """``min / max`` over the last axis (groups); NaN if the max is 0 or any value is NaN."""
    return _ratio(values.min(axis=-1), values.max(axis=-1))


# Headline statistic -> (rate it compares, "difference" or "ratio", needs y_true, needs scores).
# equalized_odds_difference is the larger of the TPR and the FPR difference (fairlearn's
# agg="worst_case"); its rate is decided on the data (see extreme_pairs).
HEADLINES: dict[str, tuple[str, str, bool, bool]] = {
    "demographic_parity_difference": ("selection_rate", "difference", False, False),
    "demographic_parity_ratio": ("selection_rate", "ratio", False, False),
    "equalized_odds_difference": ("tpr|fpr", "difference", True, False),
    "equal_opportunity_difference": ("tpr", "difference", True, False),
    "mean_score_gap": ("mean_score", "difference", False, True),
}
"""The headline fairness measures, as fairlearn defines them with ``method="between_groups"``."""

Pair = tuple[str, int, int]
"""(rate, index of the highest group, index of the lowest group)."""


def applicable(*, has_truth: bool, has_scores: bool) -> list[str]:
    """The headline names that apply to data with / without a ground truth and scores."""
    return [
        name
        for name, (_, _, needs_truth, needs_scores) in HEADLINES.items()
        if (has_truth or not needs_truth) and (has_scores or not needs_scores)
    ]


def headline_values(r: Mapping[str, Array], names: list[str]) -> dict[str, Array]:
    """The headline statistics over all groups (``max - min``, ``min / max``), vectorised over resamples."""
    out: dict[str, Array] = {}
    for name in names:
        rate, kind, _, _ = HEADLINES[name]
        if rate == "tpr|fpr":
            out[name] = np.maximum(gap(r["tpr"]), gap(r["fpr"]))
        else:
            out[name] = gap(r[rate]) if kind == "difference" else min_over_max(r[rate])
    return out


def extreme_pairs(point: Mapping[str, Array], names: list[str]) -> dict[str, Pair]:
    """For each headline, the rate and the highest and lowest group on the data (the bootstrap's pair).

    ``point`` holds the rates of the full data, each of shape ``(1, groups)``. Headlines whose
    rate is undefined for some group are left out.
    """
    out: dict[str, Pair] = {}
    for name in names:
        rate = HEADLINES[name][0]
        if rate == "tpr|fpr":
            rate = "tpr" if gap(point["tpr"])[0] >= gap(point["fpr"])[0] else "fpr"
        values = point[rate][0]
        if np.isnan(values).any():
            continue
        out[name] = (rate, int(np.argmax(values)), int(np.argmin(values)))
    return out


def pair_values(r: Mapping[str, Array], pairs: Mapping[str, Pair]) -> dict[str, Array]:
    """Each headline as the gap between its fixed pair of groups, vectorised over resamples.

    A difference becomes ``rate[high] - rate[low]`` (negative when the two swap places in a
    resample) and a ratio ``rate[low] / rate[high]`` (above 1 when they swap).
    """
    out: dict[str, Array] = {}
    for name, (rate, high, low) in pairs.items():
        values = r[rate]
        if HEADLINES[name][1] == "ratio":
            out[name] = _ratio(values[..., low], values[..., high])
        else:
            out[name] = values[..., high] - values[..., low]
    return out
