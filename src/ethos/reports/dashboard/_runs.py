"""Read-only access to the run database for the dashboard.

The dashboard opens the database with SQLite's ``mode=ro`` URI, so nothing it does can write to
it: no migration, no WAL checkpoint, no journal-mode switch. A database that an older Ethos wrote
and that still needs a migration is refused with a message saying how to upgrade it, rather than
being upgraded behind the user's back.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from ethos.errors import SchemaVersionError, StoreError
from ethos.records import RunRecord, RunSummary, migration_names

# The summary query, time format and error wording are the run store's own, so the dashboard reads exactly
# what `ethos runs list` reads and fails the way it fails.
from ethos.records._base import format_utc
from ethos.records._db import BUSY_TIMEOUT_S, applied_migrations, store_error
from ethos.records._summary import SUMMARY_SELECT, summary_filters, summary_from_row

__all__ = ["ModelStats", "ReadOnlyRuns"]


_LATEST_FINISHED = (
    "SELECT model_spec, benchmark, id FROM (SELECT model_spec, benchmark, id, ROW_NUMBER() OVER"
    " (PARTITION BY model_spec, benchmark ORDER BY created_at DESC, id DESC) AS k FROM runs"
    " WHERE status = 'finished' AND benchmark IN (SELECT value FROM json_each(?)))"
    " WHERE k <= ? ORDER BY model_spec, benchmark, k"
)

_PREVIOUS_FINISHED = (
    "SELECT id FROM runs WHERE model_spec = ? AND benchmark = ? AND status = 'finished'"
    " AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT 1"
)


@dataclass(frozen=True)
class ModelStats:
    """One model spec in the database, in aggregate."""

    spec: str
    """The model spec."""
    runs: int
    """Number of runs (any status)."""
    benchmarks: tuple[str, ...]
    """Benchmarks it ran, sorted."""
    latest: datetime
    """When its newest run was created (UTC)."""


def parse_utc(text: str) -> datetime:
    """Read a stored ``created_at`` (fixed-width ISO 8601 with ``Z``) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class ReadOnlyRuns:
    """The runs of one database, opened read-only; safe to share between threads.

    Example::

        with ReadOnlyRuns(settings.db_path) as runs:
            for summary in runs.summaries(model="hf:./tiny"):
                print(summary.id, runs.header(summary.id).benchmark.name)
    """

    def __init__(self, path: Path | str) -> None:
        """Open ``path`` read-only.

        Raises:
            StoreError: There is no database there, it is not an Ethos run database, or it needs
                a migration (which the dashboard will not make).
            SchemaVersionError: A newer Ethos wrote it.
        """
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise StoreError(f"no run database at {self.path} yet (no runs recorded); run an audit first")
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            self._conn = sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._check_schema(self._conn)
        except sqlite3.Error as exc:
            self.close()
            raise store_error(self.path, exc) from None
        except BaseException:
            self.close()
            raise

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        applied = applied_migrations(conn)
        if not applied:
            raise StoreError(
                f"{self.path} is not an Ethos run database (no migrations recorded); "
                "point --home/ETHOS_HOME at the folder that holds your runs"
            )
        unknown = [name for name in applied if name not in migration_names()]
        if unknown:
            raise SchemaVersionError(
                f"{self.path} was written by a newer Ethos (unknown migration {unknown[0]}); upgrade Ethos to view it"
            )
        missing = [name for name in migration_names() if name not in applied]
        if missing:
            raise StoreError(
                f"{self.path} was written by an older Ethos and needs a migration ({missing[0]}); the dashboard "
                "only reads, so run `ethos runs list` once to upgrade the database, then start it again"
            )

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        conn = getattr(self, "_conn", None)
        self._conn = None
        if conn is not None:
            conn.close()

    def __enter__(self) -> ReadOnlyRuns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise ValueError(f"the run database {self.path} is closed")
            try:
                self._conn.execute("BEGIN")  # one consistent snapshot per read
                try:
                    yield self._conn
                finally:
                    self._conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from None

    def summaries(
        self, *, model: str | None = None, benchmark: str | None = None, limit: int | None = None
    ) -> list[RunSummary]:
        """Summaries of the runs matching the filters, newest first (as ``RunStore.query``)."""
        where, params = summary_filters(model, benchmark, None)
        sql = f"{SUMMARY_SELECT}{where} ORDER BY created_at DESC, id DESC LIMIT ?"  # noqa: S608 - fixed fragments
        with self._read() as conn:
            rows = conn.execute(sql, (*params, -1 if limit is None else limit)).fetchall()
        return [summary_from_row(row) for row in rows]

    def count(self, *, model: str | None = None, benchmark: str | None = None) -> int:
        """How many runs match the filters."""
        where, params = summary_filters(model, benchmark, None)
        with self._read() as conn:
            (n,) = conn.execute(f"SELECT COUNT(*) FROM runs{where}", params).fetchone()  # noqa: S608
        return int(n)

    def models(self) -> list[ModelStats]:
        """Every model spec with its number of runs, benchmarks and latest run time, sorted by spec."""
        sql = "SELECT model_spec, benchmark, COUNT(*), MAX(created_at) FROM runs GROUP BY model_spec, benchmark"
        stats: dict[str, ModelStats] = {}
        with self._read() as conn:
            rows = conn.execute(sql).fetchall()
        for spec, benchmark, n, latest in rows:
            seen = stats.get(spec)
            when = parse_utc(latest)
            if seen is None:
                stats[spec] = ModelStats(spec, n, (benchmark,), when)
            else:
                benchmarks = tuple(sorted((*seen.benchmarks, benchmark)))
                stats[spec] = ModelStats(spec, seen.runs + n, benchmarks, max(seen.latest, when))
        return [stats[spec] for spec in sorted(stats)]

    def benchmarks(self) -> list[str]:
        """Every benchmark name with a run, sorted."""
        with self._read() as conn:
            return [row[0] for row in conn.execute("SELECT DISTINCT benchmark FROM runs ORDER BY benchmark")]

    def latest_finished(self, benchmarks: Sequence[str], per: int = 2) -> dict[str, dict[str, list[str]]]:
        """Ids of the newest ``per`` finished runs of each model and benchmark: ``{model: {benchmark: ids}}``."""
        if not benchmarks:
            return {}
        found: dict[str, dict[str, list[str]]] = {}
        with self._read() as conn:
            for model, benchmark, run_id in conn.execute(_LATEST_FINISHED, (json.dumps(list(benchmarks)), per)):
                found.setdefault(model, {}).setdefault(benchmark, []).append(run_id)
        return found

    def previous_finished(self, run: RunRecord) -> str | None:
        """The id of the newest finished run of the same model and benchmark created before ``run``."""
        created = format_utc(run.created_at)
        params = (run.model.spec, run.benchmark.name, created, created, run.id)
        with self._read() as conn:
            row = conn.execute(_PREVIOUS_FINISHED, params).fetchone()
        return None if row is None else str(row[0])

    def version(self) -> int:
        """A number that changes whenever another connection commits to the database (for caches)."""
        with self._lock:
            if self._conn is None:
                raise ValueError(f"the run database {self.path} is closed")
            (value,) = self._conn.execute("PRAGMA data_version").fetchone()
        return int(value)

    def summary(self, run_id: str) -> RunSummary | None:
        """The summary of the run with exactly this id, or ``None``."""
        with self._read() as conn:
            row = conn.execute(f"{SUMMARY_SELECT} WHERE id = ?", (run_id,)).fetchone()  # noqa: S608
        return None if row is None else summary_from_row(row)

    def header(self, run_id: str) -> RunRecord | None:
        """The record of the run with exactly this id, without its samples; ``None`` if absent.

        Raises:
            DataError: The stored record is not valid.
            SchemaVersionError: A newer Ethos wrote the record.
        """
        with self._read() as conn:
            row = conn.execute("SELECT header, metrics FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        data = {**json.loads(row[0]), "metrics": json.loads(row[1]), "samples": []}
        return RunRecord.from_dict(data, source=f"{self.path} (run {run_id})")
