"""``ethos report card | datasheet | transparency | gdpr``: documents from runs, measurements and answers.

Each command reads a questions (or configuration) TOML, fills what Ethos has measured, and marks
every unanswered question TODO. ``--template FILE`` writes the blank questions file to start
from. The document goes to ``-o FILE`` (atomically) or to stdout; ``--json`` prints a summary
object instead (with the document under ``text`` when there is no ``-o``).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import emit_json, err_console
from ethos.errors import ConfigError, DataError, GateFailed

if TYPE_CHECKING:
    from ethos.pii.files import FileSummary
    from ethos.records import RunRecord
    from ethos.reports.card import Answers, BenchmarkNote, Questionnaire
    from ethos.reports.datasheet import FileStats, OptoutReceipt

__all__ = ["card", "datasheet", "gdpr", "transparency"]

OUTPUT_OPTION = typer.Option(None, "--output", "-o", help="Write the document here [default: stdout].")
STRICT_OPTION = typer.Option(
    False, "--strict", help="Exit 1 while questions are unanswered (the document is written all the same)."
)
TEMPLATE_OPTION = typer.Option(None, "--template", help="Write a blank questions file here and exit.")
QUESTIONS_OPTION = typer.Option(None, "--questions", help="Answers to the questions (TOML; see --template).")
CONFIG_OPTION = typer.Option(None, "--config", help="The configuration (TOML; see --template).")
RUNS_OPTION = typer.Option(
    None,
    "--run",
    "--runs",
    metavar="RUN",
    help="Runs to report (repeatable) [default: the latest finished run of each benchmark of the model].",
)
DATA_OPTION = typer.Option(None, "--data", metavar="FILE", help="A data file to measure (repeatable).")
RECEIPT_OPTION = typer.Option(
    None, "--optout-receipt", metavar="FILE", help="A receipt of `ethos optout apply` (repeatable)."
)


def card(  # noqa: PLR0913 - one parameter per command-line option
    model: str | None = typer.Option(None, "--model", "-m", help="The model spec, as its runs record it."),
    runs: list[str] | None = RUNS_OPTION,
    questions: Path | None = QUESTIONS_OPTION,
    output: Path | None = OUTPUT_OPTION,
    template: Path | None = TEMPLATE_OPTION,
    home: Path | None = HOME_OPTION,
    strict: bool = STRICT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a Hugging Face model card (README.md) from the model's runs and your answers."""
    from ethos.records import RunStore
    from ethos.reports.card import CARD_QUESTIONS, ModelCardInputs, front_matter, render_model_card, select_runs

    if _wrote_template(CARD_QUESTIONS, template, as_json):
        return
    if model is None:
        raise ConfigError("name the model: --model SPEC (as `ethos runs list` shows it)")
    answers = _answers(CARD_QUESTIONS, questions)
    with RunStore(settings_from_flags(home).db_path, create=False) as store:
        chosen = select_runs(store, model, tuple(runs or ()))
    inputs = ModelCardInputs(model, chosen, benchmark_notes(), answers)
    text = render_model_card(inputs)
    results = front_matter(inputs)["model-index"][0]["results"]
    metrics = sum(len(r["metrics"]) for r in results)
    _deliver(
        text,
        output,
        as_json,
        {"model": model, "runs": [r.id for r in chosen], "model_index_metrics": metrics},
        strict=strict,
    )


