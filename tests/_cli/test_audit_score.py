"""``ethos audit score stereoset`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared_data
from tests.helpers.cli import run_cli, run_cli_subprocess

REFERENCE = "predictions_gpt2_ModelNSP_GPT2LM"


def official_block(text: str, name: str) -> str:
    """The lines the official scorer printed for one prediction file (without its header)."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("Evaluating") and name in line) + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return "\n".join(lines[start:end])


def test_when_scoring_the_official_predictions_then_the_printed_blocks_equal_the_official_output() -> None:
    folder = shared_data("bias", "stereoset")
    expected = official_block((folder / "reference" / "predictions.txt").read_text(), REFERENCE)
    result = run_cli(
        "audit", "score", "stereoset", str(folder / "reference" / f"{REFERENCE}.json"), "--data-dir", str(folder.parent)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip("\n") == expected
    assert "dev.json (dev)" in result.stderr


def test_when_json_is_asked_then_one_object_is_nested_like_the_official_output() -> None:
    folder = shared_data("bias", "stereoset")
    predictions = str(folder / "reference" / f"{REFERENCE}.json")
    result = run_cli("audit", "score", "stereoset", predictions, "--data-dir", str(folder), "--split", "dev", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["intrasentence", "intersentence", "overall"]
    assert list(data["intrasentence"]) == ["gender", "profession", "race", "religion", "overall"]
    assert list(data["intrasentence"]["gender"]) == ["Count", "LM Score", "SS Score", "ICAT Score"]
    assert data["intrasentence"]["gender"]["Count"] == 765.0
    assert data["intrasentence"]["overall"]["ICAT Score"] == pytest.approx(69.37221078255025, abs=1e-9)
    assert data["overall"] == pytest.approx(
        {"Count": 4229.0, "LM Score": 83.65206453498922, "SS Score": 57.03077944935812, "ICAT Score": 71.8892802104096},
        abs=1e-9,
    )


def test_when_the_data_dir_comes_from_the_environment_then_it_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = shared_data("bias", "stereoset")
    monkeypatch.setenv("ETHOS_DATA_DIR", str(folder.parent))
    result = run_cli("audit", "score", "stereoset", str(folder / "reference" / f"{REFERENCE}.json"), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["overall"]["Count"] == 4229.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the prediction file"),
        ("{oops", "not valid JSON"),
        ('{"intrasentence": [{"id": "nope", "score": 1.0}]}', "prediction(s) for ids that are not intrasentence"),
        ('{"intrasentence": []}', "sentence(s) have no prediction"),
        ('{"intrasentence": [{"id": "x"}]}', "intrasentence[0]: expected an object with 'id' and 'score'"),
    ],
    ids=["missing-file", "malformed-json", "unknown-id", "missing-predictions", "missing-field"],
)
def test_when_the_input_is_bad_then_one_error_line_names_the_file_and_exit_is_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    folder = shared_data("bias", "stereoset")
    path = tmp_path / "predictions.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_cli("audit", "score", "stereoset", str(path), "--data-dir", str(folder), "--split", "dev")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and message in lines[0]


def test_when_no_data_dir_is_given_then_the_command_says_how_to_give_one(tmp_path: Path) -> None:
    path = tmp_path / "predictions.json"
    path.write_text('{"intrasentence": []}', encoding="utf-8")
    result = run_cli("audit", "score", "stereoset", str(path))
    assert result.exit_code == 2
    assert "--data-dir" in result.stderr


def test_when_the_split_is_unknown_then_it_is_refused(tmp_path: Path) -> None:
    result = run_cli(
        "audit", "score", "stereoset", str(tmp_path / "p.json"), "--data-dir", str(tmp_path), "--split", "x"
    )
    assert result.exit_code == 2
    assert "--split 'x'" in result.stderr


def test_when_the_gold_files_are_missing_then_the_error_names_where_it_looked(tmp_path: Path) -> None:
    path = tmp_path / "predictions.json"
    path.write_text('{"intrasentence": []}', encoding="utf-8")
    result = run_cli("audit", "score", "stereoset", str(path), "--data-dir", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert "dev.json not found" in result.stderr


def test_when_run_as_a_process_then_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    result = run_cli_subprocess(
        "audit", "score", "stereoset", str(tmp_path / "absent.json"), "--data-dir", str(tmp_path)
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "absent.json" in result.stderr
