"""``ethos report card | datasheet | transparency | gdpr`` through the real entry point."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from ethos.records import Energy, MetricRecord, RunStore
from ethos.reports.card import TODO_MARK
from tests.conftest import shared_data
from tests.helpers.cli import assert_one_line_error, run_cli, run_cli_subprocess
from tests.helpers.records import make_record

MODEL = "hf:./gpt2-ft"
SS = "01JAAAAAAAAAAAAAAAAAAAAAAA"
CROWS = "01JBBBBBBBBBBBBBBBBBBBBBBB"

# Values a datasheet must count but never print
EMAILS = ("ada.lovelace@example.org", "bob.stone@example.net")
PHONE = "+44 20 7946 0958"
CHATS = "\n".join(
    json.dumps(row)
    for row in (
        {"user": {"email": EMAILS[0]}, "text": f"Call me on {PHONE} please"},
        {"user": {"email": EMAILS[1]}, "text": f"My address is {EMAILS[1]}"},
        {"user": {"email": ""}, "text": "No personal data here"},
    )
)


@pytest.fixture
def store(ethos_home: Path) -> Path:
    """A StereoSet run with measured energy and a CrowS-Pairs run without, of one model, and another model."""
    ss = [
        MetricRecord(name="ss", value=61.5, ci_low=58.75, ci_high=64.0, n=400),
        MetricRecord(name="lms", value=91.0, ci_low=89.5, ci_high=92.5, n=400),
    ]
    crows = [MetricRecord(name="metric_score", value=57.5, ci_low=55.0, ci_high=60.0, n=1508)]
    energy = Energy(kwh=0.004, co2_g=1.25, method="estimate", tracker="codecarbon 3.3.2")
    with RunStore(ethos_home / "ethos.db") as runs:
        runs.save(make_record(SS, model=MODEL, metrics=ss, energy=energy))
        runs.save(make_record(CROWS, minutes=1, model=MODEL, benchmark="crows_pairs", metrics=crows))
        runs.save(make_record("01JCCCCCCCCCCCCCCCCCCCCCCC", minutes=2, model="hf:./other"))
    return ethos_home / "ethos.db"


def test_when_a_card_is_written_then_it_loads_offline_and_its_model_index_equals_the_records(
    store: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "card.toml"
    questions.write_text('[metadata]\nlicense = "mit"\n[intended_use]\nprimary_users = "Researchers"\n')
    out = tmp_path / "README.md"
    result = run_cli("report", "card", "--model", MODEL, "--questions", str(questions), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stderr and result.stdout == ""
    card = ModelCard.load(out)  # a local path: no network
    assert card.data.license == "mit"
    assert card.data.co2_eq_emissions["emissions"] == 1.25
    _, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    with RunStore(store) as runs:
        want = {(m.name, m.value) for rid in (SS, CROWS) for m in runs.get(rid).overall_metrics()}
    assert {(r.metric_type, r.metric_value) for r in results} == want
    assert f"{TODO_MARK} Who are the intended users?" not in card.text
    assert f"{TODO_MARK} What is the model intended for?" in card.text


def test_when_no_output_is_given_then_the_card_goes_to_stdout_and_json_carries_it(store: Path) -> None:
    plain = run_cli("report", "card", "-m", MODEL, "--run", SS)
    assert plain.exit_code == 0, plain.stderr
    assert (
        ModelCard(plain.stdout).data.to_dict()["model-index"][0]["results"][0]["dataset"]["type"] == "ethos/stereoset"
    )
    as_json = run_cli("report", "card", "-m", MODEL, "--run", SS, "--json")
    data = json.loads(as_json.stdout)
    assert (data["runs"], data["model_index_metrics"], data["output"]) == ([SS], 2, None)
    assert data["text"] == plain.stdout and data["todo"] == plain.stdout.count(TODO_MARK)


def test_when_the_questions_file_is_bad_then_one_line_names_its_line_and_nothing_is_written(
    store: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "card.toml"
    questions.write_text('[metadata]\nlicense = "mit"\n\n[intended_use]\nprimary_user = "x"\n')
    out = tmp_path / "README.md"
    result = run_cli("report", "card", "-m", MODEL, "--questions", str(questions), "-o", str(out))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, f"{questions}:5:", "'primary_user'", "Did you mean 'primary_users'?")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "ethos-home") == ["card.toml"]  # no temp file


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("report", "card", "-m", "hf:./never"), ("has no finished runs",)),
        (("report", "card", "-m", MODEL, "--run", "01JCCCCCCCCCCCCCCCCCCCCCCC"), ("is of model 'hf:./other'",)),
        (("report", "card"), ("--model SPEC",)),
        (("report", "gdpr", "--article", "31"), ("give 30 or 32",)),
        (("report", "datasheet", "--data", "missing.jsonl"), ("missing.jsonl",)),
        (("report", "datasheet", "--optout-receipt", "missing.json"), ("cannot read opt-out receipt missing.json",)),
    ],
    ids=["unknown_model", "foreign_run", "no_model", "bad_article", "missing_data", "missing_receipt"],
)
def test_when_input_is_wrong_then_exit_2_with_one_line(
    store: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2, result.stdout
    assert_one_line_error(result.stderr, *needles)


def test_when_a_bad_questions_file_is_given_to_the_real_process_then_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "org.toml"
    bad.write_text("[measures]\nencryption = 256\n")
    result = run_cli_subprocess("report", "gdpr", "--article", "32", "--config", str(bad))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, f"{bad}:2:", "'encryption'", "expected a string")


@pytest.mark.parametrize("command", ["card", "datasheet", "transparency", "gdpr"])
def test_when_a_template_is_written_then_it_is_accepted_back_as_answers(
    command: str, store: Path, tmp_path: Path
) -> None:
    template = tmp_path / f"{command}.toml"
    extra = ("--article", "30") if command == "gdpr" else ()
    made = run_cli("report", command, *extra, "--template", str(template))
    assert made.exit_code == 0, made.stderr
    option = "--config" if command in ("transparency", "gdpr") else "--questions"
    model = ("-m", MODEL) if command == "card" else ()
    used = run_cli("report", command, *extra, *model, option, str(template), "--json")
    assert used.exit_code == 0, used.stderr
    assert json.loads(used.stdout)["todo"] > 0


def test_when_a_datasheet_measures_data_then_it_counts_pii_per_entity_and_field_but_never_prints_values(
    tmp_path: Path,
) -> None:
    data = tmp_path / "chats.jsonl"
    data.write_text(CHATS + "\n", encoding="utf-8")
    out = tmp_path / "DATASHEET.md"
    result = run_cli("report", "datasheet", "--data", str(data), "--no-ner", "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["pii"][str(data)] == {"EMAIL_ADDRESS": 3, "PHONE_NUMBER": 1}
    text = out.read_text(encoding="utf-8")
    assert f"| {data} | jsonl | 3 |" in text
    assert f"| {data} | user.email | EMAIL_ADDRESS | 2 |" in text
    assert f"| {data} | text | EMAIL_ADDRESS | 1 |" in text
    for value in (*EMAILS, PHONE, "7946", "lovelace"):
        assert value.lower() not in (text + result.stdout).lower()


@pytest.mark.parametrize(
    ("name", "body", "where"),
    [
        ("chats.jsonl", (CHATS + '\n{"text": \n').encode(), "line 4"),
        ("chats.jsonl", b'{"text": "caf\xe9"}\n', "line 1"),
    ],
    ids=["malformed-json", "not-utf8"],
)
def test_when_a_data_file_has_a_bad_record_then_the_error_names_its_line_and_only_real_options(
    tmp_path: Path, name: str, body: bytes, where: str
) -> None:
    data = tmp_path / name
    data.write_bytes(body)
    out = tmp_path / "DATASHEET.md"
    result = run_cli("report", "datasheet", "--data", str(data), "--no-ner", "-o", str(out))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, f"{data} {where}")
    for option in ("--skip-bad", "--encoding"):  # options of `ethos pii`, not of `ethos report datasheet`
        assert option not in result.stderr
    assert not out.exists()


def test_when_no_csv_column_looks_personal_then_the_datasheet_note_names_a_real_command(tmp_path: Path) -> None:
    data = tmp_path / "scores.csv"
    data.write_text("age,score\n30,1\n41,0\n", encoding="utf-8")
    result = run_cli("report", "datasheet", "--data", str(data), "--no-ner")
    assert result.exit_code == 0, result.stderr
    assert "no column looks personal" in result.stdout
    assert "; pass --columns" not in result.stdout and "`ethos pii scan FILE --columns NAME`" in result.stdout


def test_when_an_optout_receipt_is_given_then_the_datasheet_lists_it_and_matches_the_cleaned_file(
    tmp_path: Path,
) -> None:
    assert run_cli("optout", "init", "--json").exit_code == 0
    assert run_cli("optout", "add", "--email", EMAILS[0]).exit_code == 0
    source, clean = tmp_path / "users.csv", tmp_path / "clean.csv"
    source.write_text(f"email,plan\n{EMAILS[0]},pro\n{EMAILS[1]},free\n", encoding="utf-8")
    applied = run_cli("optout", "apply", str(source), "-o", str(clean), "--json")
    assert applied.exit_code == 0, applied.stderr
    receipt = json.loads(applied.stdout)["receipt"]
    result = run_cli("report", "datasheet", "--data", str(clean), "--no-pii", "--optout-receipt", receipt)
    assert result.exit_code == 0, result.stderr
    assert f"| {source} | {clean} | 1 rows | 2 → 1 | {clean} | {receipt} |" in result.stdout
    assert "Not scanned:" in result.stdout and EMAILS[1] not in result.stdout


def test_when_transparency_and_gdpr_records_are_written_then_they_hold_the_latest_audits(
    store: Path, tmp_path: Path
) -> None:
    config = tmp_path / "transparency.toml"
    config.write_text(f'[system]\nname = "HelpBot"\n[[model]]\nspec = "{MODEL}"\nrole = "served"\n')
    report = run_cli("report", "transparency", "--config", str(config))
    assert report.exit_code == 0, report.stderr
    assert report.stdout.startswith("# Transparency report: HelpBot")
    assert "metric_score = 57.5 [55, 60]" in report.stdout and "ss = 61.5 [58.75, 64]" in report.stdout
    assert "hf:./other" not in report.stdout
    art32 = run_cli("report", "gdpr", "--article", "32", "-o", str(tmp_path / "art32.md"), "--json")
    assert art32.exit_code == 0, art32.stderr
    data = json.loads(art32.stdout)
    assert data["article"] == 32 and len(data["runs"]) == 3
    assert "hf:./other" in (tmp_path / "art32.md").read_text(encoding="utf-8")


def test_when_no_store_exists_then_compliance_records_still_render_with_todos() -> None:
    result = run_cli("report", "gdpr", "--article", "30")
    assert result.exit_code == 0, result.stderr
    assert "No finished audit run" not in result.stdout  # Art. 30 shows evidence only per activity
    assert TODO_MARK in result.stdout


@pytest.mark.slow
def test_when_a_real_seat_audit_ran_then_the_card_reports_its_metrics_and_energy(tmp_path: Path) -> None:
    data = shared_data("bias")
    audit = run_cli(
        "audit", "run", "--model", "encoder:minilm", "--benchmark", "seat", "--data-dir", str(data),
        "-P", "seat.tests=sent-weat6", "-P", "seat.n_samples=1000", "--json",
    )  # fmt: skip
    assert audit.exit_code == 0, audit.stderr
    [run] = json.loads(audit.stdout)
    out = tmp_path / "README.md"
    assert run_cli("report", "card", "-m", "encoder:minilm", "-o", str(out)).exit_code == 0
    card = ModelCard.load(out)
    _, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    recorded = {m["name"]: m["value"] for m in run["metrics"] if not m["group"] and math.isfinite(m["value"])}
    assert {r.metric_type: r.metric_value for r in results} == recorded
    assert results[0].dataset_revision is not None
    text = card.text
    assert "**seat `mean_abs_effect_size`** = " in text
    if run.get("energy"):
        assert card.data.co2_eq_emissions["emissions"] == pytest.approx(run["energy"]["co2_g"], abs=1e-6)
    else:
        assert "Evaluation (these audits): not measured." in text


def test_when_strict_and_questions_remain_then_exit_1_after_writing_and_0_once_all_are_answered(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "DATASHEET.md"
    open_questions = run_cli("report", "datasheet", "--strict", "-o", str(out))
    assert open_questions.exit_code == 1
    assert_one_line_error(open_questions.stderr.splitlines()[-1], "unanswered questions")
    assert out.exists()
    from ethos.reports.datasheet import DATASHEET_QUESTIONS

    answers = tmp_path / "datasheet.toml"
    answers.write_text(
        "\n".join(
            f"[{s.key}]\n" + "".join(f'{q.key} = "answered"\n' for q in s.questions)
            for s in DATASHEET_QUESTIONS.sections
        )
    )
    done = run_cli("report", "datasheet", "--strict", "--questions", str(answers), "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["todo"] == 0


def test_when_a_real_tabular_fairness_run_is_stored_then_the_card_reads_its_parity_metrics_and_group_rates(
    tmp_path: Path,
) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    lines = ["sex,hired,qualified"]
    for _ in range(300):
        sex, qualified = str(rng.choice(["F", "M"])), int(rng.random() < 0.5)
        lines.append(f"{sex},{int(rng.random() < 0.2 + 0.4 * qualified + (0.2 if sex == 'M' else 0.0))},{qualified}")
    predictions = tmp_path / "preds.csv"
    predictions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assessed = run_cli(
        "fairness", "assess", str(predictions), "--y-pred", "hired", "--sensitive", "sex", "--y-true", "qualified",
        "--n-boot", "200", "--seed", "0", "--json",
    )  # fmt: skip
    assert assessed.exit_code == 0, assessed.stderr
    run_id = json.loads(assessed.stdout)["run_id"]
    with RunStore(Path.cwd() / "ethos-home" / "ethos.db") as runs:
        record = runs.get(run_id)
    result = run_cli("report", "card", "-m", record.model.spec, "--json")
    assert result.exit_code == 0, result.stderr
    text = json.loads(result.stdout)["text"]
    dpd = next(m for m in record.overall_metrics() if m.name == "demographic_parity_difference")
    assert (
        f"**fairness-tabular `demographic_parity_difference`** = {dpd.value:.4g} [{dpd.ci_low:.4g}, {dpd.ci_high:.4g}]"
        in text
    )
    rate = next(m for m in record.metrics if m.name == "selection_rate" and m.group == {"sex": "F"})
    assert f"| selection_rate | sex=F | {rate.value:.4g} |" in text
    assert "- **fairness-tabular `count`**" not in text  # only headline metrics are read out


def test_when_the_template_path_exists_then_it_is_not_overwritten(tmp_path: Path) -> None:
    answers = tmp_path / "card.toml"
    answers.write_text('[metadata]\nlicense = "mit"\n')
    result = run_cli("report", "card", "--template", str(answers))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, f"{answers} already exists")
    assert answers.read_text() == '[metadata]\nlicense = "mit"\n'
