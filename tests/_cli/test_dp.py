"""``ethos dp``: releases charge the budget, refuse overdrafts, and are stored as run records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethos.records import DatasetRef, PrivacyLedger, RunStore
from tests.helpers.cli import assert_one_line_error, run_cli, run_cli_subprocess

ROWS = [(23, "Oslo"), (35, "Lima"), (47, "Oslo"), (51, "Pune"), (62, "Lima"), (29, "Oslo"), (70, "Kyiv")]


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("age,city\n" + "".join(f"{a},{c}\n" for a, c in ROWS), encoding="utf-8")
    return path


def _release(people: Path, *extra: str) -> tuple[int, str, str]:
    result = run_cli(
        "dp",
        "release",
        str(people),
        "-q",
        "count",
        "-q",
        "mean:age",
        "-q",
        "histogram:city",
        "--bounds",
        "age=0,100",
        "--categories",
        "city=Oslo,Lima,Pune",
        *extra,
    )
    return result.exit_code, result.stdout, result.stderr


def test_when_a_release_is_made_then_json_has_values_epsilon_and_the_budget_left(
    people: Path, ethos_home: Path
) -> None:
    assert run_cli("dp", "budget", "set", str(people), "--epsilon", "1.0").exit_code == 0
    code, out, err = _release(people, "--epsilon", "0.6", "--seed", "5", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["epsilon"] == 0.6 and data["delta"] == 0.0 and data["seed"] == 5
    assert data["composition"] == "basic sequential"
    assert [v["query"] for v in data["values"]] == ["count", "mean:age"] + ["histogram:city"] * 4
    assert data["budget"]["remaining_epsilon"] == pytest.approx(0.4)
    assert "NOT for production" in err  # the seeded-noise warning goes to stderr
    with RunStore(ethos_home / "ethos.db") as store:
        record = store.get(data["run_id"])
    assert record.benchmark.name == "dp-release" and record.seeds == {"noise": 5}
    assert [m.value for m in record.metrics] == [v["value"] for v in data["values"]]
    assert record.settings["release"]["values"][0]["mechanism"] == "discrete Laplace"  # type: ignore[index,call-overload]


def test_when_the_same_seed_is_used_twice_then_the_released_values_are_identical(people: Path) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "10")
    first = json.loads(_release(people, "--epsilon", "1", "--seed", "9", "--json")[1])
    second = json.loads(_release(people, "--epsilon", "1", "--seed", "9", "--json")[1])
    assert first["values"] == second["values"] and first["run_id"] != second["run_id"]


def test_when_the_budget_is_exhausted_then_the_release_is_refused_and_nothing_is_printed(
    people: Path, ethos_home: Path
) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "1.0")
    assert _release(people, "--epsilon", "0.7", "--seed", "1")[0] == 0
    code, out, err = _release(people, "--epsilon", "0.5", "--seed", "1")
    assert code == 2 and out == ""
    assert_one_line_error(err, "would be exceeded", "spent ε=0.7 of 1", "remaining ε=0.3", "asked ε=0.5")
    with RunStore(ethos_home / "ethos.db") as store:
        assert len(store.query(benchmark="dp-release")) == 1


def test_when_no_budget_is_set_then_the_error_says_how_to_set_one(people: Path) -> None:
    code, out, err = _release(people, "--epsilon", "0.5")
    assert code == 2 and out == ""
    assert_one_line_error(err, "no privacy budget is set", "ethos dp budget set")


def test_when_bounds_are_missing_then_one_line_names_the_query_and_the_flag(people: Path) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "1.0")
    result = run_cli("dp", "release", str(people), "-q", "sum:age", "--epsilon", "0.5")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "query sum:age needs clamping bounds", "--bounds age=LOW,HIGH", "sensitivity")


def test_when_bounds_are_inverted_or_the_column_is_text_then_nothing_is_charged(people: Path, ethos_home: Path) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "1.0")
    inverted = run_cli("dp", "release", str(people), "-q", "sum:age", "--bounds", "age=9,1", "--epsilon", "0.5")
    assert_one_line_error(inverted.stderr, "LOW must be below HIGH")
    text = run_cli("dp", "release", str(people), "-q", "sum:city", "--bounds", "city=0,1", "--epsilon", "0.5")
    assert_one_line_error(text.stderr, "line 2, column 'city'", "not a number")
    with PrivacyLedger(ethos_home / "ethos.db") as ledger:
        assert ledger.status(DatasetRef.from_path(people)).spent_epsilon == 0.0


def test_when_the_budget_is_shown_then_spends_are_listed(people: Path) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "2", "--delta", "1e-6")
    _release(people, "--epsilon", "0.5", "--seed", "1")
    shown = run_cli("dp", "budget", "show", str(people), "--json")
    data = json.loads(shown.stdout)
    assert data["epsilon"] == 2 and data["delta"] == 1e-6 and data["remaining_epsilon"] == pytest.approx(1.5)
    assert [s["query"] for s in data["spends"]] == ["count; mean:age; histogram:city"]
    table = run_cli("dp", "budget", "show", str(people))
    assert "remaining ε=1.5, δ=1e-06" in table.stdout and "histogram:city" in table.stdout


def test_when_printing_a_table_then_values_come_with_mechanism_and_noise_interval(people: Path) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "1")
    result = run_cli_subprocess(  # a wide terminal, so that rich does not wrap the cells
        "dp",
        "release",
        str(people),
        "-q",
        "count",
        "-q",
        "quantile:age:0.5",
        "--bounds",
        "age=0,100",
        "--epsilon",
        "1",
        "--split",
        "1,3",
        "--seed",
        "3",
    )
    assert result.exit_code == 0, result.stderr
    for needle in ("discrete Laplace", "exponential (report noisy min)", "95% noise interval", "remaining ε=0 of 1"):
        assert needle in result.stdout
    count_row = next(line for line in result.stdout.splitlines() if line.startswith("│ count"))
    assert "0.25" in count_row and "[" in count_row  # ε share 1/4 and a noise interval


def test_when_run_as_a_process_with_a_bad_query_then_exit_2_without_traceback(people: Path) -> None:
    result = run_cli_subprocess("dp", "release", str(people), "-q", "median:age", "--epsilon", "1")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "--query 'median:age' is not a query")


@pytest.mark.parametrize(
    ("query", "extra"),
    [("count", ("--epsilon", "1e-300")), ("mean:age", ("--epsilon", "0.1", "--bounds", "age=-1e308,1e308"))],
)
def test_when_opendp_cannot_calibrate_the_noise_then_one_line_and_nothing_is_charged(
    people: Path, ethos_home: Path, query: str, extra: tuple[str, ...]
) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "1.0")
    result = run_cli("dp", "release", str(people), "-q", query, *extra)
    assert result.exit_code == 2, result.stderr
    assert_one_line_error(result.stderr, f"query {query}", "OpenDP")
    with PrivacyLedger(ethos_home / "ethos.db") as ledger:
        assert ledger.status(DatasetRef.from_path(people)).spent_epsilon == 0.0


def test_when_the_separator_is_not_one_character_then_exit_2_before_anything_is_charged(
    people: Path, ethos_home: Path
) -> None:
    run_cli("dp", "budget", "set", str(people), "--epsilon", "1.0")
    result = run_cli("dp", "release", str(people), "-q", "count", "--epsilon", "0.1", "--sep", "xx")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "--sep 'xx'")
    with PrivacyLedger(ethos_home / "ethos.db") as ledger:
        assert ledger.status(DatasetRef.from_path(people)).spent_epsilon == 0.0
