"""Metrics of the counterfactual suite, from stored per-twin-set results, through ``ethos.audit.fairness``.

Per attribute (``group={"attribute": a, ...}``):

* fairlearn's disaggregated rates and parity measures from :func:`ethos.audit.fairness.assess` over
  every parseable document: ``selection_rate`` per group (with bootstrap CIs), ``tpr``/``fpr`` per
  group against the qualification labels, ``demographic_parity_difference`` / ``_ratio``,
  ``equalized_odds_difference``, ``four_fifths_rule_passed`` and ``mean_score_gap``;
* ``flip_rate``: the share of twin sets whose decisions are not all equal (bootstrap CI over twin
  sets; only sets whose every answer parsed), and per pair of groups with C1's
  :func:`~ethos.audit.fairness.flip_rate_estimate`;
* per pair of groups (``pair="a vs b"``): ``mean_score_difference`` (a - b, with CI),
  ``p_value_permutation`` (sign-flip test) and ``p_value_wilcoxon`` from
  :func:`~ethos.audit.fairness.paired_test`, and ``p_value_holm``: the permutation p-value after
  Holm's step-down correction over *every* pair of *every* attribute of the run;
* ``flagged`` = 1 when some pair's Holm-adjusted p-value is below ``alpha`` (default 0.01), and
  ``unparseable``: documents whose answer could not be read (per group too; left out of the rates).

Overall (no group): ``flagged`` (any attribute), ``min_p_value_holm``, ``flip_rate``, ``unparseable``.
Per attribute x scenario: ``selection_rate`` per group, ``demographic_parity_difference`` and ``flip_rate``.
Embedding mode decides here: within each scenario x attribute pool, the documents with the top
``top_fraction`` of cosine similarities are selected (ties broken by document order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from ethos.audit._stats import metric
from ethos.errors import DataError
from ethos.types import MetricValue

if TYPE_CHECKING:
    from ethos.records import SampleResult

__all__ = ["MetricSettings", "Twin", "fairness_metrics", "holm", "read_twins", "select_top", "significance"]


@dataclass(frozen=True, slots=True)
class MetricSettings:
    """How the metrics are computed.

    Attributes:
        seed: Seed of every bootstrap and Monte Carlo permutation.
        n_boot: Bootstrap resamples for intervals.
        n_permutations: Sign patterns for the Monte Carlo permutation test (exact when ``2**n`` is smaller).
        alpha: Significance level of ``flagged`` (after Holm's correction).
        top_fraction: Embedding mode: the share of each pool that is selected.
        decide_by_rank: Whether decisions come from ranking (embedding mode) instead of the stored ones.
    """

    seed: int = 0
    n_boot: int = 1000
    n_permutations: int = 10_000
    alpha: float = 0.01
    top_fraction: float = 0.5
    decide_by_rank: bool = False


@dataclass(slots=True)
class Twin:
    """One stored twin set, read back: per group, the score and decision (``None`` when unparseable)."""

    scenario: str
    attribute: str
    level: str
    label: int
    groups: tuple[str, ...]
    scores: dict[str, float | None] = field(default_factory=dict)
    decisions: dict[str, float | None] = field(default_factory=dict)

    def complete(self, groups: Sequence[str] | None = None) -> bool:
        """Whether every (or each of ``groups``) member has a decision."""
        return all(self.decisions.get(g) is not None for g in (groups or self.groups))


def read_twins(results: Sequence[SampleResult]) -> list[Twin]:
    """Turn stored results into :class:`Twin` values (groups in the order they were scored)."""
    twins = []
    for r in results:
        groups = tuple(k.split(".", 1)[1] for k in r.values if k.startswith("unparseable."))
        twins.append(
            Twin(
                scenario=r.groups["scenario"],
                attribute=r.groups["attribute"],
                level=r.groups["qualification"],
                label=int(r.values["label"]),
                groups=groups,
                scores={g: r.values.get(f"score.{g}") for g in groups},
                decisions={g: r.values.get(f"decision.{g}") for g in groups},
            )
        )
    return twins


def select_top(twins: Sequence[Twin], fraction: float) -> None:
    """Embedding mode: in each scenario x attribute pool, select the top ``fraction`` by score (in place)."""
    pools: dict[tuple[str, str], list[tuple[Twin, str]]] = {}
    for twin in twins:
        for g in twin.groups:
            if twin.scores.get(g) is not None:
                pools.setdefault((twin.scenario, twin.attribute), []).append((twin, g))
    for members in pools.values():
        k = math.ceil(fraction * len(members))
        order = sorted(range(len(members)), key=lambda i: -(members[i][0].scores[members[i][1]] or 0.0))
        chosen = set(order[:k])
        for i, (twin, g) in enumerate(members):
            twin.decisions[g] = float(i in chosen)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def fairness_metrics(results: Sequence[SampleResult], settings: MetricSettings) -> list[MetricValue]:
    """Every metric of the suite (see the module docstring): headline first, then per attribute."""
    twins = read_twins(results)
    if settings.decide_by_rank:
        select_top(twins, settings.top_fraction)
    headline, tests = significance(twins, settings)
    headline.append(_flip_rate(twins, {}, settings))
    headline.append(MetricValue("unparseable", float(sum(_count_unparseable(twins).values())), n=_documents(twins)))
    out: list[MetricValue] = []
    for attr in dict.fromkeys(t.attribute for t in twins):
        members = [t for t in twins if t.attribute == attr]
        tag = {"attribute": attr}
        out += _unparseable(members, tag)
        out += _assess(members, tag, settings)
        out.append(_flip_rate(members, tag, settings))
        out += [m for m in tests if m.group.get("attribute") == attr]
        for scenario in dict.fromkeys(t.scenario for t in members):
            out += _scenario_metrics([t for t in members if t.scenario == scenario], attr, scenario, settings)
    return headline + out


def significance(twins: Sequence[Twin], settings: MetricSettings) -> tuple[list[MetricValue], list[MetricValue]]:
    """The paired tests of every pair of groups of every attribute, Holm-corrected, and the flags.

    Returns:
        ``(headline, per_attribute)``: the overall ``flagged`` and ``min_p_value_holm``; and per
        attribute its pairs' flip rates, mean score differences, p-values (permutation, Wilcoxon,
        Holm) and its own ``flagged`` / ``min_p_value_holm``.
    """
    attributes = list(dict.fromkeys(t.attribute for t in twins))
    out: list[MetricValue] = []
    pair_tests: list[tuple[str, str, float]] = []  # (attribute, pair, p) for Holm
    for attr in attributes:
        pairs, tests = _pairs([t for t in twins if t.attribute == attr], {"attribute": attr}, settings)
        out += pairs
        pair_tests += [(attr, pair, p) for pair, p in tests]
    headline = _holm_and_flags(out, pair_tests, attributes, settings.alpha)
    return headline, out


def _documents(twins: Sequence[Twin]) -> int:
    return sum(len(t.groups) for t in twins)


def _count_unparseable(twins: Sequence[Twin]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in twins:
        for g in t.groups:
            counts[g] = counts.get(g, 0) + int(t.decisions.get(g) is None)
    return counts


def _unparseable(twins: Sequence[Twin], tag: dict[str, str]) -> list[MetricValue]:
    counts = _count_unparseable(twins)
    out = [MetricValue("unparseable", float(sum(counts.values())), n=_documents(twins), group=tag)]
    for g, c in counts.items():
        out.append(MetricValue("unparseable", float(c), n=len(twins), group={**tag, "group": g}))
    return out


def _rows(twins: Sequence[Twin]) -> tuple[list[float], list[str], list[int], list[float]]:
    decisions, groups, labels, scores = [], [], [], []
    for t in twins:
        for g in t.groups:
            decision, score = t.decisions.get(g), t.scores.get(g)
            if decision is not None and score is not None:
                decisions.append(decision)
                groups.append(g)
                labels.append(t.label)
                scores.append(score)
    return decisions, groups, labels, scores


def _assess(twins: Sequence[Twin], tag: dict[str, str], settings: MetricSettings) -> list[MetricValue]:
    """fairlearn-backed rates and parity measures; a group with no parseable answer gets none."""
    from ethos.audit.fairness import assess

    decisions, groups, labels, scores = _rows(twins)
    if len(set(groups)) < 2:  # noqa: PLR2004 - a comparison needs two groups
        return []
    try:
        report = assess(decisions, groups, y_true=labels, scores=scores, seed=settings.seed, n_boot=settings.n_boot)
    except DataError:
        return []
    return [_tagged(m, tag) for m in report.metric_values()]


def _tagged(m: MetricValue, tag: dict[str, str]) -> MetricValue:
    return MetricValue(m.name, m.value, m.ci_low, m.ci_high, m.n, {**tag, **m.group})


def _flip_rate(twins: Sequence[Twin], tag: dict[str, str], settings: MetricSettings) -> MetricValue:
    """Share of complete twin sets whose decisions are not all equal, with a bootstrap CI over sets."""
    complete = [t for t in twins if t.complete()]
    flips = np.array([float(len({t.decisions[g] for g in t.groups}) > 1) for t in complete])
    return metric("flip_rate", lambda idx: float(flips[idx].mean()), len(flips), seed=settings.seed, group=tag,
                  n_resamples=settings.n_boot)  # fmt: skip


def _pairs(
    twins: Sequence[Twin], tag: dict[str, str], settings: MetricSettings
) -> tuple[list[MetricValue], list[tuple[str, float]]]:
    """Per pair of groups: flip rate, mean score difference, permutation and Wilcoxon p-values."""
    from ethos.audit.fairness import flip_rate_estimate, paired_test

    out: list[MetricValue] = []
    tests: list[tuple[str, float]] = []
    groups = twins[0].groups if twins else ()
    for a, b in combinations(groups, 2):
        both = [t for t in twins if t.complete((a, b)) and t.scores[a] is not None and t.scores[b] is not None]
        if not both:
            continue
        pair, n = f"{a} vs {b}", len(both)
        x = [float(t.scores[a] or 0.0) for t in both]
        y = [float(t.scores[b] or 0.0) for t in both]
        seed = settings.seed
        perm = paired_test(x, y, method="permutation", seed=seed, n_resamples=settings.n_permutations)
        wil = paired_test(x, y, method="wilcoxon", seed=seed, n_resamples=settings.n_permutations)
        flip = flip_rate_estimate([t.decisions[a] for t in both], [t.decisions[b] for t in both],
                                  seed=seed, n_boot=settings.n_boot)  # fmt: skip
        group = {**tag, "pair": pair}
        out += [
            MetricValue("flip_rate", float(flip.value or 0.0), flip.ci_low, flip.ci_high, n, group),
            MetricValue("mean_score_difference", perm.mean_difference, perm.ci_low, perm.ci_high, n, group),
            MetricValue("p_value_permutation", perm.p_value, n=n, group=group),
            MetricValue("p_value_wilcoxon", wil.p_value, n=n, group=group),
        ]
        tests.append((pair, perm.p_value))
    return out, tests


def _holm_and_flags(
    out: list[MetricValue], tests: list[tuple[str, str, float]], attributes: Sequence[str], alpha: float
) -> list[MetricValue]:
    """Holm-adjusted p-values (added to ``out``), per-attribute flags, and the overall headline metrics."""
    adjusted = holm([p for _, _, p in tests])
    n_tests = len(tests)
    for (attr, pair, _), p in zip(tests, adjusted, strict=True):
        out.append(MetricValue("p_value_holm", p, n=n_tests, group={"attribute": attr, "pair": pair}))
    smallest: dict[str, float] = {}
    for (attr, _, _), p in zip(tests, adjusted, strict=True):
        smallest[attr] = min(p, smallest.get(attr, 1.0))
    for attr in attributes:
        p = smallest.get(attr, math.nan)
        out.append(MetricValue("flagged", float(p < alpha), n=n_tests, group={"attribute": attr}))
        out.append(MetricValue("min_p_value_holm", p, n=n_tests, group={"attribute": attr}))
    overall = min(adjusted) if adjusted else math.nan
    return [
        MetricValue("flagged", float(overall < alpha), n=n_tests),
        MetricValue("min_p_value_holm", overall, n=n_tests),
    ]


def _scenario_metrics(twins: Sequence[Twin], attr: str, scenario: str, settings: MetricSettings) -> list[MetricValue]:
    """Per attribute x scenario: selection rate per group, demographic parity difference, flip rate."""
    from ethos.audit.fairness import assess

    tag = {"attribute": attr, "scenario": scenario}
    decisions, groups, labels, _ = _rows(twins)
    out = [_flip_rate(twins, tag, settings)]
    if len(set(groups)) < 2:  # noqa: PLR2004 - a comparison needs two groups
        return out
    try:
        report = assess(decisions, groups, seed=settings.seed, n_boot=settings.n_boot)
    except DataError:
        return out
    keep = [m for m in report.metric_values() if (m.name == "selection_rate" and m.group)
            or (m.name == "demographic_parity_difference" and not m.group)]  # fmt: skip
    return out + [_tagged(m, tag) for m in keep]
