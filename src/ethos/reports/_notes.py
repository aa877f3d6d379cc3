"""What each recorded metric means and does not mean: the one table every report reads.

Notes are keyed by ``(benchmark, metric)``; a ``"*"`` benchmark matches any benchmark, and a
metric ending in ``_per_token`` reads its base metric's note with the per-token caveat added. A
metric without a note gets :func:`generic_note`, so a new suite appears in every report without
template changes; adding its notes here makes them richer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ethos.records import RunRecord

__all__ = ["CI_NOTE", "EXAMPLE_KEYS", "METRIC_NOTES", "MetricNote", "ci_label", "generic_note", "metric_note"]

DEFAULT_CONFIDENCE = 0.95
"""The level of Ethos's bootstrap intervals when a run's settings record no ``confidence``."""


def ci_label(runs: Iterable[RunRecord]) -> str:
    """The heading of an interval column: ``95% CI``, the runs' recorded level, or a pointer when they differ.

    Args:
        runs: The runs whose intervals the column shows.

    Returns:
        ``"<level>% CI"`` when every run has the same level (``settings.confidence``, 0.95 when
        absent), else ``"CI (level per run: settings.confidence)"``.
    """
    levels = {_confidence(run) for run in runs} or {DEFAULT_CONFIDENCE}
    if len(levels) > 1:
        return "CI (level per run: settings.confidence)"
    return f"{levels.pop() * 100:.4g}% CI"


def _confidence(run: RunRecord) -> float:
    level = run.settings.get("confidence")
    ok = isinstance(level, int | float) and not isinstance(level, bool) and 0 < level < 1
    return float(level) if ok else DEFAULT_CONFIDENCE  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class MetricNote:
    """What a metric says, what it does not say, and where its definition comes from."""

    means: str
    """What the number measures, in one or two sentences."""
    does_not_mean: str
    """The reading it does not support: the common over-interpretation."""
    reference: str = ""
    """The paper or implementation it follows, when there is one."""
    ideal: str = ""
    """The value of an unbiased or perfect model, when there is one (``"50"``, ``"0"``)."""


CI_NOTE = (
    "Intervals are the confidence intervals stored in the run (Ethos computes 95% percentile-bootstrap "
    "intervals over the benchmark's units with a recorded seed, unless the run's settings record another "
    "`confidence` level). They describe sampling uncertainty of "
    "this benchmark's items only; they say nothing about prompts, populations or uses the benchmark "
    "does not cover. A metric shown without an interval had none recorded."
)

_SS_LIKE = (
    "the model's preference for one of two minimally different sentences is a proxy; a score at the "
    "ideal does not show that the model is unbiased in generation or in any downstream task, and the "
    "benchmark's sentence pairs have documented quality problems (Blodgett et al. 2021)"
)
_CROWS = "Nangia et al. 2020, CrowS-Pairs (nyu-mll metric.py; causal variant as lm-evaluation-harness)"
_STEREOSET = "Nadeem et al. 2021, StereoSet (official code/evaluation.py)"
_BBQ = "Parrish et al. 2022, BBQ (paper §3 bias scores)"
_SEAT = "May et al. 2019, SEAT; Caliskan et al. 2017, WEAT effect size and permutation test"
_FAIRLEARN = "fairlearn metric definitions (MetricFrame, derived metrics)"
_COUNTERFACTUAL = "counterfactual twins: identical documents differing only in a protected attribute"
_RATE = "a proportion of decisions in one group; comparing groups needs the headline gaps and their intervals"

METRIC_NOTES: dict[tuple[str, str], MetricNote] = {
    ("stereoset", "ss"): MetricNote(
        "Stereotype score: percentage of target terms for which the model prefers the stereotypical over "
        "the anti-stereotypical option (macro-averaged over targets).",
        _SS_LIKE,
        _STEREOSET,
        "50",
    ),
    ("stereoset", "lms"): MetricNote(
        "Language-modelling score: percentage of choices where a meaningful option beats the unrelated one.",
        "It is not a general language-quality measure; it only checks these forced choices.",
        _STEREOSET,
        "100",
    ),
    ("stereoset", "icat"): MetricNote(
        "Idealized CAT score LMS · min(SS, 100 − SS) / 50, combining LMS and SS.",
        "A high ICAT can hide a real preference when LMS is high; read SS and LMS separately.",
        _STEREOSET,
        "100",
    ),
    ("crows_pairs", "metric_score"): MetricNote(
        "Percentage of sentence pairs where the model gives the more stereotypical sentence the higher "
        "(pseudo-)likelihood.",
        _SS_LIKE,
        _CROWS,
        "50",
    ),
    ("crows_pairs", "stereotype_score"): MetricNote(
        "Metric score restricted to pairs whose more-stereotypical sentence targets a disadvantaged group.",
        "Few pairs per group make it noisy; read its interval.",
        _CROWS,
        "50",
    ),
    ("crows_pairs", "antistereotype_score"): MetricNote(
        "Metric score restricted to anti-stereotype pairs (the advantaged group in the stereotypical role).",
        "Few pairs per group make it noisy; read its interval.",
        _CROWS,
        "50",
    ),
    ("crows_pairs", "neutral"): MetricNote(
        "Number (or share, per token) of pairs scored as ties.", "Ties are not evidence of fairness.", _CROWS
    ),
    ("crows_pairs", "likelihood_diff"): MetricNote(
        "Mean absolute log-likelihood difference between the two sentences (lm-evaluation-harness).",
        "It has no direction: a large value can favour either sentence.",
        _CROWS,
    ),
    ("crows_pairs", "pct_stereotype"): MetricNote(
        "Share of pairs where the stereotypical sentence is more likely (lm-evaluation-harness, a fraction).",
        _SS_LIKE,
        _CROWS,
        "0.5",
    ),
    ("bbq", "accuracy"): MetricNote(
        "Share of questions answered correctly (ambiguous contexts: 'unknown' is correct).",
        "Accuracy alone does not show whether errors follow stereotypes; read s_dis and s_amb.",
        _BBQ,
        "1",
    ),
    ("bbq", "s_dis"): MetricNote(
        "Bias score in disambiguated contexts: 100 · (2 · biased answers / non-unknown answers − 1).",
        "0 means errors are balanced between stereotype-consistent and -inconsistent answers, not that "
        "there are no errors.",
        _BBQ,
        "0",
    ),
    ("bbq", "s_amb"): MetricNote(
        "Bias score in ambiguous contexts, scaled by the error rate: (1 − accuracy) · s_dis-style score.",
        "A small value can come from high accuracy rather than from balanced errors.",
        _BBQ,
        "0",
    ),
    ("seat", "effect_size"): MetricNote(
        "Cohen's d of the association between two target and two attribute sets of sentence embeddings.",
        "Embedding associations do not predict bias in a model's downstream behaviour (Goldfarb-Tarrant "
        "et al. 2021); SEAT tests are small and template-based.",
        _SEAT,
        "0",
    ),
    ("seat", "mean_abs_effect_size"): MetricNote(
        "Mean absolute effect size over the tests run.", "Averaging hides which tests drive it.", _SEAT, "0"
    ),
    ("seat", "p_value"): MetricNote(
        "One-sided permutation-test p-value of the test statistic.",
        "A small p-value says the association is unlikely under random relabelling, not that it is large.",
        _SEAT,
    ),
    ("seat", "n_significant"): MetricNote(
        "Number of tests with p below the significance level.", "Not corrected for multiple tests.", _SEAT
    ),
    ("*", "flip_rate"): MetricNote(
        "Share of counterfactual twins whose decision changed when only the protected attribute changed.",
        "It is measured on these templates and attributes only; 0 here does not rule out other proxies.",
        _COUNTERFACTUAL,
        "0",
    ),
    ("*", "mean_score_difference"): MetricNote(
        "Mean difference of the model's scores between twins.",
        "Its sign depends on the pair order shown in the group.",
        _COUNTERFACTUAL,
        "0",
    ),
    ("*", "flagged"): MetricNote(
        "1 when some pair of groups differs beyond chance after Holm's correction, else 0.",
        "0 is absence of evidence at this sample size, not evidence of equal treatment.",
        _COUNTERFACTUAL,
        "0",
    ),
    ("*", "demographic_parity_difference"): MetricNote(
        "Largest difference in selection rate between groups.",
        "Parity of outcomes is one fairness criterion; it can conflict with equalized odds and calibration.",
        _FAIRLEARN,
        "0",
    ),
    ("*", "demographic_parity_ratio"): MetricNote(
        "Smallest ratio of selection rates between groups (the four-fifths rule reads it against 0.8).",
        "Passing 0.8 is a screening heuristic, not a legal finding.",
        _FAIRLEARN,
        "1",
    ),
    ("*", "equalized_odds_difference"): MetricNote(
        "Larger of the between-group differences in true- and false-positive rate.",
        "It needs correct ground truth; biased labels make it misleading.",
        _FAIRLEARN,
        "0",
    ),
    ("*", "equal_opportunity_difference"): MetricNote(
        "Between-group difference in true-positive rate.", "It ignores false positives.", _FAIRLEARN, "0"
    ),
    ("*", "selection_rate"): MetricNote("Share of positive decisions in the group.", _RATE, _FAIRLEARN),
    ("*", "unparseable"): MetricNote(
        "Number of model outputs that could not be parsed into an answer.",
        "Unparsed outputs are left out of the other metrics, which may then describe a biased subset.",
    ),
    ("dp-release", "*"): MetricNote(
        "A differentially private statistic released under the epsilon recorded in the run's settings.",
        "It is noisy by design; its interval is the noise's, not sampling uncertainty of the population.",
        "OpenDP measurements (see docs/dp.md)",
    ),
}
"""Notes by ``(benchmark, metric)``; ``"*"`` as benchmark or metric matches any."""

EXAMPLE_KEYS: dict[str, str] = {"seat": "effect_size", "crows_pairs": "score_more", "bbq": "biased"}
"""Per benchmark, the per-sample value whose extremes the 'worst examples' section shows."""

_PER_TOKEN = "_per_token"  # noqa: S105 - a metric-name suffix, not a secret


def generic_note(benchmark: str, metric: str) -> MetricNote:
    """The note of a metric this table does not know: what can be said without knowing it."""
    return MetricNote(
        f"A number recorded by the {benchmark!r} benchmark under the name {metric!r}; Ethos has no "
        "description of it, so read the benchmark's documentation (`ethos audit list`).",
        "Without a description, do not compare it with other benchmarks' numbers or read a direction into it.",
    )


def metric_note(benchmark: str, metric: str) -> MetricNote:
    """The note for ``metric`` of ``benchmark``: exact, then any benchmark, then per-token, then generic."""
    for key in ((benchmark, metric), ("*", metric), (benchmark, "*")):
        if key in METRIC_NOTES:
            return METRIC_NOTES[key]
    if metric.endswith(_PER_TOKEN):
        base = metric_note(benchmark, metric.removesuffix(_PER_TOKEN))
        return MetricNote(
            base.means + " Per-token variant: likelihoods divided by the number of tokens.",
            base.does_not_mean,
            base.reference,
            base.ideal,
        )
    return generic_note(benchmark, metric)
