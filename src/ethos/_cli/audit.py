"""``ethos audit``: run benchmarks and suites on a model, list benchmarks, score outside predictions.

Heavy modules (the runner, the store, model providers) are imported inside the commands, so
``ethos --help`` stays fast.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ethos._cli import audit_score
from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import console, emit_json, err_console, table
from ethos.errors import ConfigError, EthosError
from ethos.hooks import Hooks, RunFinished, RunStarted

if TYPE_CHECKING:
    from ethos.audit import Benchmark, RunOptions, Skipped
    from ethos.config import Settings
    from ethos.records import MetricRecord, RunRecord, RunStore

app = typer.Typer(
    help="Run benchmarks on a model, list them, and score predictions made elsewhere.", no_args_is_help=True
)
app.add_typer(audit_score.app, name="score")

_RESUME_CONFLICTS = (
    "--model", "--suite", "--benchmark", "-P", "--variant", "--limit", "--seed", "--batch-size", "--scenario"
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Job:
    """What one ``ethos audit run`` will do."""

    model: str
    benchmarks: tuple[Benchmark, ...]
    suite: str | None
    options: RunOptions
    settings: Settings
    resume: str | None = None


class _Tracker(Hooks):
    """Remembers the run in progress, so an interruption can name it."""

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.status: str | None = None

    def on_run_started(self, event: RunStarted) -> None:
        self.run_id, self.status = event.run_id, "running"

    def on_run_finished(self, event: RunFinished) -> None:
        self.status = event.status


MODEL_OPTION = typer.Option(None, "--model", "-m", help="Model spec, e.g. hf:./gpt2, encoder:minilm.")
SUITE_OPTION = typer.Option(None, "--suite", help="Run every benchmark of this suite that the model can do.")
BENCHMARK_OPTION = typer.Option(None, "--benchmark", "-b", help="A benchmark to run (repeatable).")
DATA_DIR_OPTION = typer.Option(None, "--data-dir", help="Local copy of the data [env: ETHOS_DATA_DIR].")
LIMIT_OPTION = typer.Option(None, "--limit", min=1, help="Score at most N samples (a seeded, stratified subset).")
SEED_OPTION = typer.Option(None, "--seed", help="Seed for sampling and bootstrap intervals [env: ETHOS_SEED].")
BATCH_OPTION = typer.Option(None, "--batch-size", min=1, help="Requests per model batch [env: ETHOS_BATCH_SIZE].")
PARAM_OPTION = typer.Option(None, "--param", "-P", help="Benchmark parameter key=value or BENCHMARK.key=value.")
VARIANT_OPTION = typer.Option(None, "--variant", help="Run this variant of the benchmark (see `ethos audit list`).")
RESUME_OPTION = typer.Option(None, "--resume", help="Complete an interrupted run (its id or a unique prefix).")
ENERGY_OPTION = typer.Option(
    None,
    "--energy/--no-energy",
    help="Measure energy and CO2e with CodeCarbon (default: on when installed) [env: ETHOS_ENERGY].",
)
SCENARIO_OPTION = typer.Option(
    None, "--scenario", help="Scenario TOML file: adds or replaces counterfactual scenarios (suite fairness)."
)


@app.command("run")
def run(  # noqa: PLR0913 - one parameter per command-line option
    model: str | None = MODEL_OPTION,
    suite: str | None = SUITE_OPTION,
    benchmarks: list[str] | None = BENCHMARK_OPTION,
    data_dir: Path | None = DATA_DIR_OPTION,
    limit: int | None = LIMIT_OPTION,
    seed: int | None = SEED_OPTION,
    batch_size: int | None = BATCH_OPTION,
    params: list[str] | None = PARAM_OPTION,
    variant: str | None = VARIANT_OPTION,
    resume: str | None = RESUME_OPTION,
    scenarios: list[Path] | None = SCENARIO_OPTION,
    energy: bool | None = ENERGY_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run benchmarks (or a suite) on a model; each run is recorded and can be resumed after Ctrl-C."""
    from ethos.records import RunStore

    flags = (model, suite, benchmarks, params, variant, limit, seed, batch_size, scenarios)
    given = [flag for flag, value in zip(_RESUME_CONFLICTS, flags, strict=True) if value not in (None, [])]
    settings = settings_from_flags(home, data_dir=data_dir, seed=seed, batch_size=batch_size, energy=energy)
    _check_energy(settings, asked=energy is True)
    with RunStore.open(settings.db_path) as store:
        if resume is not None:
            job = _resume_job(store, resume, given, home=home, data_dir=data_dir, energy=energy)
        else:
            job = _fresh_job(model, suite, benchmarks or [], params or [], variant, limit, settings, scenarios or [])
        records = _execute(job, store, as_json=as_json)
    _report(records, as_json=as_json)


