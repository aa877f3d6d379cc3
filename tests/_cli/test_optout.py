"""``ethos optout``: init, add, list, apply and verify-receipt through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli, run_cli_subprocess

USERS = "email,name,plan\nada@example.org,Ada Lovelace,pro\nbob@example.org,Bob Stone,free\n"


@pytest.fixture
def initialised(ethos_home: Path) -> Path:
    result = run_cli("optout", "init", "--json")
    assert result.exit_code == 0, result.stderr
    return ethos_home / "optout"


def test_when_a_subject_is_added_and_listed_then_only_ids_kinds_and_reasons_show(initialised: Path) -> None:
    added = run_cli(
        "optout", "add", "--email", "Ada@Example.org", "--name", "Ada Lovelace", "--reason", "Art. 21", "--json"
    )
    assert added.exit_code == 0, added.stderr
    assert len(json.loads(added.stdout)["added"]) == 1
    listed = json.loads(run_cli("optout", "list", "--json").stdout)
    assert [(e["kinds"], e["reason"]) for e in listed["entries"]] == [(["email", "name"], "Art. 21")]
    raw = (initialised / "registry.ethos").read_bytes().lower()
    assert b"ada@example.org" not in raw and b"lovelace" not in raw


def test_when_applying_then_rows_go_a_receipt_verifies_and_a_second_apply_is_a_no_op(
    initialised: Path, tmp_path: Path
) -> None:
    run_cli("optout", "add", "--email", "ada@example.org")
    src = tmp_path / "users.csv"
    src.write_text(USERS, encoding="utf-8")
    first = run_cli("optout", "apply", str(src), "-o", str(tmp_path / "clean.csv"), "--json")
    assert first.exit_code == 0, first.stderr
    receipt = json.loads(first.stdout)
    assert receipt["total_removed"] == 1 and receipt["units_after"] == 1
    assert (tmp_path / "clean.csv").read_text(encoding="utf-8") == "email,name,plan\nbob@example.org,Bob Stone,free\n"
    ok = run_cli("optout", "verify-receipt", receipt["receipt"], "--data", str(tmp_path / "clean.csv"))
    assert ok.exit_code == 0 and "verifies" in ok.stdout
    second = run_cli("optout", "apply", str(tmp_path / "clean.csv"), "-o", str(tmp_path / "again.csv"), "--json")
    assert json.loads(second.stdout)["total_removed"] == 0
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "clean.csv").read_bytes()


def test_when_the_receipt_is_edited_then_verify_fails_with_one_line(initialised: Path, tmp_path: Path) -> None:
    src = tmp_path / "users.csv"
    src.write_text(USERS, encoding="utf-8")
    run_cli("optout", "apply", str(src), "-o", str(tmp_path / "clean.csv"))
    path = tmp_path / "clean.csv.receipt.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"units_before": 2', '"units_before": 3'), encoding="utf-8"
    )
    result = run_cli("optout", "verify-receipt", str(path))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "does not verify")


def test_when_the_key_is_wrong_then_one_line_error_without_traceback(initialised: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert (
        run_cli("optout", "init", "--registry", str(other / "r.ethos"), "--key-file", str(other / "k")).exit_code == 0
    )
    result = run_cli_subprocess("optout", "list", "--key-file", str(other / "k"))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "encrypted with a different key")


def test_when_the_registry_is_tampered_thenassert_one_line_error(initialised: Path) -> None:
    path = initialised / "registry.ethos"
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF
    path.write_bytes(bytes(blob))
    result = run_cli("optout", "list")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "failed its integrity check")


def test_when_the_key_comes_from_the_environment_then_it_is_used(
    initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_text = (initialised / "registry.key").read_text(encoding="ascii")
    (initialised / "registry.key").rename(initialised / "moved.key")
    assert run_cli("optout", "list").exit_code == 2  # no key anywhere
    monkeypatch.setenv("ETHOS_OPTOUT_KEY", key_text.strip())
    assert run_cli("optout", "list", "--json").exit_code == 0


def test_when_subjects_come_from_a_file_then_each_row_is_one_entry(initialised: Path, tmp_path: Path) -> None:
    subjects = tmp_path / "subjects.csv"
    subjects.write_text("email,user_id,reason\na@x.org,1,Art. 17\nb@x.org,,\na@x.org,,\n", encoding="utf-8")
    result = json.loads(run_cli("optout", "add", "--from-file", str(subjects), "--json").stdout)
    assert (len(result["added"]), len(result["unchanged"])) == (2, 1)


def test_when_init_runs_twice_then_it_refuses_to_overwrite(initialised: Path) -> None:
    result = run_cli("optout", "init")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "never overwrites")


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ("email,name\na@x.org,A\n,\n", ("subjects.csv, line 3", "no email, user_id or name")),
        ("mail,full name\na@x.org,A\n", ("subjects.csv", "no email, user_id or name column", "mail, full name")),
        ("email,name\n", ("subjects.csv", "no subjects")),
    ],
)
def test_when_a_subjects_file_lacks_identifiers_then_one_line_names_the_file_and_line(
    initialised: Path, tmp_path: Path, content: str, needles: tuple[str, ...]
) -> None:
    subjects = tmp_path / "subjects.csv"
    subjects.write_text(content, encoding="utf-8")
    result = run_cli("optout", "add", "--from-file", str(subjects))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, *needles)
    assert json.loads(run_cli("optout", "list", "--json").stdout)["entries"] == []


def test_when_a_subjects_csv_uses_semicolons_then_its_columns_are_found(initialised: Path, tmp_path: Path) -> None:
    subjects = tmp_path / "subjects.csv"
    subjects.write_text("email;name;reason\na@x.org;Ada Lovelace;Art. 17\n", encoding="utf-8")
    result = run_cli("optout", "add", "--from-file", str(subjects), "--json")
    assert result.exit_code == 0, result.stderr
    entries = json.loads(run_cli("optout", "list", "--json").stdout)["entries"]
    assert [(e["kinds"], e["reason"]) for e in entries] == [(["email", "name"], "Art. 17")]


@pytest.mark.parametrize("target", ["input", "output"])
def test_when_the_receipt_path_is_the_input_or_the_output_then_exit_2_and_no_file_is_replaced(
    initialised: Path, tmp_path: Path, target: str
) -> None:
    users, out = tmp_path / "users.csv", tmp_path / "clean.csv"
    users.write_text(USERS, encoding="utf-8")
    run_cli("optout", "add", "--email", "ada@example.org")
    receipt = users if target == "input" else out
    result = run_cli("optout", "apply", str(users), "-o", str(out), "--receipt", str(receipt))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "--receipt", f"is the {target}")
    assert users.read_text(encoding="utf-8") == USERS
    assert not out.exists()


def test_when_the_receipt_cannot_be_written_then_no_output_is_left_without_it(
    initialised: Path, tmp_path: Path
) -> None:
    users, out = tmp_path / "users.csv", tmp_path / "clean.csv"
    users.write_text(USERS, encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = run_cli("optout", "apply", str(users), "-o", str(out), "--receipt", str(blocker / "r.json"))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "receipt")
    assert not out.exists()
