"""``ethos dp``: differential-privacy releases of CSV columns, and their per-dataset budget.

A release is composed here, because the DP library (``ethos.pii.dp``) must not know the ledger
(``ethos.records``): check the budget → compute the release → charge the budget atomically
(re-checking under the database's write lock) → store the run record → print. If the charge is
refused, the computed release is discarded unseen. OpenDP, pandas and the records are imported
inside the commands, so ``ethos --help`` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import console, emit_json, err_console, table
from ethos.errors import ConfigError, DataError

if TYPE_CHECKING:
    from ethos.pii.dp import Release, ReleaseSpec
    from ethos.records import BudgetStatus, DatasetRef, RunRecord

app = typer.Typer(
    help="Differentially private statistics of CSV files, and their privacy budgets.", no_args_is_help=True
)
budget_app = typer.Typer(help="Show or set a dataset's privacy budget.", no_args_is_help=True)
app.add_typer(budget_app, name="budget")

FILE_ARGUMENT = typer.Argument(..., help="The CSV file (its SHA-256 keys the budget).")
QUERY_OPTION = typer.Option(
    ..., "--query", "-q", help="count, sum:COL, mean:COL, histogram:COL or quantile:COL:Q (repeatable)."
)
EPSILON_OPTION = typer.Option(..., "--epsilon", help="Total ε of this release, split over the queries.")
DELTA_OPTION = typer.Option(0.0, "--delta", help="Largest δ this release may use (every mechanism here uses 0).")
BOUNDS_OPTION = typer.Option(None, "--bounds", help="Clamping bounds COL=LOW,HIGH (required for sum, mean, quantile).")
CATEGORIES_OPTION = typer.Option(None, "--categories", help="Declared categories COL=a,b,c (required for histogram).")
SPLIT_OPTION = typer.Option(None, "--split", help="Relative ε weights, one per query, e.g. 1,3 (default: equal).")
SIZE_OPTION = typer.Option(None, "--size", min=1, help="The row count, only when it is public (sized OpenDP mean).")
SEP_OPTION = typer.Option(None, "--sep", help="CSV field separator (default: sniffed).")
SEED_OPTION = typer.Option(None, "--seed", help="Seeded noise for tests and reproducible reports, not for production.")
SEED_WARNING = (
    "seeded noise: reproducible for tests and reports, NOT for production releases "
    "(anyone who knows the seed can remove the noise)"
)


@app.command("release")
def release_cmd(  # noqa: PLR0913 - one parameter per command-line option
    file: Path = FILE_ARGUMENT,
    queries: list[str] = QUERY_OPTION,
    epsilon: float = EPSILON_OPTION,
    delta: float = DELTA_OPTION,
    bounds: list[str] | None = BOUNDS_OPTION,
    categories: list[str] | None = CATEGORIES_OPTION,
    split: str | None = SPLIT_OPTION,
    size: int | None = SIZE_OPTION,
    sep: str | None = SEP_OPTION,
    seed: int | None = SEED_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Release DP statistics of a CSV file, charging its privacy budget (refused when it would overdraw)."""
    from ethos.pii.dp import ReleaseSpec, parse_bounds, parse_categories, parse_query, read_csv, release
    from ethos.records import DatasetRef, PrivacyLedger, RunStore

    spec = ReleaseSpec.build(
        [parse_query(q) for q in queries],
        epsilon=epsilon,
        bounds=parse_bounds(bounds or []),
        categories=parse_categories(categories or []),
        split=_weights(split),
        size=size,
    )
    if not (0.0 <= delta < 1.0):
        raise ConfigError(f"--delta must be at least 0 and below 1, got {delta}")
    db_path = settings_from_flags(home).db_path
    dataset = DatasetRef.from_path(_existing(file))
    started = time.time()
    with PrivacyLedger(db_path) as ledger:
        ledger.check(dataset, spec.epsilon, 0.0)
        result = release(spec, read_csv(file, sep), source=file, seed=seed)
        if DatasetRef.from_path(file).sha256 != dataset.sha256:
            raise DataError(f"{file} changed while it was being read; nothing was released or charged, try again")
        record = _run_record(spec, result, dataset, file, started)
        status = ledger.spend(
            dataset,
            query="; ".join(str(q) for q in spec.queries),
            epsilon=result.epsilon,
            delta=result.delta,
            run_id=record.id,
        )
    with RunStore(db_path) as store:
        store.save(record)
    _show_release(result, status, dataset, record.id, as_json=as_json)


def _weights(split: str | None) -> list[float] | None:
    if split is None:
        return None
    try:
        return [float(w) for w in split.split(",")]
    except ValueError:
        raise ConfigError(f"--split {split!r}: give numbers separated by commas, e.g. --split 1,3") from None


def _existing(file: Path) -> Path:
    if not file.is_file():
        raise DataError(f"{file} is not a file; give the CSV to release statistics on")
    return file


