"""Gate rules: parsing with line-precise errors, evaluation to pass/fail/error, and the report's formats."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ethos.errors import ConfigError, GateError, GateFailed
from ethos.records import (
    GateReport,
    GateRules,
    MetricRecord,
    RunRecord,
    RunStore,
    evaluate_gates,
    load_rules,
    parse_rules,
)
from tests.helpers.records import make_record

RUN = "01JCCCCCCCCCCCCCCCCCCCCCCC"
BASE = "01JBBBBBBBBBBBBBBBBBBBBBBB"


def _rules(text: str) -> GateRules:
    return parse_rules(textwrap.dedent(text), source="gates.toml")


def _run(run_id: str = RUN, *metrics: MetricRecord, **fields: Any) -> RunRecord:
    return make_record(run_id, metrics=list(metrics), **fields)


def _m(value: float, low: float | None = None, high: float | None = None, **fields: Any) -> MetricRecord:
    return MetricRecord(
        name=fields.pop("name", "ss"), value=value, ci_low=low, ci_high=high, n=fields.pop("n", 50), **fields
    )


def _one(rule: str, runs: list[RunRecord], baselines: list[RunRecord] | None = None) -> Any:
    report = evaluate_gates(_rules("[[rule]]\n" + textwrap.dedent(rule)), runs, baselines or [])
    (result,) = report.results
    return result


# -- parsing --------------------------------------------------------------------------------------

GOOD = """\
# gates for the nightly audit
[[rule]]
name = "stereoset ss close to 50"
benchmark = "stereoset"
metric = "ss"
group = { domain = "gender" }
max = 60.0
min = 40.0

