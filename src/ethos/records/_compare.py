"""Compare two runs metric by metric: deltas, confidence intervals and whether a change is significant.

Metrics are matched by ``(name, group)``. For each pair the comparison reports ``B − A``, the
relative change ``(B − A) / |A|``, both runs' intervals, an approximate interval of the difference
and whether that interval excludes zero.

**Significance rule** (:data:`SIGNIFICANCE_RULE`). Records hold each run's point estimate and its
(bootstrap) confidence interval, not a shared resampling, so the interval of ``B − A`` is
recovered from the two intervals by MOVER (Newcombe 1998; Zou & Donner 2008)::

    lower = Δ − √((B − B_low)² + (A_high − A)²)
    upper = Δ + √((B_high − B)² + (A − A_low)²)

For symmetric intervals of half-widths ``w_A`` and ``w_B`` this is ``Δ ± √(w_A² + w_B²)``. The
change is *significant* when this interval excludes 0. It assumes the two runs are independent
(different samples or different randomness) and that both intervals have the same level (95 %
in Ethos). Two runs scored on the *same* samples are positively correlated, so the rule is then
conservative: a paired test over shared samples would find more differences, but it needs the
benchmark's own metric code, and comparisons never recompute a benchmark's metrics. Without
intervals on both sides, significance is undefined (``None``), never guessed.

Numbers are comparable only when both runs measured the same thing: :func:`compare_runs` lists
every difference in benchmark, benchmark version, data checksums and result-shaping settings
as a :class:`Mismatch`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import JsonValue

from ethos.errors import ConfigError
from ethos.records._base import RecordModel
from ethos.records._schema import MetricRecord, RunRecord

__all__ = [
    "EXECUTION_SETTINGS",
    "SIGNIFICANCE_RULE",
    "Comparison",
    "MetricDelta",
    "Mismatch",
    "compare_runs",
    "difference_interval",
    "group_label",
    "run_mismatches",
]

SIGNIFICANCE_RULE = (
    "mover-95: the interval of B − A, recovered from both runs' 95% intervals by MOVER "
    "(Δ ± √(w_A² + w_B²) when symmetric), excludes 0; assumes independent runs"
)
"""How :attr:`MetricDelta.significant` is decided, in words (also printed by ``ethos runs compare``)."""

EXECUTION_SETTINGS = frozenset({"batch_size", "chunk_size"})
"""Settings that change how a run executes but not its numbers; differences in them are not reported."""


class MetricDelta(RecordModel):
    """One metric of two runs side by side."""

    name: str
    """Metric name."""
    group: dict[str, str] = {}
    """The group the metric is disaggregated by; empty for the overall value."""
    a: MetricRecord | None
    """The metric in run A; ``None`` when run A lacks it."""
    b: MetricRecord | None
    """The metric in run B; ``None`` when run B lacks it."""
    delta: float | None = None
    """``B − A``; ``None`` when a side is missing or undefined (NaN)."""
    relative_delta: float | None = None
    """``(B − A) / |A|``; ``None`` when A is 0 or ``delta`` is ``None``."""
    delta_ci_low: float | None = None
    """Lower end of the approximate interval of ``B − A`` (see :data:`SIGNIFICANCE_RULE`)."""
    delta_ci_high: float | None = None
    """Upper end of the approximate interval of ``B − A``."""
    significant: bool | None = None
    """Whether the interval of ``B − A`` excludes 0; ``None`` when either run has no interval."""


class Mismatch(RecordModel):
    """A way in which two runs differ that makes their numbers not directly comparable."""

    field: str
    """The record field that differs, e.g. ``benchmark.version`` or ``settings.variant``."""
    a: JsonValue
    """Its value in run A."""
    b: JsonValue
    """Its value in run B."""

    @property
    def message(self) -> str:
        """One line for people, e.g. ``benchmark.version differs: A has '1', B has '2'``."""
        return self.describe()

    def describe(self, a: str = "A", b: str = "B") -> str:
        """:attr:`message` with other names for the two runs (e.g. ``baseline`` and ``run``)."""
        return f"{self.field} differs: {a} has {_show(self.a)}, {b} has {_show(self.b)}"


class Comparison(RecordModel):
    """Two runs compared: matched metrics and the reasons their numbers may not be comparable."""

    run_a: str
    """Id of run A (the reference)."""
    run_b: str
    """Id of run B (the candidate); deltas are ``B − A``."""
    model_a: str
    """Model spec of run A."""
    model_b: str
    """Model spec of run B."""
    benchmark_a: str
    """``name vVERSION`` of run A's benchmark."""
    benchmark_b: str
    """``name vVERSION`` of run B's benchmark."""
    significance_rule: str = SIGNIFICANCE_RULE
    """How significance was decided."""
    deltas: tuple[MetricDelta, ...] = ()
    """Matched metrics, in run A's order, then those only run B has."""
    mismatches: tuple[Mismatch, ...] = ()
    """Differences that make the numbers not directly comparable (empty when comparable)."""

    @property
    def comparable(self) -> bool:
        """Whether the runs measured the same thing (no :attr:`mismatches`)."""
        return not self.mismatches


