"""``ethos table``: measure the re-identification risk of a table, and k-anonymise it.

``ethos.pii.tabular`` (numpy) is imported inside the commands, so ``ethos --help`` stays fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from ethos._cli._common import JSON_OPTION
from ethos._cli._output import emit_json, err_console, table
from ethos.errors import ConfigError

if TYPE_CHECKING:
    from ethos.pii.tabular import Algorithm, Anonymization, Diversity, Progress, RiskReport, SuppressedRows, Table

app = typer.Typer(help="k-anonymity and l-diversity for tables: check the risk, anonymize.", no_args_is_help=True)

FILE_ARGUMENT = typer.Argument(..., help="The table: CSV with a header row (separator detected: , ; TAB |).")
QUASI_OPTION = typer.Option(..., "--quasi", "-q", help="Quasi-identifier columns, comma-separated.")
SENSITIVE_OPTION = typer.Option(None, "--sensitive", "-s", help="Sensitive columns for l-diversity, comma-separated.")
SEP_OPTION = typer.Option(None, "--sep", help="Column separator [default: detected]; ARX's files use ';'.")
OUTPUT_OPTION = typer.Option(..., "--output", "-o", help="Where to write the anonymized table (atomically).")
HIERARCHIES_OPTION = typer.Option(
    None, "--hierarchies", help="Folder of ARX hierarchies: <dataset>_hierarchy_<attribute>.csv or <attribute>.csv."
)
SUPPRESS_OPTION = typer.Option(0.0, "--suppress", help="Largest share of records to suppress (optimal), e.g. 0.04.")


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _separator(sep: str | None) -> str | None:
    if sep is None:
        return None
    value = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(sep, sep)
    if len(value) != 1:
        raise ConfigError(f"--sep {sep!r}: give one character, e.g. ';' or '\\t'")
    return value


def _read(file: Path, sep: str | None) -> Table:
    from ethos.pii.tabular import read_table

    return read_table(file, _separator(sep))


@app.command("check")
def check(
    file: Path = FILE_ARGUMENT,
    quasi: str = QUASI_OPTION,
    sensitive: str | None = SENSITIVE_OPTION,
    sep: str | None = SEP_OPTION,
    risk_threshold: int = typer.Option(5, "--risk-threshold", help="Classes smaller than this count as risky."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Report k (smallest class), l, the classes and the prosecutor re-identification risk of FILE."""
    from ethos.pii.tabular import check_table

    if risk_threshold < 1:
        raise ConfigError(f"--risk-threshold {risk_threshold}: give a class size of at least 1")
    report = check_table(_read(file, sep), _names(quasi), _names(sensitive), risk_threshold=risk_threshold)
    if as_json:
        emit_json(report.as_dict())
        return
    _print_report(report)


def _print_report(report: RiskReport) -> None:
    rows = [
        ("records", report.records),
        ("equivalence classes", report.classes),
        ("k (smallest class)", report.k),
        ("l (fewest distinct sensitive values)", "-" if report.l is None else report.l),
        ("entropy l", "-" if report.entropy_l is None else f"{report.entropy_l:.3f}"),
        (f"records in classes < {report.risk_threshold}", f"{report.records_at_risk} ({report.share_at_risk:.1%})"),
        ("unique records", report.unique_records),
        ("prosecutor risk, max", f"{report.prosecutor_max:.4f}"),
        ("prosecutor risk, average", f"{report.prosecutor_average:.4f}"),
    ]
    table(None, ["measure", "value"], rows)


