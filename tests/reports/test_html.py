"""The HTML renderer: numbers equal the records', plots are data from the records, the page is
self-contained and safe with hostile record text, and a failed render writes nothing.

Pages are read back with the stdlib ``html.parser`` (tests/reports/_html_parse.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from pathlib import Path

import pytest

pytest.importorskip("jinja2")

from ethos.errors import ConfigError, UnknownNameError  # noqa: E402
from ethos.records import BenchmarkInfo, Energy, MetricRecord, RunRecord, SampleResult  # noqa: E402
from ethos.reports import ReportOptions, render, render_text, renderer_registry  # noqa: E402
from ethos.reports._plots import plotly_js_path  # noqa: E402
from tests.helpers.records import make_record, make_sample  # noqa: E402
from tests.reports._html_parse import parse, shown  # noqa: E402

HOSTILE = '</script><script>alert("x")</script><img src=http://evil.example/x.png>'


def bias_run(**fields: object) -> RunRecord:
    """A stereoset run: overall metrics (one NaN, one without CI) and two kinds of groups; ``fields`` override."""
    metrics = [
        MetricRecord(name="ss", value=61.23456789, ci_low=55.5, ci_high=66.75, n=120),
        MetricRecord(name="lms", value=91.2, ci_low=89.0, ci_high=93.125, n=120),
        MetricRecord(name="icat", value=float("nan"), n=0),
        MetricRecord(name="brand_new_metric", value=0.000123456, n=7),
    ]
    for group, value in (("gender", 71.0), ("race", 55.5), ("religion", 60.49)):
        metrics.append(
            MetricRecord(
                name="ss", value=value, ci_low=value - 10, ci_high=value + 10, n=40, group={"bias_type": group}
            )
        )
    metrics.append(MetricRecord(name="ss", value=50.0, n=12, group={"domain": "intrasentence"}))
    return make_record("01JA00000000000000000000R1", n_samples=12, **{"metrics": metrics, **fields})  # type: ignore[arg-type]


def html_of(runs: list[RunRecord], **options: object) -> str:
    return render_text(runs, format="html", options=ReportOptions(**options))  # type: ignore[arg-type]


def test_when_a_run_is_rendered_then_every_metric_is_shown_with_the_recorded_numbers() -> None:
    record = bias_run()
    page = parse(html_of([record], plots=False))
    shown_keys = set()
    for row in page.rows:
        [metric] = [m for m in record.metrics if m.name == row.name and m.group == row.group]
        shown_keys.add((row.name, json.dumps(row.group)))
        for name in ("value", "ci_low", "ci_high"):
            raw, text = row.cells[name]
            recorded = getattr(metric, name)
            assert text == shown(recorded), (row.name, row.group, name)
            if recorded is None:
                assert raw == ""
            elif math.isnan(recorded):
                assert raw == "nan"
            else:
                assert float(str(raw)) == recorded
        assert row.cells["n"][1] == str(metric.n)
    assert shown_keys == {(m.name, json.dumps(m.group)) for m in record.metrics}


def test_when_a_run_is_rendered_then_its_header_shows_model_benchmark_variant_data_and_energy() -> None:
    record = bias_run(
        settings={"variant": "causal", "batch_size": 16},
        energy=Energy(kwh=0.00123, co2_g=0.5, method="codecarbon cpu_load"),
        data=({"source": "https://example.org/dev.json", "sha256": "c" * 64, "size": 2048},),
    ).model_copy(update={"benchmark": BenchmarkInfo(name="stereoset", version="2")})
    text = parse(html_of([record], plots=False)).page_text
    for expected in (
        "hf:./tiny-gpt2", "sha256:" + "ab" * 32, "stereoset v2", "causal", "https://example.org/dev.json",
        "sha256 " + "c" * 64, "codecarbon cpu_load", "0.00123", record.ethos_version, "42.0 s", "bootstrap",
    ):  # fmt: skip
        assert expected in text, expected


def test_when_metrics_are_known_or_not_then_each_gets_its_own_note_or_the_generic_one() -> None:
    text = parse(html_of([bias_run()], plots=False)).page_text
    assert "Stereotype score" in text and "Blodgett et al. 2021" in text
    assert "Ethos has no description of it" in text  # brand_new_metric
    assert "95% percentile-bootstrap" in text


def test_when_plots_are_on_then_each_group_figure_holds_the_recorded_values_and_intervals() -> None:
    record = bias_run()
    figures = parse(html_of([record])).figures()
    [figure] = figures.values()  # one metric (ss) has groups
    [trace] = figure["data"]
    grouped = [m for m in record.metrics if m.group]
    assert trace["type"] == "bar" and len(trace["y"]) == len(grouped)
    for m, y, up, down in zip(
        grouped, trace["y"], trace["error_y"]["array"], trace["error_y"]["arrayminus"], strict=True
    ):
        assert y == m.value
        if m.ci_low is None:
            assert up is None and down is None
        else:
            assert y + up == pytest.approx(m.ci_high) and y - down == pytest.approx(m.ci_low)


def test_when_plots_are_on_then_plotly_is_inlined_once_and_the_csp_allows_only_the_pages_own_scripts() -> None:
    page = parse(html_of([bias_run()]))
    bundle = plotly_js_path().read_text(encoding="utf-8")
    scripts = page.executable()
    assert len(scripts) == 2 and scripts[0] == bundle.replace("</script", "<\\/script")
    assert page.urls == [] and "link" not in page.elements and "iframe" not in page.elements
    assert page.csp is not None and "default-src 'none'" in page.csp and "connect-src 'none'" in page.csp
    hashes = re.search(r"script-src ([^;]+);", page.csp)
    assert hashes is not None
    expected = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts}
    assert set(hashes.group(1).split()) == expected  # an injected script would not match either hash


def test_when_plots_are_off_then_no_script_runs_and_the_page_is_small() -> None:
    html = html_of([bias_run()], plots=False)
    page = parse(html)
    assert page.executable() == [] and page.figures() == {}
    assert page.csp is not None and "script-src 'none'" in page.csp
    assert len(html) < 60_000


def test_when_record_text_is_hostile_then_it_is_shown_as_text_and_never_as_markup() -> None:
    samples = [make_sample(i, value=float(i)) for i in range(4)]
    samples[3] = samples[3].model_copy(update={"detail": {"output": HOSTILE}})
    record = bias_run(
        model=f"hf:{HOSTILE}",
        settings={"prompt": HOSTILE},
        samples=samples,
        metrics=[MetricRecord(name=HOSTILE, value=1.0, n=3, group={"bias_type": HOSTILE})],
    )
    html = html_of([record], mask=lambda text: text)  # a masker that changes nothing: worst case
    page = parse(html)
    assert len(page.executable()) == 2  # plotly and the page's own boot script only
    assert page.urls == [] and "img" not in page.elements
    assert HOSTILE in page.page_text  # shown, as text
    for figure in page.figures().values():  # JSON blocks parse back to the exact labels
        assert (
            "bias_type=" + HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            in figure["data"][0]["x"]
        )


def test_when_samples_are_ranked_then_the_most_extreme_values_come_first() -> None:
    values = [0.5, 0.52, 0.49, 3.0, -2.0, 0.51, 0.5]
    samples = [make_sample(i, value=v) for i, v in enumerate(values)]
    samples = [s.model_copy(update={"values": {"score": s.values["stereotype"], "hit": 1.0}}) for s in samples]
    html = html_of([bias_run(samples=samples)], plots=False, examples=2)
    assert re.findall(r'<tr data-sample="(\d+)">', html) == ["3", "4"]  # furthest from the median 0.5
    assert "<code>score</code>" in html  # ranked by the non-binary value


def test_when_sample_text_has_no_masker_then_it_is_left_out_with_a_note() -> None:
    samples = [make_sample(i) for i in range(3)]
    samples = [s.model_copy(update={"detail": {"output": f"Call Ann on 0{s.index}20 7946 0958"}}) for s in samples]
    text = parse(html_of([bias_run(samples=samples)], plots=False)).page_text
    assert "7946" not in text and "no personal-data masker" in text


def test_when_sample_text_has_a_masker_then_only_its_output_is_shown() -> None:
    samples = [make_sample(i, value=float(i)) for i in range(3)]
    samples = [
        s.model_copy(update={"detail": {"output": f"Call Ann on 0{s.index}20 7946 0958", "tokens": 9 + s.index}})
        for s in samples
    ]
    text = parse(html_of([bias_run(samples=samples)], plots=False, mask=lambda t: re.sub(r"\d", "#", t))).page_text
    assert "7946" not in text and "Call Ann on #### #### ####" in text and "tokens" in text


def test_when_several_runs_are_rendered_then_the_history_trends_each_metric_per_comparable_series() -> None:
    runs = [
        make_record(
            f"01JA0000000000000000000H{i}",
            minutes=10 * i,
            metrics=[MetricRecord(name="ss", value=v, ci_low=v - 1, ci_high=v + 1, n=9)],
        )
        for i, v in enumerate((60.0, 58.5, 57.25))
    ]
    newer = make_record("01JA0000000000000000000H9", minutes=99, metrics=[MetricRecord(name="ss", value=52.0, n=9)])
    runs.append(newer.model_copy(update={"benchmark": BenchmarkInfo(name="stereoset", version="2")}))
    page = parse(html_of(list(reversed(runs))))
    assert [r.run for r in page.rows] == [r.id for r in runs]  # oldest first
    for row, run in zip(page.rows, runs, strict=True):
        assert float(str(row.cells["value"][0])) == run.metrics[0].value
        assert row.cells["value"][1] == shown(run.metrics[0].value)
    [figure] = page.figures().values()
    lines = [t for t in figure["data"] if t.get("mode") == "lines+markers"]
    assert [t["name"] for t in lines] == ["v1.0", "v2"]  # another version is another series
    assert lines[0]["y"] == [60.0, 58.5, 57.25]
    bands = [t for t in figure["data"] if t.get("fill") == "tonexty"]
    assert bands[0]["y"] == [61.0, 59.5, 58.25]


def test_when_the_render_fails_then_the_old_report_is_untouched_and_no_temp_file_is_left(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old report")

    def broken_mask(text: str) -> str:
        raise RuntimeError("masker crashed")

    samples = [SampleResult(index=0, sample_id="a", input_hash="0" * 64, values={"v": 1.0}, detail={"t": "x"})]
    with pytest.raises(RuntimeError):
        render([bias_run(samples=samples)], target, options=ReportOptions(mask=broken_mask))
    with pytest.raises(ConfigError, match="no runs"):
        render([], target)
    assert target.read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_when_a_format_is_unknown_then_the_error_lists_the_renderers() -> None:
    with pytest.raises(UnknownNameError) as info:
        render_text([bias_run()], format="htm")
    assert "html" in str(info.value) and "md" in str(info.value)
    assert {"html", "md"} <= set(renderer_registry.names())


def test_when_a_run_report_is_asked_for_several_runs_then_it_is_refused() -> None:
    with pytest.raises(ConfigError, match="exactly one run"):
        html_of([bias_run(), make_record("01JA0000000000000000000002")], kind="run")


def test_when_a_text_field_is_the_same_in_every_sample_then_it_describes_the_run_and_is_not_an_example_text() -> None:
    samples = [make_sample(i, value=float(i)) for i in range(4)]
    samples = [s.model_copy(update={"detail": {"variant": "causal-ll", "tokens": s.index}}) for s in samples]
    called: list[str] = []
    page = parse(html_of([bias_run(samples=samples)], plots=False, mask=lambda t: called.append(t) or t))
    assert called == [] and "no personal-data masker" not in page.page_text and "tokens" in page.page_text


def test_when_a_run_has_not_finished_then_its_report_says_so_instead_of_showing_metrics() -> None:
    running = make_record("01JA0000000000000000000RUN", status="running")
    text = parse(html_of([running])).page_text
    assert "recorded no overall metrics (status: running)" in text and "not finished" in text


def test_when_a_metric_is_a_per_token_variant_then_its_note_is_the_base_metrics_with_the_caveat() -> None:
    record = make_record("01JA00000000000000000000PT", benchmark="crows_pairs", metrics=[
        MetricRecord(name="metric_score_per_token", value=37.5, ci_low=22.5, ci_high=52.5, n=40),
    ])  # fmt: skip
    text = parse(html_of([record], plots=False)).page_text
    assert "more stereotypical sentence the higher" in text and "Per-token variant" in text
