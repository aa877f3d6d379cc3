"""Run records: versioned, self-describing accounts of runs, kept in an SQLite store.

Write a run step by step, so that an interrupted run can resume::

    from ethos.records import BenchmarkInfo, RunRecord, RunStore, SampleResult, Timings

    record = RunRecord.start(model=model.ref, benchmark=BenchmarkInfo(name="stereoset", version="1"))
    with RunStore.open(settings.db_path) as store:
        store.begin(record)
        done = store.completed_indices(record.id)          # empty for a new run
        store.add_samples(record.id, [SampleResult.from_score(i, s, score) ...])
        store.finish(record.id, status="finished", metrics=metrics, timings=Timings(...))

and read it back with ``load_run(run_id)`` (any unique prefix of the id works).

The same database keeps the privacy-budget ledger of differential-privacy releases
(:class:`PrivacyLedger`: per-dataset budgets, atomic spends that cannot overdraw).
"""

from ethos.records._base import RUN_ID_PATTERN, new_run_id
from ethos.records._budget import BUDGET_EXCEEDED, BudgetSpend, BudgetStatus, DatasetRef, PrivacyLedger
from ethos.records._compare import SIGNIFICANCE_RULE, Comparison, MetricDelta, Mismatch, compare_runs
from ethos.records._energy import MEASURED_METHODS, combine_energy
from ethos.records._environment import TRACKED_PACKAGES, Environment, git_revision
from ethos.records._gate_rules import GateRule, GateRules, load_rules, parse_rules
from ethos.records._gates import CheckResult, GateReport, RuleResult, RuleStatus, evaluate_gates
from ethos.records._migrations import MIGRATIONS, migration_names
from ethos.records._schema import (
    RUN_STATUSES,
    SCHEMA_VERSION,
    BenchmarkInfo,
    DataFile,
    Energy,
    MetricRecord,
    ModelInfo,
    RunRecord,
    RunStatus,
    SampleResult,
    Timings,
    hash_inputs,
)
from ethos.records._store import RunStore, load_run
from ethos.records._summary import RunSummary

__all__ = [
    "BUDGET_EXCEEDED",
    "MEASURED_METHODS",
    "MIGRATIONS",
    "RUN_ID_PATTERN",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "SIGNIFICANCE_RULE",
    "TRACKED_PACKAGES",
    "BenchmarkInfo",
    "BudgetSpend",
    "BudgetStatus",
    "CheckResult",
    "Comparison",
    "DataFile",
    "DatasetRef",
    "Energy",
    "Environment",
    "GateReport",
    "GateRule",
    "GateRules",
    "MetricDelta",
    "MetricRecord",
    "Mismatch",
    "ModelInfo",
    "PrivacyLedger",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "RunSummary",
    "RuleResult",
    "RuleStatus",
    "SampleResult",
    "Timings",
    "combine_energy",
    "compare_runs",
    "evaluate_gates",
    "git_revision",
    "hash_inputs",
    "load_run",
    "load_rules",
    "migration_names",
    "new_run_id",
    "parse_rules",
]
