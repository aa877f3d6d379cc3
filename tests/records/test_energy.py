"""The optional ``energy`` part of run records: old records keep loading, new ones round-trip."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ethos.errors import DataError
from ethos.records import Energy, RunRecord, RunStore, Timings, combine_energy
from tests.helpers.records import make_record

FULL = Energy(
    kwh=0.0125,
    co2_g=4.75,
    method="estimate",
    duration_s=61.5,
    cpu_kwh=0.004,
    ram_kwh=0.0085,
    cpu_method="cpu-load",
    ram_method="dimm-estimate",
    cpu_model="AMD EPYC",
    carbon_intensity=380.0,
    country_iso_code="DEU",
    tracking_mode="machine",
    tracker="codecarbon 3.3.2",
    notes=("RAM power estimated at 5 W per assumed DIMM slot",),
)


def test_when_a_record_has_no_energy_field_then_it_still_loads_with_energy_none() -> None:
    data = make_record().model_dump(mode="json")
    del data["energy"]
    record = RunRecord.from_json(json.dumps(data))
    assert record.energy is None


def test_when_a_record_has_the_first_energy_shape_then_it_still_loads() -> None:
    data = make_record().model_dump(mode="json")
    data["energy"] = {"kwh": 0.5, "co2_g": 12.0, "method": "tdp-estimate"}  # what schema 1 first held
    energy = RunRecord.from_json(json.dumps(data)).energy
    assert energy is not None and energy.kwh == 0.5 and energy.method == "tdp-estimate"
    assert energy.segments == 1 and energy.notes == () and energy.estimated


def test_when_a_record_with_energy_is_saved_then_the_store_gives_it_back_unchanged(tmp_path: Path) -> None:
    record = make_record(energy=FULL)
    with RunStore.open(tmp_path / "runs.db") as store:
        store.save(record)
    with RunStore.open(tmp_path / "runs.db") as store:
        assert store.get(record.id).energy == FULL
        assert store.get(record.id) == record


def test_when_a_run_finishes_with_energy_then_the_stored_run_carries_it(tmp_path: Path) -> None:
    running = make_record(status="running", n_samples=0)
    with RunStore.open(tmp_path / "runs.db") as store:
        store.begin(running)
        store.finish(
            running.id, status="finished", metrics=[], timings=Timings(started=running.created_at), energy=FULL
        )
        assert store.get(running.id).energy == FULL


def test_when_energy_is_negative_then_the_record_is_refused_naming_the_field() -> None:
    data = make_record().model_dump(mode="json")
    data["energy"] = {"kwh": -1.0, "method": "rapl"}
    with pytest.raises(DataError, match=r"energy\.kwh"):
        RunRecord.from_dict(data)


def test_when_two_segments_combine_then_totals_add_and_differing_methods_become_mixed() -> None:
    second = FULL.model_copy(update={"cpu_method": "rapl", "method": "rapl", "kwh": 0.0025, "co2_g": 0.25})
    both = combine_energy(FULL, second)
    assert both is not None
    assert math.isclose(both.kwh, 0.015) and math.isclose(both.co2_g or 0, 5.0)
    assert both.method == "mixed" and both.estimated and both.cpu_method == "mixed"
    assert both.ram_method == "dimm-estimate" and both.segments == 2 and both.notes == FULL.notes
    assert both.duration_s == 123.0 and both.tracker == "codecarbon 3.3.2"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [(None, None, None), (FULL, None, FULL), (None, FULL, FULL)],
    ids=["neither", "only-before", "only-after"],
)
def test_when_one_segment_has_no_energy_then_the_other_is_kept(
    before: Energy | None, after: Energy | None, expected: Energy | None
) -> None:
    assert combine_energy(before, after) == expected


def test_when_a_part_is_unknown_in_one_segment_then_it_is_unknown_for_the_whole() -> None:
    bare = Energy(kwh=0.001, method="estimate")
    both = combine_energy(FULL, bare)
    assert both is not None and both.co2_g is None and both.cpu_kwh is None and math.isclose(both.kwh, 0.0135)


def test_when_described_then_one_line_names_kwh_co2_time_and_methods() -> None:
    assert FULL.describe() == "0.0125 kWh, 4.75 g CO2e in 61.5 s (estimate: CPU cpu-load, RAM dimm-estimate)"
    assert not Energy(kwh=1.0, method="rapl").estimated
