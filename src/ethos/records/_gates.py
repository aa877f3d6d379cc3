"""CI gates: rules over stored metrics, each evaluated to pass, fail or error.

A rules file is TOML with one ``[[rule]]`` table per rule::

    [[rule]]
    name = "stereoset ss close to 50"
    benchmark = "stereoset"          # which run the rule reads
    metric = "ss"
    group = { domain = "gender" }    # optional: a disaggregated value
    min = 40.0                       # fixed thresholds
    max = 60.0

    [[rule]]
    benchmark = "crows_pairs"
    metric = "metric_score"
    higher_is_better = false
    max_regression = 2.0             # absolute, against the baseline run of the same benchmark
    max_relative_regression = 0.05   # relative to |baseline|

The vocabulary follows MLflow's ``MetricThreshold``: ``min``/``max`` are its ``threshold`` (for
higher- and lower-is-better metrics), ``higher_is_better`` is ``greater_is_better``, and
``max_regression = d`` is ``min_absolute_change = −d`` (``max_relative_regression = r`` is
``min_relative_change = −r``): MLflow demands an improvement, Ethos tolerates a bounded regression;
a negative value demands an improvement as MLflow does.

A rule **fails** when a check does not hold, and is an **error** when it cannot be evaluated (the
run, the metric or the baseline is missing, the value is undefined, or the baseline measured
something else). A passing check is a **near miss** when the metric's confidence interval reaches
past the limit: the point estimate passed, but not with confidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import Field

from ethos.errors import GateError, GateFailed
from ethos.records._base import RecordModel, UtcDatetime, utc_now
from ethos.records._compare import group_label, run_mismatches
from ethos.records._gate_rules import GateRule, GateRules
from ethos.records._schema import MetricRecord, RunRecord

__all__ = ["CheckResult", "GateReport", "RuleResult", "RuleStatus", "evaluate_gates"]

RuleStatus = Literal["pass", "fail", "error"]
CheckKind = Literal["min", "max", "max_regression", "max_relative_regression", "min_n"]

_TOLERANCE = 1e-9
"""Relative float tolerance: a value equal to its limit up to rounding passes."""


class CheckResult(RecordModel):
    """One threshold of a rule held against the measured value."""

    kind: CheckKind
    """Which check: ``min``, ``max``, ``max_regression``, ``max_relative_regression`` or ``min_n``."""
    limit: float
    """The bound the value was held to (for regressions: worked out from the baseline)."""
    passed: bool
    """Whether the value is on the right side of the limit."""
    near_miss: bool = False
    """Passed, but the metric's confidence interval reaches past the limit."""
    message: str
    """What was checked, in words."""


class RuleResult(RecordModel):
    """The outcome of one rule."""

    index: int
    """Position of the rule in its file (0-based)."""
    name: str
    """The rule's label."""
    rule: GateRule
    """The rule itself."""
    status: RuleStatus
    """``pass``, ``fail`` or ``error``."""
    message: str
    """Why: the failed checks, the reason it could not be evaluated, or the checks that held."""
    line: int | None = None
    """Line of the rule in its file, when known."""
    run_id: str | None = None
    """The run the rule read."""
    model: str | None = None
    """That run's model spec."""
    value: float | None = None
    """The metric's value."""
    ci_low: float | None = None
    """Lower end of the metric's confidence interval."""
    ci_high: float | None = None
    """Upper end of the metric's confidence interval."""
    n: int | None = None
    """Samples behind the value."""
    baseline_id: str | None = None
    """The baseline run, for regression checks."""
    baseline_value: float | None = None
    """The metric's value in the baseline run."""
    checks: tuple[CheckResult, ...] = ()
    """Each threshold held against the value."""

    @property
    def near_miss(self) -> bool:
        """Passed, but some check passed only on the point estimate."""
        return self.status == "pass" and any(c.near_miss for c in self.checks)