@app.command("anonymize")
def anonymize(  # noqa: PLR0913 - one flag per option of the command
    file: Path = FILE_ARGUMENT,
    k: int = typer.Option(..., "--k", help="Smallest allowed equivalence class."),
    quasi: str = QUASI_OPTION,
    output: Path = OUTPUT_OPTION,
    hierarchies: Path | None = HIERARCHIES_OPTION,
    l: int | None = typer.Option(None, "--l", help="Required l-diversity of each --sensitive column."),  # noqa: E741
    sensitive: str | None = SENSITIVE_OPTION,
    diversity: str = typer.Option("distinct", "--diversity", help="l-diversity: distinct or entropy."),
    suppress: float = SUPPRESS_OPTION,
    algorithm: str = typer.Option("optimal", "--algorithm", help="optimal (full-domain, ARX's optimum) or mondrian."),
    suppressed: str = typer.Option("remove", "--suppressed", help="Suppressed records: remove, or star (QIs '*')."),
    sep: str | None = SEP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Anonymize FILE to k-anonymity (and l-diversity) and write it to --output.

    optimal: the full-domain generalisation of least non-uniform entropy (ARX's optimum), with up to
    --suppress of the records suppressed; needs a hierarchy per quasi-identifier. mondrian: strict
    multidimensional partitioning, numeric columns as ranges; needs hierarchies only to generalise
    categorical columns to hierarchy nodes (else sets), suppresses nothing.
    """
    from ethos.pii.tabular import Privacy, anonymize, load_hierarchies, resolve_columns

    if algorithm not in ("optimal", "mondrian"):
        raise ConfigError(f"--algorithm {algorithm!r}: choose optimal or mondrian")
    if suppressed not in ("remove", "star"):
        raise ConfigError(f"--suppressed {suppressed!r}: choose remove or star")
    if diversity not in ("distinct", "entropy"):
        raise ConfigError(f"--diversity {diversity!r}: choose distinct or entropy")
    if hierarchies is None and algorithm == "optimal":
        raise ConfigError("--hierarchies DIR is needed for --algorithm optimal (or use --algorithm mondrian)")
    if output.resolve() == file.resolve():
        raise ConfigError(f"-o {output} is the input; write the anonymized table to another file")
    privacy = Privacy(k=k, l=l, diversity=cast("Diversity", diversity), sensitive=_names(sensitive), suppress=suppress)
    data = _read(file, sep)
    quasi_names = resolve_columns(data, _names(quasi), "--quasi")
    required = quasi_names if algorithm == "optimal" else ()
    found = {} if hierarchies is None else load_hierarchies(hierarchies, quasi_names, required=required)
    with _search_progress(as_json) as progress:
        result = anonymize(
            data,
            quasi_names,
            found,
            privacy,
            algorithm=cast("Algorithm", algorithm),
            suppressed_rows=cast("SuppressedRows", suppressed),
            progress=progress,
        )
    result.write(output)
    if as_json:
        emit_json({**result.as_dict(), "output": str(output)})
        return
    _print_result(result, output)


@contextlib.contextmanager
def _search_progress(as_json: bool) -> Iterator[Progress | None]:
    from ethos._cli._progress import progress_wanted

    if not progress_wanted(err_console, as_json=as_json):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("lattice"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task("search", total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _print_result(result: Anonymization, output: Path) -> None:
    loss = result.information_loss
    if result.transformation is not None:
        table("transformation (level per quasi-identifier)", ["attribute", "level"], result.transformation.items())
    rows = [
        ("algorithm", result.algorithm),
        ("k achieved", result.k),
        ("l achieved", "-" if result.l is None else result.l),
        ("records", result.records),
        ("suppressed", f"{result.suppressed} ({result.suppressed / result.records:.1%})"),
        ("non-uniform entropy", f"{loss.non_uniform_entropy:.4f}"),
        ("discernibility", f"{loss.discernibility:.0f}"),
        ("NCP", f"{loss.ncp:.4f}"),
        ("generalization intensity", _number(loss.generalization_intensity)),
        *((name.replace("_", " "), value) for name, value in result.details.items()),
        ("seconds", f"{result.seconds:.2f}"),
    ]
    table(None, ["", "value"], rows)
    typer.echo(f"wrote {output}", err=True)
