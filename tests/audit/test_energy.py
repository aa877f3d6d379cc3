"""Energy measured with the real CodeCarbon offline tracker, alone and around real audit runs.

Absolute energy values depend on the machine and what else runs on it, so the tests check what
must hold anywhere: positive energy, CO2e = energy × the intensity applied, parts adding up, the
method named, and no file written anywhere.
"""

from __future__ import annotations

import logging
import math
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ethos.audit import WORLD_INTENSITY, EnergyMeter, EnergyOptions, RunOptions, energy_available, run_benchmark
from ethos.config import load_settings
from ethos.errors import ConfigError, MissingDependencyError
from ethos.models import ModelClient, load_model
from ethos.records import MEASURED_METHODS, Energy, RunStore
from tests.audit.test_runner import EchoBench, write_data, write_model

codecarbon = pytest.importorskip("codecarbon")

LOCK_FILE = Path(tempfile.gettempdir()) / ".codecarbon.lock"


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(1000))


def _measure(options: EnergyOptions, seconds: float = 0.3) -> Energy:
    meter = EnergyMeter(options)
    meter.start()
    _busy(seconds)
    energy = meter.stop()
    assert energy is not None, meter.problem
    return energy


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ModelClient]:
    with load_model(write_model(tmp_path / "echo.toml")) as client:
        yield client


@pytest.fixture
def options(tmp_path: Path) -> RunOptions:
    data = write_data(tmp_path / "data")
    return RunOptions(cache_dir=tmp_path / "cache", data_dir=data, seed=7, energy=EnergyOptions(country="FRA"))


def test_when_a_stretch_of_work_is_measured_then_energy_co2_and_methods_are_consistent() -> None:
    energy = _measure(EnergyOptions())

    assert energy.kwh > 0 and energy.duration_s is not None and energy.duration_s >= 0.25
    assert math.isclose(energy.kwh, (energy.cpu_kwh or 0) + (energy.ram_kwh or 0) + (energy.gpu_kwh or 0))
    assert energy.carbon_intensity == WORLD_INTENSITY and energy.country_iso_code is None
    assert math.isclose(energy.co2_g or 0, energy.kwh * WORLD_INTENSITY, rel_tol=1e-6)
    assert energy.tracker == f"codecarbon {codecarbon.__version__}" and energy.tracking_mode == "machine"
    assert energy.cpu_method is not None and energy.ram_method == "dimm-estimate"
    assert energy.method == (energy.cpu_method if energy.cpu_method in MEASURED_METHODS else "estimate")
    assert any("world-average" in note for note in energy.notes)
    if energy.cpu_method == "cpu-load":  # containers and VMs without readable RAPL counters
        assert any(note.startswith("CPU power estimated as TDP") for note in energy.notes)


def test_when_a_country_is_set_then_its_grid_intensity_from_codecarbons_table_applies() -> None:
    from codecarbon.input import DataSource

    expected = DataSource().get_global_energy_mix_data()["FRA"]["carbon_intensity"]
    energy = _measure(EnergyOptions(country="FRA"), seconds=0.1)
    assert energy.country_iso_code == "FRA" and energy.carbon_intensity == expected
    assert math.isclose(energy.co2_g or 0, energy.kwh * expected, rel_tol=1e-6)


def test_when_an_intensity_and_ram_watts_are_set_then_they_override_the_defaults() -> None:
    energy = _measure(EnergyOptions(country="FRA", intensity=100.0, ram_watts=3.0), seconds=0.1)
    assert energy.carbon_intensity == 100.0 and energy.country_iso_code is None and energy.ram_method == "fixed"
    assert math.isclose(energy.co2_g or 0, energy.kwh * 100.0, rel_tol=1e-6)
    # 3 W for the measured seconds, in kWh
    assert math.isclose(energy.ram_kwh or 0, 3.0 * (energy.duration_s or 0) / 3.6e6, rel_tol=0.2)


