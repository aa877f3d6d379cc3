"""``ethos fairness assess`` through the real entry point: tables, --json, run records, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fm

from tests.helpers.cli import run_cli

N_ROWS = 400


def _write(path: Path, rows: list[dict[str, Any]], sep: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=sep)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rows(seed: int = 0, n: int = N_ROWS) -> list[dict[str, Any]]:
    """Hiring decisions where men are selected more often at equal qualification."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = str(rng.choice(["F", "M"]))
        race = str(rng.choice(["a", "b", "c"]))
        qualified = int(rng.random() < 0.5)
        hired = int(rng.random() < 0.2 + 0.4 * qualified + (0.2 if sex == "M" else 0.0))
        rows.append({"id": i, "sex": sex, "race": race, "hired": hired, "qualified": qualified,
                     "score": round(float(rng.random()) * 0.5 + 0.5 * hired, 4)})  # fmt: skip
    return rows


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    return _write(tmp_path / "predictions.csv", _rows())


def _assess(path: Path, *args: str) -> Any:
    return run_cli("fairness", "assess", str(path), "--n-boot", "200", *args)


def test_when_assessing_then_tables_show_groups_metrics_the_four_fifths_verdict_and_the_run(predictions: Path) -> None:
    result = _assess(predictions, "--y-pred", "hired", "--y-true", "qualified", "--sensitive", "sex")
    assert result.exit_code == 0, result.stderr  # unfair numbers do not change the exit code
    out = result.stdout
    for text in ("confusion matrix and rates by group", "demographic_parity_ratio", "equalized_odds_difference",
                 "four-fifths rule", "400 rows, 2 groups by sex", "run "):  # fmt: skip
        assert text in out
    assert "FAILED" in out


