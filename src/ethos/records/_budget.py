"""The privacy-budget ledger: per-dataset (ε, δ) budgets and their spends, in the run database.

A dataset is keyed by the SHA-256 of its bytes, so a renamed copy shares its budget and an edited
file is a new dataset. Budgets are set explicitly (``ethos dp budget set``); a dataset without one
cannot be released from. Each release adds one spend row. Spends use basic sequential composition:
the spent ε (and δ) is the plain sum of the rows.

:meth:`PrivacyLedger.spend` is one ``BEGIN IMMEDIATE`` transaction that re-reads the spent total
under SQLite's write lock before inserting, so concurrent releases (threads or processes) can never
overdraw: the second one waits for the first and is then refused if the rest no longer suffices.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pydantic import Field

from ethos._util.hashing import file_sha256
from ethos.errors import ConfigError, DataError, PolicyViolation
from ethos.records._base import RecordModel, UtcDatetime, format_utc, utc_now
from ethos.records._db import connect, store_error, transaction

__all__ = ["BUDGET_EXCEEDED", "BudgetSpend", "BudgetStatus", "DatasetRef", "PrivacyLedger"]

BUDGET_EXCEEDED = "privacy-budget-exceeded"
"""The :class:`~ethos.errors.PolicyViolation` reason when a release would overdraw a budget."""

_SLACK = 1e-9
"""Relative tolerance for float sums of ε (ten spends of 0.1 fit a budget of 1.0)."""


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A dataset as the ledger knows it: the SHA-256 of its bytes, and a path to show people."""

    sha256: str
    path: str

    @classmethod
    def from_path(cls, path: Path) -> DatasetRef:
        """Hash the file at ``path``.

        Raises:
            DataError: The file cannot be read.
        """
        try:
            return cls(file_sha256(path), str(path))
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}; check the path") from None

    @property
    def short(self) -> str:
        """The path with the first 12 hex digits of the hash, for messages."""
        return f"{self.path} (sha256 {self.sha256[:12]}…)"


class BudgetSpend(RecordModel):
    """One charge against a budget."""

    id: int
    """Position in the ledger (increasing)."""
    query: str
    """What was released, e.g. ``count; mean:age``."""
    epsilon: float = Field(ge=0)
    """ε charged."""
    delta: float = Field(ge=0)
    """δ charged."""
    spent_at: UtcDatetime
    """When (UTC)."""
    run_id: str | None
    """The release's run record, when one was stored."""


class BudgetStatus(RecordModel):
    """A dataset's budget, what has been spent and what is left."""

    dataset_sha256: str
    """SHA-256 of the dataset's bytes."""
    path: str
    """Where the dataset was last seen."""
    epsilon: float
    """Total ε budget."""
    delta: float
    """Total δ budget."""
    spent_epsilon: float
    """ε spent so far."""
    spent_delta: float
    """δ spent so far."""
    spends: tuple[BudgetSpend, ...] = ()
    """Every spend, oldest first."""

    @property
    def remaining_epsilon(self) -> float:
        """ε left (never negative)."""
        return max(self.epsilon - self.spent_epsilon, 0.0)

    @property
    def remaining_delta(self) -> float:
        """δ left (never negative)."""
        return max(self.delta - self.spent_delta, 0.0)

    def allows(self, epsilon: float, delta: float = 0.0) -> bool:
        """Whether spending (``epsilon``, ``delta``) more stays within the budget."""
        fits_eps = self.spent_epsilon + epsilon <= self.epsilon * (1 + _SLACK)
        fits_delta = self.spent_delta + delta <= self.delta * (1 + _SLACK) or delta == 0
        return fits_eps and fits_delta


