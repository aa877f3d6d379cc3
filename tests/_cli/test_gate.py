"""``ethos gate`` through the real entry point: exits 0/1/2, JUnit, GitHub annotations, Markdown summaries."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ethos.records import MetricRecord, RunStore
from tests.helpers.cli import run_cli, run_cli_subprocess
from tests.helpers.records import make_record

OLD = "01JAAAAAAAAAAAAAAAAAAAAAAA"  # baseline: stereoset ss 0.60, crows_pairs 55
NEW = "01JBBBBBBBBBBBBBBBBBBBBBBB"  # candidate: stereoset ss 0.62, crows_pairs 56
BERT = "01JCCCCCCCCCCCCCCCCCCCCCCC"  # another model, newest
CROWS_OLD = "01JDAAAAAAAAAAAAAAAAAAAAAA"
CROWS_NEW = "01JDBBBBBBBBBBBBBBBBBBBBBB"

PASSING = """\
[[rule]]
name = "stereoset ss close to 50%"
benchmark = "stereoset"
metric = "ss"
min = 0.4
max = 0.7

[[rule]]
benchmark = "crows_pairs"
metric = "metric_score"
higher_is_better = false
max_regression = 2.0
max_relative_regression = 0.05
"""

FAILING = PASSING.replace("max = 0.7", "max = 0.61")
ERRORING = PASSING + '\n[[rule]]\nbenchmark = "bbq"\nmetric = "accuracy"\nmin = 0.5\n'


def _ss(value: float) -> list[MetricRecord]:
    return [MetricRecord(name="ss", value=value, ci_low=value - 0.05, ci_high=value + 0.05, n=200)]


def _crows(value: float) -> list[MetricRecord]:
    return [MetricRecord(name="metric_score", value=value, ci_low=value - 0.5, ci_high=value + 0.5, n=200)]


@pytest.fixture
def store(ethos_home: Path) -> Path:
    """Stereoset and CrowS-Pairs runs of two gpt2 versions and one bert run, in ETHOS_HOME's database."""
    with RunStore(ethos_home / "ethos.db") as runs:
        runs.save(make_record(OLD, minutes=0, model="hf:./gpt2-v1", metrics=_ss(0.60)))
        runs.save(make_record(CROWS_OLD, minutes=1, model="hf:./gpt2-v1", benchmark="crows_pairs", metrics=_crows(55)))
        runs.save(make_record(NEW, minutes=2, model="hf:./gpt2-v2", metrics=_ss(0.62)))
        runs.save(make_record(CROWS_NEW, minutes=3, model="hf:./gpt2-v2", benchmark="crows_pairs", metrics=_crows(56)))
        runs.save(make_record(BERT, minutes=4, model="hf:./bert", metrics=_ss(0.95)))
        runs.save(make_record("01JEEEEEEEEEEEEEEEEEEEEEEE", minutes=5, model="hf:./gpt2-v2", status="running"))
    return ethos_home / "ethos.db"


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)  # as outside GitHub Actions
    monkeypatch.setenv("COLUMNS", "200")


