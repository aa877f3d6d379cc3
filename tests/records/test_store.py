"""The SQLite run store: round trips, immutability, resume, transactions and migrations."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ethos.config import Settings
from ethos.errors import DataError, SchemaVersionError, StoreError
from ethos.records import MetricRecord, RunStore, Timings, load_run, migration_names
from ethos.types import MetricValue
from tests.helpers.records import BASE_TIME, make_record, make_sample

RUN_A = "01JAAAAAAAAAAAAAAAAAAAAAAA"
RUN_B = "01JAAAAAAAAAAAAAAAAAAAAAAB"
RUN_C = "01JBBBBBBBBBBBBBBBBBBBBBBB"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "folder" / "ethos.db"


@pytest.fixture
def store(db: Path) -> Iterator[RunStore]:
    with RunStore(db) as opened:
        yield opened


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sql(db: Path, statement: str) -> list[tuple[Any, ...]]:
    """Run one statement on a connection of its own, commit and close (no store involved)."""
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        return conn.execute(statement).fetchall()


def _sample_rows(db: Path) -> int:
    return int(_sql(db, "SELECT COUNT(*) FROM samples")[0][0])


# -- whole runs ------------------------------------------------------------------------------


def test_when_a_run_is_saved_then_get_returns_an_equal_record(store: RunStore, db: Path) -> None:
    record = make_record(RUN_A, n_samples=5)
    store.save(record)
    assert db.exists()
    assert store.get(RUN_A) == record


def test_when_getting_without_samples_then_the_header_and_metrics_are_whole(store: RunStore) -> None:
    record = make_record(RUN_A, n_samples=5)
    store.save(record)
    light = store.get(RUN_A, samples=False)
    assert light.samples == [] or light.samples == ()
    assert light.metrics == record.metrics
    assert light.model_copy(update={"samples": record.samples}) == record


@pytest.mark.parametrize("prefix", ["01JB", "01jb", "01JBBBBB", RUN_C], ids=["short", "lowercase", "longer", "full"])
def test_when_getting_by_a_unique_prefix_then_that_run_is_returned(store: RunStore, prefix: str) -> None:
    for run_id in (RUN_A, RUN_B, RUN_C):
        store.save(make_record(run_id))
    assert store.get(prefix).id == RUN_C
    assert store.resolve_id(prefix) == RUN_C


def test_when_a_prefix_matches_several_runs_then_store_error_lists_them(store: RunStore) -> None:
    store.save(make_record(RUN_A))
    store.save(make_record(RUN_B))
    with pytest.raises(StoreError, match="ambiguous") as info:
        store.get("01JA")
    assert RUN_A in str(info.value) and RUN_B in str(info.value)


@pytest.mark.parametrize("run_id", ["01JZ", "", "%", "_1J"], ids=["unknown", "empty", "like-wildcard", "like-any-char"])
def test_when_no_run_matches_then_store_error_points_at_runs_list(store: RunStore, run_id: str) -> None:
    store.save(make_record(RUN_A))
    with pytest.raises(StoreError, match="ethos runs list"):
        store.get(run_id)


def test_when_saving_an_id_that_exists_then_store_error_and_the_stored_run_is_unchanged(store: RunStore) -> None:
    original = make_record(RUN_A)
    store.save(original)
    with pytest.raises(StoreError, match="never overwritten"):
        store.save(make_record(RUN_A, status="failed", n_samples=1))
    assert store.get(RUN_A) == original


def test_when_querying_then_summaries_come_newest_first_and_filters_apply(store: RunStore) -> None:
    store.save(make_record(RUN_A, minutes=0, model="hf:./tiny-gpt2", benchmark="stereoset", n_samples=2))
    store.save(make_record(RUN_B, minutes=2, model="hf:./tiny-bert", benchmark="crows_pairs", n_samples=4))
    store.save(make_record(RUN_C, minutes=1, model="hf:./tiny-gpt2", benchmark="crows_pairs", status="running"))
    assert [s.id for s in store.query()] == [RUN_B, RUN_C, RUN_A]
    assert [s.id for s in store.query(limit=1)] == [RUN_B]
    assert [s.id for s in store.query(model="hf:./tiny-gpt2")] == [RUN_C, RUN_A]
    assert [s.id for s in store.query(model="./tiny-gpt2", benchmark="crows_pairs")] == [RUN_C]
    assert [s.id for s in store.query(status="running")] == [RUN_C]
    assert store.query(benchmark="bbq") == []
    newest = store.query(limit=1)[0]
    assert (newest.sample_count, newest.model, newest.tags) == (4, "hf:./tiny-bert", ("nightly",))
    assert newest.metrics == make_record(RUN_B, n_samples=4).metrics
    assert newest.created_at == BASE_TIME + timedelta(minutes=2)


def test_when_querying_with_an_unknown_status_then_value_error(store: RunStore) -> None:
    with pytest.raises(ValueError, match="unknown status"):
        store.query(status="paused")  # type: ignore[arg-type]


def test_when_a_run_is_deleted_then_it_and_its_samples_are_gone(store: RunStore, db: Path) -> None:
    store.save(make_record(RUN_A, n_samples=3))
    store.save(make_record(RUN_B, n_samples=2))
    store.delete(RUN_A)
    assert [s.id for s in store.query()] == [RUN_B]
    assert _sample_rows(db) == 2
    with pytest.raises(StoreError, match="no run"):
        store.delete(RUN_A)


# -- step by step: begin, checkpoint, resume, finish ------------------------------------------


def test_when_a_run_is_checkpointed_and_resumed_then_it_completes_with_every_sample(store: RunStore) -> None:
    header = make_record(RUN_A, status="running", n_samples=0)
    store.begin(header)
    assert store.completed_indices(RUN_A) == set()
    assert store.add_samples(RUN_A, [make_sample(0), make_sample(1)]) == 2
    store.finish(RUN_A, status="interrupted", metrics=[], timings=Timings(started=header.created_at))
    assert store.get(RUN_A).status == "interrupted"

    # resume: skip what is done; repeating the last batch unchanged is harmless
    assert store.completed_indices(RUN_A) == {0, 1}
    assert store.add_samples(RUN_A, [make_sample(1), make_sample(2), make_sample(3, error="timeout")]) == 2
    finished_at = header.created_at + timedelta(minutes=5)
    timings = Timings(started=header.created_at, finished=finished_at, seconds=280.0, stages={"score": 270.0})
    metrics = [MetricValue("ss", 0.5, ci_low=0.25, ci_high=0.75, n=4)]
    store.finish(RUN_A, status="finished", metrics=metrics, timings=timings)

    record = store.get(RUN_A)
    assert (record.status, record.finished_at, record.timings) == ("finished", finished_at, timings)
    assert [s.index for s in record.samples] == [0, 1, 2, 3]
    assert record.samples[3].error == "timeout"
    assert record.metrics == (MetricRecord.from_value(metrics[0]),)
    assert store.query()[0].sample_count == 4


def test_when_finishing_without_an_end_time_then_now_is_recorded(store: RunStore) -> None:
    header = make_record(RUN_A, status="running", n_samples=0)
    store.begin(header)
    store.finish(RUN_A, status="failed", metrics=[], timings=Timings(started=header.created_at))
    record = store.get(RUN_A)
    assert record.finished_at is not None and record.finished_at == record.timings.finished
    assert record.finished_at > header.created_at


@pytest.mark.parametrize("status", ["finished", "failed"])
def test_when_a_run_has_ended_then_it_accepts_no_samples_and_no_second_finish(store: RunStore, status: str) -> None:
    header = make_record(RUN_A, status="running", n_samples=0)
    store.begin(header)
    store.add_samples(RUN_A, [make_sample(0)])
    timings = Timings(started=header.created_at)
    store.finish(RUN_A, status=status, metrics=[], timings=timings)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="immutable"):
        store.add_samples(RUN_A, [make_sample(1)])
    with pytest.raises(StoreError, match="immutable"):
        store.finish(RUN_A, status="finished", metrics=[], timings=timings)
    assert [s.index for s in store.get(RUN_A).samples] == [0]


def test_when_a_saved_finished_run_gets_samples_then_store_error(store: RunStore) -> None:
    store.save(make_record(RUN_A, n_samples=1))
    with pytest.raises(StoreError, match="immutable"):
        store.add_samples(RUN_A, [make_sample(5)])


def test_when_a_batch_conflicts_with_a_stored_sample_then_nothing_of_it_is_stored(store: RunStore, db: Path) -> None:
    store.begin(make_record(RUN_A, status="running", n_samples=0))
    store.add_samples(RUN_A, [make_sample(0)])
    batch = [make_sample(1), make_sample(2), make_sample(0, value=0.25)]  # the last one differs from the stored 0
    with pytest.raises(StoreError, match="sample 0 is already stored with a different result"):
        store.add_samples(RUN_A, batch)
    assert store.completed_indices(RUN_A) == {0}
    assert _sample_rows(db) == 1
    assert store.get(RUN_A).samples == (make_sample(0),)


def test_when_a_batch_repeats_an_index_with_different_results_then_nothing_is_stored(store: RunStore) -> None:
    store.begin(make_record(RUN_A, status="running", n_samples=0))
    with pytest.raises(StoreError, match="sample 4"):
        store.add_samples(RUN_A, [make_sample(3), make_sample(4), make_sample(4, value=9.0)])
    assert store.completed_indices(RUN_A) == set()


@pytest.mark.parametrize(
    "record",
    [make_record(RUN_A, status="finished", n_samples=0), make_record(RUN_A, status="running", n_samples=1)],
    ids=["not-running", "has-samples"],
)
def test_when_begin_gets_a_record_that_is_not_a_fresh_start_then_value_error(store: RunStore, record: object) -> None:
    with pytest.raises(ValueError, match="begin"):
        store.begin(record)  # type: ignore[arg-type]


@pytest.mark.parametrize("call", ["add_samples", "completed_indices", "finish"])
def test_when_writing_to_a_missing_run_then_store_error(store: RunStore, call: str) -> None:
    with pytest.raises(StoreError, match="no run"):
        if call == "add_samples":
            store.add_samples(RUN_A, [make_sample(0)])
        elif call == "completed_indices":
            store.completed_indices(RUN_A)
        else:
            store.finish(RUN_A, status="finished", metrics=[], timings=Timings(started=BASE_TIME))


def test_when_finish_would_end_before_the_start_then_data_error_and_the_run_stays_open(store: RunStore) -> None:
    store.begin(make_record(RUN_A, status="running", n_samples=0))
    early = BASE_TIME - timedelta(hours=1)
    with pytest.raises(DataError, match="finished_at is before created_at"):
        store.finish(RUN_A, status="finished", metrics=[], timings=Timings(started=early, finished=early))
    assert store.get(RUN_A).status == "running"


def test_when_threads_checkpoint_through_one_store_then_every_sample_is_stored(store: RunStore) -> None:
    store.begin(make_record(RUN_A, status="running", n_samples=0))

    def work(offset: int) -> None:
        for i in range(offset, 200, 4):
            store.add_samples(RUN_A, [make_sample(i)])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.completed_indices(RUN_A) == set(range(200))


def test_when_two_stores_share_a_file_then_each_sees_the_others_writes(store: RunStore, db: Path) -> None:
    with RunStore.open(db) as other:
        store.begin(make_record(RUN_A, status="running", n_samples=0))
        other.add_samples(RUN_A, [make_sample(0)])
        assert store.completed_indices(RUN_A) == {0}


# -- opening, migrations and refusals ----------------------------------------------------------


def test_when_a_database_is_created_then_migrations_are_recorded_once_and_wal_is_on(db: Path) -> None:
    with RunStore(db) as store:
        assert store.migrations() == list(migration_names())
    first = _sql(db, "SELECT name, applied_at FROM _ethos_migrations")
    assert _sql(db, "PRAGMA journal_mode") == [("wal",)]
    with RunStore(db):
        pass
    assert _sql(db, "SELECT name, applied_at FROM _ethos_migrations") == first
    assert [name for name, _ in first] == list(migration_names())  # m001_initial, then each later migration


def test_when_the_database_has_an_unknown_migration_then_schema_version_error_and_the_file_is_unchanged(
    db: Path,
) -> None:
    with RunStore(db) as store:
        store.save(make_record(RUN_A))
    _sql(db, "INSERT INTO _ethos_migrations VALUES ('m002_from_the_future', '2030-01-01T00:00:00Z')")
    before = _sha256(db)
    with pytest.raises(SchemaVersionError) as info:
        RunStore(db)
    message = str(info.value)
    assert str(db) in message
    assert "newer Ethos (unknown migration m002_from_the_future)" in message
    assert "nothing was changed" in message
    assert _sha256(db) == before


def test_when_the_file_is_not_sqlite_then_store_error_names_it_and_it_is_unchanged(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"these are not the runs you are looking for\n" * 200)
    before = _sha256(db)
    with pytest.raises(StoreError, match="not a database") as info:
        RunStore(db)
    assert str(db) in str(info.value) and "move the file aside" in str(info.value)
    assert _sha256(db) == before


def test_when_the_file_is_another_apps_sqlite_database_then_store_error_and_it_is_unchanged(db: Path) -> None:
    db.parent.mkdir(parents=True)
    _sql(db, "CREATE TABLE notes (body TEXT)")
    before = _sha256(db)
    with pytest.raises(StoreError, match="not an Ethos run database") as info:
        RunStore(db)
    assert str(db) in str(info.value)
    assert _sha256(db) == before


def test_when_the_path_is_a_folder_then_store_error_names_it(db: Path) -> None:
    db.mkdir(parents=True)
    with pytest.raises(StoreError, match="unable to open") as info:
        RunStore(db)
    assert str(db) in str(info.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_when_the_file_is_unreadable_then_store_error_names_it(db: Path) -> None:
    RunStore(db).close()
    db.chmod(0)
    try:
        with pytest.raises(StoreError) as info:
            RunStore(db)
        assert str(db) in str(info.value)
    finally:
        db.chmod(0o600)


def test_when_opening_without_create_and_no_file_then_store_error_and_nothing_is_created(db: Path) -> None:
    with pytest.raises(StoreError, match="no run database"):
        RunStore(db, create=False)
    assert not db.exists() and not db.parent.exists()


def test_when_a_stored_record_has_a_newer_schema_then_get_raises_schema_version_error(
    store: RunStore, db: Path
) -> None:
    store.save(make_record(RUN_A))
    _sql(db, "UPDATE runs SET header = json_set(header, '$.schema_version', 2)")
    with pytest.raises(SchemaVersionError, match=f"run {RUN_A}.*schema version 2.*newer Ethos"):
        store.get(RUN_A)


def test_when_the_store_is_closed_then_calls_raise_and_closing_again_is_harmless(db: Path) -> None:
    store = RunStore(db)
    store.close()
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.query()


# -- load_run ----------------------------------------------------------------------------------


def test_when_loading_a_run_then_the_settings_database_is_read(tmp_path: Path, ethos_home: Path) -> None:
    with RunStore(Settings(home=tmp_path / "elsewhere").db_path) as store:
        store.save(make_record(RUN_A))
    with RunStore(ethos_home / "ethos.db") as store:
        store.save(make_record(RUN_C))
    assert load_run("01JA", Settings(home=tmp_path / "elsewhere")).id == RUN_A
    assert load_run("01JB").id == RUN_C  # default settings: ETHOS_HOME


def test_when_loading_from_a_home_without_database_then_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no run database"):
        load_run(RUN_A, Settings(home=tmp_path / "empty"))
