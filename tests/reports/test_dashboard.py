"""The dashboard app through Starlette's TestClient: pages, numbers, gates, 404s, headers, read-only DB."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

from starlette.testclient import TestClient  # noqa: E402

from ethos.errors import StoreError  # noqa: E402
from ethos.records import RunRecord, RunStore, parse_rules  # noqa: E402
from ethos.reports._plots import plotly_js_path  # noqa: E402
from ethos.reports.dashboard import SECURITY_HEADERS, create_app  # noqa: E402
from tests.reports._dashboard_data import FAILED_RULE, LLAMA, REGRESSION_RULE, RULES, TINY, build_database  # noqa: E402

LOCAL = "http://127.0.0.1"


class _Cells(HTMLParser):
    """Collects rows (``tr`` attributes + cell texts + cell attributes) and every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str], list[str], list[dict[str, str]]]] = []
        self.urls: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.urls += [found[k] for k in ("src", "href", "action") if k in found]
        if tag == "tr":
            self.rows.append((found, [], []))
        elif tag in ("td", "th") and self.rows:
            self.rows[-1][1].append("")
            self.rows[-1][2].append(found)
            self._cell = self.rows[-1][1]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[-1] += data


def parse(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, list[RunRecord]]:
    path = tmp_path / "runs.db"
    return path, build_database(path)


@pytest.fixture
def client(db: tuple[Path, list[RunRecord]]) -> Iterator[TestClient]:
    app = create_app(db[0], rules=parse_rules(RULES, source="gates.toml"))
    with TestClient(app, base_url=LOCAL) as c:
        yield c


def run_rows(html: str) -> dict[str, dict[str, str]]:
    return {attrs["data-run-id"]: attrs for attrs, _, _ in parse(html).rows if "data-run-id" in attrs}


def test_when_opening_the_index_then_every_model_and_run_is_listed(client: TestClient, db) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert set(run_rows(page.text)) == {r.id for r in db[1]}
    models = [cells[0] for attrs, cells, _ in parse(page.text).rows if cells and cells[0] in (TINY, LLAMA)]
    assert models == sorted([TINY, LLAMA])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"model": LLAMA}, {"01JA00000000000000000000L1", "01JA00000000000000000000L2"}),
        ({"benchmark": "crows_pairs"}, {"01JA00000000000000000000C1", "01JA00000000000000000000C2"}),
        ({"model": TINY, "benchmark": "stereoset"}, {f"01JA00000000000000000000S{i}" for i in (1, 2, 3)}),
        ({"model": "hf:./nothing"}, set()),
    ],
    ids=["by-model", "by-benchmark", "by-both", "no-match"],
)
def test_when_filtering_the_run_list_then_only_matching_runs_show(client: TestClient, query, expected) -> None:
    assert set(run_rows(client.get("/", params=query).text)) == expected


def test_when_opening_a_run_then_its_numbers_equal_the_record(client: TestClient, db) -> None:
    record = next(r for r in db[1] if r.id.endswith("S3"))
    page = client.get(f"/runs/{record.id}")
    assert page.status_code == 200
    shown = {}
    for attrs, cells, cell_attrs in parse(page.text).rows:
        if "data-metric" in attrs:
            value_cell = next(a for a in cell_attrs if "data-value" in a)
            ci = next(a for a in cell_attrs if "data-low" in a)
            shown[(attrs["data-metric"], attrs["data-group"])] = (value_cell["data-value"], ci, cells)
    expected = {(m.name, ", ".join(f"{k}={v}" for k, v in m.group.items()) or "(all)"): m for m in record.metrics}
    assert set(shown) == set(expected)
    for key, metric in expected.items():
        value, ci, cells = shown[key]
        assert float(value) == metric.value
        assert f"{metric.value:.4g}" in cells
        if metric.ci_low is not None:
            assert (float(ci["data-low"]), float(ci["data-high"])) == (metric.ci_low, metric.ci_high)
            assert f"[{metric.ci_low:.4g}, {metric.ci_high:.4g}]" in cells
    assert record.model.digest in page.text
    assert "stereoset v1.0" in page.text


def test_when_a_metric_is_undefined_then_the_run_page_says_so(client: TestClient) -> None:
    page = client.get("/runs/01JA00000000000000000000L1")
    race = next(cells for attrs, cells, _ in parse(page.text).rows if attrs.get("data-group") == "bias_type=race")
    assert "undefined" in race


