"""``ethos optout``: the encrypted opt-out registry — init, add, list, apply, verify-receipt.

The key comes from ``--key-file`` (env ``ETHOS_OPTOUT_KEY_FILE``) or ``ETHOS_OPTOUT_KEY``, never a
bare flag value. For plain text, names are also looked for with the PII engine when
``ethos.pii.detect`` provides an ``Analyzer`` (checked at run time; ``--no-ner`` skips it).
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import console, emit_json, err_console, table
from ethos.errors import ConfigError, DataError

if TYPE_CHECKING:
    from ethos.data.optout import Detector, Registry, RegistryKey, Subject

app = typer.Typer(
    help="Opt-out registry (GDPR Art. 21/17): register subjects, remove them from data.", no_args_is_help=True
)

REGISTRY_OPTION = typer.Option(
    None, "--registry", envvar="ETHOS_OPTOUT_REGISTRY", help="Registry file [default: HOME/optout/registry.ethos]."
)
KEY_FILE_OPTION = typer.Option(
    None,
    "--key-file",
    envvar="ETHOS_OPTOUT_KEY_FILE",
    help="Key file [default: HOME/optout/registry.key, or ETHOS_OPTOUT_KEY].",
)
EMAIL_OPTION = typer.Option(None, "--email", help="An email address of the subject (repeatable).")
USER_ID_OPTION = typer.Option(None, "--user-id", help="A user id of the subject (repeatable).")
NAME_OPTION = typer.Option(None, "--name", help="A full name of the subject (repeatable).")
FROM_FILE_OPTION = typer.Option(
    None, "--from-file", help="CSV or JSONL with email/user_id/name(/reason): one subject per row."
)
REASON_OPTION = typer.Option(None, "--reason", help="Why, e.g. 'Art. 21 objection' (stored encrypted).")
COLUMNS_OPTION = typer.Option(
    None, "--columns", help="Identifier columns, e.g. email=mail,name=full_name [default: by header]."
)
FORMAT_OPTION = typer.Option(None, "--format", help="csv, jsonl or text [default: from the extension].")
RECEIPT_OPTION = typer.Option(None, "--receipt", help="Receipt path [default: OUT.receipt.json].")
NO_NER_OPTION = typer.Option(False, "--no-ner", help="Text: match exact identifiers only, without the PII engine.")


def _paths(home: Path | None, registry: Path | None, key_file: Path | None) -> tuple[Path, Path | None]:
    base = settings_from_flags(home).home / "optout"
    default_key = base / "registry.key"
    return registry or base / "registry.ethos", key_file or (default_key if default_key.exists() else None)


def _open(home: Path | None, registry: Path | None, key_file: Path | None) -> Registry:
    from ethos.data.optout import Registry, RegistryKey

    reg_path, key_path = _paths(home, registry, key_file)
    return Registry.open(reg_path, _key(RegistryKey, key_path))


def _key(cls: type[RegistryKey], key_path: Path | None) -> RegistryKey:
    return cls.load(key_path)


@app.command("init")
def init(
    registry: Path | None = REGISTRY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an empty encrypted registry and its key file (both mode 0600); never overwrites."""
    from ethos.data.optout import Registry, create_key_file

    base = settings_from_flags(home).home / "optout"
    reg_path, key_path = registry or base / "registry.ethos", key_file or base / "registry.key"
    if reg_path.exists():
        raise ConfigError(f"registry {reg_path} already exists; Ethos never overwrites a registry")
    key = create_key_file(key_path)
    Registry.create(reg_path, key)
    if as_json:
        emit_json({"registry": str(reg_path), "key_file": str(key_path), "key_id": key.key_id})
        return
    console.print(f"created registry {reg_path} and key file {key_path} (key id {key.key_id})", markup=False)
    err_console.print("keep the key file secret and backed up: without it the registry cannot be read", markup=False)


_SUBJECT_COLUMNS = ("email", "user_id", "name")


