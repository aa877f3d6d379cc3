"""Audits: benchmarks scored on a model, recorded as runs.

A benchmark is a :class:`Benchmark` subclass registered with ``@benchmark``; suites (``bias``)
group them. ``ethos audit run --model SPEC --suite bias`` runs every benchmark of the suite the
model can do. In Python::

    from ethos.audit import RunOptions, Runner, benchmark_registry

    bench = benchmark_registry.get("crows_pairs")()
    with load_model("hf:./gpt2") as model, RunStore.open(settings.db_path) as store:
        record = Runner(store, RunOptions.from_settings(settings)).run(bench, model)
"""

from ethos.audit._benchmark import Benchmark, NoParams, Variant, benchmark, benchmark_registry
from ethos.audit._energy import WORLD_INTENSITY, EnergyMeter, EnergyOptions, energy_available
from ethos.audit._resume import ResumeInfo, resume_info
from ethos.audit._runner import SAMPLE_ERRORS_METRIC, Runner, RunOptions, run_benchmark
from ethos.audit._stats import N_RESAMPLES, bootstrap_ci, grouped, metric, metrics_by_group
from ethos.audit._suites import Plan, Planned, Skipped, known_suites, plan_runs, suite_benchmarks

__all__ = [
    "N_RESAMPLES",
    "SAMPLE_ERRORS_METRIC",
    "WORLD_INTENSITY",
    "Benchmark",
    "EnergyMeter",
    "EnergyOptions",
    "NoParams",
    "Plan",
    "Planned",
    "ResumeInfo",
    "RunOptions",
    "Runner",
    "Skipped",
    "Variant",
    "benchmark",
    "benchmark_registry",
    "bootstrap_ci",
    "energy_available",
    "grouped",
    "known_suites",
    "metric",
    "metrics_by_group",
    "plan_runs",
    "resume_info",
    "run_benchmark",
    "suite_benchmarks",
]
