r"""The audit log's format, and the reading side: verify the chain, read entries, follow new ones.

A log is a folder of ``audit-000001.jsonl``, ``audit-000002.jsonl``, ... (one JSON object per
line) and ``audit.head``, the head anchor. Every line is the canonical JSON of its entry
(``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``) and carries ``seq``
(1, 2, 3, ... across files), ``ts``, ``prev`` (the previous entry's hash; 64 zeros for the first)
and ``hash = sha256(prev + "\n" + canonical_json(entry without "hash"))``. The writer is
:class:`ethos.gateway._auditlog.AuditLog`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ethos.errors import DataError

__all__ = [
    "ALG",
    "GENESIS",
    "HEAD_NAME",
    "BadEntry",
    "LogCursor",
    "VerifyResult",
    "canonical_json",
    "check_line",
    "chain_hash",
    "decrypt_content",
    "file_name",
    "log_files",
    "read_head",
    "read_log",
    "verify_log",
]

GENESIS = "0" * 64
HEAD_NAME = "audit.head"
ALG = "AES-256-GCM"
_FILE = re.compile(r"audit-(\d{6,})\.jsonl")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical_json(obj: Any) -> str:
    r"""The one serialization the chain hashes: sorted keys, no spaces, UTF-8 text (not ``\u`` escapes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)


def chain_hash(prev: str, body: str) -> str:
    r"""``sha256(prev + "\n" + body)`` in hex: an entry's hash from its predecessor's and its own JSON."""
    # surrogatepass: a forged line may smuggle in a lone surrogate ("\ud800"); it must fail, not crash.
    return hashlib.sha256(f"{prev}\n{body}".encode("utf-8", "surrogatepass")).hexdigest()


def file_name(number: int) -> str:
    """The name of the ``number``-th log file (``audit-000001.jsonl``)."""
    return f"audit-{number:06d}.jsonl"