def test_when_a_gate_is_breached_then_its_run_and_metric_are_marked_with_the_rule(client: TestClient) -> None:
    rows = run_rows(client.get("/").text)
    failing = {run_id for run_id, attrs in rows.items() if "gate-fail" in attrs["class"]}
    assert failing == {"01JA00000000000000000000S3", "01JA00000000000000000000C2"}
    page = client.get("/runs/01JA00000000000000000000S3").text
    marked = [attrs for attrs, _, _ in parse(page).rows if "gate-fail" in attrs.get("class", "")]
    assert [(a.get("data-metric"), a.get("data-group")) for a in marked if "data-metric" in a] == [("ss", "(all)")]
    assert f"{FAILED_RULE}: FAILED" in page
    assert "is above max 0.6" in page


def test_when_a_regression_rule_runs_then_the_previous_run_is_the_baseline(client: TestClient) -> None:
    page = client.get("/runs/01JA00000000000000000000C2").text
    row = next(cells for attrs, cells, _ in parse(page).rows if attrs.get("data-rule") == REGRESSION_RULE)
    assert row[1] == "FAILED"
    assert "regressed by 0.05" in row[5] and "baseline 0.52" in row[5]


def test_when_a_model_has_no_earlier_run_then_its_regression_rule_is_not_evaluated(tmp_path: Path) -> None:
    records = build_database(tmp_path / "runs.db")
    single = tmp_path / "single.db"
    with RunStore(single) as store:
        store.save(next(r for r in records if r.id.endswith("C1")))
    with TestClient(create_app(single, rules=parse_rules(RULES)), base_url=LOCAL) as c:
        page = c.get("/runs/01JA00000000000000000000C1").text
    row = next(cells for attrs, cells, _ in parse(page).rows if attrs.get("data-rule") == REGRESSION_RULE)
    assert row[1] == "not evaluated"
    assert "no earlier finished run" in row[5]


def test_when_no_rules_are_given_then_nothing_is_marked(db) -> None:
    with TestClient(create_app(db[0]), base_url=LOCAL) as c:
        html = c.get("/").text + c.get("/runs/01JA00000000000000000000S3").text
    assert "gate-fail" not in html and "gates (" not in html


def test_when_opening_a_model_then_its_trends_cover_every_finished_run(client: TestClient, db) -> None:
    page = client.get("/model", params={"spec": TINY})
    assert page.status_code == 200
    figures = re.findall(r'<script type="application/json" class="plot-data"[^>]*>(.*?)</script>', page.text, re.S)
    import json

    by_title = {
        f["layout"]["title"]["text"]: next(t for t in f["data"] if t["mode"] == "lines+markers")
        for f in map(json.loads, figures)
    }
    assert set(by_title) == {"stereoset · ss", "crows_pairs · metric_score"}
    ss = [r for r in db[1] if r.model.spec == TINY and r.benchmark.name == "stereoset"]
    assert by_title["stereoset · ss"]["y"] == [r.overall_metrics()[0].value for r in ss]
    assert by_title["stereoset · ss"]["customdata"] == [r.id for r in ss]
    assert '<script src="/static/plotly.min.js"></script>' in page.text


