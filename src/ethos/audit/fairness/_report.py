"""The values :func:`~ethos.audit.fairness.assess` returns: per-group metrics and headline estimates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ethos.types import MetricValue

__all__ = ["FOUR_FIFTHS", "Estimate", "FairnessReport", "GroupMetrics"]

FOUR_FIFTHS = 0.8
"""The four-fifths rule, EEOC Uniform Guidelines 29 CFR 1607.4(D): a group's selection rate below 4/5 of
the highest group's is generally regarded as evidence of adverse impact."""

Interval = tuple[float | None, float | None]


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A headline number with its confidence interval.

    Attributes:
        value: The point estimate; ``None`` when it is undefined on this data (``note`` says why).
        ci_low: Lower bound of the interval, when one could be computed.
        ci_high: Upper bound of the interval.
        method: How the interval was computed.
        note: Why the value is undefined, or a caveat; ``None`` otherwise.
    """

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    method: str = ""
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"value", "ci_low", "ci_high", "method", "note"}`` with undefined numbers as ``None``."""
        return {
            "value": _finite(self.value),
            "ci_low": _finite(self.ci_low),
            "ci_high": _finite(self.ci_high),
            "method": self.method,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """Confusion matrix and rates of one group (or of all rows, for ``FairnessReport.overall``).

    Rates are ``None`` when undefined: odds rates without a ground truth, TPR/FNR of a group with
    no positive labels, FPR/TNR of a group with no negative labels, precision with no selections.

    Attributes:
        count: Rows in the group.
        selection_rate: Share of rows with the positive decision, P(ŷ=1 | group).
        tpr: True positive rate (recall), P(ŷ=1 | y=1, group).
        fpr: False positive rate, P(ŷ=1 | y=0, group).
        tnr: True negative rate, P(ŷ=0 | y=0, group).
        fnr: False negative rate, P(ŷ=0 | y=1, group).
        accuracy: P(ŷ=y | group).
        precision: P(y=1 | ŷ=1, group).
        tp: True positives (``None`` without a ground truth); likewise ``fp``, ``tn``, ``fn``.
        fp: False positives.
        tn: True negatives.
        fn: False negatives.
        mean_score: Mean score of the group, when scores were given.
        labels: ``{sensitive column: value}`` that defines the group.
        intervals: Rate name → bootstrap ``(low, high)``.
    """

    count: int
    selection_rate: float
    tpr: float | None = None
    fpr: float | None = None
    tnr: float | None = None
    fnr: float | None = None
    accuracy: float | None = None
    precision: float | None = None
    tp: int | None = None
    fp: int | None = None
    tn: int | None = None
    fn: int | None = None
    mean_score: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    intervals: Mapping[str, Interval] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON; intervals as ``{"rate": [low, high]}``, undefined numbers as ``None``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "labels":
                out[f.name] = dict(value)
            elif f.name == "intervals":
                out["ci"] = {k: [_finite(lo), _finite(hi)] for k, (lo, hi) in value.items()}
            else:
                out[f.name] = _finite(value) if isinstance(value, float) else value
        return out


_GROUP_METRICS = ("count", "selection_rate", "tpr", "fpr", "tnr", "fnr", "accuracy", "precision", "mean_score")
_HEADLINES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "mean_score_gap",
)


@dataclass(frozen=True, slots=True)
class FairnessReport:
    """Per-group metrics and headline fairness measures, each headline with a bootstrap interval.

    A headline attribute is ``None`` when the metric does not apply (odds metrics without
    ``y_true``, the score gap without scores) and an :class:`Estimate` whose ``value`` is
    ``None`` when it applies but is undefined on this data (``note`` says why).

    Attributes:
        by_group: Group key → metrics; keys are sorted. With several sensitive columns a key is
            the values joined by ``|`` in column order (``"F|black"``), one key per combination
            that occurs in the data (fairlearn ``MetricFrame`` with several sensitive features).
        overall: Metrics of all rows together.
        demographic_parity_difference: Highest minus lowest group selection rate.
        demographic_parity_ratio: Lowest over highest group selection rate.
        equalized_odds_difference: The larger of the TPR gap and the FPR gap between groups.
        equal_opportunity_difference: The TPR gap between groups.
        four_fifths_rule_passed: ``demographic_parity_ratio >= 0.8``; ``None`` when the ratio is undefined.
        mean_score_gap: Highest minus lowest group mean score.
        columns: The sensitive column names.
        n: Number of rows.
        seed: Bootstrap seed.
        n_boot: Number of bootstrap resamples.
        confidence: Interval coverage.
        positive_label: The label value counted as the positive outcome.
        ci_method: How the intervals were computed.
    """

    by_group: dict[str, GroupMetrics]
    overall: GroupMetrics
    demographic_parity_difference: Estimate
    demographic_parity_ratio: Estimate
    equalized_odds_difference: Estimate | None
    equal_opportunity_difference: Estimate | None
    four_fifths_rule_passed: bool | None
    mean_score_gap: Estimate | None
    columns: tuple[str, ...]
    n: int
    seed: int
    n_boot: int
    confidence: float
    positive_label: Any = 1
    ci_method: str = ""

    def headlines(self) -> dict[str, Estimate]:
        """The headline estimates that apply, by name, in a fixed order."""
        out: dict[str, Estimate] = {}
        for name in _HEADLINES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def to_json(self) -> dict[str, Any]:
        """One strict-JSON-ready object: ``by_group``, headline values, their intervals and notes."""
        out: dict[str, Any] = {
            "by_group": {key: g.to_json() for key, g in self.by_group.items()},
            "overall": self.overall.to_json(),
        }
        for name in _HEADLINES:
            value = getattr(self, name)
            out[name] = None if value is None else _finite(value.value)
        out["four_fifths_rule_passed"] = self.four_fifths_rule_passed
        out["confidence_intervals"] = {
            name: {"ci_low": _finite(e.ci_low), "ci_high": _finite(e.ci_high)} for name, e in self.headlines().items()
        }
        out["notes"] = {name: e.note for name, e in self.headlines().items() if e.note}
        out.update(
            sensitive_columns=list(self.columns),
            n=self.n,
            positive_label=self.positive_label,
            confidence=self.confidence,
            n_boot=self.n_boot,
            seed=self.seed,
            ci_method=self.ci_method,
        )
        return out

    def metric_values(self) -> list[MetricValue]:
        """Overall and per-group values for a run record (undefined values are NaN, never dropped).

        Headlines first (``four_fifths_rule_passed`` as 1.0 / 0.0), then each group's count and
        rates tagged with its ``{column: value}`` labels.
        """
        out = [
            MetricValue(name, _nan(e.value), e.ci_low, e.ci_high, self.n) for name, e in self.headlines().items()
        ]
        if self.four_fifths_rule_passed is not None:
            out.append(MetricValue("four_fifths_rule_passed", float(self.four_fifths_rule_passed), n=self.n))
        for name in _GROUP_METRICS:
            value = getattr(self.overall, name)
            if value is not None:
                out.append(MetricValue(name, float(value), n=self.n))
        for g in self.by_group.values():
            for name in _GROUP_METRICS:
                value = getattr(g, name)
                if value is None and (name == "mean_score" or self.overall.tp is None):
                    continue  # not applicable (no scores / no ground truth) rather than undefined
                low, high = g.intervals.get(name, (None, None))
                out.append(MetricValue(name, _nan(value), low, high, g.count, dict(g.labels)))
        return out


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
