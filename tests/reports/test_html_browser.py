"""The HTML report (``ethos report run`` / ``history``) in headless Chromium: no console errors, no
requests, the plots drawn (checked in the DOM), and every number shown equal to the record's.

Screenshots go to the test artifacts (``$ETHOS_TEST_ARTIFACTS``, default ``build/test-artifacts/``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jinja2")

from ethos.records import MetricRecord, RunRecord, RunStore  # noqa: E402
from tests.helpers.browser import chromium, open_page, screenshot  # noqa: E402
from tests.helpers.cli import run_cli  # noqa: E402
from tests.helpers.records import make_record  # noqa: E402
from tests.reports._dashboard_data import TINY, build_database  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def bias_run() -> RunRecord:
    """A stereoset-like run with overall and per-group metrics (two group keys) and scored samples."""
    metrics = [
        MetricRecord(name="ss", value=0.6234567, ci_low=0.58, ci_high=0.66, n=120),
        MetricRecord(name="lms", value=0.9123, ci_low=0.89, ci_high=0.93, n=120),
        MetricRecord(name="icat", value=float("nan"), n=0),
    ]
    for group, value in (("gender", 0.71), ("race", 0.55), ("religion", 0.6049)):
        metrics.append(MetricRecord(name="ss", value=value, ci_low=value - 0.1, ci_high=value + 0.1, n=40,
                                    group={"bias_type": group}))  # fmt: skip
    metrics.append(MetricRecord(name="ss", value=0.5, n=12, group={"domain": "intrasentence"}))
    return make_record("01JA00000000000000000000R1", n_samples=12, metrics=metrics)


def report(out: Path, *args: str) -> Path:
    """Write a report with the real CLI (``ethos report ...``) into ``out``."""
    result = run_cli("report", *args, "--output", str(out))
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture
def stored(ethos_home: Path) -> list[RunRecord]:
    """The dashboard's runs plus :func:`bias_run`, in the database of this test's ETHOS_HOME."""
    records = build_database(ethos_home / "ethos.db")
    with RunStore(ethos_home / "ethos.db") as store:
        store.save(bias_run())
    return [*records, bias_run()]


def metric_cells(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('tr[data-metric]')).map(tr => ({
            name: tr.dataset.metric, group: tr.dataset.group, run: tr.dataset.run ?? null,
            cells: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-field]')).map(
                td => [td.dataset.field, {value: td.dataset.value ?? null, text: td.textContent.trim()}]))
        }))"""
    )


def _shown(value: float | None) -> str:
    if value is None:
        return ""
    return "undefined" if value != value else f"{value:.4g}"  # noqa: PLR0124 - NaN check


def assert_numbers_match(rows: list[dict[str, Any]], record: RunRecord, *, overall_only: bool = False) -> None:
    """Every shown number equals the record's, and every (overall) metric of the record is shown."""
    metrics = record.overall_metrics() if overall_only else record.metrics
    by_key = {(m.name, json.dumps(m.group, sort_keys=True)): m for m in metrics}
    seen = set()
    for row in rows:
        try:
            group = json.loads(row["group"])
        except ValueError:
            raise AssertionError(
                f"metric {row['name']}: data-group {row['group']!r} is not the group as JSON "
                "(JSON in an HTML attribute needs single quotes around it)"
            ) from None
        key = (row["name"], json.dumps(group, sort_keys=True))
        metric = by_key[key]
        seen.add(key)
        for field in ("value", "ci_low", "ci_high"):
            cell = row["cells"][field]
            recorded = getattr(metric, field)
            assert cell["text"] == _shown(recorded), (key, field)
            if recorded is None:
                assert cell["value"] == ""
            elif recorded != recorded:  # noqa: PLR0124 - NaN
                assert cell["value"] == "nan"
            else:
                assert float(cell["value"]) == recorded, (key, field)
        assert row["cells"]["n"]["text"] == ("" if metric.n is None else str(metric.n))
    assert seen == set(by_key), "every recorded metric is shown"


def plotted(page: Any) -> list[dict[str, Any]]:
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-figure]'))"
        ".every(el => el.classList.contains('js-plotly-plot') && el.querySelector('.main-svg'))",
        timeout=15_000,
    )
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-figure]')).map(el => ({
            id: el.dataset.figure, traces: el.data ? el.data.length : 0,
            drawn: el.querySelectorAll('.main-svg .trace').length,
            points: el.data ? el.data.reduce((n, t) => n + (t.y ? t.y.length : 0), 0) : 0}))"""
    )


def test_when_a_run_report_opens_in_chromium_then_plots_render_and_numbers_equal_the_record(
    browser: Any, tmp_path: Path, stored: list[RunRecord]
) -> None:
    record = stored[-1]
    out = report(tmp_path / "run.html", "run", record.id, "--examples", "0")
    with open_page(browser) as watched:
        watched.page.goto(out.as_uri())
        figures = plotted(watched.page)
        assert figures, "the run report draws its per-group plots"
        assert all(f["traces"] >= 1 and f["drawn"] >= 1 and f["points"] >= 1 for f in figures), figures
        assert_numbers_match(metric_cells(watched.page), record)
        screenshot(watched.page, "html-report-run")
        assert watched.errors == []
        assert watched.requests_outside(out.as_uri()) == []


def test_when_a_history_report_opens_in_chromium_then_its_trends_render(
    browser: Any, tmp_path: Path, stored: list[RunRecord]
) -> None:
    runs = [r for r in stored if r.model.spec == TINY and r.status == "finished"]
    out = report(tmp_path / "history.html", "history", "--model", TINY)
    with open_page(browser) as watched:
        watched.page.goto(out.as_uri())
        figures = plotted(watched.page)
        assert figures and all(f["drawn"] >= 1 for f in figures), figures
        shown_points = sum(f["points"] for f in figures)
        assert shown_points >= sum(len(r.overall_metrics()) for r in runs)
        rows = metric_cells(watched.page)
        assert {row["run"] for row in rows} == {r.id for r in runs}
        for record in runs:
            assert_numbers_match([row for row in rows if row["run"] == record.id], record, overall_only=True)
        screenshot(watched.page, "html-report-history")
        assert watched.errors == []
        assert watched.requests_outside(out.as_uri()) == []


def test_when_plots_are_left_out_then_the_report_still_opens_cleanly(
    browser: Any, tmp_path: Path, stored: list[RunRecord]
) -> None:
    record = stored[-1]
    out = report(tmp_path / "run-no-plots.html", "run", record.id, "--no-plots", "--examples", "0")
    with open_page(browser) as watched:
        watched.page.goto(out.as_uri())
        assert watched.page.evaluate("() => typeof window.Plotly") == "undefined"
        assert_numbers_match(metric_cells(watched.page), record)
        assert watched.errors == []