def test_when_the_country_is_unknown_then_the_meter_refuses_before_measuring() -> None:
    with pytest.raises(ConfigError, match="energy_country 'XYZ' is not in CodeCarbon's carbon-intensity table"):
        EnergyMeter(EnergyOptions(country="XYZ"))


def test_when_measuring_then_nothing_is_written_or_printed_and_logging_is_restored(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = logging.getLogger("codecarbon")
    before = (list(log.handlers), log.level)

    _measure(EnergyOptions(), seconds=0.1)

    assert _files(tmp_path) == set() and not LOCK_FILE.exists()  # cwd is tmp_path (conftest)
    assert capfd.readouterr() == ("", "")
    assert (list(log.handlers), log.level) == before


def test_when_an_audit_runs_with_energy_then_the_record_holds_it_and_no_stray_file_appears(
    model: ModelClient, options: RunOptions, tmp_path: Path, ethos_home: Path
) -> None:
    before = _files(tmp_path)
    with RunStore.open(ethos_home / "ethos.db") as store:
        record = run_benchmark(EchoBench(), model, store, options)
        assert store.get(record.id).energy == record.energy
    assert record.energy is not None and record.energy.kwh > 0 and record.energy.country_iso_code == "FRA"
    assert record.energy.segments == 1
    # the store and the runner's data checksum cache: Ethos's own files, nothing from CodeCarbon
    assert _files(tmp_path) - before == {"ethos-home", "ethos-home/ethos.db", "cache", "cache/checksums.json"}
    assert _files(ethos_home) == {"ethos.db"} and not LOCK_FILE.exists()


def test_when_an_interrupted_run_resumes_then_its_energy_adds_both_segments(
    model: ModelClient, options: RunOptions, tmp_path: Path
) -> None:
    broken = EchoBench()
    broken.fail_on_call = 2
    with RunStore.open(tmp_path / "runs.db") as store:
        with pytest.raises(KeyboardInterrupt):  # Ctrl-C still reaches the caller while CodeCarbon runs
            run_benchmark(broken, model, store, options)
        [summary] = store.query(status="interrupted")
        first = store.get(summary.id).energy
        resumed = run_benchmark(EchoBench(), model, store, options, resume=summary.id)

    assert first is not None and first.segments == 1
    assert resumed.energy is not None and resumed.energy.segments == 2 and resumed.energy.kwh > first.kwh
    assert (resumed.energy.duration_s or 0) > (first.duration_s or 0)


def test_when_energy_is_off_then_the_record_has_none(model: ModelClient, options: RunOptions, tmp_path: Path) -> None:
    off = RunOptions(cache_dir=options.cache_dir, data_dir=options.data_dir, seed=7)
    with RunStore.open(tmp_path / "runs.db") as store:
        assert run_benchmark(EchoBench(), model, store, off).energy is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, EnergyOptions()),
        ({"ETHOS_ENERGY_COUNTRY": "fra"}, EnergyOptions(country="FRA")),
        ({"ETHOS_ENERGY": "0"}, None),
    ],
    ids=["default-on", "country", "off"],
)
def test_when_options_come_from_settings_then_energy_follows_the_energy_settings(
    env: dict[str, str], expected: EnergyOptions | None, tmp_path: Path
) -> None:
    options = RunOptions.from_settings(load_settings(env={"ETHOS_HOME": str(tmp_path), **env}))
    assert options.energy == expected


def test_when_codecarbon_is_missing_then_settings_skip_energy_and_a_meter_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "codecarbon", None)  # what an environment without the extra sees
    assert not energy_available()
    assert RunOptions.from_settings(load_settings(env={"ETHOS_HOME": str(tmp_path)})).energy is None
    with pytest.raises(MissingDependencyError, match=r"pip install 'ethos\[energy\]'"):
        EnergyMeter()


def test_when_measuring_then_ctrl_c_keeps_pythons_handler_so_runs_stay_resumable() -> None:
    import signal

    meter = EnergyMeter(EnergyOptions())
    meter.start()
    try:
        # CodeCarbon's lock (allow_multiple_runs=False) would install a handler that exits instead
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        meter.stop()
