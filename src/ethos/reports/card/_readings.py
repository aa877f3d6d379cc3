"""One-line readings of recorded metrics: what the value and its interval say, against the metric's ideal.

A reading compares the recorded value and interval with the metric's ideal value (e.g. 50 for
StereoSet's SS); it never recomputes the metric. Metrics without an entry get no reading, and the
card says so, rather than guessing. Scales follow the benchmarks' documentation (SS, CrowS and BBQ
bias scores are percentages; accuracies and rates are fractions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ethos.records import MetricRecord
from ethos.reports.card._markdown import fmt_num

__all__ = ["reading"]


@dataclass(frozen=True, slots=True)
class _Centred:
    """A metric with an ideal value; above and below it mean different things."""

    ideal: float
    meaning: str
    above: str
    below: str

    def __call__(self, m: MetricRecord) -> str:
        where = _side(m, self.ideal)
        if where == "at":
            verdict = (
                f"the interval includes {fmt_num(self.ideal)}: no {self.meaning} is detectable at this sample size"
            )
        elif where == "above":
            verdict = self.above
        elif where == "below":
            verdict = self.below
        else:
            verdict = "no interval was recorded, so chance cannot be ruled out"
        return f"ideal {fmt_num(self.ideal)}; {verdict}."


def _side(m: MetricRecord, ideal: float) -> str:
    if not math.isfinite(m.value):
        return "undefined"
    if m.ci_low is None or m.ci_high is None or not (math.isfinite(m.ci_low) and math.isfinite(m.ci_high)):
        return "unknown"
    if m.ci_low > ideal:
        return "above"
    if m.ci_high < ideal:
        return "below"
    return "at"


def _higher_is_better(best: str, what: str) -> Callable[[MetricRecord], str]:
    return lambda m: f"{what}; higher is better (best {best})."


def _effect_size(m: MetricRecord) -> str:
    size = abs(m.value)
    label = "negligible" if size < 0.2 else "small" if size < 0.5 else "medium" if size < 0.8 else "large"  # noqa: PLR2004
    where = "Cohen's d (Caliskan et al. 2017; May et al. 2019)"
    return f"{where}; ideal 0; |d| = {fmt_num(size)} is {label} by Cohen's bands."


def _flagged(m: MetricRecord) -> str:
    if m.value >= 1:
        return "1: at least one pair of groups is treated differently beyond chance (Holm-corrected)."
    return "0: no pair of groups differs beyond chance after Holm's correction."


_STEREO = _Centred(
    50.0,
    "preference",
    "the model prefers stereotypical over anti-stereotypical options",
    "the model prefers anti-stereotypical options",
)
_BBQ = _Centred(
    0.0,
    "bias",
    "answers lean towards the social stereotype",
    "answers lean against the social stereotype",
)
_GAP = _Centred(
    0.0,
    "difference",
    "the groups differ by more than sampling noise",
    "the groups differ by more than sampling noise",
)

_READINGS: dict[str, Callable[[MetricRecord], str]] = {
    "ss": _STEREO,
    "metric_score": _STEREO,
    "stereotype_score": _STEREO,
    "antistereotype_score": _STEREO,
    "s_amb": _BBQ,
    "s_dis": _BBQ,
    "lms": _higher_is_better("100", "language-modelling score (prefers meaningful over unrelated options)"),
    "icat": _higher_is_better("100", "idealised CAT score, combining LMS and SS"),
    "accuracy_ambig": _higher_is_better("1", "accuracy on ambiguous contexts (the right answer is 'unknown')"),
    "accuracy_disambig": _higher_is_better("1", "accuracy on disambiguated contexts"),
    "accuracy": _higher_is_better("1", "share of correct answers"),
    "effect_size": _effect_size,
    "mean_abs_effect_size": _effect_size,
    "flip_rate": lambda m: "share of twin sets whose decision changed with the demographic cue alone; ideal 0.",
    "demographic_parity_difference": _GAP,
    "equalized_odds_difference": _GAP,
    "equal_opportunity_difference": _GAP,
    "four_fifths_rule_passed": lambda m: (
        "1: every group's selection rate is at least 80% of the highest."
        if m.value >= 1
        else "0: some group's selection rate is below 80% of the highest (the four-fifths rule of thumb fails)."
    ),
    "mean_score_gap": _GAP,
    "demographic_parity_ratio": lambda m: (
        "lowest over highest selection rate; ideal 1, below 0.8 fails the four-fifths rule."
    ),
    "flagged": _flagged,
    "min_p_value_holm": lambda m: "smallest Holm-adjusted p-value over all pairs of groups; below alpha flags the run.",
    "selection_rate": lambda m: "share of positive decisions.",
}


def reading(metric: MetricRecord) -> str:
    """What ``metric`` says in one line, or ``""`` when Ethos has no reading for it."""
    read = _READINGS.get(metric.name)
    if read is None or not math.isfinite(metric.value):
        return "" if read is None else "undefined (no samples behind it)."
    return read(metric)
