"""The run store: run records in one SQLite file, written per sample so long runs can resume.

A run is written either whole (:meth:`RunStore.save`) or in steps (:meth:`RunStore.begin`, then
:meth:`RunStore.add_samples` as samples are scored, then :meth:`RunStore.finish`). Every write is
one transaction. Runs that ended as ``finished`` or ``failed`` are immutable; ``running`` and
``interrupted`` runs still accept samples so that ``--resume`` can complete them. Nothing is ever
deleted or rewritten except by :meth:`RunStore.delete`.

Concurrency: a store holds one SQLite connection, shared by threads under a lock, so one store
may be used from a CLI's worker threads. Several processes may open the same file; WAL mode lets
readers proceed while one writer writes, and a writer waits up to
:data:`~ethos.records._db.BUSY_TIMEOUT_S` seconds for another's lock.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ethos.config import Settings, load_settings
from ethos.errors import StoreError
from ethos.records._base import format_utc, utc_now
from ethos.records._db import applied_migrations, connect, store_error, transaction
from ethos.records._schema import (
    RUN_STATUSES,
    Energy,
    MetricRecord,
    RunRecord,
    RunStatus,
    SampleResult,
    Timings,
)
from ethos.records._summary import SUMMARY_SELECT, RunSummary, summary_filters, summary_from_row
from ethos.types import MetricValue

__all__ = ["RunStore", "load_run"]

_OPEN_STATUSES = ("running", "interrupted")
_ID_HINT = "see `ethos runs list` for run ids"


class RunStore:
    """Run records in an SQLite file (normally ``Settings.db_path``); use as a context manager.

    One store holds one connection; its methods may be called from several threads (they take
    turns under a lock). Write methods take exact run ids; reading methods also accept a unique
    prefix (:meth:`resolve_id` turns one into the full id).

    Example::

        with RunStore.open(settings.db_path) as store:
            store.begin(record)
            store.add_samples(record.id, results)
            store.finish(record.id, status="finished", metrics=metrics, timings=timings)
            print(store.get(record.id[:8]).metrics)
    """

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        """Open the database at ``path``, creating it (and its folders) when ``create`` is true.

        Raises:
            StoreError: The file is missing (``create=False``), unreadable or not a run database.
            SchemaVersionError: A newer Ethos has migrated the file (it is left unchanged).
        """
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = connect(self.path, create=create)

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> RunStore:
        """Same as ``RunStore(path)``; reads better in ``with RunStore.open(p) as store``."""
        return cls(path, create=create)

    def close(self) -> None:
        """Close the connection; further calls raise. Closing twice is harmless."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    @contextlib.contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise ValueError(f"{self!r} is closed")
            try:
                with transaction(self._conn, write=write) as conn:
                    yield conn
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from None

    def migrations(self) -> list[str]:
        """Names of the migrations applied to this database, oldest first."""
        with self._tx(write=False) as conn:
            return applied_migrations(conn)

    # -- writing ---------------------------------------------------------------------------

    def save(self, run: RunRecord) -> None:
        """Store a whole record, samples included, in one transaction.

        Raises:
            StoreError: A run with this id is already stored (stored runs are never overwritten).
        """
        with self._tx() as conn:
            self._insert(conn, run)

    def begin(self, run: RunRecord) -> None:
        """Store the header of a run that is starting; add its samples with :meth:`add_samples`.

        Raises:
            ValueError: ``run`` is not ``running`` or already carries samples.
            StoreError: A run with this id is already stored.
        """
        if run.status != "running" or run.samples:
            raise ValueError("begin() takes a running record without samples; use save() for a whole run")
        self.save(run)

    def add_samples(self, run_id: str, samples: Iterable[SampleResult]) -> int:
        """Checkpoint sample results of an open run, all or none, in one transaction.

        Adding a result that is already stored, unchanged, is a no-op, so a resumed run may
        repeat its last batch safely.

        Returns:
            How many results were new.

        Raises:
            StoreError: The run is missing or ended, or an index is stored with a different result.
        """
        items = list(samples)
        added = 0
        with self._tx() as conn:
            self._require_open(conn, run_id)
            for sample in items:
                added += self._insert_sample(conn, run_id, sample)
        return added

    def finish(
        self,
        run_id: str,
        *,
        status: RunStatus,
        metrics: Sequence[MetricRecord | MetricValue],
        timings: Timings,
        energy: Energy | None = None,
    ) -> None:
        """End an open run: set its status, metrics, timings and energy.

        ``interrupted`` leaves the run open for a later resume; ``finished`` and ``failed`` make it
        immutable. ``finished_at`` is ``timings.finished``, or now when that is unset.

        Raises:
            ValueError: ``status`` is ``running``.
            StoreError: The run is missing or already ended.
            DataError: The result is not a valid record (e.g. it finishes before it started).
        """
        if status == "running":
            raise ValueError("finish() needs status finished, failed or interrupted")
        records = tuple(MetricRecord.from_value(m) if isinstance(m, MetricValue) else m for m in metrics)
        finished = timings.finished or utc_now()
        timings = Timings(started=timings.started, finished=finished, seconds=timings.seconds, stages=timings.stages)
        with self._tx() as conn:
            self._require_open(conn, run_id)
            (header,) = conn.execute("SELECT header FROM runs WHERE id = ?", (run_id,)).fetchone()
            data: dict[str, Any] = {
                **json.loads(header),
                "status": status,
                "finished_at": finished,
                "timings": timings,
                "energy": energy,
                "metrics": records,
            }
            done = RunRecord.from_dict(data, source=f"{self.path} (finishing run {run_id})")
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, header = ?, metrics = ? WHERE id = ?",
                (done.status, format_utc(finished), _header_json(done), _metrics_json(done), run_id),
            )

    def delete(self, run_id: str) -> None:
        """Delete a run and its samples. Takes the exact id (see :meth:`resolve_id`).

        Raises:
            StoreError: No run has this id.
        """
        with self._tx() as conn:
            if conn.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount == 0:
                raise StoreError(f"no run {run_id!r} in {self.path}; {_ID_HINT}")

    # -- reading ---------------------------------------------------------------------------

    def resolve_id(self, run_id: str) -> str:
        """The full id of the one run whose id is ``run_id`` or starts with it (case-insensitive).

        Raises:
            StoreError: No run matches, or several do (the message lists them).
        """
        with self._tx(write=False) as conn:
            return self._resolve(conn, run_id)

    def summary(self, run_id: str) -> RunSummary:
        """The summary of one run; ``run_id`` may be a unique prefix.

        Raises:
            StoreError: No run, or several, match ``run_id``.
        """
        with self._tx(write=False) as conn:
            full_id = self._resolve(conn, run_id)
            row = conn.execute(f"{SUMMARY_SELECT} WHERE id = ?", (full_id,)).fetchone()  # noqa: S608
        return summary_from_row(row)

    def get(self, run_id: str, *, samples: bool = True) -> RunRecord:
        """The whole record of a run; ``run_id`` may be a unique prefix.

        ``samples=False`` leaves the per-sample results out (``record.samples`` is empty): what
        comparisons, gates and trend reports need, at a fraction of the cost for large runs.

        Raises:
            StoreError: No run, or several, match ``run_id``.
            SchemaVersionError: The record was written by a newer Ethos.
        """
        with self._tx(write=False) as conn:
            full_id = self._resolve(conn, run_id)
            header, metrics = conn.execute("SELECT header, metrics FROM runs WHERE id = ?", (full_id,)).fetchone()
            results = []
            if samples:
                rows = conn.execute("SELECT result FROM samples WHERE run_id = ? ORDER BY idx", (full_id,))
                results = [json.loads(row[0]) for row in rows]
        data = {**json.loads(header), "metrics": json.loads(metrics), "samples": results}
        return RunRecord.from_dict(data, source=f"{self.path} (run {full_id})")

    def completed_indices(self, run_id: str) -> set[int]:
        """Indices of the samples stored for a run (errored ones included): what a resume skips.

        Raises:
            StoreError: No run has this id.
        """
        with self._tx(write=False) as conn:
            self._status(conn, run_id)
            return {row[0] for row in conn.execute("SELECT idx FROM samples WHERE run_id = ?", (run_id,))}

    def query(
        self,
        *,
        model: str | None = None,
        benchmark: str | None = None,
        status: RunStatus | None = None,
        limit: int | None = None,
    ) -> list[RunSummary]:
        """Summaries of the runs that match every given filter, newest first.

        Args:
            model: A model spec (``hf:./tiny``) or a model name (``./tiny``).
            benchmark: A benchmark name.
            status: One of ``running``, ``finished``, ``failed``, ``interrupted``.
            limit: At most this many runs (default: all).
        """
        if status is not None and status not in RUN_STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {', '.join(RUN_STATUSES)}")
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        where, params = summary_filters(model, benchmark, status)
        # `where` joins fixed fragments only; every value is a bound parameter.
        sql = f"{SUMMARY_SELECT}{where} ORDER BY created_at DESC, id DESC LIMIT ?"  # noqa: S608
        with self._tx(write=False) as conn:
            rows = conn.execute(sql, (*params, -1 if limit is None else limit)).fetchall()
        return [summary_from_row(row) for row in rows]

    # -- helpers ---------------------------------------------------------------------------

    def _insert(self, conn: sqlite3.Connection, run: RunRecord) -> None:
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run.id,)).fetchone():
            raise StoreError(
                f"run {run.id} is already stored in {self.path}; stored runs are never overwritten "
                "(make a new record, or delete the old run explicitly)"
            )
        conn.execute(
            "INSERT INTO runs (id, created_at, finished_at, status, model_spec, model_name, model_digest,"
            " benchmark, benchmark_version, schema_version, ethos_version, tags, header, metrics)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.id,
                format_utc(run.created_at),
                None if run.finished_at is None else format_utc(run.finished_at),
                run.status,
                run.model.spec,
                run.model.name,
                run.model.digest,
                run.benchmark.name,
                run.benchmark.version,
                run.schema_version,
                run.ethos_version,
                json.dumps(list(run.tags)),
                _header_json(run),
                _metrics_json(run),
            ),
        )
        for sample in run.samples:
            self._insert_sample(conn, run.id, sample)

    def _insert_sample(self, conn: sqlite3.Connection, run_id: str, sample: SampleResult) -> int:
        result = sample.model_dump_json()
        cursor = conn.execute(
            "INSERT INTO samples (run_id, idx, sample_id, result) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (run_id, idx) DO NOTHING",
            (run_id, sample.index, sample.sample_id, result),
        )
        if cursor.rowcount == 1:
            return 1
        (stored,) = conn.execute(
            "SELECT result FROM samples WHERE run_id = ? AND idx = ?", (run_id, sample.index)
        ).fetchone()
        if stored != result:
            raise StoreError(
                f"run {run_id}: sample {sample.index} is already stored with a different result; "
                "stored samples are never overwritten (skip completed_indices() when resuming)"
            )
        return 0

    def _status(self, conn: sqlite3.Connection, run_id: str) -> str:
        row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.path}; {_ID_HINT}")
        return str(row[0])

    def _require_open(self, conn: sqlite3.Connection, run_id: str) -> None:
        status = self._status(conn, run_id)
        if status not in _OPEN_STATUSES:
            raise StoreError(f"run {run_id} is {status}; ended runs are immutable (start a new run instead)")

    def _resolve(self, conn: sqlite3.Connection, run_id: str) -> str:
        prefix = run_id.strip()
        if not prefix:
            raise StoreError(f"an empty run id matches nothing; {_ID_HINT}")
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (prefix,)).fetchone():
            return prefix
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT 11",
                (escaped + "%",),
            )
        ]
        if not matches:
            raise StoreError(f"no run {prefix!r} in {self.path}; {_ID_HINT}")
        if len(matches) > 1:
            listed = ", ".join(matches[:10]) + (", …" if len(matches) > 10 else "")
            raise StoreError(f"run id {prefix!r} is ambiguous: it matches {listed}; give more characters")
        return str(matches[0])


def _header_json(run: RunRecord) -> str:
    return run.model_dump_json(exclude={"samples", "metrics"})


def _metrics_json(run: RunRecord) -> str:
    return json.dumps([m.model_dump(mode="json") for m in run.metrics])


def load_run(run_id: str, settings: Settings | None = None) -> RunRecord:
    """Read one run from the database in ``settings`` (default: the settings in force).

    Args:
        run_id: The run's id or a unique prefix of it.
        settings: Where the database is (``settings.db_path``).

    Raises:
        StoreError: There is no database yet, or no single run matches ``run_id``.
        SchemaVersionError: The database or the record was written by a newer Ethos.
    """
    settings = settings or load_settings()
    with RunStore(settings.db_path, create=False) as store:
        return store.get(run_id)
