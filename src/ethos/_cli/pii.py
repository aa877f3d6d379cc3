"""``ethos pii``: find, anonymize and restore personal data in files; score a detector; make keys.

Files are streamed in chunks (text lines, JSONL, CSV, or ``-`` for stdin/stdout). Outputs are
written to a temp file and renamed at the end: an error never leaves a partial file. Nothing
printed, logged or reported holds a found value in clear text: examples show its shape only.
The library is imported inside the commands, so ``ethos --help`` stays fast.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from ethos._cli._common import JSON_OPTION
from ethos._cli._output import console, emit_json, err_console
from ethos._cli.pii_options import (
    ALLOW_OPTION,
    CHUNK_OPTION,
    COLUMNS_OPTION,
    DENY_FILE_OPTION,
    ENCODING_OPTION,
    ENTITIES_OPTION,
    FIELDS_OPTION,
    FORMAT_OPTION,
    KEY_FILE_OPTION,
    NO_NER_OPTION,
    REPORT_OPTION,
    SKIP_BAD_OPTION,
    SPACY_OPTION,
    THRESHOLD_OPTION,
    WORKERS_OPTION,
    AnalyzerFlags,
    FileFlags,
    parse_operators,
    progress_bar,
)
from ethos._cli.pii_print import print_eval, print_findings, print_summary
from ethos.errors import ConfigError, DataError

if TYPE_CHECKING:
    from ethos.pii.files import FileOptions, FileSummary, RedactJob, RestoreJob, ScanJob

app = typer.Typer(help="Find, anonymize and restore personal data (PII) in text, JSONL and CSV.", no_args_is_help=True)

INPUT_ARGUMENT = typer.Argument(..., help="The input file, or - for stdin.")
OUTPUT_OPTION = typer.Option(None, "--output", "-o", help="Output file, or - for stdout.")
IN_PLACE_OPTION = typer.Option(False, "--in-place", help="Replace the input file (atomically) instead.")
OPERATOR_OPTION = typer.Option(
    None,
    "--operator",
    envvar="ETHOS_PII_OPERATORS",
    help="ENTITY=operator[:param=value,...] (repeatable; DEFAULT for other types): placeholder, redact, mask, "
    "keep, pseudonym, surrogate, encrypt.",
)
SHOW_OPTION = typer.Option(False, "--show", help="List the findings (values masked) after the counts.")
EXPLAIN_OPTION = typer.Option(False, "--explain", help="With --show: why each finding was reported.")
LIMIT_OPTION = typer.Option(50, "--limit", min=1, help="With --show: list at most this many findings.")
LABELED_ARGUMENT = typer.Argument(..., help='JSONL: {"text": str, "spans": [{"start", "end", "entity"}]} per line.')
IOU_OPTION = typer.Option(0.5, "--iou", min=0.0, max=1.0, help="Minimum character IoU for a match.")
KEY_OUTPUT_OPTION = typer.Option(..., "--output", "-o", help="Where to write the key (mode 0600).")
FORCE_OPTION = typer.Option(False, "--force", help="Replace an existing key file (data it encrypted is lost).")


@app.command("scan")
def scan_cmd(  # noqa: PLR0913 - one parameter per command-line option
    source: str = INPUT_ARGUMENT,
    show: bool = SHOW_OPTION,
    explain: bool = EXPLAIN_OPTION,
    limit: int = LIMIT_OPTION,
    entities: str | None = ENTITIES_OPTION,
    threshold: float | None = THRESHOLD_OPTION,
    allow: list[str] | None = ALLOW_OPTION,
    deny_file: Path | None = DENY_FILE_OPTION,
    spacy_model: str | None = SPACY_OPTION,
    no_ner: bool = NO_NER_OPTION,
    fmt: str = FORMAT_OPTION,
    fields: str | None = FIELDS_OPTION,
    columns: str | None = COLUMNS_OPTION,
    encoding: str = ENCODING_OPTION,
    chunk_size: int = CHUNK_OPTION,
    workers: int = WORKERS_OPTION,
    skip_bad: bool = SKIP_BAD_OPTION,
    report: Path | None = REPORT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Count the personal data in a file: per type and per field (--show lists findings, values masked)."""
    from ethos.pii.files import ScanJob

    job = ScanJob(AnalyzerFlags(entities, threshold, allow, deny_file, spacy_model, no_ner).config())
    flags = FileFlags(fmt, fields, columns, encoding, chunk_size, workers, skip_bad)
    examples = limit if (show or explain) else 5
    options = flags.options(max_examples=examples, explain=explain)
    summary = _process(source, job, None, options, report, as_json=as_json)
    if as_json:
        emit_json(summary.to_json())
        return
    print_summary(summary, console, title="personal data found")
    if show or explain:
        print_findings(summary, console, explain=explain)


