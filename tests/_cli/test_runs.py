"""``ethos runs``: list, show, export and delete through the real entry point."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from ethos.records import RunRecord, RunStore
from tests.helpers.cli import run_cli, run_cli_subprocess
from tests.helpers.records import make_record

RUN_A = "01JAAAAAAAAAAAAAAAAAAAAAAA"
RUN_B = "01JBBBBBBBBBBBBBBBBBBBBBBB"
RUN_C = "01JCCCCCCCCCCCCCCCCCCCCCCC"


class _Terminal(io.StringIO):
    """Standard input that claims to be a terminal, with the user's answers already typed."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def runs(ethos_home: Path) -> dict[str, RunRecord]:
    """Three stored runs in ETHOS_HOME: A (oldest), B (failed, bert), C (newest, running)."""
    records = {
        RUN_A: make_record(RUN_A, minutes=0, n_samples=3),
        RUN_B: make_record(RUN_B, minutes=1, status="failed", model="hf:./tiny-bert", benchmark="crows_pairs"),
        RUN_C: make_record(RUN_C, minutes=2, status="running", n_samples=1),
    }
    with RunStore(ethos_home / "ethos.db") as store:
        for record in records.values():
            store.save(record)
    return records


def _assert_one_line_error(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0]


# -- list ----------------------------------------------------------------------------------


def test_when_listing_as_json_then_summaries_parse_newest_first(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "list", "--json")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [r["id"] for r in listed] == [RUN_C, RUN_B, RUN_A]
    assert listed[2]["sample_count"] == 3
    assert listed[2]["metrics"][0] == {
        "name": "ss",
        "value": 0.625,
        "ci_low": 0.5,
        "ci_high": 0.75,
        "n": 3,
        "group": {},
    }
    assert "samples" not in listed[0]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--model", "hf:./tiny-bert"], [RUN_B]),
        (["--model", "./tiny-gpt2"], [RUN_C, RUN_A]),
        (["--benchmark", "stereoset", "--status", "finished"], [RUN_A]),
        (["--limit", "2"], [RUN_C, RUN_B]),
    ],
    ids=["model-spec", "model-name", "benchmark-and-status", "limit"],
)
def test_when_listing_with_filters_then_only_matching_runs_are_listed(
    runs: dict[str, RunRecord], flags: list[str], expected: list[str]
) -> None:
    result = run_cli("runs", "list", "--json", *flags)
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == expected


def test_when_listing_for_people_then_a_table_shows_short_ids_status_and_headline_metrics(
    runs: dict[str, RunRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # as on a wide terminal: no wrapped cells
    result = run_cli("runs", "list")
    assert result.exit_code == 0, result.stderr
    assert RUN_A[:12] in result.stdout and RUN_A not in result.stdout
    assert "failed" in result.stdout and "running" in result.stdout
    assert "ss=0.625" in result.stdout
    assert "2026-01-02 03:04" in result.stdout


def test_when_nothing_is_stored_then_list_says_so_and_creates_no_database(ethos_home: Path) -> None:
    result = run_cli("runs", "list")
    assert result.exit_code == 0, result.stderr
    assert "no runs" in result.stdout
    assert json.loads(run_cli("runs", "list", "--json").stdout) == []
    assert not (ethos_home / "ethos.db").exists()


def test_when_home_is_given_then_that_database_is_listed(tmp_path: Path, runs: dict[str, RunRecord]) -> None:
    other = tmp_path / "other-home"
    with RunStore(other / "ethos.db") as store:
        store.save(make_record("01JZZZZZZZZZZZZZZZZZZZZZZZ"))
    result = run_cli("runs", "list", "--json", "--home", str(other))
    assert [r["id"] for r in json.loads(result.stdout)] == ["01JZZZZZZZZZZZZZZZZZZZZZZZ"]


def test_when_the_status_filter_is_unknown_then_exit_2_with_one_line(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "list", "--status", "paused")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "paused", "finished")


# -- show ----------------------------------------------------------------------------------


def test_when_showing_a_run_then_header_metrics_with_intervals_and_sample_count_are_printed(
    runs: dict[str, RunRecord],
) -> None:
    result = run_cli("runs", "show", "01ja")
    assert result.exit_code == 0, result.stderr
    for text in (RUN_A, "hf:./tiny-gpt2", "stereoset v1.0", "3 (0 with errors)", "[0.5, 0.75]", "bias_type=race"):
        assert text in result.stdout


def test_when_showing_as_json_then_the_header_parses_without_samples(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "show", RUN_A[:6], "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["id"] == RUN_A
    assert (shown["sample_count"], shown["error_count"]) == (3, 0)
    assert "samples" not in shown
    assert shown["environment"]["git_revision"] == runs[RUN_A].environment.git_revision


def test_when_showing_a_missing_run_then_exit_2_with_one_line_and_no_traceback(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "show", "01JX")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "no run '01JX'", "ethos runs list")


def test_when_a_prefix_is_ambiguous_then_exit_2_listing_the_matches(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "show", "01J")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "ambiguous", RUN_A, RUN_B, RUN_C)


