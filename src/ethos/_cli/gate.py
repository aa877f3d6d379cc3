"""``ethos gate``: hold stored runs to a rules file; exit 0 when every rule passes, 1 when one fails.

A rule that cannot be evaluated (its run, metric or baseline is missing) makes the exit 2, even
when others failed. The outputs are written whatever the verdict, so CI can publish them: a
table (or ``--json``), ``--junit`` XML, ``--github`` annotations and a ``--summary`` in Markdown
(appended to ``$GITHUB_STEP_SUMMARY`` when that is set and ``--summary`` is not given).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import console, emit_json, table
from ethos.errors import ConfigError, DataError

if TYPE_CHECKING:
    from ethos.records import GateReport, GateRules, RunRecord, RunStore

_SHORT_ID = 12
_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"

RULES_OPTION = typer.Option(..., "--rules", help="The rules file (TOML, one [[rule]] table per rule).")
RUN_OPTION = typer.Option(None, "--run", help="A run to check (repeatable; each rule reads the run of its benchmark).")
MODEL_OPTION = typer.Option(
    None, "--model", "-m", help="Check this model's latest finished run of each rule's benchmark."
)
BASELINE_OPTION = typer.Option(
    None, "--baseline", help="Baseline run for regression rules (repeatable; one per benchmark)."
)
JUNIT_OPTION = typer.Option(None, "--junit", help="Write JUnit XML here (one testcase per rule).")
GITHUB_OPTION = typer.Option(False, "--github", help="Print GitHub annotations (::error, ::warning) on stdout.")
SUMMARY_OPTION = typer.Option(
    None, "--summary", help="Write a Markdown summary here [default: append to $GITHUB_STEP_SUMMARY when set]."
)


def gate(  # noqa: PLR0913 - one parameter per command-line option
    rules: Path = RULES_OPTION,
    runs: list[str] | None = RUN_OPTION,
    model: str | None = MODEL_OPTION,
    baselines: list[str] | None = BASELINE_OPTION,
    junit: Path | None = JUNIT_OPTION,
    github: bool = GITHUB_OPTION,
    summary: Path | None = SUMMARY_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check stored runs against gate rules: exit 0 all pass, 1 a rule failed, 2 a rule could not be evaluated."""
    from ethos.records import RunStore, evaluate_gates, load_rules

    if github and as_json:
        raise ConfigError("--github and --json both print on stdout; choose one (write --junit or --summary too)")
    if bool(runs) == (model is not None):
        raise ConfigError("name what to check: either --run RUN (repeatable) or --model SPEC, not both")
    rule_set = load_rules(rules)
    with RunStore(settings_from_flags(home).db_path, create=False) as store:
        candidates, runs_from = _candidates(store, rule_set, runs or [], model)
        baseline_runs = [store.get(run_id, samples=False) for run_id in baselines or []]
    report = evaluate_gates(rule_set, candidates, baseline_runs, runs_from=runs_from)
    _write_files(report, junit, summary)
    if as_json:
        emit_json(_as_json(report))
    else:
        _print_table(report)
    if github:
        sys.stdout.write("".join(line + "\n" for line in report.github_annotations()))
    report.raise_for_status()


def _candidates(
    store: RunStore, rules: GateRules, run_ids: list[str], model: str | None
) -> tuple[list[RunRecord], str]:
    if model is None:
        found = [store.get(run_id, samples=False) for run_id in run_ids]
        return found, "the --run runs given (" + ", ".join(r.id for r in found) + ")"
    found = []
    for benchmark in dict.fromkeys(rule.benchmark for rule in rules.rules):
        latest = store.query(model=model, benchmark=benchmark, status="finished", limit=1)
        if latest:
            found.append(store.get(latest[0].id, samples=False))
    return found, f"the finished runs of model {model!r} in {store.path}"


def _write_files(report: GateReport, junit: Path | None, summary: Path | None) -> None:
    from ethos._util.atomic import atomic_write_text

    targets: list[tuple[Path, str]] = []
    if junit is not None:
        targets.append((junit, report.to_junit_xml()))
    if summary is not None:
        targets.append((summary, report.to_markdown()))
    for path, text in targets:
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise DataError(f"cannot write {path}: {exc.strerror or exc}; check the path and its folder") from None
    step_summary = os.environ.get(_STEP_SUMMARY, "")
    if summary is None and step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as fh:  # GitHub collects what steps append
                fh.write("\n" + report.to_markdown())  # a blank line keeps it apart from earlier steps' text
        except OSError as exc:
            raise DataError(f"cannot append to ${_STEP_SUMMARY} ({step_summary}): {exc.strerror or exc}") from None


def _as_json(report: GateReport) -> dict[str, object]:
    data = report.model_dump(mode="json")
    for result, shown in zip(report.results, data["results"], strict=True):
        shown["near_miss"] = result.near_miss
    counts = {status: report.count(status) for status in ("pass", "fail", "error")}
    return {"status": report.status, "counts": counts, **data}


def _print_table(report: GateReport) -> None:
    rows = []
    for r in report.results:
        verdict = r.status.upper() + (" (near miss)" if r.near_miss else "")
        run = f"{r.run_id[:_SHORT_ID]} {r.model}" if r.run_id else ""
        value = "" if r.value is None else f"{r.value:.4g}"
        if r.value is not None and r.ci_low is not None and r.ci_high is not None:
            value += f" [{r.ci_low:.4g}, {r.ci_high:.4g}]"
        base = "" if r.baseline_value is None else f"{r.baseline_value:.4g}"
        rows.append((r.index + 1, r.name, verdict, run, value, base, r.message))
    table(f"gate rules in {report.source}", ["#", "rule", "result", "run", "value [CI]", "baseline", "why"], rows)
    total, failed, errors = len(report.results), report.count("fail"), report.count("error")
    console.print(f"{total - failed - errors} of {total} rules passed, {failed} failed, {errors} errors", markup=False)
