"""Applying the registry to a dataset, and the signed receipt of what was removed.

CSV and JSONL lose every row whose email, user-id or name column matches a registered subject.
Plain text keeps its lines but has each mention replaced by :data:`REDACTION`: emails and id-like
tokens found by pattern, names found as runs of up to four words, plus any span a PII detector
reports (``ethos.pii.detect``'s ``Analyzer.scan`` when the CLI finds it). Matching compares keyed
hashes only, so the registry never needs the identifiers in clear text. The redaction marker
matches nothing, so applying twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ethos.data.optout._keys import RegistryKey, write_private
from ethos.data.optout._registry import IDENTIFIER_KINDS, Registry, normalise
from ethos.errors import ConfigError, DataError
from ethos.types import Span

__all__ = [
    "COLUMN_ALIASES",
    "REDACTION",
    "ApplyResult",
    "DatasetFormat",
    "Detector",
    "apply_registry",
    "detect_format",
    "sign_receipt",
    "verify_receipt",
    "write_receipt",
]

Detector = Callable[[Sequence[str]], list[list[Span]]]
"""A batched PII detector: texts in, spans per text out (``Analyzer.scan`` has this shape)."""
DatasetFormat = Literal["csv", "jsonl", "text"]
REDACTION = "[opt-out]"
RECEIPT_FORMAT = "ethos-optout-receipt/1"
COLUMN_ALIASES: Mapping[str, frozenset[str]] = {
    "email": frozenset({"email", "e_mail", "email_address", "mail"}),
    "user_id": frozenset({"user_id", "userid", "user", "uid", "customer_id", "account_id"}),
    "name": frozenset({"name", "full_name", "fullname", "customer_name", "person"}),
}
"""Header names (lower-cased, non-alphanumerics as ``_``) recognised as identifier columns."""
_NAME_ENTITIES = frozenset({"PERSON", "NAME", "PER"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TOKEN = re.compile(r"[\w][\w.@+-]*[\w]|\w")
_WORD = re.compile(r"\w[\w'’-]*")


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What applying the registry did."""

    dataset: str
    output: str
    format: DatasetFormat
    sha256_before: str
    sha256_after: str
    units_before: int
    units_after: int
    removed: dict[str, int]
    detector: str | None


def detect_format(path: Path) -> DatasetFormat:
    """``csv`` for .csv/.tsv, ``jsonl`` for .jsonl/.ndjson, else ``text``."""
    suffix = path.suffix.lower()
    return "csv" if suffix in (".csv", ".tsv") else "jsonl" if suffix in (".jsonl", ".ndjson") else "text"


def _header_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _columns(fields: Sequence[str], given: Mapping[str, str] | None, source: Path) -> dict[str, str]:
    if given:
        unknown = [k for k in given if k not in IDENTIFIER_KINDS]
        missing = [c for c in given.values() if c not in fields]
        if unknown or missing:
            raise ConfigError(
                f"--columns: kinds must be email, user_id or name and columns must exist in {source} "
                f"(columns: {', '.join(fields)})"
            )
        return dict(given)
    found = {kind: f for f in fields for kind, names in COLUMN_ALIASES.items() if _header_key(f) in names}
    if not found:
        raise DataError(
            f"{source}: no identifier column found among {', '.join(fields) or 'no columns'}; "
            "pass --columns email=COL,user_id=COL,name=COL"
        )
    return found


def _matcher(registry: Registry) -> Callable[[str, str], str | None]:
    index = registry.index()

    def match(kind: str, value: str) -> str | None:
        norm = normalise(kind, value)  # type: ignore[arg-type]
        return index.get((kind, registry.hash(kind, norm))) if norm else None

    return match


def _row_owner(
    record: Mapping[str, Any], columns: Mapping[str, str], match: Callable[[str, str], str | None]
) -> str | None:
    for kind, column in columns.items():
        value = record.get(column)
        if isinstance(value, str | int) and (owner := match(kind, str(value))):
            return owner
    return None


