"""Seeded, group-stratified percentile bootstrap for the fairness statistics.

Rows are resampled with replacement *within each group*, so every resample keeps every group
at its observed size (a group can never vanish from a resample, and a difference between groups
is never computed on a resample that lacks one). Each resample is reduced to per-group confusion
counts (:mod:`._counts`) and every statistic is recomputed from them; the interval is the
``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled values
(percentile bootstrap, Efron & Tibshirani 1993, ch. 13).

A between-groups gap (``max - min`` over groups) is resampled as the gap between the *fixed*
pair of groups that are highest and lowest on the data, ``rate[high] - rate[low]``, not as a
fresh ``max - min`` of each resample. The fresh maximum is biased upwards (it picks whichever
group happens to be highest), so with no real gap its percentile interval lies entirely above
the estimate and above zero; the fixed-pair gap is centred on the estimate and its interval
reaches below zero (a ratio above 1) exactly when the order of the two groups is uncertain.

As in :mod:`ethos.audit._stats`, resamples where a statistic is undefined (NaN) are dropped, and
when more than half are, no interval is reported.

Resamples are drawn in chunks of at most :data:`CHUNK_ROWS` row indices, so memory stays bounded
(about 100 MB) while numpy does the work: 1,000 resamples of 50,000 rows take about a second.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ethos.audit.fairness._counts import RATES, Pair, count_cells, pair_values, rates

__all__ = ["CHUNK_ROWS", "METHOD", "BootstrapResult", "Progress", "bootstrap", "percentile_interval"]

CHUNK_ROWS = 4_000_000
"""Most row indices drawn at once (resamples per chunk = CHUNK_ROWS // rows)."""

METHOD = "percentile bootstrap of the gap between the highest and lowest group, rows resampled within groups"
"""How intervals are computed, as recorded in reports."""

Progress = Callable[[int, int], None]
"""``progress(done, total)`` callback, called after each chunk of resamples."""

Interval = tuple[float | None, float | None]


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """Intervals of the headline statistics and of each group's rates.

    Attributes:
        headlines: Headline statistic name → ``(low, high)``.
        groups: Rate name → one ``(low, high)`` per group.
    """

    headlines: Mapping[str, Interval]
    groups: Mapping[str, list[Interval]]


def percentile_interval(values: npt.NDArray[np.float64], confidence: float) -> Interval:
    """Percentile interval of the defined values, or ``(None, None)`` if most are undefined.

    ``values`` may be 2-D (resamples × items); the interval is then taken per column and the
    function must be called per column by the caller.
    """
    kept = values[~np.isnan(values)]
    if len(kept) == 0 or len(kept) < len(values) / 2:
        return None, None
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(kept, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _resample(
    members: list[npt.NDArray[np.intp]], n: int, batch: int, rng: np.random.Generator
) -> npt.NDArray[np.intp]:
    out = np.empty((batch, n), dtype=np.intp)
    start = 0
    for rows in members:
        size = len(rows)
        out[:, start : start + size] = rows[rng.integers(0, size, (batch, size))]
        start += size
    return out


def bootstrap(  # noqa: PLR0913 - the data, then the settings of the resampling
    codes: npt.NDArray[np.intp],
    cells: npt.NDArray[np.intp],
    n_groups: int,
    scores: npt.NDArray[np.float64] | None,
    *,
    pairs: Mapping[str, Pair],
    seed: int,
    n_boot: int,
    confidence: float,
    progress: Progress | None = None,
) -> BootstrapResult:
    """Bootstrap intervals of every headline statistic and per-group rate.

    Args:
        codes: Group index of every row.
        cells: ``2 * y_true + y_pred`` of every row (``y_pred`` alone without a ground truth).
        n_groups: Number of groups.
        scores: Optional score per row.
        pairs: Headline name → (rate, highest group, lowest group) on the data (see ``extreme_pairs``).
        seed: Seed of the generator; the same seed gives the same intervals.
        n_boot: Number of resamples (0 gives no intervals).
        confidence: Interval coverage, e.g. 0.95.
        progress: Optional ``progress(done, total)`` callback.
    """
    if n_boot < 1:
        return BootstrapResult({}, {})
    n = len(codes)
    members = [np.flatnonzero(codes == g).astype(np.intp) for g in range(n_groups)]
    order_codes = np.concatenate([np.full(len(m), g, dtype=np.intp) for g, m in enumerate(members)])
    rng = np.random.default_rng(seed)
    per_chunk = max(1, CHUNK_ROWS // max(n, 1))
    stats: dict[str, list[npt.NDArray[np.float64]]] = {}
    done = 0
    while done < n_boot:
        batch = min(per_chunk, n_boot - done)
        rows = _resample(members, n, batch, rng)
        counts, sums = count_cells(order_codes, cells[rows], n_groups, None if scores is None else scores[rows])
        r = rates(counts, sums)  # each rate: (batch, groups)
        for name, values in pair_values(r, pairs).items():
            stats.setdefault(name, []).append(values)
        for name in RATES:
            if name in r:
                stats.setdefault(f"group:{name}", []).append(r[name])
        done += batch
        if progress is not None:
            progress(done, n_boot)
    return _intervals(stats, confidence)


def _intervals(stats: Mapping[str, list[npt.NDArray[np.float64]]], confidence: float) -> BootstrapResult:
    headlines: dict[str, Interval] = {}
    groups: dict[str, list[Interval]] = {}
    for name, parts in stats.items():
        values = np.concatenate(parts, axis=0)
        if name.startswith("group:"):
            groups[name.removeprefix("group:")] = [
                percentile_interval(values[:, g], confidence) for g in range(values.shape[1])
            ]
        else:
            headlines[name] = percentile_interval(values, confidence)
    return BootstrapResult(headlines, groups)
