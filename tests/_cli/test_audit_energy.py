"""Energy in ``ethos audit run`` and ``ethos runs show``: on by default, off on request, honest without CodeCarbon."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ethos.audit import benchmark_registry
from tests.audit.test_runner import EchoBench, write_data, write_model
from tests.helpers.cli import run_cli

pytest.importorskip("codecarbon")


@pytest.fixture
def audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``audit(*args)``: ``ethos audit run`` of the test echo benchmark on the scripted model."""
    benchmark_registry.names()
    monkeypatch.setitem(benchmark_registry._items, EchoBench.name, EchoBench)
    data, spec = write_data(tmp_path / "data"), write_model(tmp_path / "echo.toml")

    def run(*args: str) -> Any:
        return run_cli("audit", "run", "--model", spec, "--data-dir", str(data), "-b", "test-echo", *args)

    return run


def test_when_an_audit_runs_then_energy_is_printed_with_its_method_and_stored(audit: Any) -> None:
    result = audit("--json")
    assert result.exit_code == 0, result.stderr
    [run] = json.loads(result.stdout)
    energy = run["energy"]
    assert energy["kwh"] > 0 and energy["tracker"].startswith("codecarbon ") and energy["method"]

    shown = run_cli("runs", "show", run["id"], "--json")
    assert json.loads(shown.stdout)["energy"] == energy

    table = run_cli("runs", "show", run["id"])
    assert f"({energy['method']}" in table.stdout and "carbon intensity" in table.stdout
    assert "475 gCO2e/kWh" in table.stdout and "energy note" in table.stdout


def test_when_an_audit_runs_for_people_then_one_energy_line_follows_the_metrics(audit: Any) -> None:
    result = audit("--energy")
    assert result.exit_code == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("energy: ")]
    assert " kWh, " in line and " g CO2e in " in line
    assert result.stderr == ""  # CodeCarbon's own logging stays quiet


@pytest.mark.parametrize("off", [("--no-energy",), ()], ids=["flag", "environment"])
def test_when_energy_is_turned_off_then_the_run_has_none(
    audit: Any, off: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not off:
        monkeypatch.setenv("ETHOS_ENERGY", "false")
    result = audit("--json", *off)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["energy"] is None


def test_when_codecarbon_is_missing_then_the_run_goes_on_with_a_one_line_note(
    audit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "codecarbon", None)
    result = audit("--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["energy"] is None
    [note] = result.stderr.splitlines()
    assert note.startswith("note: energy not measured") and "pip install 'ethos[energy]'" in note


def test_when_energy_is_asked_for_without_codecarbon_then_the_error_names_the_pip_command(
    audit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "codecarbon", None)
    result = audit("--energy")
    assert result.exit_code == 2 and result.stdout == ""
    assert "error: --energy needs the optional package 'codecarbon'" in result.stderr
    assert "pip install 'ethos[energy]'" in result.stderr


def test_when_the_energy_country_is_unknown_then_one_line_explains_it(
    audit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHOS_ENERGY_COUNTRY", "XYZ")
    result = audit()
    assert result.exit_code == 2
    assert "energy_country 'XYZ' is not in CodeCarbon's carbon-intensity table" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_when_an_audit_measures_energy_then_cwd_home_and_temp_get_no_codecarbon_files(
    audit: Any, tmp_path: Path, ethos_home: Path
) -> None:
    temp = Path(tempfile.gettempdir())
    before, temp_before = _files(tmp_path), {p.name for p in temp.glob("*codecarbon*")}
    result = audit("--energy")
    assert result.exit_code == 0, result.stderr
    new = {"ethos-home", "ethos-home/ethos.db", "ethos-home/cache", "ethos-home/cache/checksums.json"}
    assert _files(tmp_path) - before == new  # the run database and Ethos's data checksum cache
    assert not any("codecarbon" in name or name.endswith(".csv") for name in _files(tmp_path))
    assert {p.name for p in temp.glob("*codecarbon*")} == temp_before


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}