@app.command("list")
def list_benchmarks(as_json: bool = JSON_OPTION) -> None:
    """List the benchmarks: version, suites, variants with the capabilities each needs, summary."""
    from ethos.audit import benchmark_registry

    items = [_describe(name, benchmark_registry.get(name)) for name in benchmark_registry.names()]
    if as_json:
        emit_json(items)
        return
    if not items:
        console.print("no benchmarks registered")
        return
    rows = [
        (
            i["name"],
            i["version"],
            ", ".join(i["suites"]),
            "; ".join(f"{v['name']} ({'+'.join(v['needs']) or 'nothing'})" for v in i["variants"]),
            i["summary"],
        )
        for i in items
    ]
    table("benchmarks", ["benchmark", "version", "suites", "variants (needs)", "summary"], rows)


def _describe(name: str, cls: type[Benchmark]) -> dict[str, Any]:
    variants = [{"name": v.name, "needs": list(v.needs), "description": v.description} for v in cls.variants]
    suites = list(cls.suites)
    return {"name": name, "version": cls.version, "suites": suites, "variants": variants, "summary": cls.summary}


# -- building the job ------------------------------------------------------------------------------


def _fresh_job(  # noqa: PLR0913 - one parameter per command-line option
    model: str | None,
    suite: str | None,
    names: list[str],
    params: list[str],
    variant: str | None,
    limit: int | None,
    settings: Settings,
    scenarios: Sequence[Path] = (),
) -> _Job:
    from ethos.audit import RunOptions, benchmark_registry, suite_benchmarks

    if model is None:
        raise ConfigError("ethos audit run needs --model SPEC (e.g. --model hf:./gpt2), or --resume RUN_ID")
    if (suite is None) == (not names):
        raise ConfigError("give either --suite NAME or one or more --benchmark NAME (see `ethos audit list`)")
    if suite is not None:
        classes = suite_benchmarks(suite)
    else:
        classes = [benchmark_registry.get(n) for n in dict.fromkeys(names)]
    if variant is not None and len(classes) != 1:
        raise ConfigError("--variant applies to one benchmark; run a single --benchmark with it")
    by_name = _parse_params(params, [c.name for c in classes])
    if scenarios:
        _add_scenarios(by_name, classes, scenarios)
    benches = tuple(cls(by_name[cls.name]) for cls in classes)
    options = RunOptions.from_settings(settings, limit=limit, variant=variant)
    return _Job(model, benches, suite, options, settings)


def _check_energy(settings: Settings, *, asked: bool) -> None:
    """Energy is measured when CodeCarbon is there; without it: an error if asked for, else a note."""
    from ethos.audit import energy_available
    from ethos.errors import MissingDependencyError

    if not settings.energy or energy_available():
        return
    if asked:
        raise MissingDependencyError("codecarbon", "energy", "--energy")
    err_console.print(
        "note: energy not measured (CodeCarbon is not installed: pip install 'ethos[energy]'; "
        "--no-energy or ETHOS_ENERGY=false hides this note)",
        markup=False,
        highlight=False,
    )


def _resume_job(  # noqa: PLR0913 - one parameter per command-line option
    store: RunStore,
    run_id: str,
    given: list[str],
    *,
    home: Path | None,
    data_dir: Path | None,
    energy: bool | None = None,
) -> _Job:
    from ethos.audit import RunOptions, benchmark_registry, resume_info

    if given:
        raise ConfigError(
            f"--resume continues a run with its own settings; drop {', '.join(given)} "
            "(only --data-dir, --energy and --home may be given)"
        )
    info = resume_info(store, run_id)
    settings = settings_from_flags(home, data_dir=data_dir, seed=info.seed, batch_size=info.batch_size, energy=energy)
    bench = benchmark_registry.get(info.benchmark)(info.params)
    return _Job(info.model, (bench,), None, RunOptions.from_settings(settings), settings, resume=info.run_id)