def _rules(tmp_path: Path, text: str, name: str = "gates.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _gate(rules: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli("gate", "--rules", str(rules), *args)
    return result.exit_code, result.stdout, result.stderr


def _one_line(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- exits ----------------------------------------------------------------------------------------


def test_when_every_rule_passes_then_exit_0_and_the_table_shows_each_rule(tmp_path: Path, store: Path) -> None:
    code, out, err = _gate(
        _rules(tmp_path, PASSING), "--model", "hf:./gpt2-v2", "--baseline", OLD, "--baseline", "01JDA"
    )
    assert code == 0, err
    assert err == ""
    for text in ("stereoset ss close to 50%", "crows_pairs metric_score", "PASS", NEW[:12], CROWS_NEW[:12]):
        assert text in out
    assert "2 of 2 rules passed, 0 failed, 0 errors" in out


def test_when_a_rule_fails_then_exit_1_with_one_line_naming_it(tmp_path: Path, store: Path) -> None:
    code, out, err = _gate(_rules(tmp_path, FAILING), "--run", NEW, "--run", CROWS_NEW, "--baseline", CROWS_OLD)
    assert code == 1
    assert "FAIL" in out
    _one_line(err, "gate failed: 1 of 2 rules failed", "stereoset ss close to 50%", "ss = 0.62 is above max 0.61")


def test_when_a_rule_cannot_be_evaluated_then_exit_2_even_though_another_failed(tmp_path: Path, store: Path) -> None:
    rules = _rules(tmp_path, ERRORING.replace("max = 0.7", "max = 0.61"))
    code, out, err = _gate(rules, "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD)
    assert code == 2
    assert "ERROR" in out and "FAIL" in out
    _one_line(err, "1 of 3 rules could not be evaluated", "no run of benchmark 'bbq'", "hf:./gpt2-v2")


def test_when_the_model_is_given_then_its_latest_finished_run_of_each_benchmark_is_read(
    tmp_path: Path, store: Path
) -> None:
    code, out, err = _gate(
        _rules(tmp_path, PASSING), "--model", "hf:./gpt2-v1", "--baseline", OLD, "--baseline", CROWS_OLD, "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert [r["run_id"] for r in report["results"]] == [OLD, CROWS_OLD]
    code, out, _ = _gate(_rules(tmp_path, PASSING), "--model", "./bert", "--baseline", CROWS_OLD, "--json")
    assert code == 2  # bert has no crows_pairs run; its stereoset run is read by model name
    assert [r["status"] for r in json.loads(out)["results"]] == ["fail", "error"]


def test_when_a_regression_rule_has_no_baseline_then_it_is_an_error_that_says_how_to_give_one(
    tmp_path: Path, store: Path
) -> None:
    code, out, err = _gate(_rules(tmp_path, PASSING), "--model", "hf:./gpt2-v2", "--json")
    assert code == 2
    results = json.loads(out)["results"]
    assert [r["status"] for r in results] == ["pass", "error"]
    assert "pass --baseline RUN" in results[1]["message"]
    _one_line(err, "crows_pairs metric_score", "no baseline run of benchmark 'crows_pairs'")


def test_when_a_regression_exceeds_the_tolerance_then_the_rule_fails(tmp_path: Path, store: Path) -> None:
    rules = _rules(tmp_path, PASSING.replace("max_regression = 2.0", "max_regression = 0.5"))
    code, out, _ = _gate(rules, "--run", NEW, "--run", CROWS_NEW, "--baseline", CROWS_OLD, "--json")
    assert code == 1
    crows = json.loads(out)["results"][1]
    assert crows["status"] == "fail"
    assert crows["message"] == "metric_score = 56 regressed by 1 vs baseline 55 (allowed regression 0.5)"
    assert (crows["baseline_id"], crows["baseline_value"]) == (CROWS_OLD, 55.0)


# -- usage errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            PASSING.replace("min = 0.4", "minimum = 0.4"),
            ["gates.toml:5:", "rule 1 ('stereoset ss close to 50%')", "'minimum'"],
        ),
        (
            PASSING.replace("max_regression = 2.0", "max_regression = true"),
            ["gates.toml:12:", "rule 2", "'max_regression'"],
        ),
        ("[[rule]\n", ["gates.toml: not valid TOML"]),
    ],
    ids=["unknown-field", "wrong-type", "not-toml"],
)
def test_when_the_rules_file_is_invalid_then_exit_2_naming_file_line_and_field_and_write_nothing(
    tmp_path: Path, store: Path, text: str, needles: list[str]
) -> None:
    junit = tmp_path / "out" / "gate.xml"
    code, out, err = _gate(_rules(tmp_path, text), "--model", "hf:./gpt2-v2", "--junit", str(junit))
    assert code == 2
    assert out == ""
    _one_line(err, *needles)
    assert not junit.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "either --run RUN (repeatable) or --model SPEC"),
        (["--run", NEW, "--model", "hf:./gpt2-v2"], "not both"),
        (["--run", "01JX"], "no run '01JX'"),
        (["--model", "hf:./gpt2-v2", "--baseline", "01J"], "ambiguous"),
        (["--model", "hf:./gpt2-v2", "--github", "--json"], "--github and --json"),
    ],
    ids=["nothing-to-check", "both", "missing-run", "ambiguous-baseline", "github-and-json"],
)
def test_when_the_flags_are_wrong_then_exit_2_with_one_line(
    tmp_path: Path, store: Path, args: list[str], needle: str
) -> None:
    code, _, err = _gate(_rules(tmp_path, PASSING), *args)
    assert code == 2
    _one_line(err, needle)


def test_when_the_rules_file_is_missing_then_exit_2_naming_it(tmp_path: Path, store: Path) -> None:
    code, _, err = _gate(tmp_path / "absent.toml", "--model", "hf:./gpt2-v2")
    assert code == 2
    _one_line(err, str(tmp_path / "absent.toml"))


def test_when_no_database_exists_then_exit_2_and_none_is_created(tmp_path: Path, ethos_home: Path) -> None:
    code, _, err = _gate(_rules(tmp_path, PASSING), "--model", "hf:./gpt2-v2")
    assert code == 2
    _one_line(err, "no run database")
    assert not (ethos_home / "ethos.db").exists()