def _records_from_file(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    """The file's subject records with their line numbers (JSONL objects, or CSV rows by header)."""
    from ethos.data.optout import detect_format

    records: list[tuple[int, dict[str, Any]]] = []
    if detect_format(path) == "jsonl":
        for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: JSON strings may hold U+2028
            if line.strip():
                try:
                    records.append((number, dict(json.loads(line))))
                except (ValueError, TypeError):
                    raise DataError(f"{path}, line {number}: not a JSON object") from None
        return records
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = reader.fieldnames or []
    if not set(header) & set(_SUBJECT_COLUMNS):
        raise DataError(
            f"{path}: no email, user_id or name column (columns: {', '.join(header) or 'none'}); "
            "a subjects CSV has the columns email, user_id, name, reason"
        )
    return [(reader.line_num, row) for row in reader]


def _subjects_from_file(path: Path, reason: str | None) -> list[Subject]:
    from ethos.data.optout import Subject

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None

    def values(record: dict[str, Any], key: str) -> tuple[str, ...]:
        value = record.get(key)
        return (str(value).strip(),) if value is not None and str(value).strip() else ()

    subjects = []
    for line, record in _records_from_file(path, text):
        emails, user_ids, names = (values(record, key) for key in _SUBJECT_COLUMNS)
        if not (emails or user_ids or names):
            raise DataError(f"{path}, line {line}: no email, user_id or name; every subject needs one identifier")
        subjects.append(Subject(emails, user_ids, names, str(record.get("reason") or reason or "") or None))
    if not subjects:
        raise DataError(f"{path}: no subjects (only a header or empty lines); add one row per subject")
    return subjects


@app.command("add")
def add(  # noqa: PLR0913 - one parameter per command-line option
    emails: list[str] | None = EMAIL_OPTION,
    user_ids: list[str] | None = USER_ID_OPTION,
    names: list[str] | None = NAME_OPTION,
    from_file: Path | None = FROM_FILE_OPTION,
    reason: str | None = REASON_OPTION,
    registry: Path | None = REGISTRY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register a subject (the identifier flags describe one person) or every row of --from-file."""
    from ethos.data.optout import Subject

    subjects = _subjects_from_file(from_file, reason) if from_file else []
    if emails or user_ids or names:
        subjects.append(Subject(tuple(emails or ()), tuple(user_ids or ()), tuple(names or ()), reason))
    if not subjects:
        raise ConfigError("give --email, --user-id or --name (or --from-file) to register a subject")
    reg = _open(home, registry, key_file)
    result = reg.add(subjects)
    if as_json:
        emit_json(
            {"added": result.added, "merged": result.merged, "unchanged": result.unchanged, "version": reg.version}
        )
        return
    console.print(
        f"{len(result.added)} added, {len(result.merged)} merged into existing entries, "
        f"{len(result.unchanged)} already registered; registry version {reg.version}",
        markup=False,
    )


@app.command("list")
def list_entries(
    registry: Path | None = REGISTRY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List entries: id, identifier kinds, date and reason (identifiers are not stored, so never shown)."""
    reg = _open(home, registry, key_file)
    rows: list[dict[str, Any]] = [
        {"id": e.id, "kinds": list(e.kinds), "added_at": e.added_at, "reason": e.reason} for e in reg.entries
    ]
    if as_json:
        emit_json({"version": reg.version, "created_at": reg.created_at, "entries": rows})
        return
    table(
        f"opt-out registry {reg.path} (version {reg.version}, {len(rows)} entries)",
        ["id", "kinds", "added (UTC)", "reason"],
        [(r["id"], ", ".join(r["kinds"]), r["added_at"], r["reason"] or "") for r in rows],
    )


def _parse_columns(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    pairs = [item.partition("=") for item in text.split(",")]
    if any(not sep or not k.strip() or not v.strip() for k, sep, v in pairs):
        raise ConfigError(f"--columns {text!r}: write KIND=COL pairs, e.g. email=mail,name=full_name")
    return {k.strip(): v.strip() for k, _, v in pairs}


def pii_detector() -> tuple[Detector | None, str | None]:
    """The PII engine's ``Analyzer(AnalyzerConfig(entities=["PERSON"])).load().scan`` when present, else ``None``."""
    if importlib.util.find_spec("ethos.pii.detect") is None:
        return None, None
    module = importlib.import_module("ethos.pii.detect")
    analyzer = getattr(module, "Analyzer", None)
    if analyzer is None:
        return None, None
    config = getattr(module, "AnalyzerConfig", None)
    try:
        engine = (analyzer(config(entities=["PERSON"])) if config is not None else analyzer()).load()
    except Exception as exc:  # an engine that cannot start must not block exact matching
        err_console.print(f"warning: PII engine unavailable ({exc}); matching exact identifiers only", markup=False)
        return None, None
    return engine.scan, "ethos.pii.detect.Analyzer"


@app.command("apply")
def apply(  # noqa: PLR0913 - one parameter per command-line option
    dataset: Path = typer.Argument(..., help="CSV, JSONL or text file."),  # noqa: B008
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the cleaned file."),  # noqa: B008
    columns: str | None = COLUMNS_OPTION,
    fmt: str | None = FORMAT_OPTION,
    receipt: Path | None = RECEIPT_OPTION,
    no_ner: bool = NO_NER_OPTION,
    registry: Path | None = REGISTRY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove registered subjects' rows (CSV/JSONL) or mentions (text); write OUT and a signed receipt."""
    from ethos.data.optout import apply_registry, detect_format, sign_receipt, write_receipt

    if fmt is not None and fmt not in ("csv", "jsonl", "text"):
        raise ConfigError(f"--format {fmt!r}: choose csv, jsonl or text")
    receipt_path = _receipt_path(receipt, dataset, output)
    reg = _open(home, registry, key_file)
    kind = fmt or detect_format(dataset)
    detector, detector_name = (None, None) if no_ner or kind != "text" else pii_detector()
    result = apply_registry(
        reg,
        dataset,
        output,
        columns=_parse_columns(columns),
        fmt=kind,  # type: ignore[arg-type]
        detector=detector,
        detector_name=detector_name,
    )
    signed = sign_receipt(result, reg)
    try:
        write_receipt(receipt_path, signed)
    except BaseException:
        output.unlink(missing_ok=True)  # no cleaned file without its receipt
        raise
    if as_json:
        emit_json({**signed, "receipt": str(receipt_path)})
        return
    unit = "mentions" if result.format == "text" else "rows"
    console.print(
        f"removed {signed['total_removed']} {unit} of {len(result.removed)} registered subjects; "
        f"wrote {output} and receipt {receipt_path}",
        markup=False,
    )


def _receipt_path(receipt: Path | None, dataset: Path, output: Path) -> Path:
    path = receipt or output.with_name(output.name + ".receipt.json")
    for role, other in (("input", dataset), ("output", output)):
        if path.resolve() == other.resolve():
            raise ConfigError(f"--receipt {path} is the {role}; write the receipt to another file")
    return path


@app.command("verify-receipt")
def verify(
    receipt: Path = typer.Argument(..., help="The receipt JSON written by `ethos optout apply`."),  # noqa: B008
    data: Path | None = typer.Option(None, "--data", help="Also check this file is the receipt's output."),  # noqa: B008
    key_file: Path | None = KEY_FILE_OPTION,
    registry: Path | None = REGISTRY_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a receipt's signature (and that --data is the file it describes); exit 2 if it fails."""
    from ethos.data.optout import RegistryKey, verify_receipt

    _, key_path = _paths(home, registry, key_file)
    checked = verify_receipt(receipt, _key(RegistryKey, key_path), data)
    if as_json:
        emit_json({"valid": True, "receipt": checked})
        return
    console.print(
        f"receipt {receipt} verifies: {checked['total_removed']} removed from {checked['dataset']} "
        f"at {checked['applied_at']} (registry version {checked['registry_version']})",
        markup=False,
    )