def test_when_json_is_asked_then_one_object_equals_fairlearn_on_the_same_file(predictions: Path) -> None:
    args = ("--y-pred", "hired", "--y-true", "qualified", "--sensitive", "sex", "--sensitive", "race")
    args += ("--score", "score")
    result = _assess(predictions, *args, "--json", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    frame = pd.read_csv(predictions)
    sf = frame[["sex", "race"]]
    y_true, y_pred = frame["qualified"], frame["hired"]
    assert doc["demographic_parity_difference"] == pytest.approx(
        fm.demographic_parity_difference(y_true, y_pred, sensitive_features=sf)
    )
    assert doc["equalized_odds_difference"] == pytest.approx(
        fm.equalized_odds_difference(y_true, y_pred, sensitive_features=sf)
    )
    assert doc["four_fifths_rule_passed"] is (doc["demographic_parity_ratio"] >= 0.8)
    assert set(doc["by_group"]) == {f"{s}|{r}" for s in "FM" for r in "abc"}
    group = doc["by_group"]["F|a"]
    assert group["count"] == int(((frame["sex"] == "F") & (frame["race"] == "a")).sum())
    assert {"selection_rate", "tpr", "fpr", "tp", "fp", "tn", "fn", "mean_score", "ci"} <= set(group)
    assert doc["seed"] == 3 and doc["n_boot"] == 200 and doc["run_id"]
    assert doc["confidence_intervals"]["demographic_parity_difference"]["ci_low"] is not None


def test_when_a_run_is_saved_then_runs_show_reads_it_with_group_metrics(predictions: Path) -> None:
    result = _assess(predictions, "--y-pred", "hired", "--sensitive", "sex", "--json", "--model-name", "screener-v2")
    run_id = json.loads(result.stdout)["run_id"]
    shown = run_cli("runs", "show", run_id, "--json")
    assert shown.exit_code == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["benchmark"] == {"name": "fairness-tabular", "version": "1"}
    assert record["model"]["spec"] == "screener-v2"
    assert record["data"][0]["source"] == str(predictions) and len(record["data"][0]["sha256"]) == 64
    assert record["seeds"] == {"bootstrap": 1234}  # the settings' default seed
    names = {(m["name"], tuple(sorted(m["group"].items()))) for m in record["metrics"]}
    assert ("demographic_parity_ratio", ()) in names
    assert ("selection_rate", (("sex", "F"),)) in names and ("selection_rate", (("sex", "M"),)) in names
    assert run_cli("runs", "show", run_id).exit_code == 0


def test_when_no_record_is_asked_then_nothing_is_stored(predictions: Path, ethos_home: Path) -> None:
    result = _assess(predictions, "--y-pred", "hired", "--sensitive", "sex", "--no-record", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["run_id"] is None
    assert not (ethos_home / "ethos.db").exists()


def test_when_the_file_uses_semicolons_and_words_then_sep_is_sniffed_and_the_label_names_the_positive(
    tmp_path: Path,
) -> None:
    rows = [{"g": g, "decision": d} for g, d in [("A", "yes"), ("A", "yes"), ("A", "no"), ("B", "no"), ("B", "yes"),
                                                  ("B", "no")]]  # fmt: skip
    path = _write(tmp_path / "words.csv", rows, sep=";")
    result = _assess(path, "--y-pred", "decision", "--sensitive", "g", "--positive-label", "yes", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["by_group"]["A"]["selection_rate"] == pytest.approx(2 / 3)
    assert doc["by_group"]["B"]["selection_rate"] == pytest.approx(1 / 3)
    assert doc["positive_label"] == "yes"


def _bad(tmp_path: Path, rows: list[dict[str, Any]], *args: str) -> str:
    path = _write(tmp_path / "bad.csv", rows)
    result = _assess(path, *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


GOOD = [{"sex": s, "hired": h, "qualified": q, "score": 0.5} for s, h, q in
        [("F", 1, 1), ("F", 0, 1), ("M", 1, 0), ("M", 0, 0), ("F", 1, 0), ("M", 1, 1)]]  # fmt: skip


def test_when_a_column_is_unknown_then_the_error_suggests_and_lists_columns(tmp_path: Path) -> None:
    line = _bad(tmp_path, GOOD, "--y-pred", "hired", "--sensitive", "sexx")
    assert "no column 'sexx'" in line and "Did you mean 'sex'?" in line and "sex, hired, qualified, score" in line


def test_when_values_are_missing_then_the_error_names_the_lines(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[2]["hired"] = ""
    rows[4]["hired"] = ""
    line = _bad(tmp_path, rows, "--y-pred", "hired", "--sensitive", "sex")
    assert "column 'hired' has no value at line 4, 6" in line


def test_when_labels_are_words_without_a_positive_label_then_the_error_says_how_to_map_them(tmp_path: Path) -> None:
    rows = [dict(r, hired="yes" if r["hired"] else "no") for r in GOOD]
    line = _bad(tmp_path, rows, "--y-pred", "hired", "--sensitive", "sex")
    assert "'no', 'yes', not 0/1" in line and "--positive-label" in line


def test_when_the_positive_label_matches_no_value_then_the_error_names_it(tmp_path: Path) -> None:
    rows = [dict(r, hired="yes" if r["hired"] else "no") for r in GOOD]
    line = _bad(tmp_path, rows, "--y-pred", "hired", "--sensitive", "sex", "--positive-label", "hire")
    assert "neither of which is --positive-label 'hire'" in line


def test_when_decisions_have_three_values_then_the_error_says_not_binary(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[0]["hired"] = 2
    line = _bad(tmp_path, rows, "--y-pred", "hired", "--sensitive", "sex")
    assert "column 'hired' is not binary: it has 3 distinct values ('0', '1', '2')" in line


def test_when_the_sensitive_column_has_one_group_then_the_error_says_two_are_needed(tmp_path: Path) -> None:
    rows = [dict(r, sex="F") for r in GOOD]
    line = _bad(tmp_path, rows, "--y-pred", "hired", "--sensitive", "sex")
    assert "sensitive column 'sex' has only one group ('F')" in line and "at least two groups" in line


def test_when_a_score_is_not_a_number_then_the_error_names_the_line(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[1]["score"] = "high"
    line = _bad(tmp_path, rows, "--y-pred", "hired", "--sensitive", "sex", "--score", "score")
    assert "column 'score' must hold numbers, but line 3 does not (e.g. 'high')" in line


def test_when_the_file_is_missing_or_empty_then_one_line_says_so(tmp_path: Path) -> None:
    missing = run_cli("fairness", "assess", str(tmp_path / "nope.csv"), "--y-pred", "a", "--sensitive", "b")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = run_cli("fairness", "assess", str(empty), "--y-pred", "a", "--sensitive", "b")
    assert result.exit_code == 2 and "the file is empty" in result.stderr


def test_when_truth_is_true_false_and_decisions_are_words_then_each_column_gets_its_positive(tmp_path: Path) -> None:
    rows = [{"g": g, "decision": d, "truth": t} for g, d, t in
            [("A", "yes", "True"), ("A", "no", "True"), ("A", "yes", "False"), ("B", "no", "True"),
             ("B", "yes", "True"), ("B", "no", "False")]]  # fmt: skip
    path = _write(tmp_path / "mixed.csv", rows)
    result = _assess(path, "--y-pred", "decision", "--y-true", "truth", "--sensitive", "g", "--positive-label", "yes",
                     "--json", "--no-record")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    a, b = json.loads(result.stdout)["by_group"]["A"], json.loads(result.stdout)["by_group"]["B"]
    assert (a["tp"], a["fn"], a["fp"], a["tn"]) == (1, 1, 1, 0)
    assert (b["tp"], b["fn"], b["fp"], b["tn"]) == (1, 1, 0, 1)


def test_when_the_first_row_has_an_extra_field_then_the_error_names_its_line_not_shifted_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("sex,hired\nF,1,3\nM,0\nF,1\nM,1\n", encoding="utf-8")
    result = _assess(path, "--y-pred", "hired", "--sensitive", "sex", "--no-record")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "line 2 has 3 fields" in lines[0] and "the header has 2" in lines[0], result.stderr


def test_when_the_positive_label_is_in_no_column_then_the_error_says_so(tmp_path: Path) -> None:
    line = _bad(tmp_path, GOOD, "--y-pred", "hired", "--y-true", "qualified", "--sensitive", "sex",
                "--positive-label", "yes")  # fmt: skip
    assert "--positive-label 'yes' is in neither column 'hired' nor 'qualified'" in line


def test_when_the_separator_is_longer_than_one_character_then_one_line_says_so(tmp_path: Path) -> None:
    line = _bad(tmp_path, GOOD, "--y-pred", "hired", "--sensitive", "sex", "--sep", ";;")
    assert "--sep must be one character" in line


def test_when_sensitive_values_have_trailing_spaces_then_they_are_the_same_group(tmp_path: Path) -> None:
    path = tmp_path / "spaces.csv"
    path.write_text("sex,hired\nF ,1\nM,0\nF,0\nM , 1\n", encoding="utf-8")
    result = _assess(path, "--y-pred", "hired", "--sensitive", "sex", "--json", "--no-record")
    assert result.exit_code == 0, result.stderr
    by_group = json.loads(result.stdout)["by_group"]
    assert sorted(by_group) == ["F", "M"] and by_group["F"]["count"] == 2


def test_when_a_cell_holds_a_missing_value_marker_then_the_error_says_it_counts_as_missing(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[1]["sex"] = "NA"
    line = _bad(tmp_path, rows, "--y-pred", "hired", "--sensitive", "sex")
    assert "column 'sex' has no value at line 3 (an empty cell or a missing-value marker such as NA" in line