def _apply_csv(
    text: str, source: Path, columns: Mapping[str, str] | None, match: Any
) -> tuple[str, int, int, Counter[str]]:
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    numbered = [(reader.line_num, row) for row in reader]  # line_num: the row's last line
    if not numbered:
        raise DataError(f"{source} is empty; a CSV needs a header row")
    header = numbered[0][1]
    for line, row in numbered[1:]:
        if row and len(row) != len(header):  # a shifted row could hide an identifier in the wrong column
            raise DataError(
                f"{source}, line {line}: {len(row)} fields, but the header has {len(header)} "
                f"(separator {dialect.delimiter!r}); fix the row"
            )
    body = [row for _, row in numbered[1:]]
    cols = _columns(header, columns, source)
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=dialect.delimiter, quotechar='"', lineterminator="\r\n" if "\r\n" in text else "\n"
    )
    writer.writerow(header)
    removed: Counter[str] = Counter()
    for row in body:
        owner = _row_owner(dict(zip(header, row, strict=True)), cols, match) if row else None
        if owner:
            removed[owner] += 1
        else:
            writer.writerow(row)  # a blank line stays a blank line
    records = sum(1 for row in body if row)
    return out.getvalue(), records, records - sum(removed.values()), removed


def _apply_jsonl(
    text: str, source: Path, columns: Mapping[str, str] | None, match: Any
) -> tuple[str, int, int, Counter[str]]:
    kept: list[str] = []
    removed: Counter[str] = Counter()
    total = 0
    # lines end at \n only: JSON strings may hold U+2028 or U+0085, which str.splitlines would split at
    for number, line in enumerate(io.StringIO(text, newline="\n"), start=1):
        if not line.strip():
            kept.append(line)
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DataError(f"{source}, line {number}: not JSON ({exc}); JSONL needs one object per line") from None
        if not isinstance(record, dict):
            raise DataError(f"{source}, line {number}: a JSON {type(record).__name__}, not an object")
        total += 1
        owner = _row_owner(record, _columns(list(record), columns, source), match)
        if owner:
            removed[owner] += 1
        else:
            kept.append(line)
    return "".join(kept), total, total - sum(removed.values()), removed


def _mentions(text: str, match: Any, detector: Detector | None) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), o) for m in _EMAIL.finditer(text) if (o := match("email", m.group()))]
    found += [(m.start(), m.end(), o) for m in _TOKEN.finditer(text) if (o := match("user_id", m.group()))]
    words = list(_WORD.finditer(text))
    for i in range(len(words)):
        for j in range(i, min(i + 4, len(words))):
            if j > i and text[words[j - 1].end() : words[j].start()].strip():
                break  # a name does not run across punctuation
            if owner := match("name", text[words[i].start() : words[j].end()]):
                found.append((words[i].start(), words[j].end(), owner))
    if detector is not None:
        for span in detector([text])[0]:
            if span.entity in _NAME_ENTITIES and (owner := match("name", text[span.start : span.end])):
                found.append((span.start, span.end, owner))
    return found


def _apply_text(text: str, match: Any, detector: Detector | None) -> tuple[str, int, int, Counter[str]]:
    pieces: list[str] = []
    removed: Counter[str] = Counter()
    for line in text.splitlines(keepends=True):
        spans = sorted(_mentions(line, match, detector))
        cursor, out = 0, []
        for start, end, owner in spans:
            if start < cursor:  # overlaps a mention already redacted
                continue
            out += [line[cursor:start], REDACTION]
            removed[owner] += 1
            cursor = end
        pieces.append("".join(out) + line[cursor:])
    total = len(text.splitlines())
    return "".join(pieces), total, total, removed