class PrivacyLedger:
    """Privacy budgets in the run database (normally ``Settings.db_path``); use as a context manager.

    Example::

        dataset = DatasetRef.from_path(Path("people.csv"))
        with PrivacyLedger(settings.db_path) as ledger:
            ledger.set_budget(dataset, epsilon=1.0)
            ledger.check(dataset, 0.5)                      # before computing a release
            ledger.spend(dataset, query="mean:age", epsilon=0.5, run_id=run_id)  # after; re-checks
    """

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        """Open the run database at ``path`` (creating it when ``create``) and migrate it.

        Raises:
            StoreError: The file is missing (``create=False``), unreadable or not a run database.
        """
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = connect(self.path, create=create)

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> PrivacyLedger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise ValueError(f"PrivacyLedger({str(self.path)!r}) is closed")
            try:
                with transaction(self._conn, write=write) as conn:
                    yield conn
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from None

    def set_budget(self, dataset: DatasetRef, *, epsilon: float, delta: float = 0.0) -> BudgetStatus:
        """Set (or change) the total budget of a dataset.

        Raises:
            ConfigError: ε is not positive, δ is not in [0, 1), or the new total is below what is already spent.
        """
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ConfigError(f"--epsilon must be a positive number, got {epsilon}")
        if not (math.isfinite(delta) and 0 <= delta < 1):
            raise ConfigError(f"--delta must be at least 0 and below 1, got {delta}")
        now = format_utc(utc_now())
        with self._tx() as conn:
            spent_eps, spent_delta = _spent(conn, dataset.sha256)
            if spent_eps > epsilon * (1 + _SLACK) or spent_delta > delta * (1 + _SLACK):
                raise ConfigError(
                    f"{dataset.short} has already spent ε={spent_eps:g}, δ={spent_delta:g}; "
                    f"a budget of ε={epsilon:g}, δ={delta:g} would be below that (spent budget cannot be returned)"
                )
            conn.execute(
                "INSERT INTO privacy_budgets (dataset_sha256, path, epsilon, delta, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_sha256) DO UPDATE SET"
                " path = excluded.path, epsilon = excluded.epsilon, delta = excluded.delta,"
                " updated_at = excluded.updated_at",
                (dataset.sha256, dataset.path, epsilon, delta, now, now),
            )
            return _status(conn, dataset)

    def status(self, dataset: DatasetRef) -> BudgetStatus:
        """The dataset's budget and spends.

        Raises:
            ConfigError: No budget has been set for this dataset.
        """
        with self._tx(write=False) as conn:
            return _status(conn, dataset)

    def check(self, dataset: DatasetRef, epsilon: float, delta: float = 0.0) -> BudgetStatus:
        """Refuse now, before any work, if (``epsilon``, ``delta``) does not fit the budget.

        Raises:
            ConfigError: No budget has been set for this dataset.
            PolicyViolation: The spend would exceed the budget (reason :data:`BUDGET_EXCEEDED`).
        """
        status = self.status(dataset)
        _refuse_if_over(status, dataset, epsilon, delta)
        return status

    def spend(
        self, dataset: DatasetRef, *, query: str, epsilon: float, delta: float = 0.0, run_id: str | None = None
    ) -> BudgetStatus:
        """Charge a release, atomically: re-check the budget under the write lock, then record the spend.

        Raises:
            ConfigError: No budget has been set for this dataset.
            PolicyViolation: The spend would exceed the budget; nothing was recorded.
        """
        if not (math.isfinite(epsilon) and epsilon >= 0 and math.isfinite(delta) and delta >= 0):
            raise ValueError(f"a spend needs finite ε, δ >= 0, got ε={epsilon}, δ={delta}")
        with self._tx() as conn:
            _refuse_if_over(_status(conn, dataset), dataset, epsilon, delta)
            conn.execute(
                "INSERT INTO privacy_spends (dataset_sha256, query, epsilon, delta, spent_at, run_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (dataset.sha256, query, epsilon, delta, format_utc(utc_now()), run_id),
            )
            conn.execute("UPDATE privacy_budgets SET path = ? WHERE dataset_sha256 = ?", (dataset.path, dataset.sha256))
            return _status(conn, dataset)


def _spent(conn: sqlite3.Connection, sha256: str) -> tuple[float, float]:
    rows = conn.execute("SELECT epsilon, delta FROM privacy_spends WHERE dataset_sha256 = ?", (sha256,)).fetchall()
    return math.fsum(r[0] for r in rows), math.fsum(r[1] for r in rows)


def _status(conn: sqlite3.Connection, dataset: DatasetRef) -> BudgetStatus:
    row = conn.execute(
        "SELECT path, epsilon, delta FROM privacy_budgets WHERE dataset_sha256 = ?", (dataset.sha256,)
    ).fetchone()
    if row is None:
        raise ConfigError(
            f"no privacy budget is set for {dataset.short}; set one first with "
            f"`ethos dp budget set {dataset.path} --epsilon E [--delta D]`"
        )
    spends = tuple(
        BudgetSpend(id=r[0], query=r[1], epsilon=r[2], delta=r[3], spent_at=r[4], run_id=r[5])
        for r in conn.execute(
            "SELECT id, query, epsilon, delta, spent_at, run_id FROM privacy_spends"
            " WHERE dataset_sha256 = ? ORDER BY id",
            (dataset.sha256,),
        )
    )
    return BudgetStatus(
        dataset_sha256=dataset.sha256,
        path=row[0],
        epsilon=row[1],
        delta=row[2],
        spent_epsilon=math.fsum(s.epsilon for s in spends),
        spent_delta=math.fsum(s.delta for s in spends),
        spends=spends,
    )


def _refuse_if_over(status: BudgetStatus, dataset: DatasetRef, epsilon: float, delta: float) -> None:
    if status.allows(epsilon, delta):
        return
    raise PolicyViolation(
        f"privacy budget of {dataset.short} would be exceeded: spent ε={status.spent_epsilon:g} of "
        f"{status.epsilon:g} (δ={status.spent_delta:g} of {status.delta:g}), remaining ε={status.remaining_epsilon:g} "
        f"(δ={status.remaining_delta:g}), asked ε={epsilon:g} (δ={delta:g}); nothing was released",
        reason=BUDGET_EXCEEDED,
    )