def _run_record(spec: ReleaseSpec, result: Release, dataset: DatasetRef, file: Path, started: float) -> RunRecord:
    """The release as a run record: released values only (never the true ones), with ε and noise."""
    from datetime import UTC, datetime

    from ethos.records import (
        BenchmarkInfo,
        DataFile,
        Environment,
        MetricRecord,
        ModelInfo,
        RunRecord,
        Timings,
        new_run_id,
    )

    begin, end = datetime.fromtimestamp(started, UTC), datetime.now(UTC)
    metrics = [
        MetricRecord(
            name=v.query,
            value=v.value,
            ci_low=v.ci_low,
            ci_high=v.ci_high,
            group={} if v.label is None else {"category": v.label},
        )
        for v in result.values
    ]
    settings: dict[str, Any] = {
        "queries": [str(q) for q in spec.queries],
        "epsilon_shares": list(spec.epsilons),
        "bounds": {col: [b.low, b.high] for col, b in spec.bounds.items()},
        "categories": {col: list(c) for col, c in spec.categories.items()},
        "size": spec.size,
        "release": result.to_dict(),
    }
    return RunRecord(
        id=new_run_id(end),
        created_at=begin,
        finished_at=end,
        status="finished",
        model=ModelInfo(
            spec=f"opendp:{result.opendp_version}", provider="opendp", name="opendp", revision=result.opendp_version
        ),
        benchmark=BenchmarkInfo(name="dp-release", version="1"),
        data=(DataFile(source=str(file), sha256=dataset.sha256, size=file.stat().st_size),),
        seeds={} if result.seed is None else {"noise": result.seed},
        settings=settings,
        metrics=tuple(metrics),
        timings=Timings(started=begin, finished=end, seconds=end.timestamp() - started),
        environment=Environment.capture(),
        tags=("dp",),
    )


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4f}"


def _budget_json(status: BudgetStatus) -> dict[str, Any]:
    return {
        **status.model_dump(mode="json"),
        "remaining_epsilon": status.remaining_epsilon,
        "remaining_delta": status.remaining_delta,
    }


def _show_release(result: Release, status: BudgetStatus, dataset: DatasetRef, run_id: str, *, as_json: bool) -> None:
    if result.seed is not None:
        err_console.print(f"warning: {SEED_WARNING}", markup=False)
    if as_json:
        budget = {k: v for k, v in _budget_json(status).items() if k != "spends"}
        emit_json(
            {
                "dataset": {"path": dataset.path, "sha256": dataset.sha256},
                "run_id": run_id,
                **result.to_dict(),
                "budget": budget,
            }
        )
        return
    rows = [
        (
            v.query,
            v.label or "",
            _num(v.value),
            f"{v.epsilon:.4g}",
            v.mechanism,
            f"{v.scale:.4g}" if v.scale is not None else "",
            "" if v.ci_low is None else f"[{_num(v.ci_low)}, {_num(v.ci_high)}]",
        )
        for v in result.values
    ]
    table(
        f"DP release of {dataset.path}",
        ["query", "category", "value", "ε", "mechanism", "scale", "95% noise interval"],
        rows,
    )
    console.print(
        f"charged ε={result.epsilon:g} (δ={result.delta:g}; basic sequential composition); "
        f"remaining ε={status.remaining_epsilon:g} of {status.epsilon:g}; run {run_id}",
        markup=False,
    )


@budget_app.command("set")
def budget_set(
    file: Path = FILE_ARGUMENT,
    epsilon: float = typer.Option(..., "--epsilon", help="Total ε this dataset may ever spend."),
    delta: float = typer.Option(0.0, "--delta", help="Total δ this dataset may ever spend."),
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set (or raise) the total privacy budget of a dataset; it cannot go below what is spent."""
    from ethos.records import DatasetRef, PrivacyLedger

    dataset = DatasetRef.from_path(_existing(file))
    with PrivacyLedger(settings_from_flags(home).db_path) as ledger:
        status = ledger.set_budget(dataset, epsilon=epsilon, delta=delta)
    _show_budget(status, as_json=as_json)


@budget_app.command("show")
def budget_show(file: Path = FILE_ARGUMENT, home: Path | None = HOME_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show a dataset's budget, what is spent and every spend."""
    from ethos.records import DatasetRef, PrivacyLedger

    dataset = DatasetRef.from_path(_existing(file))
    db_path = settings_from_flags(home).db_path
    if not db_path.exists():
        raise ConfigError(
            f"no privacy budget is set for {dataset.short}; set one with `ethos dp budget set {file} --epsilon E`"
        )
    with PrivacyLedger(db_path, create=False) as ledger:
        status = ledger.status(dataset)
    _show_budget(status, as_json=as_json)


def _show_budget(status: BudgetStatus, *, as_json: bool) -> None:
    if as_json:
        emit_json(_budget_json(status))
        return
    console.print(
        f"{status.path} (sha256 {status.dataset_sha256[:12]}…): budget ε={status.epsilon:g}, δ={status.delta:g}; "
        f"spent ε={status.spent_epsilon:g}, δ={status.spent_delta:g}; "
        f"remaining ε={status.remaining_epsilon:g}, δ={status.remaining_delta:g}",
        markup=False,
    )
    if status.spends:
        rows = [
            (s.id, s.spent_at.strftime("%Y-%m-%d %H:%M:%S"), s.query, f"{s.epsilon:g}", f"{s.delta:g}", s.run_id or "")
            for s in status.spends
        ]
        table("spends", ["#", "when (UTC)", "query", "ε", "δ", "run"], rows)