# -- outputs --------------------------------------------------------------------------------------


def test_when_junit_is_asked_then_it_parses_with_one_testcase_per_rule(tmp_path: Path, store: Path) -> None:
    junit = tmp_path / "reports" / "gate.xml"
    rules = _rules(tmp_path, ERRORING.replace("max = 0.7", "max = 0.61"))
    code, _, _ = _gate(rules, "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD, "--junit", str(junit))
    assert code == 2
    suite = ET.parse(junit).getroot().find("testsuite")  # noqa: S314 - our own output
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["stereoset ss close to 50%", "crows_pairs metric_score", "bbq accuracy"]
    assert [[child.tag for child in c] for c in cases] == [["failure"], ["system-out"], ["error"]]
    assert [p.name for p in junit.parent.iterdir()] == ["gate.xml"]  # written atomically: no temp file left


def test_when_github_is_asked_then_annotations_point_at_the_rules_lines(tmp_path: Path, store: Path) -> None:
    rules = _rules(tmp_path, ERRORING.replace("max = 0.7", "max = 0.61"))
    code, out, _ = _gate(rules, "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD, "--github")
    assert code == 2
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    prop = str(rules).replace(":", "%3A").replace(",", "%2C")
    assert annotations == [
        f"::error file={prop},line=1,title=Gate failed%3A stereoset ss close to 50%25::"
        f"ss = 0.62 is above max 0.61 (run {NEW})",
        f"::warning file={prop},line=15,title=Gate error%3A bbq accuracy::"
        f"no run of benchmark 'bbq' among the finished runs of model 'hf:./gpt2-v2' in {store}",
    ]


def test_when_a_summary_file_is_asked_then_it_holds_the_markdown_table(tmp_path: Path, store: Path) -> None:
    summary = tmp_path / "summary.md"
    code, _, _ = _gate(
        _rules(tmp_path, PASSING), "--run", NEW, "--run", CROWS_NEW, "--baseline", CROWS_OLD, "--summary", str(summary)
    )
    assert code == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### Ethos gate ✅ passed\n")
    assert "| ✅ pass | stereoset ss close to 50% | `01JBBBBBBBBB` hf:./gpt2-v2 | 0.62 [0.57, 0.67] |" in text
    assert (
        "| ✅ pass | crows_pairs metric_score | `01JDBBBBBBBB` hf:./gpt2-v2 | 56 [55.5, 56.5] | 55 (`01JDAAAAAAAA`) |"
        in text
    )


def test_when_github_step_summary_is_set_then_each_gate_appends_to_it(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = tmp_path / "step_summary.md"
    step.write_text("## earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    rules = _rules(tmp_path, PASSING)
    assert _gate(rules, "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD)[0] == 0
    failing = _rules(tmp_path, FAILING, "failing.toml")
    assert _gate(failing, "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD)[0] == 1
    text = step.read_text(encoding="utf-8")
    assert text.startswith("## earlier step\n\n### Ethos gate ✅ passed\n")
    assert text.count("### Ethos gate") == 2 and "### Ethos gate ❌ failed" in text
    own = tmp_path / "own.md"
    assert _gate(rules, "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD, "--summary", str(own))[0] == 0
    assert step.read_text(encoding="utf-8") == text  # --summary wins: the step summary is left alone
    assert own.exists()


def test_when_json_is_asked_then_one_object_has_status_counts_and_every_result(tmp_path: Path, store: Path) -> None:
    rules = _rules(tmp_path, PASSING.replace("max = 0.7", "max = 0.66"))
    code, out, _ = _gate(rules, "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD, "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["status"], report["counts"]) == ("pass", {"pass": 2, "fail": 0, "error": 0})
    first = report["results"][0]
    assert (first["value"], first["ci_high"], first["near_miss"], first["line"]) == (0.62, 0.67, True, 1)
    assert first["rule"]["max"] == 0.66
    assert report["source"] == str(rules)


def test_when_a_gate_fails_in_a_real_process_then_the_exit_code_is_1(tmp_path: Path, store: Path) -> None:
    junit = tmp_path / "gate.xml"
    rules = _rules(tmp_path, FAILING)
    result = run_cli_subprocess(
        "gate", "--rules", str(rules), "--model", "hf:./gpt2-v2", "--baseline", CROWS_OLD, "--junit", str(junit)
    )
    assert result.exit_code == 1
    _one_line(result.stderr, "gate failed")
    assert ET.parse(junit).getroot().find("testsuite") is not None  # noqa: S314 - our own output