def compare_runs(a: RunRecord, b: RunRecord, *, metrics: Sequence[str] = (), all_groups: bool = False) -> Comparison:
    """Compare run ``b`` against run ``a``.

    Args:
        a: The reference run.
        b: The candidate run; deltas are ``B − A``.
        metrics: Only these metric names (default: all).
        all_groups: Include disaggregated (per-group) metrics, not only the overall ones.

    Raises:
        ConfigError: A name in ``metrics`` is in neither run (the message lists the known names).
    """
    known = {m.name for m in (*a.metrics, *b.metrics)}
    unknown = [name for name in metrics if name not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "none (the runs have no metrics)"
        raise ConfigError(f"--metric {unknown[0]!r} is in neither run; metrics of these runs: {listing}")
    wanted = set(metrics)

    def keep(m: MetricRecord) -> bool:
        return (not wanted or m.name in wanted) and (all_groups or not m.group)

    side_a = {_key(m): m for m in a.metrics if keep(m)}
    side_b = {_key(m): m for m in b.metrics if keep(m)}
    keys = list(side_a) + [k for k in side_b if k not in side_a]
    return Comparison(
        run_a=a.id,
        run_b=b.id,
        model_a=a.model.spec,
        model_b=b.model.spec,
        benchmark_a=f"{a.benchmark.name} v{a.benchmark.version}",
        benchmark_b=f"{b.benchmark.name} v{b.benchmark.version}",
        deltas=tuple(_delta(side_a.get(k), side_b.get(k)) for k in keys),
        mismatches=tuple(run_mismatches(a, b)),
    )


def difference_interval(a: MetricRecord, b: MetricRecord) -> tuple[float, float] | None:
    """The approximate interval of ``b.value − a.value`` by MOVER; ``None`` without both intervals.

    Each side's distances from its point estimate to its bounds are combined in quadrature (an
    estimate outside its own interval counts as distance 0).
    """
    if a.ci_low is None or a.ci_high is None or b.ci_low is None or b.ci_high is None:
        return None
    values = (a.value, b.value, a.ci_low, a.ci_high, b.ci_low, b.ci_high)
    if not all(math.isfinite(v) for v in values):
        return None
    delta = b.value - a.value
    below = math.hypot(max(b.value - b.ci_low, 0.0), max(a.ci_high - a.value, 0.0))
    above = math.hypot(max(b.ci_high - b.value, 0.0), max(a.value - a.ci_low, 0.0))
    return delta - below, delta + above


def run_mismatches(a: RunRecord, b: RunRecord) -> list[Mismatch]:
    """Every difference between two runs that makes their numbers not directly comparable.

    Checked: benchmark name and version, the data files' checksums, and every setting except
    the execution-only ones in :data:`EXECUTION_SETTINGS` (``settings.variant``,
    ``settings.params``, ``settings.limit`` …).
    """
    found: list[Mismatch] = []
    if a.benchmark.name != b.benchmark.name:
        found.append(Mismatch(field="benchmark.name", a=a.benchmark.name, b=b.benchmark.name))
    if a.benchmark.version != b.benchmark.version:
        found.append(Mismatch(field="benchmark.version", a=a.benchmark.version, b=b.benchmark.version))
    sums_a, sums_b = sorted(d.sha256 for d in a.data), sorted(d.sha256 for d in b.data)
    if sums_a != sums_b:
        found.append(Mismatch(field="data", a=_checksums(a), b=_checksums(b)))
    for name in sorted(set(a.settings) | set(b.settings)):
        if name in EXECUTION_SETTINGS:
            continue
        value_a, value_b = a.settings.get(name), b.settings.get(name)
        if value_a != value_b:
            found.append(Mismatch(field=f"settings.{name}", a=value_a, b=value_b))
    return found


def group_label(group: dict[str, str]) -> str:
    """``key=value, …`` for a group, or ``(all)`` for the overall value."""
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "(all)"


def _key(metric: MetricRecord) -> tuple[str, tuple[tuple[str, str], ...]]:
    return metric.name, tuple(sorted(metric.group.items()))


def _delta(a: MetricRecord | None, b: MetricRecord | None) -> MetricDelta:
    known = a if a is not None else b
    if known is None:
        raise ValueError("a compared metric must exist in at least one run")
    fields: dict[str, Any] = {"name": known.name, "group": known.group, "a": a, "b": b}
    if a is None or b is None or not (math.isfinite(a.value) and math.isfinite(b.value)):
        return MetricDelta(**fields)
    delta = b.value - a.value
    fields["delta"] = delta
    fields["relative_delta"] = delta / abs(a.value) if a.value != 0 else None
    interval = difference_interval(a, b)
    if interval is not None:
        low, high = interval
        fields.update(delta_ci_low=low, delta_ci_high=high, significant=low > 0 or high < 0)
    return MetricDelta(**fields)


def _checksums(run: RunRecord) -> list[JsonValue]:
    return [f"{d.source} sha256:{d.sha256[:12]}" for d in run.data]


def _show(value: JsonValue) -> str:
    return "nothing" if value is None else repr(value)
