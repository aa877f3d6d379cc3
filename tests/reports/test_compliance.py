"""Transparency report and GDPR Art. 30 / 32 records: configuration answers, run evidence, TODOs for gaps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ethos.records import MetricRecord, RunStore
from ethos.reports.card import TODO_MARK, BenchmarkNote, count_todos
from ethos.reports.compliance import (
    GDPR_QUESTIONS,
    TRANSPARENCY_QUESTIONS,
    GdprInputs,
    TransparencyInputs,
    latest_runs,
    render_gdpr,
    render_transparency,
)
from tests.helpers.records import make_record

NOTES = {"crows_pairs": BenchmarkNote("crows_pairs", "CrowS", ("bias",), ("metric_score",))}


def _crows(run_id: str, minutes: int, value: float, model: str = "hf:./chat-v2") -> object:
    metrics = [
        MetricRecord(name="neutral", value=1.0),
        MetricRecord(name="metric_score", value=value, ci_low=value - 2, ci_high=value + 2, n=1508),
    ]
    return make_record(run_id, minutes=minutes, model=model, benchmark="crows_pairs", metrics=metrics)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    s = RunStore(tmp_path / "ethos.db")
    s.save(_crows("01JAAAAAAAAAAAAAAAAAAAAAAA", 0, 60.0))  # type: ignore[arg-type]
    s.save(_crows("01JBBBBBBBBBBBBBBBBBBBBBBB", 5, 55.5))  # type: ignore[arg-type]
    s.save(_crows("01JCCCCCCCCCCCCCCCCCCCCCCC", 3, 70.0, model="hf:./internal"))  # type: ignore[arg-type]
    s.save(make_record("01JDDDDDDDDDDDDDDDDDDDDDDD", minutes=9, model="hf:./chat-v2", status="running"))
    yield s
    s.close()


def test_when_models_are_named_then_only_their_latest_finished_runs_are_evidence(store: RunStore) -> None:
    assert [r.id for r in latest_runs(store, ["hf:./chat-v2"])] == ["01JBBBBBBBBBBBBBBBBBBBBBBB"]
    assert [r.id for r in latest_runs(store, ["./internal"])] == ["01JCCCCCCCCCCCCCCCCCCCCCCC"]
    assert len(latest_runs(store)) == 2


def test_when_the_transparency_report_is_written_then_it_lists_models_and_their_latest_numbers(store: RunStore) -> None:
    answers = TRANSPARENCY_QUESTIONS.parse(
        '[system]\nname = "HelpBot"\nmodalities = ["text"]\n'
        '[[model]]\nspec = "hf:./chat-v2"\nrole = "served"\n'
        '[[model]]\nspec = "hf:./never-audited"\n',
        source="transparency.toml",
    )
    runs = latest_runs(store, ["hf:./chat-v2", "hf:./never-audited"])
    text = render_transparency(TransparencyInputs(answers, runs, NOTES, "2026-03-01"))
    assert text.startswith("# Transparency report: HelpBot")
    assert "| hf:./chat-v2 | crows_pairs v1.0 | 01JBBBBBBBBB | 2026-01-02 | metric_score = 55.5 [53.5, 57.5]" in text
    assert "60" not in text.split("## Latest audits")[1].split("##")[0]  # the older run is not evidence
    assert "No finished audit run is on file for: hf:./never-audited." in text
    assert "| hf:./never-audited | " + TODO_MARK in text
    assert f"{TODO_MARK} How can people report an incident" in text
    assert f"{TODO_MARK} What is the system called?" not in text


def test_when_no_model_is_configured_then_the_report_asks_for_them_and_names_audited_ones(store: RunStore) -> None:
    text = render_transparency(TransparencyInputs(runs=latest_runs(store)))
    assert "Add one [[model]] table per model" in text
    assert "Models with audit runs on file: `hf:./chat-v2`, `hf:./internal`." in text


def test_when_the_art30_record_is_written_then_each_activity_has_items_b_to_g_and_system_evidence(
    store: RunStore,
) -> None:
    answers = GDPR_QUESTIONS.parse(
        '[organisation]\nrole = "controller"\nname = "Acme"\n'
        '[[activity]]\nname = "Support chat"\npurpose = "Answer customer questions"\n'
        'data_subjects = ["customers"]\ndata_categories = ["contact data", "chat content"]\n'
        'systems = ["hf:./chat-v2"]\n'
        '[measures]\nencryption = "TLS 1.3; AES-256 at rest"\n',
        source="org.toml",
    )
    text = render_gdpr(GdprInputs(answers, latest_runs(store), NOTES), 30)
    assert text.startswith("# Record of processing activities (GDPR Art. 30): Acme")
    assert "## Activity 1: Support chat" in text
    assert "| (c) categories of personal data | contact data, chat content |" in text
    assert (
        f"| (d) categories of recipients | {TODO_MARK} To which categories of recipients are the data disclosed? |"
        in text
    )
    assert "| (g) security measures | see the Art. 32 record" in text
    assert "metric_score = 55.5 [53.5, 57.5]" in text and "hf:./internal" not in text


def test_when_no_activity_is_configured_then_the_art30_record_asks_for_them() -> None:
    text = render_gdpr(GdprInputs(), 30)
    assert "Add one [[activity]] table per activity" in text
    assert count_todos(text) == len(GDPR_QUESTIONS.section("organisation").questions) + 1


def test_when_the_art32_record_is_written_then_measures_are_grouped_by_item_with_testing_evidence(
    store: RunStore,
) -> None:
    answers = GDPR_QUESTIONS.parse('[measures]\ntesting = "Bias audit on every release"\n', source="org.toml")
    text = render_gdpr(GdprInputs(answers, latest_runs(store), NOTES), 32)
    testing = text.split("## (1)(d)")[1].split("## (2)")[0]
    assert "Bias audit on every release" in testing
    assert "| hf:./chat-v2 | crows_pairs v1.0 |" in testing and "| hf:./internal | crows_pairs v1.0 |" in testing
    assert f"{TODO_MARK} How are personal data pseudonymised" in text.split("## (1)(b)")[0]
    measures = GDPR_QUESTIONS.section("measures").questions
    assert count_todos(text) == len(measures) - 1 + len(GDPR_QUESTIONS.section("organisation").questions)


def test_when_no_run_is_on_file_then_the_evidence_says_so() -> None:
    assert "No finished audit run is on file." in render_gdpr(GdprInputs(), 32)


def test_when_the_evidence_runs_recorded_an_80_percent_level_then_the_table_does_not_call_it_95() -> None:
    metrics = [MetricRecord(name="ss", value=0.6, ci_low=0.5, ci_high=0.7, n=9)]
    run = make_record(model="hf:./m", metrics=metrics, settings={"confidence": 0.8})
    text = render_gdpr(GdprInputs(runs=[run]), 32)
    assert "headline metrics [80% CI]" in text and "95% CI" not in text
