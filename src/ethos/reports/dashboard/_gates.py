"""Gate rules over the database, as the dashboard shows them.

For every model, each rule is held against that model's **latest finished run** of the rule's
benchmark, with :func:`ethos.records.evaluate_gates` (the same code as ``ethos gate``). Regression
rules compare it with the model's **previous** finished run of that benchmark, since the dashboard
has no ``--baseline``. A model that never ran a rule's benchmark is not judged by that rule.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ethos.records import GateRules, RuleResult, RunRecord, evaluate_gates
from ethos.reports.dashboard._runs import ReadOnlyRuns

__all__ = ["GateCache", "GateView", "evaluate_database", "group_key"]

GroupKey = tuple[tuple[str, str], ...]


def group_key(group: dict[str, str]) -> GroupKey:
    """A hashable, order-free key for a metric's group."""
    return tuple(sorted(group.items()))


@dataclass(frozen=True)
class GateView:
    """Every rule result, and lookups by run and by metric for highlighting."""

    source: str
    """The rules file."""
    results: tuple[RuleResult, ...] = ()
    """One result per (model, applicable rule)."""
    _by_run: dict[str, list[RuleResult]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, source: str, results: Iterable[RuleResult]) -> GateView:
        """Index ``results`` by run id."""
        kept = tuple(results)
        by_run: dict[str, list[RuleResult]] = defaultdict(list)
        for result in kept:
            if result.run_id is not None:
                by_run[result.run_id].append(result)
        return cls(source=source, results=kept, _by_run=dict(by_run))

    def count(self, status: str) -> int:
        """How many results have ``status`` (``pass``, ``fail`` or ``error``)."""
        return sum(1 for r in self.results if r.status == status)

    def for_run(self, run_id: str) -> list[RuleResult]:
        """The results that read this run (empty unless it is a model's latest of a rule's benchmark)."""
        return self._by_run.get(run_id, [])

    def failed_runs(self) -> set[str]:
        """Ids of the runs that some rule failed on."""
        return {r.run_id for r in self.results if r.status == "fail" and r.run_id is not None}

    def for_metric(self, run_id: str, name: str, group: dict[str, str]) -> list[RuleResult]:
        """The results of rules about this metric of this run."""
        key = group_key(group)
        return [r for r in self.for_run(run_id) if r.rule.metric == name and group_key(r.rule.group) == key]

    def for_model(self, model: str) -> list[RuleResult]:
        """The results for one model's runs."""
        return [r for r in self.results if r.model == model]


def evaluate_database(rules: GateRules, runs: ReadOnlyRuns) -> GateView:
    """Hold every model's latest finished runs to ``rules`` (see the module docstring)."""
    benchmarks = list(dict.fromkeys(rule.benchmark for rule in rules.rules))
    results: list[RuleResult] = []
    for model, by_benchmark in sorted(runs.latest_finished(benchmarks, per=2).items()):
        results += _evaluate_model(rules, runs, model, by_benchmark)
    return GateView.of(rules.source, results)


class GateCache:
    """:func:`evaluate_database`, evaluated again only when the database has changed."""

    def __init__(self, rules: GateRules, runs: ReadOnlyRuns) -> None:
        """Cache the view of ``rules`` over ``runs``."""
        self.rules = rules
        self.runs = runs
        self._lock = threading.Lock()
        self._cached: tuple[int, GateView] | None = None

    def view(self) -> GateView:
        """The current gate view (re-evaluated after any commit to the database)."""
        with self._lock:
            version = self.runs.version()
            if self._cached is None or self._cached[0] != version:
                self._cached = (version, evaluate_database(self.rules, self.runs))
            return self._cached[1]


def _evaluate_model(
    rules: GateRules, runs: ReadOnlyRuns, model: str, by_benchmark: dict[str, list[str]]
) -> list[RuleResult]:
    latest: dict[str, RunRecord] = {}
    previous: dict[str, RunRecord] = {}
    for benchmark, ids in by_benchmark.items():
        records = [r for r in (runs.header(run_id) for run_id in ids) if r is not None]
        if records:
            latest[benchmark] = records[0]
        if len(records) > 1:
            previous[benchmark] = records[1]
    applicable = [(i, rule) for i, rule in enumerate(rules.rules) if rule.benchmark in latest]
    if not applicable:
        return []
    subset = GateRules(
        rules=tuple(rule for _, rule in applicable),
        source=rules.source,
        lines=tuple(rules.line(i) for i, _ in applicable),
    )
    report = evaluate_gates(
        subset,
        list(latest.values()),
        list(previous.values()),
        runs_from=f"the latest finished runs of {model}",
    )
    return [_explain_missing_baseline(r, previous) for r in report.results]


def _explain_missing_baseline(result: RuleResult, previous: dict[str, RunRecord]) -> RuleResult:
    # evaluate_gates speaks of --baseline, which the dashboard does not have.
    if result.status == "error" and result.rule.needs_baseline and result.rule.benchmark not in previous:
        message = "no earlier finished run of this model and benchmark to measure a regression against"
        return result.model_copy(update={"message": message})
    return result