class GateReport(RecordModel):
    """The outcome of every rule of a rules file; what ``ethos gate`` prints, writes and exits on."""

    source: str
    """The rules file."""
    created_at: UtcDatetime = Field(default_factory=utc_now)
    """When the rules were evaluated (UTC)."""
    results: tuple[RuleResult, ...]
    """One result per rule, in file order."""

    def count(self, status: RuleStatus) -> int:
        """How many rules ended with ``status``."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def status(self) -> RuleStatus:
        """``error`` if any rule is an error, else ``fail`` if any failed, else ``pass``."""
        if self.count("error"):
            return "error"
        return "fail" if self.count("fail") else "pass"

    def to_junit_xml(self) -> str:
        """The report as JUnit XML: one ``<testcase>`` per rule, ``<failure>``/``<error>`` as needed."""
        from ethos.records._gate_formats import junit_xml

        return junit_xml(self)

    def to_markdown(self) -> str:
        """The report as Markdown: the verdict and one table row per rule."""
        from ethos.records._gate_formats import markdown_summary

        return markdown_summary(self)

    def github_annotations(self) -> list[str]:
        """GitHub workflow commands: ``::error`` per failed rule, ``::warning`` per error or near miss."""
        from ethos.records._gate_formats import github_annotations

        return github_annotations(self)

    def raise_for_status(self) -> None:
        """Raise unless every rule passed.

        Raises:
            GateError: Some rule could not be evaluated (exit 2), whether or not others failed.
            GateFailed: Some rule failed and none was an error (exit 1).
        """
        if self.status == "pass":
            return
        bad = [r for r in self.results if r.status == self.status]
        head = f"{bad[0].name}: {bad[0].message}"
        rest = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        if self.status == "error":
            raise GateError(f"gate: {len(bad)} of {len(self.results)} rules could not be evaluated; {head}{rest}")
        raise GateFailed(f"gate failed: {len(bad)} of {len(self.results)} rules failed; {head}{rest}")


def evaluate_gates(
    rules: GateRules,
    runs: Sequence[RunRecord],
    baselines: Sequence[RunRecord] = (),
    *,
    runs_from: str = "the runs given",
) -> GateReport:
    """Evaluate every rule against the run of its benchmark among ``runs``.

    Args:
        rules: The rules (see :func:`load_rules`).
        runs: Candidate runs; each rule reads the one run of its benchmark.
        baselines: Baseline runs for regression checks, matched by benchmark the same way.
        runs_from: Where ``runs`` came from, for messages (e.g. ``the finished runs of hf:./m``).
    """
    results = [_evaluate(rule, i, rules.line(i), runs, baselines, runs_from) for i, rule in enumerate(rules.rules)]
    return GateReport(source=rules.source, results=tuple(results))


class _Unevaluable(Exception):
    """A rule cannot be evaluated; the message says why."""


def _evaluate(
    rule: GateRule,
    index: int,
    line: int | None,
    runs: Sequence[RunRecord],
    baselines: Sequence[RunRecord],
    runs_from: str,
) -> RuleResult:
    fields: dict[str, Any] = {"index": index, "name": rule.label, "rule": rule, "line": line}
    try:
        run = _pick(rule.benchmark, runs, runs_from, "run")
        fields.update(run_id=run.id, model=run.model.spec)
        metric = _metric(rule, run, "run")
        fields.update(value=metric.value, ci_low=metric.ci_low, ci_high=metric.ci_high, n=metric.n)
        baseline: MetricRecord | None = None
        if rule.needs_baseline:
            base_run = _pick(rule.benchmark, baselines, "the --baseline runs given", "baseline run")
            fields["baseline_id"] = base_run.id
            _require_comparable(run, base_run)
            baseline = _metric(rule, base_run, "baseline run")
            fields["baseline_value"] = baseline.value
        checks = _checks(rule, metric, baseline)
    except _Unevaluable as exc:
        return RuleResult(status="error", message=str(exc), **fields)
    failed = [c for c in checks if not c.passed]
    shown = failed or checks
    return RuleResult(
        status="fail" if failed else "pass",
        message="; ".join(c.message for c in shown),
        checks=tuple(checks),
        **fields,
    )


def _pick(benchmark: str, runs: Sequence[RunRecord], runs_from: str, what: str) -> RunRecord:
    found = [r for r in runs if r.benchmark.name == benchmark]
    if not found:
        hint = "; pass --baseline RUN" if what == "baseline run" else ""
        raise _Unevaluable(f"no {what} of benchmark {benchmark!r} among {runs_from}{hint}")
    if len(found) > 1:
        ids = ", ".join(r.id for r in found)
        raise _Unevaluable(f"several {what}s of benchmark {benchmark!r} ({ids}); give one per benchmark")
    run = found[0]
    if run.status != "finished":
        raise _Unevaluable(f"{what} {run.id} is {run.status}; gates read finished runs only")
    return run


def _metric(rule: GateRule, run: RunRecord, what: str) -> MetricRecord:
    for m in run.metrics:
        if m.name == rule.metric and m.group == rule.group:
            if not math.isfinite(m.value):
                raise _Unevaluable(f"{what} {run.id}: metric {rule.metric!r} [{group_label(m.group)}] is undefined")
            return m
    have = sorted({f"{m.name} [{group_label(m.group)}]" for m in run.metrics})
    listing = ", ".join(have[:12]) + (", …" if len(have) > 12 else "") or "none"
    raise _Unevaluable(
        f"{what} {run.id} ({run.benchmark.name}) has no metric {rule.metric!r} [{group_label(rule.group)}]; "
        f"it has: {listing}"
    )


def _require_comparable(run: RunRecord, baseline: RunRecord) -> None:
    mismatches = run_mismatches(baseline, run)
    if mismatches:
        raise _Unevaluable(
            f"baseline run {baseline.id} is not comparable with run {run.id}: "
            f"{mismatches[0].describe('the baseline', 'the run')}; "
            "regressions need the same benchmark version, data and settings"
        )


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _checks(rule: GateRule, metric: MetricRecord, baseline: MetricRecord | None) -> list[CheckResult]:
    name = rule.metric
    checks: list[CheckResult] = []
    if rule.min_n is not None:
        if metric.n is None:
            raise _Unevaluable(f"metric {name!r} records no sample count, so min_n {rule.min_n} cannot be checked")
        ok = metric.n >= rule.min_n
        text = f"n = {metric.n} {'≥' if ok else 'is below'} min_n {rule.min_n}"
        checks.append(CheckResult(kind="min_n", limit=rule.min_n, passed=ok, message=text))
    if rule.min is not None:
        checks.append(_bound("min", metric, rule.min, at_least=True, what=f"min {_fmt(rule.min)}"))
    if rule.max is not None:
        checks.append(_bound("max", metric, rule.max, at_least=False, what=f"max {_fmt(rule.max)}"))
    if baseline is not None:
        checks += _regressions(rule, metric, baseline.value)
    return checks


def _regressions(rule: GateRule, metric: MetricRecord, base: float) -> list[CheckResult]:
    sign = 1.0 if rule.higher_is_better else -1.0
    allowed: list[tuple[CheckKind, float, str]] = []
    if rule.max_regression is not None:
        allowed.append(("max_regression", rule.max_regression, f"{_fmt(rule.max_regression)}"))
    if rule.max_relative_regression is not None:
        slack = rule.max_relative_regression * abs(base)
        allowed.append(("max_relative_regression", slack, f"{rule.max_relative_regression:.4g} × |baseline|"))
    checks = []
    for kind, slack, text in allowed:
        limit = base - sign * slack
        worse = sign * (base - metric.value)  # > 0: the value moved in the bad direction
        change = f"regressed by {_fmt(worse)}" if worse > 0 else f"improved by {_fmt(-worse)}" if worse else "unchanged"
        what = f"baseline {_fmt(base)} (allowed regression {text})"
        statement = f"{rule.metric} = {_fmt(metric.value)} {change} vs {what}"
        checks.append(_bound(kind, metric, limit, at_least=rule.higher_is_better, what=what, statement=statement))
    return checks


def _bound(  # noqa: PLR0913 - keyword-only details of one check
    kind: CheckKind,
    metric: MetricRecord,
    limit: float,
    *,
    at_least: bool,
    what: str,
    statement: str | None = None,
) -> CheckResult:
    slack = _TOLERANCE * max(1.0, abs(limit))
    holds: Callable[[float], bool] = (lambda v: v >= limit - slack) if at_least else (lambda v: v <= limit + slack)
    passed = holds(metric.value)
    edge = metric.ci_low if at_least else metric.ci_high
    near = passed and edge is not None and math.isfinite(edge) and not holds(edge)
    if statement is not None:
        text = statement
    elif passed:
        text = f"{metric.name} = {_fmt(metric.value)} {'≥' if at_least else '≤'} {what}"
    else:
        text = f"{metric.name} = {_fmt(metric.value)} is {'below' if at_least else 'above'} {what}"
    if near:
        text += f" (near miss: its interval {_interval(metric)} reaches past {_fmt(limit)})"
    return CheckResult(kind=kind, limit=limit, passed=passed, near_miss=near, message=text)


def _interval(metric: MetricRecord) -> str:
    low = "?" if metric.ci_low is None else _fmt(metric.ci_low)
    high = "?" if metric.ci_high is None else _fmt(metric.ci_high)
    return f"[{low}, {high}]"
