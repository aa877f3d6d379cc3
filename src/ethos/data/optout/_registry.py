"""The opt-out registry: subjects who objected (GDPR Art. 21) or asked for erasure (Art. 17).

A subject is stored only as keyed hashes (HMAC-SHA256) of their normalised identifiers: email
(trimmed, lower-cased), user id (trimmed) and full name (Unicode NFKC, case-folded, whitespace
collapsed). Without the key the hashes cannot even be tested against a guess. The whole registry
is then encrypted with AES-256-GCM, so entry dates and reasons are protected too, and any change
to the file is detected.

File layout: ``ETHOSOPT`` · version byte · 8-byte key id · 12-byte nonce · ciphertext+tag; the
first 17 bytes are the GCM associated data. Every write is atomic (temp file, fsync, rename, mode
0600) under an exclusive lock, so concurrent ``add`` calls never lose entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ethos._util.deps import require
from ethos.data.optout._keys import RegistryKey, write_private
from ethos.errors import ConfigError, DataError

__all__ = ["IDENTIFIER_KINDS", "AddResult", "Entry", "IdentifierKind", "Registry", "Subject", "normalise"]

IdentifierKind = Literal["email", "user_id", "name"]
IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = ("email", "user_id", "name")

_MAGIC = b"ETHOSOPT"
_VERSION = 1
_HEADER = len(_MAGIC) + 1 + 8
_NONCE = 12
_FORMAT = "ethos-optout-registry/1"
_SPACE = re.compile(r"\s+")


def normalise(kind: IdentifierKind, value: str) -> str:
    """The canonical form of an identifier, so that trivial spelling differences still match."""
    text = unicodedata.normalize("NFKC", value).strip()
    if kind == "email":
        return text.lower()
    if kind == "name":
        return _SPACE.sub(" ", text.casefold())
    return text


@dataclass(frozen=True, slots=True)
class Subject:
    """Identifiers of one person to register (in clear text only in memory, never stored)."""

    emails: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    reason: str | None = None

    def identifiers(self) -> Iterator[tuple[IdentifierKind, str]]:
        """Every non-empty identifier as ``(kind, normalised value)``."""
        for kind, values in (("email", self.emails), ("user_id", self.user_ids), ("name", self.names)):
            for value in values:
                if norm := normalise(kind, value):  # type: ignore[arg-type]
                    yield kind, norm  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class Entry:
    """One registered subject: an id, the kinds and keyed hashes of their identifiers, when and why."""

    id: str
    hashes: tuple[tuple[str, str], ...]
    added_at: str
    reason: str | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The identifier kinds registered, in order, without repeats."""
        return tuple(dict.fromkeys(kind for kind, _ in self.hashes))


@dataclass(frozen=True, slots=True)
class AddResult:
    """What :meth:`Registry.add` did: new entries, entries that gained identifiers, subjects already present."""

    added: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


