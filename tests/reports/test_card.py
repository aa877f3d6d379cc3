"""Model cards from run records: Hugging Face metadata that ``huggingface_hub`` parses offline, numbers equal
to the records', CO2 in grams, and TODO questions exactly where nothing was answered."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from ethos.errors import StoreError
from ethos.records import DataFile, Energy, MetricRecord, RunRecord, RunStore
from ethos.reports.card import (
    CARD_QUESTIONS,
    TODO_MARK,
    BenchmarkNote,
    ModelCardInputs,
    count_todos,
    dump_yaml,
    render_model_card,
    select_runs,
)
from tests.helpers.records import make_record

MODEL = "hf:./gpt2-ft"
NOTES = {
    "stereoset": BenchmarkNote(
        "stereoset", "StereoSet SS, LMS, ICAT", ("bias",), ("ss", "lms", "icat"), {"causal": "ll"}
    ),
    "crows_pairs": BenchmarkNote("crows_pairs", "CrowS-Pairs", ("bias",), ("metric_score",)),
    "decisions": BenchmarkNote("decisions", "Counterfactual twins", ("fairness",), ("flip_rate",)),
}
DATA = (DataFile(source="https://example.org/dev.json", sha256="c" * 64, size=12),)


def _stereoset(run_id: str = "01JAAAAAAAAAAAAAAAAAAAAAAA", **fields: object) -> RunRecord:
    metrics = [
        MetricRecord(name="icat", value=70.25, ci_low=68.0, ci_high=72.5, n=400),
        MetricRecord(name="ss", value=61.5, ci_low=58.75, ci_high=64.0, n=400),
        MetricRecord(name="lms", value=91.0, ci_low=89.5, ci_high=92.5, n=400),
        MetricRecord(name="ss", value=66.0, ci_low=60.0, ci_high=71.0, n=120, group={"domain": "gender"}),
        MetricRecord(name="ss", value=float("nan"), n=0, group={"domain": "religion"}),
    ]
    values: dict[str, object] = {
        "model": MODEL,
        "metrics": metrics,
        "data": DATA,
        "settings": {"variant": "causal", "limit": None, "params": {"split": "dev"}},
    }
    values.update(fields)
    return make_record(run_id, **values)  # type: ignore[arg-type]


def _crows(**fields: object) -> RunRecord:
    values: dict[str, object] = {
        "metrics": [
            MetricRecord(name="metric_score", value=57.5, ci_low=55.0, ci_high=60.0, n=1508),
            MetricRecord(name="neutral", value=float("nan"), n=0),
        ]
    }
    values.update(fields)
    return make_record("01JBBBBBBBBBBBBBBBBBBBBBBB", minutes=1, model=MODEL, benchmark="crows_pairs", **values)  # type: ignore[arg-type]


def _card(*runs: RunRecord, answers: str | None = None) -> str:
    parsed = CARD_QUESTIONS.parse(answers, source="card.toml") if answers else CARD_QUESTIONS.empty()
    return render_model_card(ModelCardInputs(MODEL, runs, NOTES, parsed))


def test_when_card_is_parsed_offline_then_model_index_holds_every_finite_overall_metric() -> None:
    runs = (_stereoset(), _crows())
    card = ModelCard(_card(*runs))  # parses the YAML front matter; no network
    name, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert name == MODEL
    got = {(r.dataset_type, r.metric_type): r.metric_value for r in results}
    want = {
        (f"ethos/{run.benchmark.name}", m.name): m.value
        for run in runs
        for m in run.overall_metrics()
        if math.isfinite(m.value)
    }
    assert got == want
    assert all(r.verified is False for r in results)
    ss = next(r for r in results if r.metric_type == "ss")
    assert ss.metric_args == {"run_id": runs[0].id, "ci_low": 58.75, "ci_high": 64.0, "n": 400}
    assert (ss.dataset_split, ss.dataset_revision, ss.task_type) == ("dev", "c" * 64, "bias-evaluation")


def test_when_card_is_written_then_headline_metrics_come_first_in_model_index() -> None:
    card = ModelCard(_card(_stereoset()))
    metrics = card.data.to_dict()["model-index"][0]["results"][0]["metrics"]
    assert [m["type"] for m in metrics] == ["ss", "lms", "icat"]


def test_when_a_run_recorded_energy_then_co2_is_in_grams_with_its_method() -> None:
    energy = Energy(kwh=0.0125, co2_g=4.75, method="rapl")
    card = ModelCard(_card(_stereoset(energy=energy), _crows(energy=Energy(kwh=0.001, co2_g=0.25, method="cpu_load"))))
    co2 = card.data.co2_eq_emissions
    assert co2["emissions"] == pytest.approx(5.0)
    assert "rapl" in co2["source"] and "cpu_load" in co2["source"]
    assert co2["training_type"] == "evaluation"
    assert "| 0.0125 | 4.75 | rapl |" in card.text


def test_when_no_run_measured_energy_then_card_says_not_measured_and_has_no_co2_key() -> None:
    card = ModelCard(_card(_stereoset()))
    assert "co2_eq_emissions" not in card.data.to_dict()
    assert "| not measured | not measured |" in card.text
    assert "Evaluation (these audits): not measured." in card.text


def test_when_training_emissions_are_answered_then_they_fill_co2_instead_of_the_audits() -> None:
    answers = '[environment]\ntraining_co2_g = 1500\ntraining_type = "fine-tuning"\ngeographical_location = "FR"\n'
    card = ModelCard(_card(_stereoset(energy=Energy(kwh=0.01, co2_g=3.0, method="rapl")), answers=answers))
    assert card.data.co2_eq_emissions == {
        "emissions": 1500.0,
        "source": "reported by the card's authors",
        "training_type": "fine-tuning",
        "geographical_location": "FR",
    }


def test_when_nothing_is_answered_then_every_question_is_a_todo() -> None:
    text = _card(_stereoset())
    questions = [q for s in CARD_QUESTIONS.sections for q in s.questions if s.key != "metadata"]
    assert count_todos(text) == len(questions) + 1  # + the licence, from [metadata]
    assert f"> {TODO_MARK} Who are the intended users?" in text


def test_when_questions_are_answered_then_their_todos_disappear_and_metadata_is_filled() -> None:
    answers = """