@app.command("redact")
def redact_cmd(  # noqa: PLR0913 - one parameter per command-line option
    source: str = INPUT_ARGUMENT,
    output: str | None = OUTPUT_OPTION,
    in_place: bool = IN_PLACE_OPTION,
    operators: list[str] | None = OPERATOR_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    entities: str | None = ENTITIES_OPTION,
    threshold: float | None = THRESHOLD_OPTION,
    allow: list[str] | None = ALLOW_OPTION,
    deny_file: Path | None = DENY_FILE_OPTION,
    spacy_model: str | None = SPACY_OPTION,
    no_ner: bool = NO_NER_OPTION,
    fmt: str = FORMAT_OPTION,
    fields: str | None = FIELDS_OPTION,
    columns: str | None = COLUMNS_OPTION,
    encoding: str = ENCODING_OPTION,
    chunk_size: int = CHUNK_OPTION,
    workers: int = WORKERS_OPTION,
    skip_bad: bool = SKIP_BAD_OPTION,
    report: Path | None = REPORT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace personal data in a file (default operator: numbered placeholders like <PERSON_1>)."""
    from ethos.pii.anonymize import Anonymizer, resolve_key
    from ethos.pii.files import RedactJob

    output = _output_for(source, output, in_place=in_place, as_json=as_json)
    ops = parse_operators(operators)
    key = resolve_key(key_file)
    Anonymizer(ops, key=key)  # refuse unknown operators, bad parameters or a missing key before reading
    job = RedactJob(AnalyzerFlags(entities, threshold, allow, deny_file, spacy_model, no_ner).config(), ops, key)
    options = FileFlags(fmt, fields, columns, encoding, chunk_size, workers, skip_bad).options(in_place=in_place)
    summary = _process(source, job, output, options, report, as_json=as_json)
    if as_json:
        emit_json(summary.to_json())
    else:
        print_summary(summary, err_console, title="personal data replaced")


@app.command("restore")
def restore_cmd(  # noqa: PLR0913 - one parameter per command-line option
    source: str = INPUT_ARGUMENT,
    output: str | None = OUTPUT_OPTION,
    in_place: bool = IN_PLACE_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    fmt: str = FORMAT_OPTION,
    encoding: str = ENCODING_OPTION,
    chunk_size: int = CHUNK_OPTION,
    report: Path | None = REPORT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Decrypt the values that `redact --operator ...=encrypt` replaced, with the same key."""
    from ethos.pii.anonymize import resolve_key
    from ethos.pii.anonymize._keys import HOW_TO_GET_A_KEY
    from ethos.pii.files import RestoreJob

    output = _output_for(source, output, in_place=in_place, as_json=as_json)
    key = resolve_key(key_file)
    if key is None:
        raise ConfigError(f"restore needs the key the file was encrypted with; {HOW_TO_GET_A_KEY}")
    is_csv = fmt in ("csv", "tsv") or (fmt == "auto" and Path(source).suffix.lower() in (".csv", ".tsv"))
    columns = "*" if is_csv else None  # tokens may be in any column
    options = FileFlags(fmt, None, columns, encoding, chunk_size, 1, False).options(in_place=in_place)
    summary = _process(source, RestoreJob(key), output, options, report, as_json=as_json)
    if as_json:
        emit_json(summary.to_json())
    else:
        err_console.print(f"restored {summary.records_changed} of {summary.records_read} records → {summary.output}")


@app.command("eval")
def eval_cmd(  # noqa: PLR0913 - one parameter per command-line option
    labeled: Path = LABELED_ARGUMENT,
    iou: float = IOU_OPTION,
    entities: str | None = ENTITIES_OPTION,
    threshold: float | None = THRESHOLD_OPTION,
    allow: list[str] | None = ALLOW_OPTION,
    deny_file: Path | None = DENY_FILE_OPTION,
    spacy_model: str | None = SPACY_OPTION,
    no_ner: bool = NO_NER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Score detection on labelled texts: precision, recall, F1, F2 per type and overall, texts/s."""
    from ethos.pii.detect import Analyzer
    from ethos.pii.evaluate import LabeledText, evaluate, read_labeled

    if iou <= 0.0:
        raise ConfigError("--iou must be above 0 (a match needs some overlap)")
    items = read_labeled(labeled)
    analyzer = Analyzer(AnalyzerFlags(entities, threshold, allow, deny_file, spacy_model, no_ner).config()).load()
    wanted = analyzer.config.entities
    if wanted is not None:  # gold of types the detector was told to ignore would only count as misses
        items = [LabeledText(i.text, tuple(s for s in i.spans if s.entity in wanted)) for i in items]
    report = evaluate(analyzer, items, iou_threshold=iou).to_json()
    keys = ("precision", "recall", "f1", "f2")
    if as_json:
        emit_json(
            {
                "overall": {k: report["overall"][k] for k in keys},
                "per_entity": report["per_entity"],
                "texts_per_second": report["texts_per_second"],
            }
        )
        return
    print_eval(report, console, notes=analyzer.notes)


@app.command("keygen")
def keygen_cmd(
    output: Path = KEY_OUTPUT_OPTION,
    force: bool = FORCE_OPTION,
) -> None:
    """Write a fresh random key for pseudonym, surrogate and encrypt (keep it secret, back it up)."""
    from ethos.pii.anonymize import write_key_file

    key = write_key_file(output, overwrite=force)
    err_console.print(
        f"wrote a new key to {output} (fingerprint {key.fingerprint}, mode 600). Keep it secret and backed up: "
        "pseudonyms change and encrypted values cannot be restored without it.",
        markup=False,
    )


def _output_for(source: str, output: str | None, *, in_place: bool, as_json: bool) -> str | None:
    if in_place:
        if output is not None:
            raise ConfigError("give either --in-place or -o OUT, not both")
        return None
    if output is None:
        if source != "-":
            raise ConfigError("give -o OUT (or - for stdout), or --in-place to replace the input")
        output = "-"
    if output == "-" and as_json:
        raise ConfigError("--json prints the summary on stdout, so the output cannot go there too; give -o FILE")
    return output


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler, ``kill``) ends the run like Ctrl-C: the temp output is removed, exit 130."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _process(
    source: str,
    job: ScanJob | RedactJob | RestoreJob,
    output: str | None,
    options: FileOptions,
    report: Path | None,
    *,
    as_json: bool,
) -> FileSummary:
    from ethos._util.atomic import atomic_write_text
    from ethos.pii.files import process_file

    label = "stdin" if source == "-" else Path(source).name
    with _terminate_as_interrupt(), progress_bar(label, as_json=as_json) as progress:
        summary = process_file(source, job, output=output, options=options, progress=progress)
    if report is not None:
        try:
            atomic_write_text(report, json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DataError(f"cannot write the report {report}: {exc.strerror or type(exc).__name__}") from None
    return summary