@dataclass(slots=True)
class Registry:
    """A decrypted registry and its key. Open with :meth:`open`, change with :meth:`add`."""

    path: Path
    key: RegistryKey
    version: int = 0
    created_at: str = ""
    entries: list[Entry] = field(default_factory=list)

    # -- files -------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, key: RegistryKey) -> Registry:
        """Write a new, empty registry at ``path``; never overwrites.

        Raises:
            ConfigError: ``path`` exists already.
        """
        registry = cls(path, key, version=1, created_at=_now())
        try:
            write_private(path, registry._encrypt(), exclusive=True)
        except FileExistsError:
            raise ConfigError(f"registry {path} already exists; Ethos never overwrites a registry") from None
        except OSError as exc:
            raise DataError(f"cannot write registry {path}: {exc.strerror or exc}") from None
        return registry

    @classmethod
    def open(cls, path: Path, key: RegistryKey) -> Registry:
        """Decrypt and read the registry at ``path``.

        Raises:
            ConfigError: There is no registry at ``path``.
            DataError: Wrong key, damaged or modified file, or not a registry (each with its own message).
        """
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"no opt-out registry at {path}; create one with `ethos optout init`") from None
        except OSError as exc:
            raise DataError(f"cannot read registry {path}: {exc.strerror or exc}") from None
        data = _decrypt(blob, key, path)
        try:
            entries = [
                Entry(e["id"], tuple((h[0], h[1]) for h in e["hashes"]), e["added_at"], e.get("reason"))
                for e in data["entries"]
            ]
            return cls(path, key, int(data["version"]), str(data["created_at"]), entries)
        except (KeyError, TypeError, ValueError, IndexError):
            raise DataError(f"registry {path} decrypted but its content is malformed; restore a backup") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        with lock.open("a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield

    def _encrypt(self) -> bytes:
        aead: Any = require(
            "cryptography.hazmat.primitives.ciphers.aead", extra="tabular", purpose="the opt-out registry"
        )
        payload = {
            "format": _FORMAT,
            "version": self.version,
            "created_at": self.created_at,
            "entries": [
                {"id": e.id, "hashes": [list(h) for h in e.hashes], "added_at": e.added_at, "reason": e.reason}
                for e in self.entries
            ],
        }
        header = _MAGIC + bytes([_VERSION]) + bytes.fromhex(self.key.key_id)
        nonce = secrets.token_bytes(_NONCE)
        plain = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        sealed: bytes = aead.AESGCM(self.key.encryption).encrypt(nonce, plain, header)
        return header + nonce + sealed

    # -- contents ----------------------------------------------------------------------------

    def hash(self, kind: str, normalised: str) -> str:
        """The keyed hash of an already normalised identifier."""
        return hmac.new(self.key.hashing, f"{kind}\0{normalised}".encode(), "sha256").hexdigest()

    def index(self) -> dict[tuple[str, str], str]:
        """``(kind, hash) -> entry id`` for matching."""
        return {h: e.id for e in self.entries for h in e.hashes}

    def add(self, subjects: Iterable[Subject]) -> AddResult:
        """Register subjects, re-reading the file under an exclusive lock and writing it atomically.

        A subject whose identifiers are all registered already is left alone; one that shares an
        identifier with an entry adds its new identifiers to that entry; any other becomes a new entry.

        Raises:
            ConfigError: A subject has no identifier.
            DataError: The file on disk cannot be read with this key, or cannot be written.
        """
        todo: list[tuple[Subject, list[tuple[str, str]]]] = [
            (s, [(k, self.hash(k, v)) for k, v in s.identifiers()]) for s in subjects
        ]
        if any(not hashes for _, hashes in todo):
            raise ConfigError("every subject needs at least one identifier (--email, --user-id or --name)")
        with self._locked():
            fresh = Registry.open(self.path, self.key)  # another process may have added entries since
            result = fresh._merge(todo)
            fresh.version += 1
            try:
                write_private(self.path, fresh._encrypt())
            except OSError as exc:
                raise DataError(f"cannot write registry {self.path}: {exc.strerror or exc}") from None
        self.version, self.created_at, self.entries = fresh.version, fresh.created_at, fresh.entries
        return result

    def _merge(self, todo: list[tuple[Subject, list[tuple[str, str]]]]) -> AddResult:
        added: list[str] = []
        merged: list[str] = []
        unchanged: list[str] = []
        for subject, hashes in todo:
            known = self.index()
            owner = next((known[h] for h in hashes if h in known), None)
            new = tuple(dict.fromkeys(h for h in hashes if h not in known))
            if owner is None:
                entry = Entry(f"S{secrets.token_hex(5)}", new, _now(), subject.reason)
                self.entries.append(entry)
                added.append(entry.id)
            elif new:
                i = next(i for i, e in enumerate(self.entries) if e.id == owner)
                old = self.entries[i]
                self.entries[i] = Entry(old.id, old.hashes + new, old.added_at, old.reason or subject.reason)
                merged.append(owner)
            else:
                unchanged.append(owner)
        return AddResult(tuple(added), tuple(merged), tuple(unchanged))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decrypt(blob: bytes, key: RegistryKey, path: Path) -> Mapping[str, Any]:
    if len(blob) < _HEADER + _NONCE + 16 or not blob.startswith(_MAGIC):
        raise DataError(f"{path} is not an Ethos opt-out registry (no ETHOSOPT header)")
    if blob[len(_MAGIC)] != _VERSION:
        raise DataError(f"registry {path} has format version {blob[len(_MAGIC)]}; this Ethos reads version {_VERSION}")
    header = blob[:_HEADER]
    file_key = header[len(_MAGIC) + 1 :].hex()
    if not hmac.compare_digest(file_key, key.key_id):
        raise DataError(
            f"registry {path} was encrypted with a different key (key id {file_key}, yours {key.key_id}); "
            "use the key file made for it by `ethos optout init`"
        )
    aead: Any = require("cryptography.hazmat.primitives.ciphers.aead", extra="tabular", purpose="the opt-out registry")
    exceptions: Any = require("cryptography.exceptions", extra="tabular", purpose="the opt-out registry")
    nonce = blob[_HEADER : _HEADER + _NONCE]
    try:
        plain = aead.AESGCM(key.encryption).decrypt(nonce, blob[_HEADER + _NONCE :], header)
    except exceptions.InvalidTag:
        raise DataError(
            f"registry {path} failed its integrity check: the file was modified or damaged; restore it from a backup"
        ) from None
    data = json.loads(plain)
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise DataError(f"registry {path} decrypted but is not in format {_FORMAT}")
    return data