[metadata]
license = "apache-2.0"
language = ["en", "fr"]
base_model = "gpt2"
tags = ["chat"]
[intended_use]
primary_users = "Support agents drafting replies"
"""
    text = _card(_stereoset(), answers=answers)
    card = ModelCard(text)
    assert (card.data.license, card.data.language, card.data.base_model) == ("apache-2.0", ["en", "fr"], "gpt2")
    assert "chat" in card.data.tags and "stereoset" in card.data.tags
    assert "Who are the intended users?** Support agents drafting replies" in text
    assert f"{TODO_MARK} Who are the intended users?" not in text
    assert f"{TODO_MARK} Which licence" not in text
    assert count_todos(text) == count_todos(_card(_stereoset())) - 2


def test_when_bias_runs_exist_then_the_ethics_section_lists_headline_metrics_with_ci_and_reading() -> None:
    text = _card(_stereoset(), _crows())
    assert "**stereoset `ss`** = 61.5 [58.75, 64], n = 400: ideal 50; the model prefers stereotypical" in text
    assert "**crows_pairs `metric_score`** = 57.5 [55, 60], n = 1508: ideal 50;" in text
    # disaggregated: the headline metric per group, and an undefined group value shown as n/a
    assert "| ss | domain=gender | 66 | [60, 71] | 120 |" in text
    assert "| ss | domain=religion | n/a |  | 0 |" in text


def test_when_an_interval_includes_the_ideal_then_the_reading_says_nothing_is_detectable() -> None:
    run = _crows(metrics=[MetricRecord(name="metric_score", value=51.0, ci_low=48.0, ci_high=54.0, n=300)])
    assert "the interval includes 50: no preference is detectable at this sample size" in _card(run)


def test_when_no_bias_run_is_given_then_the_card_asks_for_one() -> None:
    run = make_record(model=MODEL, benchmark="perplexity", metrics=[MetricRecord(name="ppl", value=12.0)])
    text = _card(run)
    assert "No bias or fairness run of this model is on file" in text
    assert ModelCard(text).data.to_dict()["model-index"][0]["results"][0]["task"]["type"] == "evaluation"


def test_when_a_run_used_a_limit_then_caveats_say_so() -> None:
    run = _stereoset(settings={"variant": "causal", "limit": 200, "params": {}})
    assert "stereoset ran on a subset of 200 samples" in _card(run)


@pytest.mark.parametrize(
    "value",
    ["plain", "yes", "null", "1.5", "2026-01-02", "a: b", "- item", "#hash", 'quote " and \\ back', "ünï\ncode", ""],
)
def test_when_metadata_strings_look_like_other_yaml_types_then_they_stay_strings(value: str) -> None:
    data = {"license": value, "tags": [value, "x"], "model-index": [{"name": value, "results": []}]}
    assert yaml.safe_load(dump_yaml(data)) == data


def test_when_the_store_has_runs_then_the_latest_finished_run_of_each_benchmark_is_chosen(tmp_path: Path) -> None:
    with RunStore(tmp_path / "ethos.db") as store:
        store.save(_stereoset("01JAAAAAAAAAAAAAAAAAAAAAA1", minutes=0))
        store.save(_stereoset("01JAAAAAAAAAAAAAAAAAAAAAA2", minutes=5))
        store.save(_stereoset("01JAAAAAAAAAAAAAAAAAAAAAA3", minutes=9, status="running", metrics=[]))
        store.save(_crows())
        store.save(make_record("01JCCCCCCCCCCCCCCCCCCCCCCC", minutes=7, model="hf:./other"))
        chosen = select_runs(store, MODEL)
        assert [r.id for r in chosen] == ["01JBBBBBBBBBBBBBBBBBBBBBBB", "01JAAAAAAAAAAAAAAAAAAAAAA2"]
        assert [r.id for r in select_runs(store, MODEL, ("01JAAAAAAAAAAAAAAAAAAAAAA1",))] == [
            "01JAAAAAAAAAAAAAAAAAAAAAA1"
        ]
        with pytest.raises(StoreError, match="is of model 'hf:./other'"):
            select_runs(store, MODEL, ("01JCCCCCCCCCCCCCCCCCCCCCCC",))
        with pytest.raises(StoreError, match="is running"):
            select_runs(store, MODEL, ("01JAAAAAAAAAAAAAAAAAAAAAA3",))
        with pytest.raises(StoreError, match="has no finished runs"):
            select_runs(store, "hf:./never-audited")


def test_when_energy_carries_tracker_country_and_hardware_then_co2_metadata_and_table_use_them() -> None:
    energy = Energy(
        kwh=0.002, co2_g=0.11, method="estimate", cpu_method="cpu-load", ram_method="dimm-estimate",
        cpu_model="AMD EPYC 7B13", country_iso_code="FRA", carbon_intensity=55.0, tracker="codecarbon 3.3.2",
        notes=("CPU power estimated from load and TDP",),
    )  # fmt: skip
    text = _card(_stereoset(energy=energy), _crows())
    co2 = ModelCard(text).data.co2_eq_emissions
    assert co2 == {
        "emissions": 0.11,
        "source": "Ethos audit runs, evaluation only: 1 of 2 runs measured by codecarbon 3.3.2 (method: estimate)",
        "training_type": "evaluation",
        "geographical_location": "FRA",
        "hardware_used": "AMD EPYC 7B13",
    }
    assert "| 0.002 | 0.11 | estimate (CPU cpu-load, RAM dimm-estimate) | 55 g/kWh (FRA) |" in text
    assert "- stereoset: CPU power estimated from load and TDP" in text


def test_when_metrics_are_listed_then_each_headline_metric_says_what_it_does_and_does_not_mean() -> None:
    from ethos.reports import metric_note

    metrics = _card(_stereoset()).split("## Metrics")[1].split("## Evaluation data")[0]
    for name in ("ss", "lms", "icat"):
        note = metric_note("stereoset", name)
        assert f"  - `{name}`: {note.means}" in metrics
        assert f"*Does not mean:* {note.does_not_mean}" in metrics
    assert "Variant `causal`: ll." in metrics


def test_when_an_interval_is_undefined_then_model_index_leaves_it_out_and_the_body_shows_n_a() -> None:
    metric = MetricRecord(name="metric_score", value=52.0, ci_low=float("nan"), ci_high=float("nan"), n=10)
    text = _card(_crows(metrics=[metric]))
    [result] = model_index_to_eval_results(ModelCard(text).data.to_dict()["model-index"])[1]
    assert result.metric_args == {"run_id": "01JBBBBBBBBBBBBBBBBBBBBBBB", "n": 10}
    assert "| crows_pairs | metric_score | 52 | [n/a, n/a] | 10 |" in text
    assert "ideal 50; no interval was recorded, so chance cannot be ruled out." in text


@pytest.mark.parametrize(
    ("levels", "header"),
    [((0.8,), "80% CI"), ((0.95,), "95% CI"), ((0.9, 0.95), "CI (level per run: settings.confidence)")],
)
def test_when_runs_recorded_another_confidence_level_then_the_interval_columns_say_so(
    levels: tuple[float, ...], header: str
) -> None:
    runs = [_stereoset(settings={"confidence": levels[0]})]
    if len(levels) > 1:
        runs.append(_crows(settings={"confidence": levels[1]}))
    text = _card(*runs)
    assert f"| value | {header} | n |" in text
    if header != "95% CI":
        assert "95% CI" not in text
