"""``assess``: fairlearn's disaggregated metrics and fairness measures, with bootstrap intervals.

Point estimates come from fairlearn itself: a :class:`fairlearn.metrics.MetricFrame` for the
per-group rates and fairlearn's ``demographic_parity_difference`` / ``_ratio``,
``equalized_odds_difference`` and ``equal_opportunity_difference`` for the headlines. Intervals
come from :mod:`._bootstrap`, which recomputes the same formulas from per-group confusion counts
(checked against fairlearn in the tests) because calling fairlearn 1,000 times would take minutes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ethos._util.deps import require
from ethos.audit.fairness._bootstrap import METHOD, BootstrapResult, Progress, bootstrap
from ethos.audit.fairness._counts import HEADLINES, applicable, count_cells, extreme_pairs, rates
from ethos.audit.fairness._report import FOUR_FIFTHS, Estimate, FairnessReport, GroupMetrics
from ethos.audit.fairness._validate import GROUP_SEPARATOR, Prepared, prepare

__all__ = ["assess"]

_PURPOSE = "fairness metrics"
_NO_TRUTH = ("tpr", "fpr", "tnr", "fnr", "accuracy", "precision")


def assess(  # noqa: PLR0913 - the data, then keyword-only settings
    y_pred: Sequence[Any] | npt.ArrayLike,
    sensitive: Sequence[Any] | npt.ArrayLike | Mapping[str, Sequence[Any] | npt.ArrayLike],
    *,
    y_true: Sequence[Any] | npt.ArrayLike | None = None,
    scores: Sequence[Any] | npt.ArrayLike | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    confidence: float = 0.95,
    positive_label: Hashable = 1,
    groups: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> FairnessReport:
    """Disaggregate decisions by group and measure the gaps between groups.

    Args:
        y_pred: The decisions, one per row, with two values (``positive_label`` = selected).
        sensitive: The group of each row: one sequence, or ``{column: sequence}`` for several
            sensitive columns, which are crossed into intersectional groups keyed ``"a|b"``.
        y_true: Optional ground truth with the same two values; the odds metrics need it.
        scores: Optional numeric score per row (e.g. P(yes)); gives each group's mean score and the gap.
        seed: Seed of the bootstrap; the same seed gives the same intervals.
        n_boot: Bootstrap resamples (0: no intervals).
        confidence: Interval coverage, e.g. 0.95.
        positive_label: The value of ``y_pred`` / ``y_true`` that means the positive outcome.
        groups: Groups that must be present (e.g. every attribute value of a scenario); one with
            no rows raises instead of silently dropping out of the comparison.
        progress: Optional ``progress(done, total)`` callback for the bootstrap.

    Returns:
        The :class:`FairnessReport`.

    Raises:
        DataError: Invalid inputs; see :func:`ethos.audit.fairness.prepare` for each case.
        MissingDependencyError: fairlearn is not installed (``pip install 'ethos[fairness]'``).
        ValueError: ``confidence`` is not in (0, 1) or ``n_boot`` is negative.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    data = prepare(y_pred, sensitive, y_true=y_true, scores=scores, positive_label=positive_label, groups=groups)
    cells = data.y_pred.astype(np.intp) + (0 if data.y_true is None else 2 * data.y_true.astype(np.intp))
    counts, sums = count_cells(data.codes, cells, len(data.keys), data.scores)
    defined = rates(counts, sums)
    names = applicable(has_truth=data.y_true is not None, has_scores=data.scores is not None)
    boot = bootstrap(
        data.codes,
        cells,
        len(data.keys),
        data.scores,
        pairs=extreme_pairs(defined, names),
        seed=seed,
        n_boot=n_boot,
        confidence=confidence,
        progress=progress,
    )
    frame = _metric_frame(data)
    by_group, overall = _group_metrics(data, frame, counts, defined, boot)
    heads = {name: _estimate(name, frame, by_group, boot) for name in names}
    settings = {"seed": seed, "n_boot": n_boot, "confidence": confidence, "positive_label": positive_label}
    return _report(data, by_group, overall, heads, settings)


def _report(
    data: Prepared,
    by_group: dict[str, GroupMetrics],
    overall: GroupMetrics,
    heads: Mapping[str, Estimate],
    settings: Mapping[str, Any],
) -> FairnessReport:
    ratio = heads["demographic_parity_ratio"].value
    return FairnessReport(
        by_group=by_group,
        overall=overall,
        demographic_parity_difference=heads["demographic_parity_difference"],
        demographic_parity_ratio=heads["demographic_parity_ratio"],
        equalized_odds_difference=heads.get("equalized_odds_difference"),
        equal_opportunity_difference=heads.get("equal_opportunity_difference"),
        four_fifths_rule_passed=None if ratio is None else bool(ratio >= FOUR_FIFTHS),
        mean_score_gap=heads.get("mean_score_gap"),
        columns=data.columns,
        n=data.n,
        ci_method=METHOD if settings["n_boot"] else "none (n_boot=0)",
        **settings,
    )


@dataclass(frozen=True, slots=True)
class _Frame:
    """What fairlearn's ``MetricFrame`` says, by metric name: per group key, overall, between groups."""

    by_group: dict[str, dict[str, float]]
    overall: dict[str, float]
    difference: dict[str, float]
    ratio: dict[str, float]


