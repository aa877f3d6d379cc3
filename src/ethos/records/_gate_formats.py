"""A :class:`~ethos.records.GateReport` as JUnit XML, GitHub workflow commands and Markdown.

- **JUnit XML**: one ``<testsuite>`` with one ``<testcase>`` per rule; a failed rule holds a
  ``<failure>``, a rule that could not be evaluated an ``<error>``; the suite counts both. CI
  systems (GitLab, Jenkins, GitHub test-report actions) read this format.
- **GitHub annotations**: ``::error`` for each failed rule and ``::warning`` for each rule that
  could not be evaluated or passed only as a near miss, pointed at the rule's line in the rules
  file; values are escaped as GitHub's workflow-command rules require.
- **Markdown**: a heading with the verdict and a table of every rule, for ``$GITHUB_STEP_SUMMARY``
  or a pull-request comment.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - builds XML, never parses it
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ethos.records._gates import GateReport, RuleResult

__all__ = ["escape_data", "escape_property", "github_annotations", "junit_xml", "markdown_summary"]

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHORT_ID = 12
_ICONS = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error"}


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _value(result: RuleResult) -> str:
    if result.value is None:
        return ""
    if result.ci_low is None or result.ci_high is None:
        return _fmt(result.value)
    return f"{_fmt(result.value)} [{_fmt(result.ci_low)}, {_fmt(result.ci_high)}]"


def _details(result: RuleResult) -> str:
    lines = [f"rule {result.index + 1}: {result.name} ({result.status})", result.message]
    if result.run_id is not None:
        lines.append(f"run: {result.run_id} ({result.model})")
    if result.value is not None:
        n = "" if result.n is None else f", n = {result.n}"
        lines.append(f"{result.rule.metric}: {_value(result)}{n}")
    if result.baseline_id is not None and result.baseline_value is not None:
        lines.append(f"baseline: {result.baseline_id} = {_fmt(result.baseline_value)}")
    lines += [f"{'ok  ' if c.passed else 'FAIL'} {c.kind}: {c.message}" for c in result.checks]
    return "\n".join(lines)


# -- JUnit -----------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot hold (control characters other than tab, CR, LF)."""
    return _NOT_XML.sub("", text)


def junit_xml(report: GateReport) -> str:
    """The report as a JUnit XML document (one testcase per rule), ending in a newline."""
    counts = {
        "tests": str(len(report.results)),
        "failures": str(report.count("fail")),
        "errors": str(report.count("error")),
        "skipped": "0",
        "time": "0",
    }
    root = ET.Element("testsuites", {"name": "ethos gate", **counts})
    stamp = report.created_at.strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.SubElement(root, "testsuite", {"name": _clean(f"ethos gate: {report.source}"), **counts})
    suite.set("timestamp", stamp)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "rules", "value": _clean(report.source)})
    ET.SubElement(props, "property", {"name": "status", "value": report.status})
    for result in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": _clean(f"ethos.gate.{result.rule.benchmark}"), "name": _clean(result.name), "time": "0"},
        )
        if result.status != "pass":
            tag, kind = ("failure", "GateFailed") if result.status == "fail" else ("error", "GateError")
            outcome = ET.SubElement(case, tag, {"message": _clean(result.message), "type": kind})
            outcome.text = _clean(_details(result))
        else:
            ET.SubElement(case, "system-out").text = _clean(_details(result))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- GitHub ----------------------------------------------------------------------------------------


def escape_data(text: str) -> str:
    """Escape a workflow command's message: ``%``, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value: as :func:`escape_data`, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(report: GateReport) -> list[str]:
    """GitHub workflow commands: ``::error`` per failed rule, ``::warning`` per error or near miss."""
    lines = []
    for result in report.results:
        if result.status == "fail":
            command, title = "error", f"Gate failed: {result.name}"
        elif result.status == "error":
            command, title = "warning", f"Gate error: {result.name}"
        elif result.near_miss:
            command, title = "warning", f"Gate near miss: {result.name}"
        else:
            continue
        props = [f"file={escape_property(report.source)}"]
        if result.line is not None:
            props.append(f"line={result.line}")
        props.append(f"title={escape_property(title)}")
        run = f" (run {result.run_id})" if result.run_id else ""
        lines.append(f"::{command} {','.join(props)}::{escape_data(result.message + run)}")
    return lines


# -- Markdown --------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def markdown_summary(report: GateReport) -> str:
    """A Markdown heading with the verdict and one table row per rule, ending in a newline."""
    total, failed, errors = len(report.results), report.count("fail"), report.count("error")
    verdict = {"pass": "✅ passed", "fail": "❌ failed", "error": "⚠️ could not be evaluated"}[report.status]
    near = sum(1 for r in report.results if r.near_miss)
    tally = f"{total - failed - errors} of {total} rules passed, {failed} failed, {errors} errors"
    tally += f", {near} near misses" if near else ""
    lines = [
        f"### Ethos gate {verdict}",
        "",
        f"{tally}. Rules: `{_cell(report.source)}`; evaluated {report.created_at:%Y-%m-%d %H:%M:%S} UTC.",
        "",
        "| result | rule | run | value [CI] | baseline | why |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.results:
        status = _ICONS[r.status] + (" (near miss)" if r.near_miss else "")
        run = f"`{r.run_id[:_SHORT_ID]}` {_cell(r.model or '')}" if r.run_id else ""
        base = f"{_fmt(r.baseline_value)} (`{r.baseline_id[:_SHORT_ID]}`)" if r.baseline_id else ""
        row = (status, _cell(r.name), run, _value(r), base, _cell(r.message))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