def log_files(directory: Path) -> list[tuple[int, Path]]:
    """The log files in ``directory`` as ``(number, path)``, oldest first (other files are ignored)."""
    found = []
    for path in directory.iterdir():
        match = _FILE.fullmatch(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


@dataclass(frozen=True)
class BadEntry:
    """The first place where a log fails verification.

    Attributes:
        file: The log file (or the missing file, or ``audit.head``).
        line: The 1-based line in ``file``; 0 when the problem is the whole file.
        seq: The entry's sequence number when it could be read.
        why: What is wrong and what it suggests ("hash does not match its content (edited?)").
    """

    file: Path
    line: int
    seq: int | None
    why: str

    def __str__(self) -> str:
        """``audit-000002.jsonl:17 (seq 41): why``."""
        where = f"{self.file.name}:{self.line}" if self.line else self.file.name
        return f"{where}{'' if self.seq is None else f' (seq {self.seq})'}: {self.why}"


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify_log` found.

    Attributes:
        ok: True when every entry, the file sequence and the head anchor check out.
        entries: Entries verified (up to the first bad one).
        files: Log files read.
        head: The hash of the last good entry (``None`` for an empty log).
        first_bad: Where verification failed, or ``None``.
    """

    ok: bool
    entries: int
    files: int
    head: str | None
    first_bad: BadEntry | None


def check_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Parse one stored line and check it on its own: JSON object, fields, own hash, canonical bytes.

    Returns:
        ``(entry, None)`` when the line is sound by itself, else ``(entry or None, why)``.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not valid UTF-8 (edited or damaged?)"
    try:
        entry = json.loads(text)
    except ValueError:
        return None, "not valid JSON (edited, damaged or cut?)"
    if not isinstance(entry, dict):
        return None, "not a JSON object"
    seq, prev, stored = entry.get("seq"), entry.get("prev"), entry.get("hash")
    if type(seq) is not int or seq < 1:
        return None, "field 'seq' is missing or not a positive integer"
    for name, value in (("prev", prev), ("hash", stored)):
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            return entry, f"field {name!r} is missing or not 64 hex digits"
    if not isinstance(entry.get("ts"), str):
        return entry, "field 'ts' is missing"
    body = dict(entry)
    del body["hash"]
    if chain_hash(str(prev), canonical_json(body)) != stored:
        return entry, "hash does not match its content (edited?)"
    if canonical_json(entry) != text:
        return entry, "line is not in canonical form: same values, different bytes (edited?)"
    return entry, None


def read_head(directory: Path) -> dict[str, Any] | None:
    """The head anchor ``{seq, hash, file, ts}``, or ``None`` when there is none.

    Raises:
        DataError: If the anchor exists but is not a valid anchor.
    """
    path = directory / HEAD_NAME
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataError(f"head anchor {path} cannot be read ({type(exc).__name__}); restore it from a copy") from None
    if (
        not isinstance(head, dict)
        or type(head.get("seq")) is not int
        or not isinstance(head.get("hash"), str)
        or not (head["seq"] == 0 or _HEX64.fullmatch(head["hash"]))
    ):
        raise DataError(f"head anchor {path} is not a valid anchor (expected {{seq, hash, file, ts}})")
    return head


class _Chain:
    """The running state of one verification pass."""

    def __init__(self, expect: str | None) -> None:
        self.expect = expect
        self.seen = False
        self.seq = 0
        self.hash = GENESIS
        self.entries = 0
        self.files = 0
        self.where: tuple[Path, int] | None = None  # the last good entry's file and line
        self.anchored: dict[int, tuple[str, Path, int]] = {}

    def link(self, entry: dict[str, Any]) -> str | None:
        """Check that ``entry`` follows the last one; ``None`` when it does."""
        seq, last = entry["seq"], self.seq
        if seq != last + 1:
            if last == 0:
                return f"log starts at seq {seq}, not 1 (earlier entries or files missing?)"
            if seq > last + 1:
                return f"seq {seq} follows {last} (entry missing or moved?)"
            return f"seq {seq} follows {last} (reordered or duplicated?)"
        if entry["prev"] != self.hash:
            if last == 0:
                return "prev of the first entry is not 64 zeros (earlier entries missing?)"
            return f"prev does not match entry {last}'s hash (deleted or reordered?)"
        return None

    def result(self, bad: BadEntry | None = None) -> VerifyResult:
        head = None if self.entries == 0 else self.hash
        return VerifyResult(bad is None, self.entries, self.files, head, bad)


def verify_log(
    directory: Path, *, expect_head: str | None = None, progress: Callable[[int, int], None] | None = None
) -> VerifyResult:
    """Check a whole log: every line, the chain across files, the file numbering and the head anchor.

    No key is needed: the chain covers the stored line, encrypted content included. A chain
    proves that nothing was changed after it was written, not that everything was logged.

    Args:
        directory: The log folder.
        expect_head: A head hash kept elsewhere (a CI log, another host): some entry must carry
            it, else the log was rewritten (or that head came from another log).
        progress: Called after each file with (bytes verified, bytes in all files).

    Raises:
        DataError: If ``directory`` does not exist.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"audit log directory {directory} does not exist; pass --dir or set [audit] dir")
    chain = _Chain(expect_head)
    head_path = directory / HEAD_NAME
    try:
        head = read_head(directory)
    except DataError as exc:
        return chain.result(BadEntry(head_path, 0, None, str(exc)))
    anchor_seq = 0 if head is None else head["seq"]
    expected, done = 1, 0
    files = log_files(directory)
    total = sum(path.stat().st_size for _, path in files)
    for number, path in files:
        if number != expected:
            missing = file_name(expected)
            return chain.result(BadEntry(directory / missing, 0, None, f"file {missing} missing"))
        expected += 1
        chain.files += 1
        bad = _verify_file(chain, path, anchor_seq)
        if bad is not None:
            return chain.result(bad)
        done += path.stat().st_size
        if progress is not None:
            progress(done, total)
    bad = _check_anchor(chain, head, head_path)
    if bad is None and expect_head is not None and not chain.seen:
        path, line = chain.where or (head_path, 0)
        why = f"no entry has the expected head {expect_head} (log rewritten, or that head is from another log?)"
        bad = BadEntry(path, 0 if chain.where is None else line, None, why)
    return chain.result(bad)


def _verify_file(chain: _Chain, path: Path, anchor_seq: int) -> BadEntry | None:
    data = path.read_bytes()
    if not data:
        return BadEntry(path, 0, None, "file is empty (entries removed?)")
    lines = data.split(b"\n")
    if lines[-1]:
        return BadEntry(path, len(lines), None, "file does not end with a newline (cut mid-entry?)")
    for number, raw in enumerate(lines[:-1], start=1):
        entry, why = check_line(raw)
        if why is None and entry is not None:
            why = chain.link(entry)
        if why is not None:
            return BadEntry(path, number, None if entry is None else entry.get("seq"), why)
        assert entry is not None  # noqa: S101 - check_line returns an entry with no complaint
        chain.seq, chain.hash = entry["seq"], entry["hash"]
        chain.entries += 1
        chain.where = (path, number)
        chain.seen = chain.seen or chain.hash == chain.expect
        if chain.seq == anchor_seq:
            chain.anchored[chain.seq] = (chain.hash, path, number)
    return None


def _check_anchor(chain: _Chain, head: dict[str, Any] | None, head_path: Path) -> BadEntry | None:
    if head is None:
        if chain.entries:
            return BadEntry(head_path, 0, None, f"head anchor {HEAD_NAME} missing (deleted?)")
        return None
    seq = head["seq"]
    if seq > chain.seq:
        path, line = chain.where or (head_path, 0)
        return BadEntry(
            path, line, chain.seq or None, f"log ends at seq {chain.seq} but the head anchor says {seq} (truncated?)"
        )
    if seq > 0:
        stored, path, line = chain.anchored[seq]
        if stored != head["hash"]:
            return BadEntry(path, line, seq, "hash differs from the head anchor's (chain rewritten?)")
    return None


def decrypt_content(stored: Any, seq: int, key: bytes, *, where: str) -> Any:
    """Open content written with a key: ``{"enc": base64(nonce + ciphertext), "alg": "AES-256-GCM"}``.

    Content that is not encrypted is returned unchanged.

    Raises:
        DataError: If the key is wrong or the ciphertext was altered (names ``where``).
    """
    if not (isinstance(stored, dict) and stored.get("alg") == ALG and isinstance(stored.get("enc"), str)):
        return stored
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        blob = base64.b64decode(stored["enc"], validate=True)
        plain = AESGCM(key).decrypt(blob[:12], blob[12:], str(seq).encode())
    except (InvalidTag, ValueError):
        raise DataError(f"{where}: content cannot be decrypted (wrong key file, or the entry was altered)") from None
    return json.loads(plain)


def _entries(path: Path, *, partial_ok: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines[-1] and not partial_ok:
        raise DataError(f"{path}:{len(lines)}: the last line is cut (no newline); run `ethos gateway log verify`")
    for number, raw in enumerate(lines[:-1], start=1):
        try:
            entry = json.loads(raw)
        except ValueError:
            raise DataError(f"{path}:{number}: not valid JSON; run `ethos gateway log verify`") from None
        if not isinstance(entry, dict):
            raise DataError(f"{path}:{number}: not a JSON object; run `ethos gateway log verify`")
        yield number, entry


def read_log(directory: Path, *, last: int | None = None, key: bytes | None = None) -> list[dict[str, Any]]:
    """Read entries, oldest first, without verifying them (see :func:`verify_log`).

    Args:
        directory: The log folder.
        last: Only the newest ``last`` entries (only the files that hold them are read).
        key: The 32-byte content key (:func:`ethos.gateway._auditlog.load_key`); encrypted content
            is then decrypted, else it stays ``{"enc": ..., "alg": ...}``.

    Raises:
        DataError: If the folder is missing, a line is not JSON, or the key does not open content.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"audit log directory {directory} does not exist; pass --dir or set [audit] dir")
    files = log_files(directory)
    chunks: list[list[tuple[Path, int, dict[str, Any]]]] = []
    count = 0
    for index in range(len(files) - 1, -1, -1):
        if last is not None and count >= last:
            break
        path = files[index][1]
        chunk = [(path, n, e) for n, e in _entries(path, partial_ok=index == len(files) - 1)]
        chunks.append(chunk)
        count += len(chunk)
    found = [item for chunk in reversed(chunks) for item in chunk]
    if last is not None:
        found = found[len(found) - last :] if last > 0 else []
    if key is not None:
        for path, number, entry in found:
            if "content" in entry and type(entry.get("seq")) is int:
                entry["content"] = decrypt_content(entry["content"], entry["seq"], key, where=f"{path}:{number}")
    return [entry for _, _, entry in found]


class LogCursor:
    """A position at the end of a log that hands out entries written after it (``tail --follow``).

    Lines still being written (no newline yet) wait for the next call; rotation to the next file
    is followed.
    """

    def __init__(self, directory: Path) -> None:
        """Start at the current end of the log in ``directory``."""
        self.directory = Path(directory)
        files = log_files(self.directory) if self.directory.is_dir() else []
        self.number = files[-1][0] if files else 1
        self.offset = files[-1][1].read_bytes().rfind(b"\n") + 1 if files else 0

    def read_new(self) -> list[dict[str, Any]]:
        """The entries appended since the last call (possibly none)."""
        out: list[dict[str, Any]] = []
        while True:
            path = self.directory / file_name(self.number)
            try:
                with path.open("rb") as fh:
                    fh.seek(self.offset)
                    data = fh.read()
            except FileNotFoundError:
                data = b""
            end = data.rfind(b"\n") + 1
            for raw in data[:end].splitlines():
                try:
                    entry = json.loads(raw)
                except ValueError:
                    raise DataError(f"{path}: a line is not valid JSON; run `ethos gateway log verify`") from None
                out.append(entry)
            self.offset += end
            if end == len(data) and (self.directory / file_name(self.number + 1)).exists():
                self.number, self.offset = self.number + 1, 0
                continue
            return out
