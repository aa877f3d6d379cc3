"""The dashboard in headless Chromium: click from the run list to a run and back, check the numbers
against the records, see the breached gate in red, see the trend plots drawn; screenshots go to the
test artifacts (``$ETHOS_TEST_ARTIFACTS``, default ``build/test-artifacts/``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

from ethos.records import RunRecord, parse_rules  # noqa: E402
from ethos.reports.dashboard import create_app  # noqa: E402
from tests.helpers.browser import AppServer, chromium, open_page, screenshot, serve_app  # noqa: E402
from tests.reports._dashboard_data import FAILED_RULE, RULES, TINY, build_database  # noqa: E402

FAILING_RUN = "01JA00000000000000000000S3"
RED = "rgb(254, 226, 226)"  # --fail-bg in dashboard.css


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, list[RunRecord]]]:
    path = tmp_path_factory.mktemp("dashboard") / "runs.db"
    records = build_database(path)
    with serve_app(create_app(path, rules=parse_rules(RULES, source="gates.toml"))) as server:
        yield server, records


def test_when_clicking_from_the_run_list_to_a_run_and_back_then_numbers_and_gates_show(browser, dashboard) -> None:
    server, records = dashboard
    record = next(r for r in records if r.id == FAILING_RUN)
    with open_page(browser) as watched:
        page = watched.page
        page.goto(server.url + "/")
        row = page.locator(f'tr.run-row[data-run-id="{FAILING_RUN}"]')
        assert "gate-fail" in (row.get_attribute("class") or "")
        assert row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor") == RED
        screenshot(page, "dashboard-run-list")

        row.locator("a.run-link").click()
        page.wait_for_url(f"**/runs/{FAILING_RUN}")
        assert page.locator("#run-id").inner_text() == FAILING_RUN
        for metric in record.metrics:
            label = ", ".join(f"{k}={v}" for k, v in metric.group.items()) or "(all)"
            cell = page.locator(f'tr.metric-row[data-metric="{metric.name}"][data-group="{label}"] td.value')
            assert float(cell.get_attribute("data-value") or "nan") == metric.value
            assert cell.inner_text() == f"{metric.value:.4g}"
        breached = page.locator('tr.metric-row.gate-fail[data-group="(all)"]')
        assert breached.count() == 1
        assert f"{FAILED_RULE}: FAILED" in breached.inner_text()
        assert breached.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor") == RED
        shot = screenshot(page, "dashboard-run")
        assert shot.stat().st_size > 10_000

        page.locator("#back-to-runs").click()
        page.wait_for_url(server.url + "/")
        assert page.locator("tr.run-row").count() == len(records)
        assert watched.errors == []
        assert watched.requests_outside(server.url) == []


def test_when_opening_a_model_then_its_trend_plots_render_without_errors(browser, dashboard) -> None:
    server, records = dashboard
    with open_page(browser) as watched:
        page = watched.page
        page.goto(f"{server.url}/model?spec={TINY}")
        page.wait_for_selector("#trend-0 .main-svg")
        plots = page.locator(".js-plotly-plot")
        assert plots.count() == 2
        points = page.evaluate(
            "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".map(p => [p.data.length, p.querySelectorAll('.scatterlayer .trace .point').length])"
        )
        runs_per_benchmark = sorted(
            sum(1 for r in records if r.model.spec == TINY and r.benchmark.name == b)
            for b in ("crows_pairs", "stereoset")
        )
        assert sorted(n for _, n in points) == runs_per_benchmark
        assert all(traces >= 1 for traces, _ in points)
        screenshot(page, "dashboard-model")
        assert watched.errors == []
        assert watched.requests_outside(server.url) == []


def test_when_clicking_a_trend_point_then_its_run_opens(browser, dashboard) -> None:
    server, _ = dashboard
    with open_page(browser) as watched:
        page = watched.page
        page.goto(f"{server.url}/model?spec={TINY}")
        page.wait_for_selector('.figure[data-benchmark="stereoset"] .main-svg')
        page.locator('.figure[data-benchmark="stereoset"] .scatterlayer .trace .point').last.click(force=True)
        page.wait_for_url(f"**/runs/{FAILING_RUN}")
        assert watched.errors == []


def test_when_the_screenshots_are_written_then_they_land_in_the_artifacts_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, browser, dashboard
) -> None:
    server, _ = dashboard
    monkeypatch.setenv("ETHOS_TEST_ARTIFACTS", str(tmp_path / "artifacts"))
    with open_page(browser) as watched:
        watched.page.goto(server.url + "/")
        path = screenshot(watched.page, "dashboard index")
    assert path == tmp_path / "artifacts" / "dashboard-index.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