def datasheet(  # noqa: PLR0913 - one parameter per command-line option
    questions: Path | None = QUESTIONS_OPTION,
    data: list[Path] | None = DATA_OPTION,
    receipts: list[Path] | None = RECEIPT_OPTION,
    no_pii: bool = typer.Option(False, "--no-pii", help="Do not scan the data files for personal data."),
    no_ner: bool = typer.Option(
        False, "--no-ner", envvar="ETHOS_PII_NO_NER", help="Scan with patterns only (no spaCy pipeline)."
    ),
    output: Path | None = OUTPUT_OPTION,
    template: Path | None = TEMPLATE_OPTION,
    strict: bool = STRICT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a datasheet (Gebru et al.) from your answers, with measured sizes, checksums and PII counts."""
    from ethos.reports.datasheet import DATASHEET_QUESTIONS, DatasheetInputs, render_datasheet

    if _wrote_template(DATASHEET_QUESTIONS, template, as_json):
        return
    answers = _answers(DATASHEET_QUESTIONS, questions)
    files = measure_files(data or [], scan=not no_pii, ner=not no_ner, as_json=as_json)
    found = read_receipts(receipts or [], files)
    text = render_datasheet(DatasheetInputs(answers, files, found))
    pii = {f.path: dict(f.pii_entities) if f.pii_entities is not None else None for f in files}
    _deliver(
        text, output, as_json, {"files": [f.path for f in files], "pii": pii, "receipts": len(found)}, strict=strict
    )


def transparency(
    config: Path | None = CONFIG_OPTION,
    output: Path | None = OUTPUT_OPTION,
    template: Path | None = TEMPLATE_OPTION,
    home: Path | None = HOME_OPTION,
    strict: bool = STRICT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a transparency report: the system, its models' latest audits, data handling, contact."""
    from ethos.reports.compliance import TRANSPARENCY_QUESTIONS, TransparencyInputs, render_transparency

    if _wrote_template(TRANSPARENCY_QUESTIONS, template, as_json):
        return
    answers = _answers(TRANSPARENCY_QUESTIONS, config)
    specs = [str(e["spec"]) for e in answers.items("model") if "spec" in e]
    found = _latest(home, specs)
    text = render_transparency(TransparencyInputs(answers, found, benchmark_notes(), _today()))
    _deliver(text, output, as_json, {"runs": [r.id for r in found]}, strict=strict)


def gdpr(  # noqa: PLR0913 - one parameter per command-line option
    article: int = typer.Option(..., "--article", help="30: record of processing activities; 32: security measures."),
    config: Path | None = CONFIG_OPTION,
    output: Path | None = OUTPUT_OPTION,
    template: Path | None = TEMPLATE_OPTION,
    home: Path | None = HOME_OPTION,
    strict: bool = STRICT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a GDPR record: processing activities (Article 30) or security measures (Article 32)."""
    from ethos.reports.compliance import GDPR_QUESTIONS, GdprInputs, render_gdpr

    if _wrote_template(GDPR_QUESTIONS, template, as_json):
        return
    if article not in (30, 32):
        raise ConfigError(f"--article {article}: Ethos writes records for Art. 30 and Art. 32; give 30 or 32")
    answers = _answers(GDPR_QUESTIONS, config)
    found = _latest(home, [])
    text = render_gdpr(GdprInputs(answers, found, benchmark_notes(), _today()), 30 if article == 30 else 32)  # noqa: PLR2004
    _deliver(text, output, as_json, {"article": article, "runs": [r.id for r in found]}, strict=strict)


def benchmark_notes() -> dict[str, BenchmarkNote]:
    """Notes on every registered benchmark (and the tabular fairness and DP runs), for the documents."""
    from ethos.audit import benchmark_registry
    from ethos.audit.fairness import TABULAR_BENCHMARK, TABULAR_HEADLINE, TABULAR_SUMMARY
    from ethos.reports.card import BenchmarkNote

    notes = {
        name: BenchmarkNote(
            name,
            cls.summary,
            cls.suites,
            cls.headline,
            {v.name: v.description for v in cls.variants},
        )
        for name in benchmark_registry.names()
        for cls in [benchmark_registry.get(name)]
    }
    notes[TABULAR_BENCHMARK] = BenchmarkNote(TABULAR_BENCHMARK, TABULAR_SUMMARY, ("fairness",), TABULAR_HEADLINE)
    return notes


def _answers(questionnaire: Questionnaire, path: Path | None) -> Answers:
    return questionnaire.empty() if path is None else questionnaire.load(path)


def _latest(home: Path | None, models: list[str]) -> tuple[RunRecord, ...]:
    from ethos.records import RunStore
    from ethos.reports.compliance import latest_runs

    db = settings_from_flags(home).db_path
    if not db.exists():
        return ()  # no audits yet: the documents say so
    with RunStore(db, create=False) as store:
        return latest_runs(store, models)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _wrote_template(questionnaire: Questionnaire, template: Path | None, as_json: bool) -> bool:
    if template is None:
        return False
    if template.exists():  # it may hold answers: never overwrite them with blanks
        raise ConfigError(f"{template} already exists; choose another path for the blank template, or delete it first")
    _write(template, questionnaire.template() + "\n")
    if as_json:
        emit_json({"template": str(template)})
    else:
        err_console.print(f"wrote the blank {questionnaire.name} to {template}", markup=False)
    return True


def _write(path: Path, text: str) -> None:
    from ethos._util.atomic import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}; check the path and its folder") from None


def _deliver(text: str, output: Path | None, as_json: bool, facts: dict[str, Any], *, strict: bool) -> None:
    from ethos.reports.card import count_todos

    todos = count_todos(text)
    if output is not None:
        _write(output, text)
    if as_json:
        emit_json(
            {"output": None if output is None else str(output), "todo": todos, **facts}
            | ({} if output is not None else {"text": text})
        )
    elif output is None:
        sys.stdout.write(text)
    else:
        err_console.print(f"wrote {output} ({todos} questions left for a person, marked TODO)", markup=False)
    if strict and todos:
        where = output or "the document"
        raise GateFailed(f"{where} has {todos} unanswered questions (marked TODO); answer them in the questions file")


def measure_files(paths: list[Path], *, scan: bool, ner: bool, as_json: bool) -> list[FileStats]:
    """Checksum, size and (when ``scan``) record count and PII counts of each file; values never leave ``pii``."""
    from ethos._util.hashing import file_sha256
    from ethos.reports.datasheet import FileStats

    out = []
    for path in paths:
        try:
            size = path.stat().st_size
            digest = file_sha256(path)
        except OSError as exc:
            raise DataError(f"cannot read data file {path}: {exc.strerror or exc}") from None
        if not scan:
            out.append(FileStats(str(path), digest, size))
            continue
        summary = _scan(path, ner=ner, as_json=as_json)
        out.append(
            FileStats(
                str(path), digest, size, summary.format, summary.records_read, dict(summary.entities),
                {name: dict(counts) for name, counts in summary.fields.items()}, tuple(summary.notes),
            )
        )  # fmt: skip
    return out


def _scan(path: Path, *, ner: bool, as_json: bool) -> FileSummary:
    from ethos._cli.pii_options import progress_bar
    from ethos.pii.detect import AnalyzerConfig
    from ethos.pii.files import FileOptions, ScanJob, process_file

    # max_examples=0: the summary keeps no example, not even a masked one
    options = FileOptions(max_examples=0)
    job = ScanJob(AnalyzerConfig() if ner else AnalyzerConfig(spacy_model=None))
    with progress_bar(f"scan {path.name}", as_json=as_json) as progress:
        try:
            summary = process_file(path, job, options=options, progress=progress)
        except DataError as exc:
            raise DataError(_own_hints(str(exc))) from None
    return replace(summary, notes=[_own_hints(note) for note in summary.notes])


# The scanner's hints name options of `ethos pii`, which this command lacks
_PII_HINTS = (
    ("pass --skip-bad to skip it", "pass --no-pii to measure only its size and checksum"),
    ("; is --encoding right?", "; the datasheet reads UTF-8"),
    ("; pass --columns", "; `ethos pii scan FILE --columns NAME` scans chosen columns"),
)


def _own_hints(text: str) -> str:
    for theirs, ours in _PII_HINTS:
        text = text.replace(theirs, ours)
    return text


def read_receipts(paths: list[Path], files: list[FileStats]) -> list[OptoutReceipt]:
    """The facts of each opt-out receipt, and which measured file (if any) is its output."""
    import json

    from ethos.reports.datasheet import OptoutReceipt

    by_digest = {f.sha256: f.path for f in files}
    out = []
    for path in paths:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            out.append(
                OptoutReceipt(
                    str(path), str(body["dataset"]), str(body["output"]), str(body["applied_at"]),
                    int(body["total_removed"]), str(body["units"]), int(body["units_before"]),
                    int(body["units_after"]), str(body["sha256_after"]), by_digest.get(str(body["sha256_after"])),
                )
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
            raise DataError(
                f"cannot read opt-out receipt {path} ({why}); it must be the JSON `ethos optout apply` wrote"
            ) from None
    return out
