"""The privacy-budget ledger in the run database: set, check, spend atomically, refuse overdrafts."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from ethos.errors import ConfigError, PolicyViolation
from ethos.records import BUDGET_EXCEEDED, DatasetRef, PrivacyLedger, RunStore, migration_names


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "home" / "ethos.db"


@pytest.fixture
def dataset(tmp_path: Path) -> DatasetRef:
    path = tmp_path / "people.csv"
    path.write_text("age\n30\n41\n", encoding="utf-8")
    return DatasetRef.from_path(path)


def test_when_a_budget_is_set_then_status_shows_it_unspent(db: Path, dataset: DatasetRef) -> None:
    with PrivacyLedger(db) as ledger:
        status = ledger.set_budget(dataset, epsilon=1.0, delta=1e-6)
    assert (status.epsilon, status.delta, status.spent_epsilon, status.remaining_epsilon) == (1.0, 1e-6, 0.0, 1.0)
    assert status.dataset_sha256 == dataset.sha256 and len(dataset.sha256) == 64


def test_when_the_dataset_has_no_budget_then_checking_says_how_to_set_one(db: Path, dataset: DatasetRef) -> None:
    with PrivacyLedger(db) as ledger, pytest.raises(ConfigError) as info:
        ledger.check(dataset, 0.1)
    assert f"ethos dp budget set {dataset.path} --epsilon" in str(info.value)


def test_when_spends_add_up_to_the_budget_then_the_next_one_is_refused_with_the_numbers(
    db: Path, dataset: DatasetRef
) -> None:
    with PrivacyLedger(db) as ledger:
        ledger.set_budget(dataset, epsilon=1.0)
        for i in range(10):
            ledger.spend(dataset, query=f"count #{i}", epsilon=0.1, run_id=f"RUN{i}")  # float sums 0.9999…
        with pytest.raises(PolicyViolation) as info:
            ledger.spend(dataset, query="count", epsilon=0.01)
        status = ledger.status(dataset)
    assert info.value.reason == BUDGET_EXCEEDED
    message = str(info.value)
    assert "spent ε=1 of 1" in message and "remaining ε=0" in message and "asked ε=0.01" in message
    assert len(status.spends) == 10 and status.spends[-1].run_id == "RUN9"


def test_when_a_check_would_overdraw_then_it_is_refused_before_any_work(db: Path, dataset: DatasetRef) -> None:
    with PrivacyLedger(db) as ledger:
        ledger.set_budget(dataset, epsilon=1.0)
        ledger.spend(dataset, query="sum:age", epsilon=0.7)
        assert ledger.check(dataset, 0.3).remaining_epsilon == pytest.approx(0.3)
        with pytest.raises(PolicyViolation, match=r"remaining ε=0.3 .*asked ε=0.5"):
            ledger.check(dataset, 0.5)


def test_when_delta_is_asked_beyond_its_budget_then_it_is_refused(db: Path, dataset: DatasetRef) -> None:
    with PrivacyLedger(db) as ledger:
        ledger.set_budget(dataset, epsilon=1.0, delta=1e-6)
        ledger.spend(dataset, query="q", epsilon=0.1, delta=1e-6)
        with pytest.raises(PolicyViolation, match="δ"):
            ledger.spend(dataset, query="q", epsilon=0.1, delta=1e-7)
        assert ledger.spend(dataset, query="q", epsilon=0.1).spent_epsilon == pytest.approx(0.2)


def test_when_lowering_a_budget_below_what_is_spent_then_config_error(db: Path, dataset: DatasetRef) -> None:
    with PrivacyLedger(db) as ledger:
        ledger.set_budget(dataset, epsilon=1.0)
        ledger.spend(dataset, query="q", epsilon=0.6)
        with pytest.raises(ConfigError, match="spent budget cannot be returned"):
            ledger.set_budget(dataset, epsilon=0.5)
        assert ledger.set_budget(dataset, epsilon=2.0).remaining_epsilon == pytest.approx(1.4)


def test_when_two_connections_spend_concurrently_then_the_budget_is_never_overdrawn(
    db: Path, dataset: DatasetRef
) -> None:
    with PrivacyLedger(db) as ledger:
        ledger.set_budget(dataset, epsilon=1.0)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def spend() -> None:
        with PrivacyLedger(db) as own:  # each thread its own SQLite connection
            barrier.wait()
            for _ in range(5):
                try:
                    own.spend(dataset, query="q", epsilon=0.3)
                    outcomes.append("ok")
                except PolicyViolation:
                    outcomes.append("refused")

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with PrivacyLedger(db) as ledger:
        status = ledger.status(dataset)
    assert outcomes.count("ok") == 3 and outcomes.count("refused") == 37
    assert status.spent_epsilon == pytest.approx(0.9) and len(status.spends) == 3


def test_when_a_run_is_deleted_then_its_spend_is_not_refunded(db: Path, dataset: DatasetRef) -> None:
    from tests.helpers.records import make_record

    run = make_record("01JAAAAAAAAAAAAAAAAAAAAAAA")
    with RunStore(db) as store, PrivacyLedger(db) as ledger:
        store.save(run)
        ledger.set_budget(dataset, epsilon=1.0)
        ledger.spend(dataset, query="count", epsilon=0.4, run_id=run.id)
        store.delete(run.id)
        assert ledger.status(dataset).spent_epsilon == pytest.approx(0.4)


def test_when_the_database_is_migrated_then_the_ledger_tables_exist(db: Path) -> None:
    with PrivacyLedger(db):
        pass
    assert "m002_privacy_budget" in migration_names()
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"privacy_budgets", "privacy_spends", "runs"} <= tables


def test_when_a_renamed_copy_is_used_then_it_shares_the_budget(tmp_path: Path, db: Path, dataset: DatasetRef) -> None:
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(Path(dataset.path).read_bytes())
    with PrivacyLedger(db) as ledger:
        ledger.set_budget(dataset, epsilon=1.0)
        ledger.spend(DatasetRef.from_path(copy), query="q", epsilon=0.25)
        status = ledger.status(dataset)
    assert status.spent_epsilon == 0.25 and status.path == str(copy)
