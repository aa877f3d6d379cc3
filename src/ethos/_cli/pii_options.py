"""Options shared by the ``ethos pii`` commands, and their conversion to library settings.

Every option has an ``ETHOS_PII_…`` environment variable. The secret key is never a flag value
(shell history): ``--key-file`` / ``ETHOS_PII_KEY_FILE``, or the key line in ``ETHOS_PII_KEY``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ethos._cli._output import err_console
from ethos.errors import ConfigError, DataError

if TYPE_CHECKING:
    from ethos.pii.anonymize import OperatorConfig
    from ethos.pii.detect import AnalyzerConfig
    from ethos.pii.files import FileOptions, Progress

__all__ = [
    "AnalyzerFlags",
    "FileFlags",
    "parse_operators",
    "progress_bar",
]

ENTITIES_OPTION = typer.Option(
    None, "--entities", envvar="ETHOS_PII_ENTITIES", help="Entity types to find, comma-separated (default: all)."
)
THRESHOLD_OPTION = typer.Option(
    None, "--threshold", min=0.0, max=1.0, envvar="ETHOS_PII_THRESHOLD", help="Drop findings scoring below this."
)
ALLOW_OPTION = typer.Option(None, "--allow", help="A value never reported (repeatable).")
DENY_FILE_OPTION = typer.Option(
    None,
    "--deny-file",
    envvar="ETHOS_PII_DENY_FILE",
    help="Values always reported: JSON {ENTITY: [values]}, or lines 'ENTITY: value'.",
)
SPACY_OPTION = typer.Option(
    None, "--spacy-model", envvar="ETHOS_PII_SPACY_MODEL", help="spaCy pipeline for names, places, organisations."
)
NO_NER_OPTION = typer.Option(False, "--no-ner", envvar="ETHOS_PII_NO_NER", help="Patterns only (no spaCy pipeline).")

FORMAT_OPTION = typer.Option(
    "auto", "--format", envvar="ETHOS_PII_FORMAT", help="auto (by suffix), text, whole, jsonl, csv or tsv."
)
FIELDS_OPTION = typer.Option(
    None, "--fields", help="JSONL fields to work on, dotted paths, comma-separated (default: every string)."
)
COLUMNS_OPTION = typer.Option(None, "--columns", help="CSV columns, comma-separated; '*' for all (default: detected).")
ENCODING_OPTION = typer.Option("utf-8", "--encoding", envvar="ETHOS_PII_ENCODING", help="Text encoding of the input.")
CHUNK_OPTION = typer.Option(1000, "--chunk-size", min=1, envvar="ETHOS_PII_CHUNK_SIZE", help="Records per chunk.")
WORKERS_OPTION = typer.Option(1, "--workers", min=1, envvar="ETHOS_PII_WORKERS", help="Worker processes.")
SKIP_BAD_OPTION = typer.Option(
    False, "--skip-bad", envvar="ETHOS_PII_SKIP_BAD", help="Skip malformed records (counted) instead of stopping."
)
REPORT_OPTION = typer.Option(None, "--report", help="Write the summary as JSON to this file.")
KEY_FILE_OPTION = typer.Option(
    None, "--key-file", envvar="ETHOS_PII_KEY_FILE", help="The secret key file (see `ethos pii keygen`)."
)


class AnalyzerFlags:
    """The detection flags of one command, turned into an :class:`AnalyzerConfig`."""

    def __init__(  # noqa: PLR0913 - one parameter per command-line option
        self,
        entities: str | None,
        threshold: float | None,
        allow: Sequence[str] | None,
        deny_file: Path | None,
        spacy_model: str | None,
        no_ner: bool,
    ) -> None:
        """Keep the flag values."""
        self.entities, self.threshold, self.allow = entities, threshold, tuple(allow or ())
        self.deny_file, self.spacy_model, self.no_ner = deny_file, spacy_model, no_ner

    def config(self) -> AnalyzerConfig:
        """The analyzer configuration (a bad value names its flag)."""
        from pydantic import ValidationError

        from ethos.pii.detect import AnalyzerConfig

        values: dict[str, Any] = {"allow_list": self.allow}
        if self.entities:
            values["entities"] = _split(self.entities)
            if not values["entities"]:  # an empty list would find nothing and leave every value in clear
                raise ConfigError("--entities names no entity type; leave it out to find every type")
        if self.threshold is not None:
            values["threshold"] = self.threshold
        if self.deny_file is not None:
            values["deny_list"] = read_deny_file(self.deny_file)
        if self.no_ner:
            values["spacy_model"] = None
        elif self.spacy_model:
            values["spacy_model"] = self.spacy_model
        try:
            return AnalyzerConfig(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"detection option {first['loc'][0]!r}: {first['msg']}") from None


class FileFlags:
    """The file flags of one command, turned into :class:`FileOptions`."""

    def __init__(  # noqa: PLR0913 - one parameter per command-line option
        self,
        fmt: str,
        fields: str | None,
        columns: str | None,
        encoding: str,
        chunk_size: int,
        workers: int,
        skip_bad: bool,
    ) -> None:
        """Keep the flag values."""
        self.fmt, self.fields, self.columns, self.encoding = fmt, fields, columns, encoding
        self.chunk_size, self.workers, self.skip_bad = chunk_size, workers, skip_bad

    def options(self, **more: Any) -> FileOptions:
        """The file options, with ``more`` on top (``in_place``, ``max_examples``, ``explain``)."""
        from ethos.pii.files import FileOptions

        formats = ("auto", "text", "whole", "jsonl", "csv", "tsv")
        if self.fmt not in formats:
            raise ConfigError(f"--format {self.fmt!r} is not one of {', '.join(formats)}")
        return FileOptions(
            format=self.fmt,  # type: ignore[arg-type]  # checked just above
            fields=tuple(_split(self.fields)),
            columns=tuple(_split(self.columns)),
            encoding=self.encoding,
            chunk_size=self.chunk_size,
            workers=self.workers,
            skip_bad=self.skip_bad,
            **more,
        )


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def read_deny_file(path: Path) -> dict[str, tuple[str, ...]]:
    """Read a deny list: JSON ``{ENTITY: [values]}``, or lines ``ENTITY: value`` (``#`` comments).

    Raises:
        DataError: Naming the file and line that is malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise DataError(f"cannot read deny file {path}: {why}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"deny file {path} line {exc.lineno}: not valid JSON ({exc.msg})") from None
        if not all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in data.values()):
            raise DataError(f"deny file {path}: each entity must map to a list of strings")
        return {str(k): tuple(v) for k, v in data.items()}
    out: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entity, sep, value = line.partition(":")
        if not sep or not entity.strip() or not value.strip():
            raise DataError(f"deny file {path} line {n}: expected 'ENTITY: value'")
        out.setdefault(entity.strip(), []).append(value.strip())
    return {k: tuple(v) for k, v in out.items()}


def parse_operators(items: Sequence[str] | None) -> dict[str, OperatorConfig]:
    """``ENTITY=operator`` or ``ENTITY=operator:param=value,param=value`` (``DEFAULT`` for the rest).

    Raises:
        ConfigError: When an item does not have that shape.
    """
    from ethos.pii.anonymize import OperatorConfig

    out: dict[str, OperatorConfig] = {}
    for item in items or []:
        entity, sep, rest = item.partition("=")
        name, _, raw_params = rest.partition(":")
        if not sep or not entity.strip() or not name.strip():
            raise ConfigError(f"--operator {item!r} must look like ENTITY=operator[:param=value,...]")
        params: dict[str, str] = {}
        for pair in _split(raw_params):
            key, eq, value = pair.partition("=")
            if not eq:
                raise ConfigError(f"--operator {item!r}: parameter {pair!r} must look like name=value")
            params[key.strip()] = value
        out[entity.strip().upper()] = OperatorConfig(name=name.strip(), params=params)
    return out


@contextmanager
def progress_bar(label: str, *, as_json: bool) -> Iterator[Progress | None]:
    """A bar by bytes read on stderr (only on a terminal, and not with ``--json``)."""
    from ethos._cli._progress import progress_wanted

    if not progress_wanted(err_console, as_json=as_json):
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    )  # fmt: skip
    with bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update