def _parse_params(values: Sequence[str], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``-P key=value`` (one benchmark) or ``-P BENCHMARK.key=value``, by benchmark name."""
    out: dict[str, dict[str, Any]] = {name: {} for name in names}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"-P {item!r} must look like key=value (or BENCHMARK.key=value)")
        target, dot, field = key.partition(".")
        if dot and target in out:
            out[target][field] = _param_value(raw)
        elif len(names) == 1:
            out[names[0]][key] = _param_value(raw)
        else:
            raise ConfigError(f"-P {item!r}: several benchmarks will run; name one, e.g. -P {names[0]}.{key}={raw}")
    return out


def _add_scenarios(
    by_name: dict[str, dict[str, Any]], classes: Sequence[type[Benchmark]], files: Sequence[Path]
) -> None:
    """``--scenario PATH``: absolute paths appended to ``scenario_files`` of each benchmark that reads them."""
    takers = [c.name for c in classes if "scenario_files" in c.Params.model_fields]
    if not takers:
        raise ConfigError("--scenario applies to benchmarks that read scenario files; run --suite fairness with it")
    for name in takers:
        given = by_name[name].get("scenario_files", [])
        given = [p.strip() for p in given.split(",") if p.strip()] if isinstance(given, str) else list(given)
        by_name[name]["scenario_files"] = [*given, *(str(f.expanduser().resolve()) for f in files)]


def _param_value(raw: str) -> Any:
    """Lists and objects are JSON; anything else stays a string (the benchmark's Params converts it)."""
    if raw.strip().startswith(("[", "{")):
        try:
            return json.loads(raw)
        except ValueError:
            raise ConfigError(f"-P value {raw!r} looks like JSON but is not valid JSON") from None
    return raw


# -- running ---------------------------------------------------------------------------------------


def _execute(job: _Job, store: RunStore, *, as_json: bool) -> list[RunRecord]:
    from ethos._cli._progress import ProgressDisplay, progress_wanted
    from ethos.audit import Runner, plan_runs
    from ethos.models import ModelOptions, load_model

    tracker = _Tracker()
    display = ProgressDisplay(err_console) if progress_wanted(err_console, as_json=as_json) else None
    hooks: list[Hooks] = [tracker] + ([display] if display is not None else [])
    runner = Runner(store, job.options, hooks=hooks, download_progress=display.download if display else None)
    records: list[RunRecord] = []
    try:
        with load_model(job.model, ModelOptions.from_settings(job.settings)) as model:
            plan = plan_runs(
                job.benchmarks, model.capabilities, model=job.model, suite=job.suite, prefer=job.options.variant
            )
            _print_skipped(plan.skipped)
            for planned in plan.runs:
                records.append(runner.run(planned.benchmark, model, resume=job.resume))
                if runner.energy_problem:
                    err_console.print(f"note: energy not measured: {runner.energy_problem}", markup=False)
    except KeyboardInterrupt:
        _stop(display)
        _report(records, as_json=as_json)
        _interrupted(tracker, None)
        raise typer.Exit(130) from None
    except EthosError as exc:
        _stop(display)
        _report(records, as_json=as_json)  # the runs that finished before the error
        if tracker.status != "interrupted":
            raise
        _interrupted(tracker, exc)
        raise typer.Exit(exc.exit_code) from None
    finally:
        _stop(display)
    return records


def _stop(display: Any) -> None:
    if display is not None:
        display.close()


def _interrupted(tracker: _Tracker, exc: EthosError | None) -> None:
    from ethos._cli._output import err

    if exc is not None:
        err(str(exc))
    what = "interrupted" if exc is None else "the run is kept"
    if tracker.run_id is not None and tracker.status == "interrupted":
        err_console.print(f"{what}; resume with: ethos audit run --resume {tracker.run_id}", markup=False)
    else:
        err_console.print("interrupted", markup=False)


def _print_skipped(skipped: Sequence[Skipped]) -> None:
    for item in skipped:
        err_console.print(f"skipped {item.name}: {item.reason}", markup=False, highlight=False)


# -- reporting -------------------------------------------------------------------------------------


def _report(records: Sequence[RunRecord], *, as_json: bool) -> None:
    if as_json:
        emit_json([_summary(r) for r in records])
        return
    for record in records:
        errors = sum(1 for s in record.samples if s.error is not None)
        console.print(
            f"run {record.id}  {record.benchmark.name} v{record.benchmark.version}  "
            f"variant {record.settings.get('variant')}  model {record.model.spec}  "
            f"{len(record.samples)} samples" + (f" ({errors} failed)" if errors else ""),
            markup=False,
        )
        rows = [_metric_row(m) for m in _ordered(record)]
        table(f"{record.benchmark.name} metrics", ["metric", "value", "95% CI", "n", "group"], rows)
        if record.energy is not None:
            console.print(f"energy: {record.energy.describe()}", markup=False, highlight=False)


def _summary(record: RunRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "status": record.status,
        "model": record.model.spec,
        "model_digest": record.model.digest,
        "benchmark": record.benchmark.name,
        "benchmark_version": record.benchmark.version,
        "variant": record.settings.get("variant"),
        "sample_count": len(record.samples),
        "error_count": sum(1 for s in record.samples if s.error is not None),
        "seconds": record.timings.seconds,
        "metrics": [m.model_dump(mode="json") for m in _ordered(record)],
        "energy": None if record.energy is None else record.energy.model_dump(mode="json"),
    }


def _ordered(record: RunRecord) -> list[MetricRecord]:
    """Headline metrics first (overall before groups, in headline order), then the rest as stored."""
    from ethos.audit import benchmark_registry

    headline: tuple[str, ...] = ()
    if record.benchmark.name in benchmark_registry:
        headline = benchmark_registry.get(record.benchmark.name).headline
    rank = {name: i for i, name in enumerate(headline)}
    indexed = list(enumerate(record.metrics))
    indexed.sort(key=lambda im: (im[1].name not in rank, bool(im[1].group), rank.get(im[1].name, 0), im[0]))
    return [m for _, m in indexed]


def _metric_row(m: MetricRecord) -> tuple[str, str, str, str, str]:
    ci = "" if m.ci_low is None or m.ci_high is None else f"[{_num(m.ci_low)}, {_num(m.ci_high)}]"
    group = ", ".join(f"{k}={v}" for k, v in m.group.items())
    return m.name, _num(m.value), ci, "" if m.n is None else str(m.n), group


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4f}" if 1e-4 <= abs(value) < 1e6 else f"{value:.4g}"
