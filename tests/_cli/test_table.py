"""``ethos table check`` and ``ethos table anonymize`` through the real entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import shared_data
from tests.helpers.cli import run_cli, run_cli_subprocess
from tests.pii.tabular.independent import QUASI, assert_k_anonymous, assert_l_diverse, read, synthetic

ADULT_QUASI = "sex,age,race,marital-status,education,native-country,workclass,occupation,salary-class"


def test_when_checking_with_json_then_one_object_reports_k_l_and_risk(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=60)
    result = run_cli("table", "check", str(path), "--quasi", "zip,sex", "--sensitive", "disease", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    frame = read(path)
    sizes = frame.groupby(["zip", "sex"]).size()
    assert list(data)[:3] == ["k", "l", "records"]
    assert data["k"] == int(sizes.min())
    assert data["l"] == int(frame.groupby(["zip", "sex"])["disease"].nunique().min())
    assert data["records"] == 60
    assert data["classes"] == len(sizes)
    assert data["records_at_risk"] == int(sizes[sizes < 5].sum())
    assert data["prosecutor_risk"] == {"max": pytest.approx(1 / sizes.min()), "average": pytest.approx(len(sizes) / 60)}


def test_when_checking_without_sensitive_columns_then_l_is_null_and_a_table_is_printed(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=60)
    data = json.loads(run_cli("table", "check", str(path), "--quasi", "zip", "--json").stdout)
    assert data["l"] is None
    result = run_cli("table", "check", str(path), "--quasi", "zip,sex", "--sep", ";")
    assert result.exit_code == 0, result.stderr
    assert "k (smallest class)" in result.stdout and "prosecutor risk, max" in result.stdout


def test_when_anonymizing_adult_with_json_then_the_arx_optimum_and_losses_are_reported(tmp_path: Path) -> None:
    folder = shared_data("adult")
    out = tmp_path / "adult.anon.csv"
    result = run_cli(
        "table", "anonymize", str(folder / "adult.csv"), "--k", "5", "--quasi", ADULT_QUASI,
        "--hierarchies", str(folder), "-o", str(out), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["transformation"] == dict(zip(ADULT_QUASI.split(","), [1, 2, 1, 1, 3, 2, 2, 1, 1], strict=True))
    assert data["information_loss"]["non_uniform_entropy"] == pytest.approx(407289.5388925293, rel=1e-12)
    assert set(data["information_loss"]) == {"non_uniform_entropy", "discernibility", "ncp", "generalization_intensity"}
    assert (data["k"], data["suppressed"], data["records"]) == (5, 0, 30162)
    assert 0 < data["seconds"] < 5
    assert out.read_text().splitlines()[0] == ADULT_QUASI.replace(",", ";")  # the input's separator
    assert_k_anonymous(read(out), ADULT_QUASI.split(","), 5)


def test_when_anonymizing_with_l_and_suppression_then_the_file_is_k_anonymous_and_l_diverse(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=200)
    out = tmp_path / "out.csv"
    result = run_cli(
        "table", "anonymize", str(path), "--k", "3", "--l", "2", "--sensitive", "disease", "--quasi", ",".join(QUASI),
        "--hierarchies", str(tmp_path), "--suppress", "0.05", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "non-uniform entropy" in result.stdout and "transformation" in result.stdout
    released = read(out)
    assert len(released) >= 190
    assert_k_anonymous(released, QUASI, 3)
    assert_l_diverse(released, QUASI, "disease", 2, "distinct")


def test_when_anonymizing_with_mondrian_then_transformation_is_null_and_partitions_are_counted(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=200)
    out = tmp_path / "out.csv"
    result = run_cli(
        "table", "anonymize", str(path), "--k", "4", "--quasi", ",".join(QUASI), "--algorithm", "mondrian",
        "--hierarchies", str(tmp_path), "-o", str(out), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["transformation"] is None
    assert data["algorithm"] == "mondrian" and data["partitions"] > 1 and data["suppressed"] == 0
    assert data["information_loss"]["generalization_intensity"] is None
    assert_k_anonymous(read(out), QUASI, 4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quasi", "zip,sexx"], r"--quasi: .*has no column 'sexx'\. Did you mean 'sex'\?"),
        (["--quasi", "zip,age,sex,job,id"], r"no hierarchy for 'id'; add <dataset>_hierarchy_<attribute>.csv"),
        (["--quasi", "zip", "--algorithm", "greedy"], r"--algorithm 'greedy': choose optimal or mondrian"),
        (["--quasi", "zip", "--sep", ";;"], r"--sep ';;': give one character"),
        (["--quasi", "zip", "--l", "2"], r"--l needs --sensitive"),
        (["--quasi", "zip", "--k", "500"], r"no generalisation satisfies k=500"),
    ],
)
def test_when_input_is_wrong_then_one_line_exit_2_and_no_output_file(
    tmp_path: Path, args: list[str], message: str
) -> None:
    path = synthetic(tmp_path, rows=50)
    out = tmp_path / "out.csv"
    flags = ["--k", "2", *args] if "--k" not in args else args
    result = run_cli("table", "anonymize", str(path), *flags, "--hierarchies", str(tmp_path), "-o", str(out))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error:")
    assert re.search(message, " ".join(result.stderr.split())), result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")] == []


def test_when_a_value_is_missing_from_its_hierarchy_then_the_cli_names_it_without_a_traceback(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=20)
    path.write_text(path.read_text().replace(";nurse;", ";pilot;", 1))
    out = tmp_path / "out.csv"
    result = run_cli_subprocess(
        "table", "anonymize", str(path), "--k", "2", "--quasi", ",".join(QUASI), "--hierarchies", str(tmp_path),
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "value 'pilot' of column 'job' is not in its hierarchy" in result.stderr
    assert not out.exists()


def test_when_the_table_is_missing_then_check_exits_2_naming_the_file(tmp_path: Path) -> None:
    result = run_cli("table", "check", str(tmp_path / "none.csv"), "--quasi", "a")
    assert result.exit_code == 2
    assert "none.csv: no such file" in result.stderr


def test_when_the_output_is_the_input_then_exit_2_and_the_input_is_untouched(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=50)
    before = path.read_bytes()
    result = run_cli(
        "table", "anonymize", str(path), "--k", "2", "--quasi", ",".join(QUASI), "--algorithm", "mondrian",
        "-o", str(tmp_path / "." / path.name),
    )  # fmt: skip
    assert result.exit_code == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is the input" in result.stderr
    assert path.read_bytes() == before
