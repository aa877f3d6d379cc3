"""Append-only, named migrations of the run database.

Each migration is a function ``mNNN_what(conn)`` listed in :data:`MIGRATIONS`. Applied migrations
are recorded by name in ``_ethos_migrations``; a database that records a name this list lacks was
written by a newer Ethos and is refused without being touched.

Rules for adding one: append a new function and add it to the end of :data:`MIGRATIONS`; never
edit, rename, reorder or remove a released one (the names on users' disks must keep meaning the
same thing); do not commit or use ``executescript`` inside it, because the runner wraps each
migration and its record in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "Migration", "migration_names"]

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS_TABLE = "_ethos_migrations"


def m001_initial(conn: sqlite3.Connection) -> None:
    """Create ``runs`` (one row per run, header as JSON) and ``samples`` (one row per result).

    The header JSON is the whole record minus samples and metrics; the other ``runs`` columns
    copy the fields that lists and filters need, so a query never parses JSON.
    """
    conn.execute(
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,           -- fixed-width ISO 8601 UTC, sorts like time
            finished_at TEXT,
            status TEXT NOT NULL,               -- no CHECK: new statuses must not need a table rebuild
            model_spec TEXT NOT NULL,
            model_name TEXT NOT NULL,
            model_digest TEXT,
            benchmark TEXT NOT NULL,
            benchmark_version TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            ethos_version TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',    -- JSON array
            header TEXT NOT NULL,               -- JSON: the record without samples and metrics
            metrics TEXT NOT NULL DEFAULT '[]'  -- JSON array of metric records
        )
        """
    )
    conn.execute("CREATE INDEX runs_created_at ON runs (created_at)")
    conn.execute("CREATE INDEX runs_model ON runs (model_spec, created_at)")
    conn.execute("CREATE INDEX runs_benchmark ON runs (benchmark, created_at)")
    conn.execute(
        """
        CREATE TABLE samples (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            sample_id TEXT NOT NULL,
            result TEXT NOT NULL,               -- JSON: one sample result
            PRIMARY KEY (run_id, idx)
        ) WITHOUT ROWID
        """
    )


def m002_privacy_budget(conn: sqlite3.Connection) -> None:
    """Create the privacy-budget ledger: one budget per dataset and one row per spend.

    Datasets are keyed by the SHA-256 of their bytes (the path is only for display). Spends keep
    the release's run id without a foreign key: deleting a run record must never refund budget.
    """
    conn.execute(
        """
        CREATE TABLE privacy_budgets (
            dataset_sha256 TEXT PRIMARY KEY,
            path TEXT NOT NULL,                 -- where the dataset was last seen, for display
            epsilon REAL NOT NULL CHECK (epsilon > 0),
            delta REAL NOT NULL CHECK (delta >= 0 AND delta < 1),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE privacy_spends (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            dataset_sha256 TEXT NOT NULL REFERENCES privacy_budgets (dataset_sha256),
            query TEXT NOT NULL,                -- what was released, e.g. "count; mean:age"
            epsilon REAL NOT NULL CHECK (epsilon >= 0),
            delta REAL NOT NULL CHECK (delta >= 0),
            spent_at TEXT NOT NULL,
            run_id TEXT                         -- the release's run record (no FK: runs may be deleted)
        )
        """
    )
    conn.execute("CREATE INDEX privacy_spends_dataset ON privacy_spends (dataset_sha256, id)")


MIGRATIONS: tuple[Migration, ...] = (m001_initial, m002_privacy_budget)
"""Every migration this Ethos knows, oldest first."""


def migration_names() -> tuple[str, ...]:
    """The names of :data:`MIGRATIONS`, oldest first."""
    return tuple(m.__name__ for m in MIGRATIONS)