def apply_registry(  # noqa: PLR0913 - each is a separate, documented choice
    registry: Registry,
    dataset: Path,
    output: Path,
    *,
    columns: Mapping[str, str] | None = None,
    fmt: DatasetFormat | None = None,
    detector: Detector | None = None,
    detector_name: str | None = None,
) -> ApplyResult:
    """Remove registered subjects' rows (CSV, JSONL) or mentions (text) and write ``output`` atomically.

    Args:
        registry: The opened registry.
        dataset: The input file (UTF-8).
        output: Where to write the result (never the input itself).
        columns: ``{"email": COL, ...}``; detected from header names when ``None``.
        fmt: ``csv``, ``jsonl`` or ``text``; from the file extension when ``None``.
        detector: A batched PII detector for names in text, when available.
        detector_name: What to call the detector in the receipt.

    Raises:
        ConfigError: ``output`` is the input, or ``columns`` names unknown kinds or columns.
        DataError: The input is unreadable or malformed (names the line), or no identifier column is found.
    """
    if output.resolve() == dataset.resolve():
        raise ConfigError(f"-o {output} is the input; write the result to another file")
    try:
        raw = dataset.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {dataset}: {exc}; datasets must be UTF-8 files") from None
    kind = fmt or detect_format(dataset)
    match = _matcher(registry)
    if kind == "csv":
        result, before, after, removed = _apply_csv(text, dataset, columns, match)
    elif kind == "jsonl":
        result, before, after, removed = _apply_jsonl(text, dataset, columns, match)
    else:
        result, before, after, removed = _apply_text(text, match, detector)
    data = result.encode("utf-8")
    try:
        write_private(output, data)
    except OSError as exc:
        raise DataError(f"cannot write {output}: {exc.strerror or exc}") from None
    return ApplyResult(
        str(dataset),
        str(output),
        kind,
        hashlib.sha256(raw).hexdigest(),
        hashlib.sha256(data).hexdigest(),
        before,
        after,
        dict(sorted(removed.items())),
        detector_name if kind == "text" else None,
    )


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_receipt(result: ApplyResult, registry: Registry) -> dict[str, Any]:
    """The receipt of an application, signed with HMAC-SHA256 under the registry's signing key.

    It names entry ids and counts, never identifiers.
    """
    body: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "dataset": result.dataset,
        "output": result.output,
        "dataset_format": result.format,
        "sha256_before": result.sha256_before,
        "sha256_after": result.sha256_after,
        "units": "lines" if result.format == "text" else "rows",
        "units_before": result.units_before,
        "units_after": result.units_after,
        "removed": result.removed,
        "total_removed": sum(result.removed.values()),
        "detector": result.detector,
        "applied_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "registry_version": registry.version,
        "registry_key_id": registry.key.key_id,
    }
    signature = hmac.new(registry.key.signing, _canonical(body), "sha256").hexdigest()
    return {**body, "signature": {"algorithm": "HMAC-SHA256", "value": signature}}


def write_receipt(path: Path, receipt: Mapping[str, Any]) -> None:
    """Write a receipt atomically (mode 0600)."""
    try:
        write_private(path, (json.dumps(receipt, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as exc:
        raise DataError(f"cannot write receipt {path}: {exc.strerror or exc}") from None


def verify_receipt(path: Path, key: RegistryKey, data_file: Path | None = None) -> dict[str, Any]:
    """Check a receipt's signature (and, given ``data_file``, that the file is the output it describes).

    Raises:
        DataError: The receipt is unreadable, was edited, was signed with another key, or the file differs.
    """
    try:
        receipt = json.loads(path.read_text(encoding="utf-8"))
        body = {k: v for k, v in receipt.items() if k != "signature"}
        claimed = str(receipt["signature"]["value"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"cannot read receipt {path}: {exc}; it must be the JSON `ethos optout apply` wrote") from None
    if body.get("registry_key_id") != key.key_id:
        raise DataError(f"receipt {path} was signed with another registry's key (key id {body.get('registry_key_id')})")
    expected = hmac.new(key.signing, _canonical(body), "sha256").hexdigest()
    if not hmac.compare_digest(claimed, expected):
        raise DataError(f"receipt {path} does not verify: its signature does not match its content (it was edited)")
    if data_file is not None:
        digest = hashlib.sha256(data_file.read_bytes()).hexdigest()
        if digest != body.get("sha256_after"):
            raise DataError(f"{data_file} is not the output this receipt describes (its SHA-256 differs)")
    return dict(receipt)
