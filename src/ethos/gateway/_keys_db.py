"""The key store's SQLite file: created private (folder 0700, file 0600), checked, versioned.

The file is marked with ``PRAGMA application_id`` so that Ethos never writes into someone else's
database, and carries its schema version in ``PRAGMA user_version``. It keeps SQLite's default
rollback journal, not WAL: writes are rare and tiny (the CLI), and a WAL file left beside the
database would be replayed into a file copied over it (a restored backup), resurrecting old keys.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from ethos.errors import SchemaVersionError, StoreError

__all__ = ["SCHEMA_VERSION", "open_db", "store_error"]

SCHEMA_VERSION = 1
_APPLICATION_ID = 0x45544B53  # "ETKS": marks the file as an Ethos key store
_BUSY_TIMEOUT_S = 2.0

log = logging.getLogger("ethos.gateway")

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    models TEXT NOT NULL,
    endpoints TEXT NOT NULL,
    admin INTEGER NOT NULL,
    requests_per_minute INTEGER,
    tokens_per_minute INTEGER,
    max_parallel INTEGER,
    log_content INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS keys_active_name ON keys(name) WHERE revoked_at IS NULL;
PRAGMA application_id = {application_id};
PRAGMA user_version = {schema_version};
COMMIT;
"""


def open_db(path: Path, *, create: bool) -> sqlite3.Connection:
    """Open the key store at ``path``, creating it (private) when missing and ``create`` is true.

    Raises:
        StoreError: Missing (``create=False``), unreadable, or not an Ethos key store.
        SchemaVersionError: A newer Ethos wrote it.
    """
    conn: sqlite3.Connection | None = None
    try:
        if not path.exists():
            if not create:
                raise StoreError(
                    f"no gateway key store at {path} yet; create a key with `ethos gateway keys create NAME`"
                )
            _create_file(path)
        conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        _check_schema(conn, path)
        # Only now that the file is known to be ours may its permissions be changed.
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("key store %s was readable by others; its permissions are now 0600", path)
        return conn
    except (sqlite3.Error, OSError) as exc:
        if conn is not None:
            conn.close()
        raise store_error(path, exc) from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise


def _create_file(path: Path) -> None:
    # Folders made here are private; folders that exist are the owner's business and stay as they are.
    for folder in [p for p in reversed(path.parents) if not p.exists()]:
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id == 0 and version == 0 and tables == 0:
        # One script, one transaction: a second process creating the same file waits, then finds it done.
        conn.executescript(_SCHEMA.format(application_id=_APPLICATION_ID, schema_version=SCHEMA_VERSION))
        return
    if app_id != _APPLICATION_ID:
        raise StoreError(
            f"{path} is an SQLite database but not an Ethos gateway key store; "
            "Ethos will not write into it: move it aside or point --db / [keys] path elsewhere"
        )
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"key store {path} has schema version {version}, written by a newer Ethos "
            f"(this one reads up to {SCHEMA_VERSION}); upgrade Ethos"
        )


def store_error(path: Path, exc: sqlite3.Error | OSError) -> StoreError:
    """A :class:`StoreError` naming the key store file and what went wrong."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return StoreError(
        f"gateway key store {path}: {reason}; check the file and your permissions, "
        "or move it aside to start a new key store"
    )
