"""``ethos runs``: list, show, compare, export and delete stored run records.

The record and store modules are imported inside each command, so ``ethos --help`` does not pay
for SQLite and the record schema.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.text import Text

from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import console, emit_json, err_console, table
from ethos.errors import ConfigError, DataError

if TYPE_CHECKING:
    from ethos.records import Energy, MetricDelta, MetricRecord, RunRecord, RunStatus, RunStore, RunSummary

app = typer.Typer(help="List, show, compare, export and delete stored runs.", no_args_is_help=True)

_SHORT_ID = 12  # the full millisecond timestamp of a ULID plus two random characters
_HEADLINE_METRICS = 3

ID_ARGUMENT = typer.Argument(..., help="Run id, or any unique prefix of it (see `ethos runs list`).")
METRIC_OPTION = typer.Option(None, "--metric", help="Only this metric (repeatable).")
ALL_GROUPS_OPTION = typer.Option(False, "--all-groups", help="Also compare per-group (disaggregated) values.")
OUTPUT_OPTION = typer.Option(None, "--output", "-o", help="Write to this file (atomically) instead of stdout.")


def _open_store(db_path: Path) -> RunStore:
    from ethos.records import RunStore

    # Reading commands never create a database: a missing one is reported, not made.
    return RunStore(db_path, create=False)


@app.command("list")
def list_runs(
    model: str | None = typer.Option(None, "--model", help="Only runs of this model spec or name."),
    benchmark: str | None = typer.Option(None, "--benchmark", help="Only runs of this benchmark."),
    status: str | None = typer.Option(None, "--status", help="Only runs with this status."),
    limit: int = typer.Option(20, "--limit", min=1, help="Show at most this many runs, newest first."),
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List stored runs, newest first, with their headline metrics."""
    from ethos.records import RUN_STATUSES

    if status is not None and status not in RUN_STATUSES:
        raise ConfigError(f"--status {status!r} is not a run status; choose one of {', '.join(RUN_STATUSES)}")
    db_path = settings_from_flags(home).db_path
    summaries: list[RunSummary] = []
    if db_path.exists():  # no database yet simply means no runs yet
        with _open_store(db_path) as store:
            wanted = cast("RunStatus | None", status)
            summaries = store.query(model=model, benchmark=benchmark, status=wanted, limit=limit)
    if as_json:
        emit_json([s.model_dump(mode="json") for s in summaries])
        return
    if not summaries:
        console.print(f"no runs in {db_path}")
        return
    rows = [
        (
            s.id[:_SHORT_ID],
            _when(s.created_at, seconds=False),
            s.model,
            f"{s.benchmark} v{s.benchmark_version}",
            s.status,
            s.sample_count,
            _headline(s.metrics),
        )
        for s in summaries
    ]
    table(f"runs in {db_path}", ["id", "created (UTC)", "model", "benchmark", "status", "samples", "metrics"], rows)