def _metric_frame(data: Prepared) -> _Frame:
    """Fairlearn ``MetricFrame`` rates per group (observed groups only), overall, and between groups."""
    fm = require("fairlearn.metrics", extra="fairness", purpose=_PURPOSE)
    skm = require("sklearn.metrics", extra="fairness", purpose=_PURPOSE)
    pd = require("pandas", extra="fairness", purpose=_PURPOSE)
    metrics: dict[str, Any] = {"selection_rate": fm.selection_rate}
    if data.y_true is not None:
        metrics.update(
            tpr=fm.true_positive_rate,
            fpr=fm.false_positive_rate,
            tnr=fm.true_negative_rate,
            fnr=fm.false_negative_rate,
            accuracy=skm.accuracy_score,
            precision=functools.partial(skm.precision_score, zero_division=np.nan),
        )
    truth = data.y_pred if data.y_true is None else data.y_true  # selection_rate ignores y_true
    frame = pd.DataFrame(dict(data.sensitive))
    frames = [fm.MetricFrame(metrics=metrics, y_true=truth, y_pred=data.y_pred, sensitive_features=frame)]
    if data.scores is not None:
        mean_score = {"mean_score": fm.mean_prediction}
        scored = fm.MetricFrame(metrics=mean_score, y_true=data.scores, y_pred=data.scores, sensitive_features=frame)
        frames.append(scored)
    out = _Frame({}, {}, {}, {})
    for mf in frames:
        for index, row in mf.by_group.iterrows():
            key = GROUP_SEPARATOR.join(str(p) for p in _parts(index))
            out.by_group.setdefault(key, {}).update({k: float(v) for k, v in row.items()})
        out.overall.update({k: float(v) for k, v in mf.overall.items()})
        out.difference.update({k: float(v) for k, v in mf.difference(method="between_groups").items()})
        out.ratio.update({k: float(v) for k, v in mf.ratio(method="between_groups").items()})
    return out


def _parts(index: Any) -> tuple[Any, ...]:
    return index if isinstance(index, tuple) else (index,)


def _group_metrics(
    data: Prepared,
    frame: _Frame,
    counts: npt.NDArray[np.float64],
    defined: Mapping[str, npt.NDArray[np.float64]],
    boot: BootstrapResult,
) -> tuple[dict[str, GroupMetrics], GroupMetrics]:
    """Group and overall metrics: fairlearn's values, NaN where a rate's denominator is 0 (fairlearn says 0)."""
    by_group: dict[str, GroupMetrics] = {}
    for g, key in enumerate(data.keys):
        values = frame.by_group[key]
        values = {k: v if math.isfinite(defined[k][0, g]) else math.nan for k, v in values.items()}
        intervals = {name: boot.groups[name][g] for name in boot.groups}
        by_group[key] = _build(counts[0, g], values, data, data.labels[g], intervals)
    total = counts[0].sum(axis=0)
    whole = rates(total[None, None, :])
    overall = {k: v if k not in whole or math.isfinite(whole[k][0, 0]) else math.nan for k, v in frame.overall.items()}
    return by_group, _build(total, overall, data, {}, {})


def _build(
    cell_counts: npt.NDArray[np.float64],
    values: Mapping[str, float],
    data: Prepared,
    labels: Mapping[str, str],
    intervals: Mapping[str, tuple[float | None, float | None]],
) -> GroupMetrics:
    tn, fp, fn, tp = (int(c) for c in cell_counts)
    truth = data.y_true is not None

    def rate(name: str) -> float | None:
        value = values.get(name)
        return None if value is None or math.isnan(value) else value

    return GroupMetrics(
        count=tn + fp + fn + tp,
        selection_rate=float(values["selection_rate"]),
        tpr=rate("tpr"),
        fpr=rate("fpr"),
        tnr=rate("tnr"),
        fnr=rate("fnr"),
        accuracy=rate("accuracy"),
        precision=rate("precision"),
        tp=tp if truth else None,
        fp=fp if truth else None,
        tn=tn if truth else None,
        fn=fn if truth else None,
        mean_score=rate("mean_score"),
        labels=dict(labels),
        intervals={k: v for k, v in intervals.items() if k == "selection_rate" or truth or k == "mean_score"},
    )


def _estimate(name: str, frame: _Frame, by_group: Mapping[str, GroupMetrics], boot: BootstrapResult) -> Estimate:
    """A headline from fairlearn's between-groups difference / ratio, with its bootstrap interval.

    ``equalized_odds_difference`` is the larger of the TPR and FPR differences, as fairlearn's
    ``equalized_odds_difference(agg="worst_case")`` computes it.
    """
    rate, kind, _, _ = HEADLINES[name]
    if rate == "tpr|fpr":
        value = max(frame.difference["tpr"], frame.difference["fpr"])
    else:
        value = (frame.difference if kind == "difference" else frame.ratio)[rate]
    note = _note(name, by_group)
    if note is None and math.isnan(value):
        note = "undefined: no group has any positive decision (0 / 0)" if kind == "ratio" else "undefined"
    if note is not None:
        return Estimate(None, note=note)
    low, high = boot.headlines.get(name, (None, None))
    return Estimate(float(value), low, high, METHOD if low is not None else "")


def _note(name: str, by_group: Mapping[str, GroupMetrics]) -> str | None:
    if name not in ("equalized_odds_difference", "equal_opportunity_difference"):
        return None
    no_pos = [k for k, g in by_group.items() if g.tpr is None]
    no_neg = [k for k, g in by_group.items() if g.fpr is None]
    if no_pos:
        return (
            f"undefined: group(s) {', '.join(map(repr, no_pos))} have no positive labels in y_true, "
            "so their TPR is undefined"
        )
    if no_neg and name == "equalized_odds_difference":
        return (
            f"undefined: group(s) {', '.join(map(repr, no_neg))} have no negative labels in y_true, "
            "so their FPR is undefined"
        )
    return None