@pytest.mark.parametrize(
    "path",
    ["/runs/01JA0000000000000000000XXX", "/model?spec=hf:./unknown", "/model", "/nowhere"],
    ids=["unknown-run", "unknown-model", "no-model", "unknown-path"],
)
def test_when_asking_for_something_absent_then_404_with_a_way_back(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 404
    assert 'href="/"' in page.text


def test_when_serving_then_every_response_forbids_other_origins(client: TestClient) -> None:
    for path in ("/", "/runs/01JA00000000000000000000S3", f"/model?spec={TINY}", "/nowhere", "/static/dashboard.js"):
        response = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
    html = "".join(client.get(p).text for p in ("/", "/runs/01JA00000000000000000000S3", f"/model?spec={TINY}"))
    external = [u for u in parse(html).urls if not u.startswith(("/", "?", "#"))]
    assert external == []


def test_when_fetching_plotly_then_the_local_bundle_is_served_cacheable(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.content == plotly_js_path().read_bytes()
    assert "max-age" in response.headers["cache-control"]
    assert client.get("/").headers["cache-control"] == "no-store"


def test_when_a_request_names_a_foreign_host_then_it_is_refused(client: TestClient) -> None:
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_when_a_model_name_holds_markup_then_it_is_escaped(tmp_path: Path) -> None:
    from tests.helpers.records import make_record

    path = tmp_path / "runs.db"
    with RunStore(path) as store:
        store.save(make_record(model="hf:<script>alert(1)</script>&x"))
    with TestClient(create_app(path), base_url=LOCAL) as c:
        html = c.get("/").text
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;x" in html
        assert c.get("/model", params={"spec": "hf:<script>alert(1)</script>&x"}).status_code == 200


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_when_serving_every_page_then_the_database_is_unchanged(client: TestClient, db) -> None:
    before = _digest(db[0])
    for path in ("/", "/runs/01JA00000000000000000000S3", f"/model?spec={TINY}", "/runs/none"):
        client.get(path)
    assert _digest(db[0]) == before


def test_when_the_dashboard_connection_tries_to_write_then_sqlite_refuses(db) -> None:
    app = create_app(db[0])
    conn = app.state.dashboard.runs._conn
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM runs")


def test_when_there_is_no_database_then_it_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "home" / "ethos.db"
    with pytest.raises(StoreError, match="no run database"):
        create_app(missing)
    assert not missing.parent.exists()


def test_when_the_file_is_another_sqlite_database_then_it_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
    conn.close()
    before = _digest(other)
    with pytest.raises(StoreError, match="not an Ethos run database"):
        create_app(other)
    assert _digest(other) == before


def test_when_the_file_is_not_sqlite_then_the_error_names_it(tmp_path: Path) -> None:
    garbage = tmp_path / "ethos.db"
    garbage.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(StoreError, match=f"run database {garbage}: file is not a database"):
        create_app(garbage)
    assert garbage.read_bytes() == b"this is not a database, just text " * 100


def test_when_the_database_needs_a_migration_then_it_is_refused_untouched(db) -> None:
    path = db[0]
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM _ethos_migrations WHERE name = 'm002_privacy_budget'")
    conn.close()
    before = _digest(path)
    with pytest.raises(StoreError, match="needs a migration"):
        create_app(path)
    assert _digest(path) == before


def test_when_a_run_is_added_while_serving_then_the_pages_and_gates_follow(client: TestClient, db) -> None:
    assert "gate-fail" in run_rows(client.get("/").text)["01JA00000000000000000000S3"]["class"]
    from tests.helpers.records import make_record

    newer = make_record("01JA00000000000000000000S4", minutes=50, model=TINY)  # ss 0.625, still above 0.6
    fixed = make_record("01JA00000000000000000000S5", minutes=60, model=TINY, metrics=[])
    fixed = fixed.model_copy(update={"metrics": (newer.metrics[0].model_copy(update={"value": 0.55}),)})
    with RunStore(db[0]) as store:
        store.save(newer)
    rows = run_rows(client.get("/").text)
    assert "gate-fail" in rows["01JA00000000000000000000S4"]["class"]
    assert "gate-fail" not in rows["01JA00000000000000000000S3"]["class"]
    with RunStore(db[0]) as store:
        store.save(fixed)
    rows = run_rows(client.get("/").text)
    assert not any("gate-fail" in rows[f"01JA00000000000000000000S{i}"]["class"] for i in (3, 4, 5))


def test_when_there_are_more_runs_than_the_limit_then_the_newest_show_with_a_note(client: TestClient) -> None:
    page = client.get("/", params={"limit": "2"}).text
    assert list(run_rows(page)) == ["01JA00000000000000000000L2", "01JA00000000000000000000L1"]
    assert "Showing the newest 2 of 7 runs" in page
    everything = client.get("/", params={"limit": "0"}).text
    assert len(run_rows(everything)) == 7 and "Showing the newest" not in everything


def test_when_a_run_has_an_earlier_run_then_its_change_and_significance_are_shown(client: TestClient, db) -> None:
    from ethos.records import compare_runs

    records = {r.id: r for r in db[1]}
    previous, current = records["01JA00000000000000000000S2"], records["01JA00000000000000000000S3"]
    page = client.get(f"/runs/{current.id}").text
    assert f'href="/runs/{previous.id}"' in page
    [expected] = compare_runs(previous, current).deltas
    assert expected.delta is not None and expected.significant is True
    cells, cell_attrs = next(
        (c, ca) for a, c, ca in parse(page).rows if a.get("data-metric") == "ss" and a["data-group"] == "(all)"
    )
    assert float(cell_attrs[4]["data-delta"]) == expected.delta
    assert cells[4].startswith(f"{expected.delta:+.4g}") and cells[5] == "yes"


def test_when_a_run_is_the_first_of_its_model_and_benchmark_then_no_change_is_shown(client: TestClient) -> None:
    page = client.get("/runs/01JA00000000000000000000S1").text
    assert 'id="compared-with"' not in page and "change since previous" not in page


def test_when_bound_then_a_client_connecting_before_the_server_runs_is_queued_not_refused() -> None:
    import socket

    from ethos.reports.dashboard import bind

    sock = bind("127.0.0.1", 0)
    try:
        with socket.create_connection(sock.getsockname(), timeout=2):
            pass  # refused (ECONNREFUSED) while the socket was bound but not yet listening
    finally:
        sock.close()
