"""API keys for the gateway: created once, stored only as hashes, checked in memory.

A token looks like ``eth_<key id>_<secret>``: the key id (12 hex characters) is public and names
the key in listings, logs and error messages; the secret is 256 random bits (43 URL-safe
characters). Only ``SHA-256(token)`` is stored. A salted slow hash (bcrypt, argon2) protects
*guessable* passwords; a 256-bit random secret cannot be guessed, so one fast hash is as strong
and keeps the check under a microsecond (reference/gateway.md §6: "high-entropy keys do not need
bcrypt/argon2; SHA-256 ... is standard, enabling indexed lookup").

The gateway reads the keys into memory and re-reads them when the file changed (checked at most
every ``refresh_interval`` seconds), so ``ethos gateway keys revoke`` takes effect within a second
of the command, without a restart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from ethos.errors import ConfigError, RequestRefused, StoreError
from ethos.gateway._apikey import (
    ID_RE,
    KEY_COLUMNS,
    ApiKey,
    check_endpoints,
    check_expiry,
    check_limit,
    check_models,
    check_name,
    iso,
    key_from_row,
    key_to_row,
    quote_pattern,
    utc_now,
)
from ethos.gateway._config import SCOPE_ENDPOINTS
from ethos.gateway._keys_db import open_db, store_error
from ethos.gateway._types import Endpoint

__all__ = ["TOKEN_PREFIX", "ApiKey", "KeyStore", "hash_token", "parse_key_id"]

TOKEN_PREFIX = "eth_"  # noqa: S105 - the visible prefix of every token, not a secret
_ID_HEX = 12
_SECRET_BYTES = 32  # 256 bits -> 43 URL-safe characters
_SECRET_CHARS = 43
_TOKEN_CHARS = len(TOKEN_PREFIX) + _ID_HEX + 1 + _SECRET_CHARS
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ethos"'}
_INVALID = "the API key is not valid; check the Authorization header (Bearer eth_...)"

log = logging.getLogger("ethos.gateway")


def hash_token(token: str) -> bytes:
    """The stored form of a token: SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def parse_key_id(token: str) -> str | None:
    """The key id inside a well-formed token, or ``None`` when it is not shaped like one."""
    if len(token) != _TOKEN_CHARS or not token.startswith(TOKEN_PREFIX):
        return None
    key_id = token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + _ID_HEX]
    if token[len(TOKEN_PREFIX) + _ID_HEX] != "_" or not ID_RE.fullmatch(key_id):
        return None
    return key_id


_DUMMY_HASH = hash_token("eth_000000000000_" + "A" * _SECRET_CHARS)