[[rule]]
benchmark = "crows_pairs"
metric = "metric_score"
higher_is_better = false
max_regression = 2.0
max_relative_regression = 0.05
"""


def test_when_a_rules_file_is_valid_then_rules_keep_their_order_fields_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "gates.toml"
    path.write_text(GOOD, encoding="utf-8")
    rules = load_rules(path)
    assert rules.source == str(path)
    assert rules.lines == (2, 10)
    first, second = rules.rules
    assert (first.label, first.group, first.min, first.max, first.needs_baseline) == (
        "stereoset ss close to 50",
        {"domain": "gender"},
        40.0,
        60.0,
        False,
    )
    assert (second.label, second.higher_is_better, second.max_regression, second.needs_baseline) == (
        "crows_pairs metric_score",
        False,
        2.0,
        True,
    )


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            GOOD.replace("max = 60.0", "maximum = 60.0"),
            ["gates.toml:7:", "rule 1 ('stereoset ss close to 50')", "'maximum'"],
        ),
        (
            GOOD.replace("max_regression = 2.0", 'max_regression = "two"'),
            ["gates.toml:14:", "rule 2,", "'max_regression'"],
        ),
        (GOOD.replace("min = 40.0", "min = 70.0"), ["gates.toml:2:", "rule 1", "min 70.0 is above max 60.0"]),
        (GOOD.replace('metric = "metric_score"\n', ""), ["gates.toml:10:", "rule 2", "'metric'", "Field required"]),
        (GOOD.replace("max_relative_regression = 0.05", "max_relative_regression = nan"), ["gates.toml:15:", "finite"]),
        (GOOD.replace("max = 60.0\nmin = 40.0\n", ""), ["gates.toml:2:", "needs at least one of min, max"]),
        (GOOD.replace("[[rule]]", "[[rules]]", 1), ["gates.toml:2:", "rules", "[[rule]] tables"]),
        ('title = "x"\n', ["gates.toml:1:", "title"]),
        ("", ["gates.toml:1:", "rule", "Field required"]),
        ("[[rule]\nbenchmark = 1\n", ["gates.toml: not valid TOML", "line 1"]),
        (GOOD + "min_n = 0\n", ["gates.toml:16:", "rule 2", "'min_n'", "greater than or equal to 1"]),
    ],
    ids=[
        "unknown-field",
        "wrong-type",
        "min-above-max",
        "missing-field",
        "nan",
        "no-threshold",
        "misspelt-table",
        "unknown-top-level-key",
        "empty",
        "not-toml",
        "min-n-zero",
    ],
)
def test_when_a_rules_file_is_invalid_then_the_error_names_file_line_rule_and_field(
    text: str, needles: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules(text, source="gates.toml")
    message = str(caught.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


def test_when_the_rules_file_is_missing_then_the_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the gate rules file .*nope\.toml"):
        load_rules(tmp_path / "nope.toml")


# -- fixed thresholds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "status", "message"),
    [
        ("min = 0.5", 0.6, "pass", "ss = 0.6 ≥ min 0.5"),
        ("min = 0.5", 0.4, "fail", "ss = 0.4 is below min 0.5"),
        ("max = 0.5", 0.6, "fail", "ss = 0.6 is above max 0.5"),
        ("max = 0.5", 0.5, "pass", "ss = 0.5 ≤ max 0.5"),  # a tie passes
        ("min = 0.3\nmax = 0.7", 0.8, "fail", "ss = 0.8 is above max 0.7"),  # only the failed check is shown
        ("min = 0.3\nmax = 0.7", 0.5, "pass", "ss = 0.5 ≥ min 0.3; ss = 0.5 ≤ max 0.7"),
    ],
    ids=["above-min", "below-min", "above-max", "tie", "range-fail", "range-pass"],
)
def test_when_a_fixed_threshold_is_checked_then_the_value_passes_or_fails_with_a_message(
    rule: str, value: float, status: str, message: str
) -> None:
    result = _one(f'benchmark = "stereoset"\nmetric = "ss"\n{rule}\n', [_run(RUN, _m(value))])
    assert (result.status, result.message) == (status, message)
    assert (result.run_id, result.value, result.model) == (RUN, value, "hf:./tiny-gpt2")


def test_when_a_value_equals_its_limit_up_to_rounding_then_it_passes() -> None:
    result = _one('benchmark = "stereoset"\nmetric = "ss"\nmax = 0.3\n', [_run(RUN, _m(0.1 + 0.2))])
    assert result.status == "pass"  # 0.1 + 0.2 = 0.30000000000000004


def test_when_the_interval_reaches_past_a_limit_then_the_pass_is_a_near_miss() -> None:
    near = _one('benchmark = "stereoset"\nmetric = "ss"\nmax = 0.6\n', [_run(RUN, _m(0.55, 0.5, 0.62))])
    clear = _one('benchmark = "stereoset"\nmetric = "ss"\nmax = 0.6\n', [_run(RUN, _m(0.55, 0.5, 0.59))])
    assert near.status == "pass" and near.near_miss
    assert "near miss: its interval [0.5, 0.62] reaches past 0.6" in near.message
    assert clear.status == "pass" and not clear.near_miss


def test_when_a_group_is_named_then_that_disaggregated_value_is_checked() -> None:
    run = _run(RUN, _m(0.5), _m(0.9, group={"domain": "gender"}), _m(0.2, group={"domain": "race"}))
    result = _one('benchmark = "stereoset"\nmetric = "ss"\ngroup = { domain = "gender" }\nmax = 0.6\n', [run])
    assert (result.status, result.value, result.name) == ("fail", 0.9, "stereoset ss [domain=gender]")


@pytest.mark.parametrize(("n", "status"), [(49, "fail"), (50, "pass")])
def test_when_min_n_is_set_then_too_few_samples_fail(n: int, status: str) -> None:
    result = _one('benchmark = "stereoset"\nmetric = "ss"\nmin = 0\nmin_n = 50\n', [_run(RUN, _m(0.5, n=n))])
    assert result.status == status
    assert f"n = {n}" in result.message or status == "pass"


# -- regressions against a baseline ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks", "higher_is_better", "base", "value", "status"),
    [
        ("max_regression = 2.0", True, 60.0, 58.0, "pass"),  # exactly the allowed drop
        ("max_regression = 2.0", True, 60.0, 57.9, "fail"),
        ("max_regression = 2.0", True, 60.0, 70.0, "pass"),  # improvements always pass
        ("max_regression = 2.0", False, 60.0, 62.0, "pass"),  # lower is better: a rise is the regression
        ("max_regression = 2.0", False, 60.0, 62.1, "fail"),
        ("max_regression = 2.0", False, 60.0, 50.0, "pass"),
        ("max_relative_regression = 0.05", True, 60.0, 57.0, "pass"),  # 5% of 60 = 3
        ("max_relative_regression = 0.05", True, 60.0, 56.9, "fail"),
        ("max_relative_regression = 0.05", False, 60.0, 63.1, "fail"),
        ("max_relative_regression = 0.1", True, -10.0, -11.0, "pass"),  # relative to |baseline|
        ("max_relative_regression = 0.1", True, -10.0, -11.5, "fail"),
        ("max_relative_regression = 0.5", True, 0.0, -0.001, "fail"),  # a zero baseline allows no regression
        ("max_regression = -1.0", True, 60.0, 60.5, "fail"),  # negative: demands an improvement (MLflow)
        ("max_regression = -1.0", True, 60.0, 61.0, "pass"),
        ("max_regression = 5.0\nmax_relative_regression = 0.01", True, 60.0, 59.0, "fail"),  # every check holds
    ],
)
def test_when_a_regression_is_checked_then_direction_and_tolerance_decide(
    checks: str, higher_is_better: bool, base: float, value: float, status: str
) -> None:
    rule = f'benchmark = "stereoset"\nmetric = "ss"\nhigher_is_better = {str(higher_is_better).lower()}\n{checks}\n'
    result = _one(rule, [_run(RUN, _m(value))], [_run(BASE, _m(base))])
    assert result.status == status, result.message
    assert (result.baseline_id, result.baseline_value) == (BASE, base)


def test_when_a_regression_fails_then_the_message_says_by_how_much_against_what() -> None:
    rule = 'benchmark = "stereoset"\nmetric = "ss"\nmax_regression = 2\n'
    result = _one(rule, [_run(RUN, _m(55.0))], [_run(BASE, _m(60.0))])
    assert result.message == "ss = 55 regressed by 5 vs baseline 60 (allowed regression 2)"
    (check,) = result.checks
    assert (check.kind, check.limit, check.passed) == ("max_regression", 58.0, False)


@pytest.mark.parametrize("higher_is_better", [True, False])
def test_when_the_value_equals_its_baseline_then_the_message_says_unchanged_not_improved_by_minus_zero(
    higher_is_better: bool,
) -> None:
    rule = f'benchmark = "stereoset"\nmetric = "ss"\nhigher_is_better = {str(higher_is_better).lower()}\n'
    result = _one(rule + "max_regression = 2\n", [_run(RUN, _m(60.0))], [_run(BASE, _m(60.0))])
    assert result.status == "pass"
    assert result.message == "ss = 60 unchanged vs baseline 60 (allowed regression 2)"


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "runs", "baselines", "needle"),
    [
        ('benchmark = "bbq"\nmetric = "ss"\nmin = 0', [_run(RUN, _m(1))], [], "no run of benchmark 'bbq'"),
        (
            'benchmark = "stereoset"\nmetric = "icat"\nmin = 0',
            [_run(RUN, _m(1))],
            [],
            "has no metric 'icat' [(all)]; it has: ss [(all)]",
        ),
        (
            'benchmark = "stereoset"\nmetric = "ss"\ngroup = {domain = "x"}\nmin = 0',
            [_run(RUN, _m(1), _m(1, group={"domain": "y"}))],
            [],
            "has no metric 'ss' [domain=x]; it has: ss [(all)], ss [domain=y]",
        ),
        ('benchmark = "stereoset"\nmetric = "ss"\nmin = 0', [_run(RUN, _m(float("nan")))], [], "is undefined"),
        ('benchmark = "stereoset"\nmetric = "ss"\nmax_regression = 1', [_run(RUN, _m(1))], [], "pass --baseline RUN"),
        (
            'benchmark = "stereoset"\nmetric = "ss"\nmax_regression = 1',
            [_run(RUN, _m(1))],
            [_run(BASE, _m(1, name="other"))],
            f"baseline run {BASE} (stereoset) has no metric 'ss'",
        ),
        (
            'benchmark = "stereoset"\nmetric = "ss"\nmax_regression = 1',
            [_run(RUN, _m(1))],
            [_run(BASE, _m(1), settings={"batch_size": 16, "dtype": "float32", "variant": "generate"})],
            "settings.variant differs: the baseline has 'generate', the run has nothing",
        ),
        ('benchmark = "stereoset"\nmetric = "ss"\nmin = 0', [_run(RUN, status="running")], [], "is running"),
        ('benchmark = "stereoset"\nmetric = "ss"\nmin = 0', [_run(RUN, _m(1)), _run(BASE, _m(1))], [], "several runs"),
        (
            'benchmark = "stereoset"\nmetric = "ss"\nmin = 0\nmin_n = 5',
            [_run(RUN, _m(1, n=None))],
            [],
            "no sample count",
        ),
    ],
    ids=[
        "no-run",
        "no-metric",
        "no-group",
        "undefined",
        "no-baseline",
        "baseline-lacks-metric",
        "baseline-not-comparable",
        "run-not-finished",
        "two-runs",
        "n-unknown",
    ],
)
def test_when_a_rule_cannot_be_evaluated_then_it_is_an_error_saying_why(
    rule: str, runs: list[RunRecord], baselines: list[RunRecord], needle: str
) -> None:
    result = _one(rule + "\n", runs, baselines)
    assert result.status == "error"
    assert needle in result.message


def test_when_rules_pass_fail_and_error_then_the_report_status_and_exception_follow() -> None:
    rules = _rules(
        """\
        [[rule]]
        benchmark = "stereoset"
        metric = "ss"
        max = 1
        [[rule]]
        benchmark = "stereoset"
        metric = "ss"
        max = 0.1
        [[rule]]
        benchmark = "bbq"
        metric = "acc"
        min = 0.5
        """
    )
    runs = [_run(RUN, _m(0.5))]
    report = evaluate_gates(rules, runs)
    assert [r.status for r in report.results] == ["pass", "fail", "error"]
    assert [r.line for r in report.results] == [1, 5, 9]
    assert (report.count("pass"), report.count("fail"), report.count("error"), report.status) == (1, 1, 1, "error")
    with pytest.raises(GateError, match=r"1 of 3 rules could not be evaluated; bbq acc: no run"):
        report.raise_for_status()
    only_fail = evaluate_gates(GateRules(rules.rules[:2], "gates.toml"), runs)
    with pytest.raises(GateFailed, match=r"gate failed: 1 of 2 rules failed; stereoset ss: ss = 0.5 is above max 0.1"):
        only_fail.raise_for_status()
    evaluate_gates(GateRules(rules.rules[:1], "gates.toml"), runs).raise_for_status()  # all pass: no exception


def test_when_runs_are_read_from_a_real_store_then_the_gate_sees_the_stored_metrics(tmp_path: Path) -> None:
    with RunStore(tmp_path / "ethos.db") as store:
        store.save(make_record(RUN))  # make_record's metrics: ss 0.625 [0.5, 0.75], ss[bias_type=race] 0.5
        stored = store.get(RUN[:6])
    rules = _rules('[[rule]]\nbenchmark = "stereoset"\nmetric = "ss"\ngroup = {bias_type = "race"}\nmax = 0.55\n')
    (result,) = evaluate_gates(rules, [stored]).results
    assert (result.status, result.value, result.ci_low, result.ci_high, result.n) == ("pass", 0.5, 0.25, 0.75, 2)
    assert result.near_miss


# -- formats --------------------------------------------------------------------------------------


def _mixed_report() -> GateReport:
    rules = _rules(
        """\
        [[rule]]
        name = "ok: <fine> & 100%"
        benchmark = "stereoset"
        metric = "ss"
        max = 1
        [[rule]]
        name = "too high, really"
        benchmark = "stereoset"
        metric = "ss"
        max = 0.1
        [[rule]]
        benchmark = "bbq"
        metric = "acc"
        min = 0.5
        [[rule]]
        name = "near | miss"
        benchmark = "stereoset"
        metric = "ss"
        max = 0.6
        """
    )
    return evaluate_gates(rules, [_run(RUN, _m(0.5, 0.4, 0.65))])


def test_when_writing_junit_then_it_parses_with_one_testcase_per_rule_and_counts() -> None:
    xml = _mixed_report().to_junit_xml()
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "1",
        "errors": "1",
        "skipped": "0",
    }
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["ok: <fine> & 100%", "too high, really", "bbq acc", "near | miss"]
    assert [c.get("classname") for c in cases] == ["ethos.gate.stereoset"] * 2 + [
        "ethos.gate.bbq",
        "ethos.gate.stereoset",
    ]
    assert [(c.find("failure") is not None, c.find("error") is not None) for c in cases] == [
        (False, False),
        (True, False),
        (False, True),
        (False, False),
    ]
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message") == "ss = 0.5 is above max 0.1"
    assert failure.text is not None and RUN in failure.text
    error = cases[2].find("error")
    assert error is not None and "no run of benchmark 'bbq'" in (error.get("message") or "")


def test_when_a_rule_name_holds_control_characters_then_the_junit_is_still_well_formed() -> None:
    rules = _rules('[[rule]]\nname = "bell\\u0007 and nul-free"\nbenchmark = "stereoset"\nmetric = "ss"\nmax = 1\n')
    xml = evaluate_gates(rules, [_run(RUN, _m(0.5))]).to_junit_xml()
    (case,) = ET.fromstring(xml).iter("testcase")  # noqa: S314 - our own output
    assert case.get("name") == "bell and nul-free"


def test_when_junitparser_is_installed_then_it_reads_the_same_cases(tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "gate.xml"
    path.write_text(_mixed_report().to_junit_xml(), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    (suite,) = list(xml)
    assert (suite.tests, suite.failures, suite.errors) == (4, 1, 1)
    outcomes = [[type(r).__name__ for r in case.result] for case in suite]
    assert outcomes == [[], ["Failure"], ["Error"], []]


def test_when_printing_github_annotations_then_fails_are_errors_and_errors_or_near_misses_are_warnings() -> None:
    lines = _mixed_report().github_annotations()
    assert lines == [
        "::error file=gates.toml,line=6,title=Gate failed%3A too high%2C really::"
        f"ss = 0.5 is above max 0.1 (run {RUN})",
        "::warning file=gates.toml,line=11,title=Gate error%3A bbq acc::no run of benchmark 'bbq' among the runs given",
        "::warning file=gates.toml,line=15,title=Gate near miss%3A near | miss::ss = 0.5 ≤ max 0.6 "
        f"(near miss: its interval [0.4, 0.65] reaches past 0.6) (run {RUN})",
    ]


def test_when_annotation_text_has_percent_and_newlines_then_they_are_escaped() -> None:
    from ethos.records._gate_formats import escape_data, escape_property

    assert escape_data("50% of a\r\nb: c, d") == "50%25 of a%0D%0Ab: c, d"
    assert escape_property("50% of a\r\nb: c, d") == "50%25 of a%0D%0Ab%3A c%2C d"
    assert escape_property("%3A") == "%253A"  # escaping the escape character first keeps it reversible


def test_when_rendering_markdown_then_the_verdict_and_one_escaped_row_per_rule_appear() -> None:
    text = _mixed_report().to_markdown()
    lines = text.splitlines()
    assert lines[0] == "### Ethos gate ⚠️ could not be evaluated"
    assert "2 of 4 rules passed, 1 failed, 1 errors, 1 near misses" in lines[2]
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 4
    assert rows[0].startswith(
        "| ✅ pass | ok: &lt;fine&gt; &amp; 100% | `01JCCCCCCCCC` hf:./tiny-gpt2 | 0.5 [0.4, 0.65] |"
    )
    assert rows[1].startswith("| ❌ fail | too high, really |")
    assert rows[2].startswith("| ⚠️ error | bbq acc |")
    assert rows[3].startswith("| ✅ pass (near miss) | near \\| miss |")
    assert all(row.count(" | ") == 5 for row in rows)  # the escaped pipe does not add a column
