"""``ethos report run`` and ``ethos report history`` through the real entry point, on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethos.config import load_settings
from ethos.records import MetricRecord, RunRecord, RunStore
from tests.helpers.cli import run_cli
from tests.helpers.records import make_record, make_sample

pytest.importorskip("jinja2")

RUN = "01JA00000000000000000000C1"


def store(*records: RunRecord) -> None:
    with RunStore.open(load_settings().db_path) as s:
        for r in records:
            s.save(r)


def history_records() -> list[RunRecord]:
    out = []
    for i, v in enumerate((0.7, 0.66, 0.61)):
        metrics = [MetricRecord(name="ss", value=v, ci_low=v - 0.05, ci_high=v + 0.05, n=30)]
        out.append(make_record(f"01JA0000000000000000000C{i + 2}", minutes=i, metrics=metrics))
    out.append(make_record("01JA0000000000000000000C9", minutes=9, benchmark="crows_pairs"))
    out.append(make_record("01JA0000000000000000000CA", minutes=10, model="hf:./other"))
    return out


def test_when_a_run_is_reported_then_a_self_contained_html_file_is_written(tmp_path: Path) -> None:
    store(make_record(RUN))
    out = tmp_path / "r.html"
    result = run_cli("report", "run", RUN[:10], "-o", str(out), "--json", "--examples", "0")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["path"] == str(out) and summary["format"] == "html" and summary["runs"] == [RUN]
    assert summary["plots"] is True and summary["bytes"] == out.stat().st_size
    html = out.read_text(encoding="utf-8")
    assert RUN in html and "Content-Security-Policy" in html and "Plotly" in html


def test_when_no_output_is_given_then_the_report_is_named_after_the_run_in_the_working_directory() -> None:
    store(make_record(RUN))
    result = run_cli("report", "run", RUN, "--no-plots", "--examples", "0")
    assert result.exit_code == 0, result.stderr
    written = Path(f"ethos-report-{RUN[:12]}.html")
    assert written.exists() and "Plotly" not in written.read_text(encoding="utf-8")
    assert str(written) in result.stdout


def test_when_the_output_ends_in_md_then_the_report_is_markdown(tmp_path: Path) -> None:
    store(make_record(RUN))
    out = tmp_path / "r.md"
    result = run_cli("report", "run", RUN, "-o", str(out), "--examples", "0")
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("# stereoset on hf:./tiny-gpt2")


def test_when_the_output_suffix_is_no_report_format_then_one_line_and_no_file(tmp_path: Path) -> None:
    store(make_record(RUN))
    out = tmp_path / "report.pdf"
    result = run_cli("report", "run", RUN, "-o", str(out), "--examples", "0")
    assert result.exit_code == 2
    assert "cannot tell the report format from 'report.pdf'" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "run", "01ZZ"), "no run '01ZZ'"),
        (("report", "run", RUN, "--format", "pdf"), "--format 'pdf' is not a report format"),
        (("report", "history", "--model", "hf:./nothing"), "no finished runs of model 'hf:./nothing'"),
    ],
)
def test_when_the_input_is_bad_then_one_line_and_exit_2_and_no_file(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    store(make_record(RUN))
    before = set(tmp_path.iterdir())
    result = run_cli(*args, "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert set(tmp_path.iterdir()) == before


def test_when_a_models_history_is_reported_then_only_its_finished_runs_of_the_benchmark_are_in_it(
    tmp_path: Path,
) -> None:
    records = history_records()
    store(*records, make_record("01JA0000000000000000000CB", minutes=11, status="failed"))
    out = tmp_path / "h.md"
    result = run_cli("report", "history", "--model", "hf:./tiny-gpt2", "-b", "stereoset", "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(summary["runs"]) == [r.id for r in records[:3]]
    text = out.read_text(encoding="utf-8")
    assert "0.66" in text and "crows" not in text and "hf:./other" not in text and "0000CB" not in text


@pytest.mark.slow  # loads the spaCy pipeline (about 10 s on a busy 2-core machine)
def test_when_samples_hold_text_and_pii_is_installed_then_the_report_shows_it_masked(tmp_path: Path) -> None:
    pytest.importorskip("spacy")
    from ethos._cli.report_run import pii_masker

    if pii_masker() is None:
        pytest.skip("ethos[pii] (spaCy pipeline, phonenumbers) is not installed")
    samples = [make_sample(i, value=float(i)) for i in range(3)]
    samples = [
        s.model_copy(
            update={"detail": {"output": f"Mail ann.lee{s.index}@example.org or call +44 20 7946 095{s.index}"}}
        )
        for s in samples
    ]
    store(make_record(RUN, samples=samples))
    out = tmp_path / "r.md"
    result = run_cli("report", "run", RUN, "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert json.loads(result.stdout)["text_masked"] is True
    assert "@example.org" not in text and "7946" not in text
    assert "EMAIL" in text and "Mail" in text