def test_when_showing_a_missing_run_in_a_real_process_then_exit_2_with_one_line(runs: dict[str, RunRecord]) -> None:
    result = run_cli_subprocess("runs", "show", "01JX")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "no run '01JX'", "ethos runs list")
    assert result.stdout == ""


def test_when_no_database_exists_then_show_exits_2_and_creates_nothing(ethos_home: Path) -> None:
    result = run_cli("runs", "show", RUN_A)
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "no run database", str(ethos_home / "ethos.db"))
    assert not (ethos_home / "ethos.db").exists()


# -- export --------------------------------------------------------------------------------


def test_when_exporting_to_stdout_then_the_whole_record_parses_back(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "export", "01JA")
    assert result.exit_code == 0, result.stderr
    assert RunRecord.from_json(result.stdout) == runs[RUN_A]
    assert len(json.loads(result.stdout)["samples"]) == 3


def test_when_exporting_to_a_file_then_it_holds_the_record_and_json_reports_it(
    tmp_path: Path, runs: dict[str, RunRecord]
) -> None:
    target = tmp_path / "out" / "run.json"
    result = run_cli("runs", "export", RUN_B, "-o", str(target), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"id": RUN_B, "path": str(target), "sample_count": 3}
    assert RunRecord.from_json(target.read_text(encoding="utf-8")) == runs[RUN_B]
    assert [p.name for p in target.parent.iterdir()] == ["run.json"]  # no temp file left behind
    stdout = run_cli("runs", "export", RUN_B).stdout
    assert stdout == target.read_text(encoding="utf-8")


def test_when_exporting_into_a_folder_path_then_exit_2_naming_it(tmp_path: Path, runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "export", RUN_A, "-o", str(tmp_path))
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, f"cannot write {tmp_path}")


# -- delete --------------------------------------------------------------------------------


def _ids() -> list[str]:
    return [r["id"] for r in json.loads(run_cli("runs", "list", "--json").stdout)]


def test_when_deleting_with_yes_then_the_run_is_gone(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "delete", "01JB", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"deleted": RUN_B}
    assert _ids() == [RUN_C, RUN_A]