@app.command("show")
def show(run_id: str = ID_ARGUMENT, home: Path | None = HOME_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show a run: what ran, on what, and its metrics with confidence intervals."""
    with _open_store(settings_from_flags(home).db_path) as store:
        record = store.get(run_id)
    errors = sum(1 for s in record.samples if s.error is not None)
    if as_json:
        data = record.model_dump(mode="json", exclude={"samples"})
        emit_json({**data, "sample_count": len(record.samples), "error_count": errors})
        return
    table(f"run {record.id}", ["field", "value"], _header_rows(record, errors))
    if not record.metrics:
        console.print("no metrics (the run has not finished)" if record.status == "running" else "no metrics")
        return
    table("metrics", ["metric", "group", "value", "CI", "n"], [_metric_row(m) for m in record.metrics])


IDS_ARGUMENT = typer.Argument(..., metavar="RUN_ID", help="Run ids or unique prefixes (one without --mlflow).")
MLFLOW_OPTION = typer.Option(
    None,
    "--mlflow",
    metavar="URI",
    help="Log the runs to this MLflow tracking URI, e.g. sqlite:///mlflow.db or http://host:5000.",
)
EXPERIMENT_OPTION = typer.Option(
    "ethos", "--experiment", metavar="NAME", help="MLflow experiment (created when missing)."
)


@app.command("export")
def export(  # noqa: PLR0913 - one parameter per command-line option
    run_ids: list[str] = IDS_ARGUMENT,
    output: Path | None = OUTPUT_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
    experiment: str = EXPERIMENT_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Export a run record as JSON (stdout, or -o FILE), or runs to MLflow with --mlflow URI."""
    if mlflow is not None:
        if output is not None:
            raise ConfigError("--mlflow and --output are two different exports; give one of them")
        _export_mlflow(run_ids, mlflow, experiment, home=home, as_json=as_json)
        return
    if len(run_ids) != 1:
        raise ConfigError(
            f"a JSON export takes one run, not {len(run_ids)}; several runs go to MLflow with --mlflow URI"
        )
    _export_json(run_ids[0], output, home=home, as_json=as_json)


def _export_json(run_id: str, output: Path | None, *, home: Path | None, as_json: bool) -> None:
    from ethos._util.atomic import atomic_write_text

    with _open_store(settings_from_flags(home).db_path) as store:
        record = store.get(run_id)
    data = record.model_dump(mode="json")
    if output is None:
        emit_json(data)
        return
    try:
        atomic_write_text(output, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise DataError(f"cannot write {output}: {exc.strerror or exc}; check the path and its folder") from None
    if as_json:
        emit_json({"id": record.id, "path": str(output), "sample_count": len(record.samples)})
        return
    console.print(f"exported run {record.id} ({len(record.samples)} samples) to {output}")


def _export_mlflow(run_ids: list[str], uri: str, experiment: str, *, home: Path | None, as_json: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ethos._cli._progress import progress_wanted
    from ethos._cli.runs_mlflow import export_runs

    with _open_store(settings_from_flags(home).db_path) as store:
        records = [store.get(run_id) for run_id in dict.fromkeys(run_ids)]
    columns = (TextColumn("MLflow export"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    shown = progress_wanted(err_console, as_json=as_json) and len(records) > 1
    with Progress(*columns, console=err_console, disable=not shown) as bar:
        task = bar.add_task("export", total=len(records))
        done = export_runs(records, uri, experiment=experiment, on_exported=lambda _: bar.advance(task))
    if as_json:
        emit_json({"uri": uri, "experiment": experiment, "runs": [asdict(e) for e in done]})
        return
    for item in done:
        logged = f": {item.metrics} metrics, artifacts {', '.join(item.artifacts)}" if item.artifacts else ""
        console.print(Text(f"{item.action} MLflow run {item.mlflow_run_id} for run {item.run_id}{logged}"))
    if any("report.html" not in e.artifacts for e in done if e.action != "unchanged"):
        err_console.print(Text("note: no HTML report attached (install 'ethos[reports]' to attach one)"))


@app.command("compare")
def compare(
    run_a: str = typer.Argument(..., help="Run A, the reference (id or unique prefix)."),
    run_b: str = typer.Argument(..., help="Run B, the candidate; deltas are B − A."),
    metrics: list[str] | None = METRIC_OPTION,
    all_groups: bool = ALL_GROUPS_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare two runs metric by metric: B − A, relative change, both CIs, and significance."""
    from ethos.records import compare_runs

    with _open_store(settings_from_flags(home).db_path) as store:
        a, b = store.get(run_a, samples=False), store.get(run_b, samples=False)
    result = compare_runs(a, b, metrics=metrics or (), all_groups=all_groups)
    if as_json:
        data = result.model_dump(mode="json")
        data["mismatches"] = [{**m.model_dump(mode="json"), "message": m.message} for m in result.mismatches]
        emit_json({**data, "comparable": result.comparable})
        return
    for mismatch in result.mismatches:
        err_console.print(Text(f"warning: {mismatch.message}; these numbers are not directly comparable"))
    title = (
        f"A {a.id[:_SHORT_ID]} ({a.model.spec}, {result.benchmark_a})  vs  "
        f"B {b.id[:_SHORT_ID]} ({b.model.spec}, {result.benchmark_b})"
    )
    if not result.deltas:
        console.print(Text(f"{title}: no metrics to compare"))
        return
    rows = [_delta_row(d) for d in result.deltas]
    table(title, ["metric", "group", "A [CI]", "B [CI]", "Δ (B − A)", "Δ%", "significant"], rows)
    console.print(Text(f"significant: {result.significance_rule}"))


@app.command("delete")
def delete(
    run_id: str = ID_ARGUMENT,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete a run and its samples for good (asks first unless --yes)."""
    with _open_store(settings_from_flags(home).db_path) as store:
        summary = store.summary(run_id)
        if not yes:
            if not sys.stdin.isatty():
                raise ConfigError(
                    f"refusing to delete run {summary.id} without confirmation (no terminal to ask); pass --yes"
                )
            question = (
                f"Delete run {summary.id} ({summary.model}, {summary.benchmark}, {_when(summary.created_at)}, "
                f"{summary.sample_count} samples)?"
            )
            if not typer.confirm(question, default=False):
                console.print("Nothing deleted.")
                return
        store.delete(summary.id)
    if as_json:
        emit_json({"deleted": summary.id})
        return
    console.print(f"deleted run {summary.id}")


def _when(value: datetime | None, *, seconds: bool = True) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _headline(metrics: tuple[MetricRecord, ...]) -> str:
    overall = [m for m in metrics if not m.group][:_HEADLINE_METRICS]
    return ", ".join(f"{m.name}={_num(m.value)}" for m in overall)


def _with_ci(metric: MetricRecord | None) -> str:
    if metric is None:
        return "(missing)"
    if metric.ci_low is None or metric.ci_high is None:
        return _num(metric.value)
    return f"{_num(metric.value)} [{_num(metric.ci_low)}, {_num(metric.ci_high)}]"


def _delta_row(d: MetricDelta) -> tuple[str, ...]:
    from ethos.records._compare import group_label

    delta = "" if d.delta is None else f"{d.delta:+.4g}"
    if d.delta_ci_low is not None and d.delta_ci_high is not None:
        delta += f" [{_num(d.delta_ci_low)}, {_num(d.delta_ci_high)}]"
    rel = "" if d.relative_delta is None else f"{100 * d.relative_delta:+.1f}%"
    significant = {True: "yes", False: "no", None: "n/a"}[d.significant]
    return d.name, group_label(d.group), _with_ci(d.a), _with_ci(d.b), delta, rel, significant


def _metric_row(metric: MetricRecord) -> tuple[str, str, str, str, str]:
    group = ", ".join(f"{k}={v}" for k, v in metric.group.items()) or "(all)"
    ci = "" if metric.ci_low is None or metric.ci_high is None else f"[{_num(metric.ci_low)}, {_num(metric.ci_high)}]"
    return metric.name, group, _num(metric.value), ci, "" if metric.n is None else str(metric.n)


def _header_rows(record: RunRecord, errors: int) -> list[tuple[str, Any]]:
    env = record.environment
    rows: list[tuple[str, Any]] = [
        ("status", record.status),
        ("created (UTC)", _when(record.created_at)),
        ("finished (UTC)", _when(record.finished_at)),
        ("duration", "" if record.duration is None else f"{record.duration:.1f} s"),
        ("model", record.model.spec),
        ("model digest", record.model.digest or "unknown"),
        ("benchmark", f"{record.benchmark.name} v{record.benchmark.version}"),
        ("samples", f"{len(record.samples)} ({errors} with errors)"),
        ("seeds", ", ".join(f"{k}={v}" for k, v in record.seeds.items())),
        ("settings", ", ".join(f"{k}={json.dumps(v)}" for k, v in record.settings.items())),
        ("ethos", f"{record.ethos_version} (record schema {record.schema_version})"),
        ("python", f"{env.python} on {env.platform}"),
        ("gpu", env.gpu or "none"),
        ("git revision", env.git_revision or ""),
    ]
    rows += [("data", f"{d.source} (sha256 {d.sha256[:12]}…)") for d in record.data]
    if record.model.revision:
        rows.insert(6, ("model revision", record.model.revision))
    if record.energy is not None:
        rows += _energy_rows(record.energy)
    if record.tags:
        rows.append(("tags", ", ".join(record.tags)))
    return rows


def _energy_rows(energy: Energy) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("energy", energy.describe())]
    if energy.carbon_intensity is not None:
        where = energy.country_iso_code or "set by energy_intensity or the world average"
        rows.append(("carbon intensity", f"{energy.carbon_intensity:g} gCO2e/kWh ({where})"))
    if energy.tracker:
        rows.append(("energy tracker", f"{energy.tracker}, {energy.tracking_mode or 'machine'} level"))
    rows += [("energy note", note) for note in energy.notes]
    return rows
