"""``ethos runs export --mlflow URI`` into a real local MLflow store, read back with ``MlflowClient``.

One SQLite tracking database serves the module (MLflow spends seconds creating its tables); each
test exports into its own experiment, so tests stay independent.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ethos._cli.runs_mlflow import metric_key, mlflow_metrics
from ethos.records import Energy, MetricRecord, RunRecord, RunStore, Timings
from tests.helpers.cli import run_cli
from tests.helpers.records import make_record

pytest.importorskip("mlflow")

pytestmark = [
    # SQLAlchemy 2.1 deprecates a loader strategy MLflow's SQL store still uses: not ours to fix.
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning"),
]

ENERGY = Energy(
    kwh=0.002,
    co2_g=0.95,
    method="estimate",
    duration_s=42.0,
    cpu_kwh=0.0005,
    ram_kwh=0.0015,
    cpu_method="cpu-load",
    ram_method="dimm-estimate",
    carbon_intensity=475.0,
    tracker="codecarbon 3.3.2",
)
GROUPED = (
    MetricRecord(name="ss", value=0.625, ci_low=0.5, ci_high=0.75, n=3),
    MetricRecord(name="ss", value=0.5, ci_low=0.25, ci_high=0.75, n=2, group={"bias_type": "race"}),
    MetricRecord(name="icat score", value=float("nan"), n=0, group={"domain": "race=colour"}),
)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def experiment(request: pytest.FixtureRequest) -> str:
    return request.node.name[:200]


@pytest.fixture
def client(tracking: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking)


def _save(*records: RunRecord) -> None:
    with RunStore.open(Path.cwd() / "ethos-home" / "ethos.db") as store:
        for record in records:
            store.save(record)


def _export(tracking: str, experiment: str, *ids: str) -> Any:
    result = run_cli("runs", "export", *ids, "--mlflow", tracking, "--experiment", experiment, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _runs(client: Any, experiment: str) -> list[Any]:
    exp = client.get_experiment_by_name(experiment)
    return list(client.search_runs([exp.experiment_id]))


def test_when_runs_are_exported_then_each_becomes_one_mlflow_run_holding_the_records_numbers(
    tracking: str, experiment: str, client: Any, tmp_path: Path
) -> None:
    a = make_record("01JAAAAAAAAAAAAAAAAAAAAAAA", metrics=GROUPED, energy=ENERGY)
    b = make_record("01JBBBBBBBBBBBBBBBBBBBBBBB", minutes=5, model="hf:./other")
    _save(a, b)

    out = _export(tracking, experiment, a.id[:12], b.id)

    assert [(r["run_id"], r["action"]) for r in out["runs"]] == [(a.id, "created"), (b.id, "created")]
    runs = {r.data.tags["ethos.run_id"]: r for r in _runs(client, experiment)}
    assert set(runs) == {a.id, b.id}
    run = runs[a.id]
    assert run.info.status == "FINISHED"
    assert run.info.start_time == int(a.created_at.timestamp() * 1000)
    assert a.finished_at is not None and run.info.end_time == int(a.finished_at.timestamp() * 1000)
    params = run.data.params
    assert params["model.spec"] == a.model.spec and params["model.digest"] == a.model.digest
    assert params["benchmark.name"] == a.benchmark.name and params["benchmark.version"] == a.benchmark.version
    assert params["settings.batch_size"] == "16" and params["settings.dtype"] == "float32"
    assert params["seed.sampling"] == "1234"
    metrics = run.data.metrics
    assert metrics["ss"] == 0.625 and metrics["ss_ci_low"] == 0.5 and metrics["ss_ci_high"] == 0.75
    assert metrics["ss/bias_type:race"] == 0.5 and metrics["ss/bias_type:race_ci_low"] == 0.25
    assert math.isnan(metrics["icat score/domain:race_colour"])
    assert metrics["energy.kwh"] == ENERGY.kwh and metrics["energy.co2_g"] == ENERGY.co2_g
    assert metrics["ethos.samples"] == 3 and metrics["ethos.duration_s"] == 42.0
    assert run.data.tags["energy.method"] == "estimate" and run.data.tags["energy.cpu_method"] == "cpu-load"
    assert "energy.kwh" not in runs[b.id].data.metrics and "energy.method" not in runs[b.id].data.tags
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()


def test_when_a_run_is_exported_then_its_json_record_and_html_report_are_artifacts(
    tracking: str, experiment: str, client: Any
) -> None:
    record = make_record(energy=ENERGY)
    _save(record)

    [item] = _export(tracking, experiment, record.id)["runs"]

    names = {f.path for f in client.list_artifacts(item["mlflow_run_id"])}
    assert f"ethos-run-{record.id}.json" in names
    folder = Path(client.download_artifacts(item["mlflow_run_id"], "", str(Path.cwd() / "downloaded")))
    assert RunRecord.from_json((folder / f"ethos-run-{record.id}.json").read_text()) == record
    if "report.html" in item["artifacts"]:  # helper G's renderer, when ethos[reports] is installed
        html = (folder / "report.html").read_text()
        assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
        assert record.id in html


def test_when_exported_again_then_the_mlflow_run_is_found_not_duplicated(
    tracking: str, experiment: str, client: Any
) -> None:
    record = make_record()
    _save(record)
    [first] = _export(tracking, experiment, record.id)["runs"]

    [again] = _export(tracking, experiment, record.id)["runs"]

    assert again == {**first, "action": "unchanged", "metrics": 0, "artifacts": []}
    assert len(_runs(client, experiment)) == 1


def test_when_an_interrupted_run_is_finished_later_then_re_export_updates_the_same_mlflow_run(
    tracking: str, experiment: str, client: Any
) -> None:
    running = make_record(status="running")
    with RunStore.open(Path.cwd() / "ethos-home" / "ethos.db") as store:
        store.save(running)
        store.finish(running.id, status="interrupted", metrics=[], timings=Timings(started=running.created_at))
    [first] = _export(tracking, experiment, running.id)["runs"]
    assert client.get_run(first["mlflow_run_id"]).info.status == "KILLED"
    with RunStore.open(Path.cwd() / "ethos-home" / "ethos.db") as store:
        store.finish(running.id, status="finished", metrics=GROUPED[:1], timings=Timings(started=running.created_at))

    [second] = _export(tracking, experiment, running.id)["runs"]

    assert second["action"] == "updated" and second["mlflow_run_id"] == first["mlflow_run_id"]
    [run] = _runs(client, experiment)
    assert run.info.status == "FINISHED" and run.data.metrics["ss"] == 0.625


@pytest.mark.parametrize(
    ("name", "group", "key"),
    [
        ("ss", {}, "ss"),
        ("ss", {"domain": "gender"}, "ss/domain:gender"),
        ("ss", {"b": "2", "a": "1"}, "ss/a:1/b:2"),
        ("icat score", {"bias_type": "race=colour"}, "icat score/bias_type:race_colour"),
        ("p(x)", {"k": "naïve & co"}, "p_x_/k:na_ve _ co"),
    ],
    ids=["overall", "group", "two-keys-sorted", "equals-sign", "other-characters"],
)
def test_when_metric_names_hold_characters_mlflow_refuses_then_the_keys_are_cleaned(
    name: str, group: dict[str, str], key: str
) -> None:
    assert metric_key(name, group) == key


def test_when_two_metrics_clean_to_the_same_key_then_both_are_kept() -> None:
    record = make_record(metrics=(MetricRecord(name="a=b", value=1.0), MetricRecord(name="a_b", value=2.0)))
    metrics = mlflow_metrics(record)
    assert metrics["a_b"] == 1.0 and metrics["a_b_2"] == 2.0


def test_when_mlflow_is_not_installed_then_the_error_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _save(make_record())
    monkeypatch.setitem(sys.modules, "mlflow", None)
    result = run_cli("runs", "export", "01JAAA", "--mlflow", "sqlite:///x.db")
    assert result.exit_code == 2 and "pip install 'ethos[mlflow]'" in result.stderr
    assert not Path("x.db").exists()


def test_when_mlflow_refuses_the_uri_then_one_line_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _save(make_record())
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    uri = (tmp_path / "store").as_uri()
    result = run_cli("runs", "export", "01JAAA", "--mlflow", uri)
    assert result.exit_code == 2 and result.stderr.startswith(f"error: MLflow at {uri}: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("uri", ["", "  "])
def test_when_the_tracking_uri_is_blank_then_exit_2_and_nothing_is_written(uri: str) -> None:
    _save(make_record())  # a blank URI (an unset CI variable) would make MLflow use ./mlflow.db and ./mlruns
    before = set(Path.cwd().iterdir())
    result = run_cli("runs", "export", "01JAAA", "--mlflow", uri)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--mlflow" in lines[0] and "empty" in lines[0]
    assert set(Path.cwd().iterdir()) == before


def test_when_the_sqlite_uri_names_a_file_that_is_not_a_database_then_one_line_names_it(tmp_path: Path) -> None:
    _save(make_record())
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_bytes(b"these are notes, not a database\n" * 4)
    uri = f"sqlite:///{not_a_db}"
    result = run_cli("runs", "export", "01JAAA", "--mlflow", uri)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"error: MLflow at {uri}: ") and "not a database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not_a_db.read_bytes() == b"these are notes, not a database\n" * 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("01JAAA", "01JBBB"), "a JSON export takes one run, not 2"),
        (("01JAAA", "--mlflow", "sqlite:///x.db", "-o", "x.json"), "--mlflow and --output are two different exports"),
    ],
    ids=["two-runs-as-json", "mlflow-and-output"],
)
def test_when_export_options_conflict_then_one_line_explains(args: tuple[str, ...], message: str) -> None:
    result = run_cli("runs", "export", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_when_a_real_audit_with_energy_is_exported_then_mlflow_holds_its_metrics_and_energy(
    tracking: str, experiment: str, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("codecarbon")
    from ethos.audit import benchmark_registry
    from tests.audit.test_runner import EchoBench, write_data, write_model

    benchmark_registry.names()
    monkeypatch.setitem(benchmark_registry._items, EchoBench.name, EchoBench)
    spec, data = write_model(tmp_path / "echo.toml"), write_data(tmp_path / "data")
    audit = run_cli("audit", "run", "--model", spec, "--data-dir", str(data), "-b", "test-echo", "--energy", "--json")
    assert audit.exit_code == 0, audit.stderr
    [run] = json.loads(audit.stdout)

    [item] = _export(tracking, experiment, run["id"])["runs"]

    mlrun = client.get_run(item["mlflow_run_id"])
    with RunStore.open(Path.cwd() / "ethos-home" / "ethos.db") as store:
        record = store.get(run["id"])
    assert record.energy is not None
    for m in record.metrics:
        key = metric_key(m.name, m.group)
        assert mlrun.data.metrics[key] == m.value
        if m.ci_low is not None:
            assert mlrun.data.metrics[f"{key}_ci_low"] == m.ci_low
    assert mlrun.data.metrics["energy.kwh"] == record.energy.kwh
    assert mlrun.data.tags["energy.method"] == record.energy.method
    assert mlrun.data.params["benchmark.variant"] == "ll" and mlrun.data.params["params.normalise"] == "false"


def test_when_several_runs_are_exported_for_people_then_a_bar_and_one_line_per_run_are_printed(
    tracking: str, experiment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ethos._cli._progress.progress_wanted", lambda console, *, as_json: not as_json)
    a, b = make_record("01JAAAAAAAAAAAAAAAAAAAAAAA"), make_record("01JBBBBBBBBBBBBBBBBBBBBBBB", minutes=1)
    _save(a, b)

    result = run_cli("runs", "export", a.id, b.id, "--mlflow", tracking, "--experiment", experiment)

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" for run ")[1].split(":")[0] for line in lines] == [a.id, b.id]
    assert all(line.startswith("created MLflow run ") for line in lines)
    assert "MLflow export" in result.stderr and "2/2" in result.stderr