def test_when_deleting_without_yes_and_without_a_terminal_then_exit_2_and_nothing_is_deleted(
    runs: dict[str, RunRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped input is no confirmation
    result = run_cli("runs", "delete", RUN_A)
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "--yes", RUN_A)
    assert _ids() == [RUN_C, RUN_B, RUN_A]


@pytest.mark.parametrize(("answer", "remaining"), [("y\n", [RUN_C, RUN_B]), ("n\n", [RUN_C, RUN_B, RUN_A])])
def test_when_deleting_at_a_terminal_then_the_answer_decides(
    runs: dict[str, RunRecord], monkeypatch: pytest.MonkeyPatch, answer: str, remaining: list[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    result = run_cli("runs", "delete", "01JA")
    assert result.exit_code == 0, result.stderr
    assert f"Delete run {RUN_A}" in result.stdout
    assert _ids() == remaining


def test_when_deleting_a_missing_run_then_exit_2_with_one_line(runs: dict[str, RunRecord]) -> None:
    result = run_cli("runs", "delete", "01JX", "--yes")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "no run '01JX'")


# -- databases Ethos must not touch ---------------------------------------------------------


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_when_the_database_is_from_a_newer_ethos_then_every_command_refuses_and_runs_are_kept(
    runs: dict[str, RunRecord], ethos_home: Path
) -> None:
    import sqlite3

    db = ethos_home / "ethos.db"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO _ethos_migrations VALUES ('m099_from_the_future', '2030-01-01T00:00:00Z')")
    conn.close()
    before = _sha256(db)
    for args in (("list",), ("show", RUN_A), ("export", RUN_A), ("delete", RUN_A, "--yes")):
        result = run_cli("runs", *args)
        assert result.exit_code == 2, args
        _assert_one_line_error(result.stderr, str(db), "newer Ethos", "m099_from_the_future")
    assert _sha256(db) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone() == (3,)
    conn.close()


def test_when_the_database_file_is_unreadable_garbage_then_exit_2_naming_it_in_a_real_process(
    ethos_home: Path,
) -> None:
    ethos_home.mkdir(parents=True)
    db = ethos_home / "ethos.db"
    db.write_bytes(b"\x00garbage" * 512)
    before = _sha256(db)
    result = run_cli_subprocess("runs", "list")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, str(db))
    assert _sha256(db) == before


# -- compare -------------------------------------------------------------------------------


@pytest.fixture
def versions(ethos_home: Path) -> tuple[str, str]:
    """Two finished stereoset runs of two model versions; B's overall ss rose clearly, its race group did not."""
    from ethos.records import MetricRecord

    old = make_record(RUN_A, model="hf:./gpt2-v1")
    new = make_record(
        RUN_B,
        minutes=1,
        model="hf:./gpt2-v2",
        settings={"batch_size": 4, "dtype": "float32", "variant": "generate"},
        metrics=[
            MetricRecord(name="ss", value=0.9, ci_low=0.85, ci_high=0.95, n=3),
            MetricRecord(name="ss", value=0.55, ci_low=0.3, ci_high=0.8, n=2, group={"bias_type": "race"}),
        ],
    )
    with RunStore(ethos_home / "ethos.db") as store:
        store.save(old)
        store.save(new)
    return RUN_A, RUN_B


def test_when_comparing_two_runs_then_the_table_shows_both_values_the_delta_and_significance(
    versions: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("runs", "compare", "01JA", "01JB", "--all-groups")
    assert result.exit_code == 0, result.stderr
    rows = {line.split("│")[2].strip(): line for line in result.stdout.splitlines() if line.startswith("│ ss")}
    assert set(rows) == {"(all)", "bias_type=race"}
    for text in ("0.625 [0.5, 0.75]", "0.9 [0.85, 0.95]", "+0.275", "+44.0%", "yes"):
        assert text in rows["(all)"]
    assert "+0.05" in rows["bias_type=race"] and "+10.0%" in rows["bias_type=race"] and " no " in rows["bias_type=race"]
    assert "MOVER" in result.stdout
    assert result.stderr.strip() == (
        "warning: settings.variant differs: A has nothing, B has 'generate'; these numbers are not directly comparable"
    )


def test_when_comparing_as_json_then_one_object_holds_deltas_mismatches_and_the_rule(
    versions: tuple[str, str],
) -> None:
    result = run_cli("runs", "compare", RUN_A, RUN_B, "--json", "--metric", "ss")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["run_a"], data["run_b"], data["comparable"]) == (RUN_A, RUN_B, False)
    (delta,) = data["deltas"]  # overall values only without --all-groups
    assert delta["group"] == {} and delta["significant"] is True
    assert delta["delta"] == pytest.approx(0.275)
    assert delta["delta_ci_low"] == pytest.approx(0.275 - (0.05**2 + 0.125**2) ** 0.5)
    assert data["mismatches"] == [
        {
            "field": "settings.variant",
            "a": None,
            "b": "generate",
            "message": "settings.variant differs: A has nothing, B has 'generate'",
        }
    ]
    assert "MOVER" in data["significance_rule"]


def test_when_comparing_with_an_unknown_metric_or_run_then_exit_2_with_one_line(versions: tuple[str, str]) -> None:
    result = run_cli("runs", "compare", RUN_A, RUN_B, "--metric", "icat")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "--metric 'icat'", "ss")
    result = run_cli("runs", "compare", RUN_A, "01JX")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "no run '01JX'")
