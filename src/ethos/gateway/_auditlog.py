r"""The gateway's tamper-evident audit log: one hash-chained JSON line per request.

Each entry gets ``seq``, ``ts`` (UTC, milliseconds), ``prev`` (the previous entry's hash) and
``hash = sha256(prev + "\n" + canonical_json(entry without "hash"))``; the format and the
reading side (:func:`verify_log`, :func:`read_log`) live in :mod:`ethos.gateway._auditverify`.

Durability: each entry is handed to the operating system with one ``write`` (it survives a crash
of the gateway, not of the machine); ``fsync=True`` forces it to disk per entry, at the price of
a disk flush per request. The head anchor ``audit.head`` ({seq, hash, file, ts}) is rewritten
atomically on the first entry, then whenever ``anchor_every`` entries (1000) or ``anchor_seconds``
(1 s) have passed since the last write (checked on append, so an idle log costs nothing), and on
:meth:`AuditLog.close`; cutting entries off the end is then detected unless they were all
written after the last anchor. A chain proves that entries were not changed after they were
written, not that everything was logged: copy the head hash elsewhere (a CI log, another host)
to make a rewrite of the whole log detectable too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from ethos._util.atomic import atomic_open
from ethos.errors import ConfigError, DataError
from ethos.gateway._auditverify import (
    ALG,
    GENESIS,
    HEAD_NAME,
    BadEntry,
    VerifyResult,
    canonical_json,
    chain_hash,
    check_line,
    file_name,
    log_files,
    read_head,
    read_log,
    verify_log,
)

__all__ = ["AuditLog", "BadEntry", "ContentMode", "VerifyResult", "load_key", "read_log", "verify_log"]

ContentMode = Literal["redacted", "hash", "none"]
_MODES = ("redacted", "hash", "none")
_RESERVED = frozenset({"seq", "ts", "prev", "hash"})
_KEY_LABEL = "gateway/audit/v1"
_LOCK_NAME = ".audit.lock"


def load_key(path: Path) -> bytes:
    """The 32-byte content key for the audit log, from a PII key file (``ethos pii keygen``).

    The log uses its own sub-key derived from the file's key, so the same file can serve the PII
    ``encrypt`` operator without the two sharing a key. A file that others may read is refused.

    Raises:
        ConfigError: Naming the file: missing, too open, or not a key.
    """
    from ethos.pii.anonymize._keys import read_key_file

    return read_key_file(Path(path).expanduser()).derive(_KEY_LABEL)


class AuditLog:
    """Appends hash-chained entries to ``audit-NNNNNN.jsonl`` files in one folder.

    Thread-safe; one process per folder (a second :meth:`open` on the same folder is refused).
    Usage::

        with AuditLog(Path("audit"), content="hash").open() as log:
            log.append({"request_id": "r1", "status": 200})
    """

    def __init__(
        self,
        directory: Path,
        *,
        content: ContentMode = "redacted",
        key: bytes | None = None,
        rotate_bytes: int = 64 * 2**20,
        fsync: bool = False,
        anchor_every: int = 1000,
        anchor_seconds: float = 1.0,
    ) -> None:
        """Keep the settings; nothing is touched on disk before :meth:`open`.

        Args:
            directory: The log folder (created with mode 0700).
            content: What to keep of ``entry["content"]``: ``"redacted"`` stores it as given (the
                gateway passes it with placeholders), ``"hash"`` only its SHA-256, ``"none"`` nothing.
            key: 32 bytes (see :func:`load_key`): stored content is then AES-256-GCM encrypted.
            rotate_bytes: Start the next file once the current one has reached this size.
            fsync: Force every entry to disk (slower; default: hand it to the OS).
            anchor_every: Rewrite the head anchor at least every this many entries.
            anchor_seconds: ... and when this much time has passed since the last rewrite.

        Raises:
            ConfigError: For an unknown content mode, a key that is not 32 bytes or a size ≤ 0.
        """
        if content not in _MODES:
            raise ConfigError(f"audit content mode {content!r} is unknown; use one of {', '.join(_MODES)}")
        if key is not None and len(key) != 32:
            raise ConfigError(f"the audit log key must be 32 bytes, got {len(key)}")
        if rotate_bytes <= 0:
            raise ConfigError(f"audit rotate_bytes must be positive, got {rotate_bytes}")
        self.directory = Path(directory)
        self.content = content
        self.rotate_bytes = rotate_bytes
        self.fsync = fsync
        self.anchor_every = max(1, anchor_every)
        self.anchor_seconds = anchor_seconds
        self._aead: Any = _aead(key) if key is not None else None
        self._lock = threading.Lock()
        self._placeholder = secrets.token_hex(32)
        self._fd: int | None = None
        self._lockfd: int | None = None
        self._number = 0
        self._size = 0
        self._seq = 0
        self._prev = GENESIS
        self._anchored_seq = 0
        self._anchored_at = float("-inf")

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last entry written (``(0, 64 zeros)`` for an empty log)."""
        return self._seq, self._prev

    def open(self) -> AuditLog:
        """Create the folder (0700) and resume the chain from the newest file's last entry.

        Raises:
            DataError: If the last entry is damaged, the head anchor is ahead of the log (entries
                were cut off), or another process is writing to this folder.
        """
        with self._lock:
            if self._lockfd is not None:
                return self
            created = not self.directory.exists()
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if created:
                os.chmod(self.directory, 0o700)
            self._lockfd = _exclusive(self.directory / _LOCK_NAME)
            try:
                self._resume()
            except BaseException:
                os.close(self._lockfd)
                self._lockfd = None
                raise
        return self

    def _resume(self) -> None:
        files = log_files(self.directory)
        if files:
            self._number = files[-1][0]  # appends go on in the newest file, even an empty one
        for _, path in reversed(files):
            data = path.read_bytes()
            if data:
                entry = _last_entry(path, data)
                self._seq, self._prev = entry["seq"], entry["hash"]
                break
        head = read_head(self.directory)
        if head is not None and head["seq"] > self._seq:
            raise DataError(
                f"audit log {self.directory} ends at seq {self._seq} but its head anchor says {head['seq']}: entries "
                "were cut off. Run `ethos gateway log verify`, keep the folder as evidence and point the gateway "
                "at a new one ([audit] dir)"
            )
        self._anchored_seq = 0 if head is None else head["seq"]

    def append(self, entry: Mapping[str, Any]) -> str:
        """Add one entry (a JSON-able mapping) and return its hash.

        ``seq``, ``ts``, ``prev`` and ``hash`` are added; ``content`` is kept, hashed, dropped and/or
        encrypted as configured. The line reaches the OS in one ``write``.

        Raises:
            ValueError: If ``entry`` already has one of the added fields.
            RuntimeError: If the log is not open.
            OSError: If the write failed (the file is then cut back to its last whole entry).
        """
        clash = _RESERVED.intersection(entry)
        if clash:
            raise ValueError(f"audit entries may not set {', '.join(sorted(clash))}: the log adds them")
        with self._lock:
            if self._lockfd is None:
                raise RuntimeError("AuditLog.append() before open()")
            seq = self._seq + 1
            record = dict(entry)
            if "content" in record:
                record["content"] = self._store_content(record["content"], seq)
            record["seq"], record["ts"], record["prev"] = seq, _now(), self._prev
            digest, line = self._seal(record)
            self._write(line)
            self._seq, self._prev = seq, digest
            if (
                seq - self._anchored_seq >= self.anchor_every
                or time.monotonic() - self._anchored_at >= self.anchor_seconds
            ):
                self._write_head()
            return digest

    def _seal(self, record: dict[str, Any]) -> tuple[str, bytes]:
        """The hash and the stored line of ``record`` (one ``json.dumps``: the hash goes in by placeholder)."""
        placeholder = self._placeholder
        record["hash"] = placeholder
        line = canonical_json(record)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (from JSON "\ud800" escapes) cannot be stored as UTF-8
            record = _scrub(record)
            line = canonical_json(record)
        field = f'"hash":"{placeholder}"'
        body = line.replace(field + ",", "", 1) if field + "," in line else line.replace("," + field, "", 1)
        digest = chain_hash(record["prev"], body)
        return digest, (line.replace(placeholder, digest, 1) + "\n").encode("utf-8")

    def _store_content(self, content: Any, seq: int) -> Any:
        if content is None or self.content == "none":
            return None
        if self.content == "hash":
            content = {"sha256": hashlib.sha256(canonical_json(content).encode("utf-8", "surrogatepass")).hexdigest()}
        if self._aead is None:
            return content
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, canonical_json(content).encode("utf-8", "surrogatepass"), str(seq).encode())
        return {"enc": base64.b64encode(nonce + sealed).decode("ascii"), "alg": ALG}

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            self._open_file(self._number or 1)
        if self._size >= self.rotate_bytes:
            self._open_file(self._number + 1)
        fd = self._fd
        assert fd is not None  # noqa: S101 - _open_file opened it
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if self.fsync:
                os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._size)  # no half line: the next entry must start on a line of its own
            raise
        self._size += len(data)

    def _open_file(self, number: int) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._fd = os.open(self.directory / file_name(number), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._number, self._size = number, os.fstat(self._fd).st_size

    def _write_head(self) -> None:
        head = {"seq": self._seq, "hash": self._prev, "file": file_name(self._number), "ts": _now()}
        with atomic_open(self.directory / HEAD_NAME, perms=0o600) as fh:
            fh.write(canonical_json(head) + "\n")
        self._anchored_seq, self._anchored_at = self._seq, time.monotonic()

    def close(self) -> None:
        """Write the head anchor and close the files (idempotent)."""
        with self._lock:
            if self._lockfd is None:
                return
            try:
                if self._seq > self._anchored_seq or not (self.directory / HEAD_NAME).exists():
                    self._write_head()
            finally:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
                os.close(self._lockfd)
                self._lockfd = None

    def __enter__(self) -> AuditLog:
        """Open the log (if not yet open) for a ``with`` block."""
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the log."""
        self.close()


def _aead(key: bytes) -> Any:
    from ethos._util.deps import require

    aead = require("cryptography.hazmat.primitives.ciphers.aead", extra="gateway", purpose="an encrypted audit log")
    return aead.AESGCM(key)


def _exclusive(path: Path) -> int:
    """Hold an exclusive lock on ``path`` for as long as the returned descriptor is open."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no cross-process guard
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise DataError(
            f"audit log {path.parent} is being written by another process; give each gateway its own [audit] dir"
        ) from None
    return fd


def _last_entry(path: Path, data: bytes) -> dict[str, Any]:
    if not data.endswith(b"\n"):
        raise DataError(
            f"{path}: the last line is cut (no newline), so the chain cannot be resumed; run "
            "`ethos gateway log verify`, keep the folder as evidence and point the gateway at a new one"
        )
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    line_no = data.count(b"\n")
    entry, why = check_line(data[start:-1])
    if why is not None or entry is None:
        raise DataError(
            f"{path}:{line_no}: the last entry fails its own check ({why}), so the chain cannot be resumed; run "
            "`ethos gateway log verify`, keep the folder as evidence and point the gateway at a new one"
        )
    return entry


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def _scrub(value: Any) -> Any:
    """``value`` with lone surrogates in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value