class KeyStore:
    """The gateway's API keys in one SQLite file (parent folder 0700, file 0600).

    Methods may be called from several threads. :meth:`authenticate` and :meth:`authorize` run on
    every request and touch only memory, except for one cheap ``PRAGMA data_version`` at most every
    ``refresh_interval`` seconds (and a re-read when another process changed the file).

    Example::

        store = KeyStore(Path("keys.db"))
        key, token = store.create("ci", models=("llama3*",))   # show ``token`` once, to its owner
        store.authorize(store.authenticate(token), "chat", "llama3.2:1b")
    """

    def __init__(
        self,
        path: Path,
        *,
        create: bool = True,
        refresh_interval: float = 0.5,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Open (or create) the key store at ``path``.

        Args:
            path: The SQLite file.
            create: Create the file (and its folders) when missing; ``False`` raises instead.
            refresh_interval: Seconds between checks for changes made by other processes.
            clock: Wall-clock time as an aware datetime (for expiry); default ``datetime.now(UTC)``.
            monotonic: The clock that paces the change checks.

        Raises:
            StoreError: The file is missing (``create=False``), unreadable or not a key store.
            SchemaVersionError: A newer Ethos wrote the file.
        """
        self.path = Path(path).expanduser()
        self._refresh_interval = refresh_interval
        self._clock = clock or utc_now
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._conn = open_db(self.path, create=create)
        self._cache: dict[str, tuple[bytes, ApiKey]] = {}
        self._data_version = -1
        self._inode = 0
        self._next_check = 0.0
        self._last_error: str | None = None
        with self._lock:
            self._reload()

    def close(self) -> None:
        """Close the database connection (the in-memory keys stay readable)."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    # -- managing keys --------------------------------------------------------------------------

    def create(  # noqa: PLR0913 - the name, then one keyword per scope or limit
        self,
        name: str,
        *,
        models: Iterable[str] = ("*",),
        endpoints: Iterable[Endpoint] = SCOPE_ENDPOINTS,
        admin: bool = False,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        max_parallel: int | None = None,
        log_content: bool = True,
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str]:
        """Create a key; return it with its token, the only time the token exists outside the caller.

        Raises:
            ConfigError: A bad name, pattern, endpoint, limit or expiry, or an active key has that name.
        """
        now = self._clock().replace(microsecond=0)
        key = ApiKey(
            key_id=secrets.token_hex(_ID_HEX // 2),
            name=check_name(name),
            created_at=now,
            expires_at=check_expiry(expires_at, now),
            revoked_at=None,
            models=check_models(models),
            endpoints=check_endpoints(endpoints, admin=admin),
            admin=admin,
            requests_per_minute=check_limit("requests_per_minute", requests_per_minute),
            tokens_per_minute=check_limit("tokens_per_minute", tokens_per_minute),
            max_parallel=check_limit("max_parallel", max_parallel),
            log_content=log_content,
        )
        token = f"{TOKEN_PREFIX}{key.key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        with self._write() as conn:
            clash = conn.execute(
                "SELECT key_id FROM keys WHERE name = ? AND revoked_at IS NULL", (key.name,)
            ).fetchone()
            if clash:
                raise ConfigError(
                    f"a key named {key.name!r} already exists (id {clash[0]}); revoke it first "
                    f"(`ethos gateway keys revoke {clash[0]}`) or choose another name"
                )
            conn.execute(
                f"INSERT INTO keys (token_hash, {KEY_COLUMNS}) VALUES (?{', ?' * 12})",  # noqa: S608
                (hash_token(token), *key_to_row(key)),
            )
        return key, token

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """Keys, oldest first; revoked keys only when asked for."""
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        with self._read() as conn:
            rows = conn.execute(f"SELECT {KEY_COLUMNS} FROM keys{where} ORDER BY created_at, rowid").fetchall()  # noqa: S608
        return [key_from_row(row) for row in rows]

    def revoke(self, key_id_or_name: str) -> ApiKey:
        """Revoke a key by id or name; revoking a revoked key changes nothing and returns it.

        Raises:
            ConfigError: No key has that id or name (the message lists the known ids).
        """
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ? OR name = ? "  # noqa: S608
                "ORDER BY revoked_at IS NOT NULL, revoked_at DESC LIMIT 1",
                (key_id_or_name, key_id_or_name),
            ).fetchone()
            if row is None:
                known = [f"{r[0]} ({r[1]})" for r in conn.execute("SELECT key_id, name FROM keys ORDER BY rowid")]
                listing = ", ".join(known) if known else "none"
                raise ConfigError(
                    f"no gateway key with id or name {key_id_or_name!r} in {self.path}; known keys: {listing}"
                )
            key = key_from_row(row)
            if key.revoked_at is None:
                when = self._clock().replace(microsecond=0)
                conn.execute("UPDATE keys SET revoked_at = ? WHERE key_id = ?", (iso(when), key.key_id))
                key = dataclasses.replace(key, revoked_at=when)
        return key

    # -- the request path -----------------------------------------------------------------------

    def authenticate(self, token: str | None) -> ApiKey:
        """Return the key a bearer token belongs to, or raise a 401 refusal.

        Every token that is not one we issued (wrong secret, unknown id, malformed) gets the same
        ``auth.invalid_key`` answer, so the answer tells a guesser nothing.

        Raises:
            RequestRefused: ``auth.missing_key``, ``auth.invalid_key``, ``auth.revoked_key`` or
                ``auth.expired_key``, status 401.
        """
        if not token:
            raise RequestRefused(
                "this gateway needs an API key: send the header `Authorization: Bearer eth_...` "
                "(an administrator creates keys with `ethos gateway keys create NAME`)",
                reason="auth.missing_key",
                status=401,
                headers=_CHALLENGE,
            )
        self._maybe_refresh()
        key_id = parse_key_id(token)
        entry = self._cache.get(key_id) if key_id else None
        stored = entry[0] if entry else _DUMMY_HASH
        # Hash and compare even for unknown ids, so timing does not separate the two cases.
        if not hmac.compare_digest(hash_token(token), stored) or entry is None:
            raise RequestRefused(_INVALID, reason="auth.invalid_key", status=401, headers=_CHALLENGE)
        key = entry[1]
        if key.revoked_at is not None:
            raise RequestRefused(
                f"API key {key.key_id} was revoked on {iso(key.revoked_at)}; ask for a new key",
                reason="auth.revoked_key",
                status=401,
                headers=_CHALLENGE,
            )
        if key.is_expired(self._clock()):
            raise RequestRefused(
                f"API key {key.key_id} expired on {iso(key.expires_at)}; ask for a new key",
                reason="auth.expired_key",
                status=401,
                headers=_CHALLENGE,
            )
        return key

    def authorize(self, key: ApiKey, endpoint: Endpoint, model: str | None) -> None:
        """Raise a 403 refusal unless ``key`` may use ``endpoint`` (and ``model``, when given).

        ``model`` must be the public model name the request is finally served with, read from the
        one place the gateway reads it (the body): checking any other copy is how LiteLLM's scopes
        were bypassed (issue #41810, ``?model=``).

        Raises:
            RequestRefused: ``auth.endpoint_not_allowed`` or ``auth.model_not_allowed``, status 403.
        """
        if not key.allows_endpoint(endpoint):
            raise RequestRefused(
                f"API key {key.key_id} may not use {endpoint} routes (it may use: {', '.join(key.endpoints)}); "
                f"create a key that may, e.g. `ethos gateway keys create NAME --endpoint {endpoint}`",
                reason="auth.endpoint_not_allowed",
                status=403,
            )
        if model is not None and not key.allows_model(model):
            raise RequestRefused(
                f"API key {key.key_id} may not use model {model!r} (it may use: {', '.join(key.models)}); "
                f"create a key that may, e.g. `ethos gateway keys create NAME --model {quote_pattern(model)}`",
                reason="auth.model_not_allowed",
                status=403,
            )

    # -- internals ------------------------------------------------------------------------------

    def _maybe_refresh(self) -> None:
        now = self._monotonic()
        if now < self._next_check:
            return
        # One thread checks; the others keep serving from the current snapshot meanwhile.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._next_check = now + self._refresh_interval
            if not self.path.exists():
                # Deleting the key store is a deliberate act: fail closed, every key is refused.
                raise StoreError(f"gateway key store {self.path} is gone; every API key is refused until it is back")
            if self._changed():
                self._reload()
        except StoreError as exc:
            gone = not self.path.exists()
            if gone:
                self._cache = {}
            if str(exc) != self._last_error:  # once per distinct failure, not twice a second
                log.error("%s", exc if gone else f"{exc}; keeping the keys read before")
            self._last_error = str(exc)
        else:
            self._last_error = None
        finally:
            self._lock.release()

    def _changed(self) -> bool:
        try:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            inode = os.stat(self.path).st_ino
        except (sqlite3.Error, OSError) as exc:
            raise store_error(self.path, exc) from None
        return bool(version != self._data_version or inode != self._inode)

    def _reload(self) -> None:
        try:
            inode = os.stat(self.path).st_ino
            if inode != self._inode and self._inode:
                # The file was replaced (moved aside, restored from a backup): reopen it.
                self._conn.close()
                self._conn = open_db(self.path, create=False)
            rows = self._conn.execute(f"SELECT token_hash, {KEY_COLUMNS} FROM keys").fetchall()  # noqa: S608
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except (sqlite3.Error, OSError) as exc:
            raise store_error(self.path, exc) from None
        self._cache = {row[1]: (bytes(row[0]), key_from_row(row[1:])) for row in rows}
        self._data_version, self._inode = version, inode

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from None
            # Our own writes do not move our connection's data_version: reload now.
            self._reload()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from None
