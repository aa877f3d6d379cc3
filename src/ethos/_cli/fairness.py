"""``ethos fairness``: fairness of a classic model's decisions, from a predictions file.

The fairness library (fairlearn, pandas) and the run store are imported inside the command, so
``ethos --help`` stays fast. The exit code is 0 whatever the metrics say: gating on them is the
job of ``ethos gate``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import console, emit_json, err_console, table

if TYPE_CHECKING:
    from ethos.audit.fairness import Estimate, FairnessReport, GroupMetrics, TabularAssessment

app = typer.Typer(help="Fairness of decisions: per-group rates, parity and odds metrics.", no_args_is_help=True)

FILE_ARGUMENT = typer.Argument(..., help="Predictions CSV: one row per decision (separator sniffed).")
Y_PRED_OPTION = typer.Option(..., "--y-pred", help="Column with the model's decision (two values).")
Y_TRUE_OPTION = typer.Option(None, "--y-true", help="Column with the true outcome; enables the odds metrics.")
SENSITIVE_OPTION = typer.Option(
    ..., "--sensitive", help="Sensitive column (repeatable; several are crossed into intersectional groups a|b)."
)
SCORE_OPTION = typer.Option(None, "--score", help="Numeric score column; adds each group's mean score and the gap.")
POSITIVE_OPTION = typer.Option(
    None, "--positive-label", help="Value meaning the positive outcome [default: 1 or true, for 0/1 or true/false]."
)
SEP_OPTION = typer.Option(None, "--sep", help="Field separator [default: sniffed among , ; tab |].")
SEED_OPTION = typer.Option(None, "--seed", help="Bootstrap seed [env: ETHOS_SEED].")
N_BOOT_OPTION = typer.Option(1000, "--n-boot", min=0, envvar="ETHOS_N_BOOT", help="Bootstrap resamples (0: none).")
CONFIDENCE_OPTION = typer.Option(0.95, "--confidence", min=0.5, max=0.999, help="Confidence of the intervals.")
MODEL_NAME_OPTION = typer.Option(None, "--model-name", help="Model name in the run record [default: the file name].")
NO_RECORD_OPTION = typer.Option(False, "--no-record", help="Do not save a run record.")


@app.command("assess")
def assess_command(  # noqa: PLR0913 - one parameter per command-line option
    predictions: Path = FILE_ARGUMENT,
    y_pred: str = Y_PRED_OPTION,
    sensitive: list[str] = SENSITIVE_OPTION,
    y_true: str | None = Y_TRUE_OPTION,
    score: str | None = SCORE_OPTION,
    positive_label: str | None = POSITIVE_OPTION,
    sep: str | None = SEP_OPTION,
    seed: int | None = SEED_OPTION,
    n_boot: int = N_BOOT_OPTION,
    confidence: float = CONFIDENCE_OPTION,
    model_name: str | None = MODEL_NAME_OPTION,
    no_record: bool = NO_RECORD_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Confusion matrix and selection rate per group, parity and odds metrics with bootstrap intervals.

    Saves a run record (benchmark fairness-tabular) unless --no-record. Exits 0 even when the
    metrics look unfair; use `ethos gate` to fail a build on them.
    """
    from ethos.audit.fairness import Columns, assess_file, save_record
    from ethos.records import RunStore

    settings = settings_from_flags(home, seed=seed)
    columns = Columns(y_pred, tuple(dict.fromkeys(sensitive)), y_true, score, positive_label)
    with _bootstrap_bar(n_boot, as_json=as_json) as progress:
        result = assess_file(
            predictions, columns, sep=sep, seed=settings.seed, n_boot=n_boot, confidence=confidence, progress=progress
        )
    run_id = None
    if not no_record:
        with RunStore.open(settings.db_path) as store:
            run_id = save_record(store, result, model_name=model_name).id
    if as_json:
        emit_json({**result.report.to_json(), "file": str(predictions), "sha256": result.data.sha256, "run_id": run_id})
        return
    _print(result, run_id)


@contextmanager
def _bootstrap_bar(total: int, *, as_json: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A bar over the bootstrap resamples; then a spinner while fairlearn computes the point estimates."""
    from ethos._cli._progress import progress_wanted

    if not progress_wanted(err_console, as_json=as_json):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    )  # fmt: skip
    with bar:
        task = bar.add_task("bootstrap resamples", total=max(total, 1))

        def advance(done: int, _total: int) -> None:
            bar.update(task, completed=done)
            if done >= total:
                bar.update(task, description="group metrics (fairlearn)")

        if total < 1:
            advance(0, 0)
        yield advance


# -- printing --------------------------------------------------------------------------------------


def _print(result: TabularAssessment, run_id: str | None) -> None:
    report = result.report
    console.print(
        f"{result.path.name}: {report.n} rows, {len(report.by_group)} groups by {' x '.join(report.columns)}, "
        f"positive label {report.positive_label!s}",
        markup=False,
    )
    pct = f"{report.confidence:.0%} CI"
    truth = report.overall.tp is not None
    columns = ["group", "n"]
    columns += ["TP", "FP", "FN", "TN"] if truth else ["selected"]
    columns += ["selection rate", pct]
    columns += ["TPR", "FPR", "precision", "accuracy"] if truth else []
    columns += ["mean score"] if report.mean_score_gap is not None else []
    scores = report.mean_score_gap is not None
    rows = [_group_row(key, g, truth=truth, scores=scores) for key, g in report.by_group.items()]
    rows.append(_group_row("all", report.overall, truth=truth, scores=scores))
    table("confusion matrix and rates by group", columns, rows)
    heads = [(name, *_estimate_cells(e)) for name, e in report.headlines().items()]
    table("fairness measures (between groups)", ["metric", "value", pct, "note"], heads)
    console.print(_four_fifths_line(report), markup=False)
    if run_id is not None:
        console.print(f"run {run_id} saved (ethos runs show {run_id})", markup=False)


def _group_row(key: str, g: GroupMetrics, *, truth: bool, scores: bool) -> list[str]:
    row = [key, str(g.count)]
    selected = round(g.selection_rate * g.count)
    row += [str(g.tp), str(g.fp), str(g.fn), str(g.tn)] if truth else [str(selected)]
    row += [_num(g.selection_rate), _interval(g.intervals.get("selection_rate"))]
    if truth:
        row += [_num(g.tpr), _num(g.fpr), _num(g.precision), _num(g.accuracy)]
    if scores:
        row.append(_num(g.mean_score))
    return row


def _estimate_cells(e: Estimate) -> tuple[str, str, str]:
    return _num(e.value), _interval((e.ci_low, e.ci_high)), e.note or ""


def _four_fifths_line(report: FairnessReport) -> str:
    ratio = report.demographic_parity_ratio.value
    rule = "four-fifths rule (EEOC 29 CFR 1607.4(D), a screening heuristic, not a legal finding)"
    if report.four_fifths_rule_passed is None or ratio is None:
        return f"{rule}: undefined (no group was selected)"
    verdict = "passed" if report.four_fifths_rule_passed else "FAILED"
    return f"{rule}: {verdict}; the lowest selection rate is {ratio:.1%} of the highest"


def _interval(ci: Any) -> str:
    if ci is None or ci[0] is None or ci[1] is None:
        return ""
    return f"[{_num(ci[0])}, {_num(ci[1])}]"


def _num(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.4f}"
