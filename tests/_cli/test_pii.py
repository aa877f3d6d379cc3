"""``ethos pii`` through the real entry point: keys, redact, restore, scan, eval, stdin, and no PII leaks."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from pathlib import Path

import pytest

from tests.helpers.cli import CliResult, run_cli, run_cli_subprocess

NO_NER = "--no-ner"


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "pii.key"
    assert run_cli("pii", "keygen", "-o", str(path)).exit_code == 0
    return path


def only_line(result: CliResult) -> str:
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_when_a_key_is_generated_then_it_is_private_and_never_replaced(tmp_path: Path, key: Path) -> None:
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    assert "refusing to replace" in only_line(run_cli("pii", "keygen", "-o", str(key)))
    assert key.read_bytes() == before
    assert run_cli("pii", "keygen", "-o", str(key), "--force").exit_code == 0
    assert key.read_bytes() != before


def test_when_pseudonyms_are_made_twice_with_one_key_then_they_match_and_another_key_differs(
    tmp_path: Path, key: Path
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("write to ann@example.org\nann@example.org again, cc bob@example.org\n")
    other = tmp_path / "other.key"
    run_cli("pii", "keygen", "-o", str(other))
    outs = []
    for i, k in enumerate([key, key, other]):
        out = tmp_path / f"out{i}.txt"
        res = run_cli("pii", "redact", str(src), "-o", str(out), "--operator", "DEFAULT=pseudonym",
                      "--key-file", str(k), NO_NER)
        assert res.exit_code == 0, res.stderr
        outs.append(out.read_text())
    assert outs[0] == outs[1] != outs[2]
    first, second = outs[0].splitlines()
    ann = first.removeprefix("write to ")
    assert ann.startswith("<EMAIL_ADDRESS_") and second.startswith(ann + " again")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", "\ufeffZoë <zoe@example.org>\r\ncall +44 20 7946 0958\r\nnothing\n\nlast a@b.example.com"),
        ("chat.jsonl", json.dumps({"text": "mail zoe@example.org «now»", "n": [1, 2.5]}, ensure_ascii=False) + "\n"),
        ("people.csv", 'name,email\r\n"Ann, Jr",ann@example.org\r\nBob,"b@example.org"\r\n'),
    ],
)
def test_when_values_are_encrypted_then_restore_gives_back_the_identical_file(
    tmp_path: Path, key: Path, name: str, content: str
) -> None:
    src = tmp_path / name
    src.write_bytes(content.encode("utf-8"))
    enc, back = tmp_path / ("enc." + name), tmp_path / ("back." + name)
    columns = ["--columns", "*"] if name.endswith(".csv") else []
    res = run_cli("pii", "redact", str(src), "-o", str(enc), "--operator", "DEFAULT=encrypt", "--key-file", str(key),
                  *columns, NO_NER)
    assert res.exit_code == 0, res.stderr
    assert "⟦ENC:EMAIL_ADDRESS:" in enc.read_text(encoding="utf-8")
    assert "zoe@example.org" not in enc.read_text(encoding="utf-8")
    res = run_cli("pii", "restore", str(enc), "-o", str(back), "--key-file", str(key))
    assert res.exit_code == 0, res.stderr
    assert back.read_bytes() == src.read_bytes()


def test_when_a_token_cannot_be_decrypted_then_restore_names_the_line_and_writes_nothing(
    tmp_path: Path, key: Path
) -> None:
    src, enc = tmp_path / "in.txt", tmp_path / "enc.txt"
    src.write_text("nothing\nmail ann@example.org\n")
    res = run_cli("pii", "redact", str(src), "-o", str(enc), "--operator", "DEFAULT=encrypt", "--key-file", str(key),
                  NO_NER)
    assert res.exit_code == 0, res.stderr
    other = tmp_path / "other.key"
    run_cli("pii", "keygen", "-o", str(other))
    line = only_line(run_cli("pii", "restore", str(enc), "-o", str(tmp_path / "back.txt"), "--key-file", str(other)))
    assert "enc.txt line 2:" in line and "another key or altered" in line
    assert not (tmp_path / "back.txt").exists()


def test_when_the_report_cannot_be_written_then_one_line_says_so(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("mail ann@example.org\n")
    (tmp_path / "file").write_text("")
    report = tmp_path / "file" / "report.json"
    line = only_line(run_cli("pii", "scan", str(src), "--report", str(report), NO_NER))
    assert line.startswith("error: cannot write the report") and "report.json" in line


def test_when_entities_name_no_type_then_it_is_refused_instead_of_finding_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("mail ann@example.org\n")
    line = only_line(run_cli("pii", "redact", str(src), "-o", str(tmp_path / "out.txt"), "--entities", ",", NO_NER))
    assert "--entities" in line and "no entity type" in line
    assert not (tmp_path / "out.txt").exists()


def test_when_restore_has_no_key_then_it_says_how_to_give_one(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("x\n")
    assert "ethos pii keygen" in only_line(run_cli("pii", "restore", str(src), "-o", str(tmp_path / "o.txt")))


def test_when_a_keyed_operator_has_no_key_then_nothing_is_written(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("ann@example.org\n")
    line = only_line(run_cli("pii", "redact", str(src), "-o", str(tmp_path / "o.txt"), "--operator",
                             "PERSON=surrogate", NO_NER))
    assert "'surrogate' needs a secret key" in line and "--key-file" in line
    assert not [p.name for p in tmp_path.iterdir() if "o.txt" in p.name]  # no output, no temp file


def test_when_the_key_file_is_readable_by_others_then_it_is_refused(tmp_path: Path, key: Path) -> None:
    os.chmod(key, 0o644)
    src = tmp_path / "in.txt"
    src.write_text("ann@example.org\n")
    line = only_line(run_cli("pii", "redact", str(src), "-o", str(tmp_path / "o.txt"), "--key-file", str(key)))
    assert f"chmod 600 {key}" in line


def test_when_the_key_and_operators_come_from_the_environment_then_they_are_used(
    tmp_path: Path, key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("ann@example.org\n")
    monkeypatch.setenv("ETHOS_PII_KEY_FILE", str(key))
    monkeypatch.setenv("ETHOS_PII_OPERATORS", "EMAIL=pseudonym:length=12 DEFAULT=redact")
    monkeypatch.setenv("ETHOS_PII_NO_NER", "1")
    res = run_cli("pii", "redact", str(src), "-o", str(tmp_path / "o.txt"))
    assert res.exit_code == 0, res.stderr
    assert re.fullmatch(r"<EMAIL_ADDRESS_[0-9a-f]{12}>\n", (tmp_path / "o.txt").read_text())


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--operator", "PERSON"], "ENTITY=operator"),
        (["--operator", "PERSON=mask:count"], "name=value"),
        (["--operator", "PERSON=mask:count=-2"], "'count'"),
        (["--operator", "PERSON=scramble"], "unknown operator 'scramble'"),
        (["--format", "xml"], "--format 'xml'"),
        (["--in-place", "-o", "x.txt"], "not both"),
    ],
)
def test_when_redact_options_are_wrong_then_one_line_explains(tmp_path: Path, args: list[str], fragment: str) -> None:
    src = tmp_path / "in.txt"
    src.write_text("ann@example.org\n")
    out = [] if "-o" in args or "--in-place" in args else ["-o", str(tmp_path / "o.txt")]
    assert fragment in only_line(run_cli("pii", "redact", str(src), *out, *args, NO_NER))
    assert not (tmp_path / "o.txt").exists()


def test_when_redact_has_no_output_then_it_asks_for_one(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("x\n")
    assert "give -o OUT" in only_line(run_cli("pii", "redact", str(src)))


def test_when_scanning_with_json_then_stdout_is_one_object_with_counts(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"a": "mail x@example.org", "b": "call +1 415 555 0100"}) + "\n")
    res = run_cli("pii", "scan", str(src), "--json", NO_NER)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["entities"] == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert data["fields"] == {"a": {"EMAIL_ADDRESS": 1}, "b": {"PHONE_NUMBER": 1}}
    assert data["output"] is None and data["records"]["read"] == 1


def test_when_scanning_with_show_and_explain_then_findings_are_listed_masked(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("card 4111 1111 1111 1111\n")
    res = run_cli("pii", "scan", str(src), "--show", "--explain", NO_NER)
    assert res.exit_code == 0, res.stderr
    assert "CREDIT_CARD" in res.stdout and "****" in res.stdout
    assert "validated" in res.stdout
    assert "4111" not in res.stdout


def test_when_eval_is_restricted_to_entities_then_gold_of_other_types_is_not_scored(tmp_path: Path) -> None:
    labeled = tmp_path / "gold.jsonl"
    rows = [{"text": "mail ann@example.org, call 555", "spans": [
        {"start": 5, "end": 20, "entity": "EMAIL"}, {"start": 27, "end": 30, "entity": "PHONE"}]}]
    labeled.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = run_cli("pii", "eval", str(labeled), "--entities", "EMAIL", "--json", NO_NER)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["overall"]["recall"] == 1.0 and set(data["per_entity"]) == {"EMAIL_ADDRESS"}


def test_when_eval_runs_with_json_then_the_shape_is_the_documented_one(tmp_path: Path) -> None:
    labeled = tmp_path / "gold.jsonl"
    rows = [
        {"text": "mail ann@example.org now", "spans": [{"start": 5, "end": 20, "entity": "EMAIL"}]},
        {"text": "no pii", "spans": []},
        {"text": "call 555", "spans": [{"start": 5, "end": 8, "entity": "PHONE_NUMBER"}]},
    ]
    labeled.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = run_cli("pii", "eval", str(labeled), "--iou", "0.5", "--json", NO_NER)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) == {"overall", "per_entity", "texts_per_second"}
    assert set(data["overall"]) == {"precision", "recall", "f1", "f2"}
    assert data["overall"]["precision"] == 1.0 and data["overall"]["recall"] == 0.5
    assert data["per_entity"]["EMAIL_ADDRESS"]["f1"] == 1.0
    assert isinstance(data["texts_per_second"], float)
    table = run_cli("pii", "eval", str(labeled), NO_NER)
    assert "entity-agnostic" in table.stdout and "texts/s" in table.stdout


def test_when_reading_stdin_then_the_result_goes_to_stdout() -> None:
    import subprocess
    import sys

    proc = subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-m", "ethos._cli.main", "pii", "redact", "-", NO_NER],
        input=b"mail a@example.org\r\nbye\n",
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"mail <EMAIL_ADDRESS_1>\r\nbye\n"
    assert b"1 changed" in proc.stderr


def test_when_the_cli_fails_on_bad_input_then_there_is_no_traceback() -> None:
    res = run_cli_subprocess("pii", "scan", "/nonexistent/file.txt", NO_NER)
    assert res.exit_code == 2 and res.stderr.startswith("error: cannot read /nonexistent/file.txt")
    assert "Traceback" not in res.stderr


# -- no clear-text PII anywhere ---------------------------------------------------------------------------

PLANTED = ["Margaret Thornton", "margaret.thornton@example.com", "+1 415 555 0132", "4111 1111 1111 1111"]


def _planted_jsonl(path: Path, *, broken: bool) -> Path:
    rows = [
        json.dumps({"text": f"{PLANTED[0]} wrote from {PLANTED[1]}, phone {PLANTED[2]}"}),
        json.dumps({"text": f"card {PLANTED[3]} belongs to {PLANTED[0]}"}),
    ]
    if broken:
        rows.insert(1, '{"text": "' + " ".join(PLANTED) + '"')  # malformed line holding every value
    path.write_text("\n".join(rows) + "\n")
    return path


def test_when_pii_is_planted_then_no_output_channel_shows_it_in_clear(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = _planted_jsonl(tmp_path / "good.jsonl", broken=False)
    bad = _planted_jsonl(tmp_path / "bad.jsonl", broken=True)
    csv_bad = tmp_path / "bad.csv"
    csv_bad.write_text(f'name,email\n"{PLANTED[0]}",{PLANTED[1]}\n"{PLANTED[0]}"x,{PLANTED[1]}\n')
    reports = [tmp_path / f"r{i}.json" for i in range(6)]
    runs = [
        run_cli("pii", "redact", str(good), "-o", str(tmp_path / "o0.jsonl"), "--report", str(reports[0])),
        run_cli("pii", "scan", str(good), "--show", "--explain", "--report", str(reports[1])),
        run_cli("pii", "scan", str(good), "--json", "--report", str(reports[2])),
        run_cli("pii", "redact", str(bad), "-o", str(tmp_path / "o3.jsonl"), "--report", str(reports[3])),
        run_cli("pii", "redact", str(bad), "-o", str(tmp_path / "o4.jsonl"), "--skip-bad", "--report", str(reports[4])),
        run_cli("pii", "redact", str(csv_bad), "-o", str(tmp_path / "o5.csv"), "--report", str(reports[5])),
        run_cli("pii", "redact", str(good), "-o", str(tmp_path / "o6.jsonl"), "--fields", "txt"),
    ]
    assert [r.exit_code for r in runs] == [0, 0, 0, 2, 0, 2, 2]
    assert "line 2: not valid JSON" in runs[3].stderr and "line 3: not valid CSV" in runs[5].stderr
    assert not (tmp_path / "o3.jsonl").exists() and not (tmp_path / "o5.csv").exists()
    assert not reports[3].exists() and not reports[5].exists()
    report = json.loads(reports[4].read_text())
    assert report["records"] == {"read": 2, "changed": 2, "skipped": 1}
    assert report["bad_records"][0]["line"] == 2
    assert "margaret" not in (tmp_path / "o0.jsonl").read_text().lower()  # the names were found too
    channels = [r.stdout for r in runs] + [r.stderr for r in runs] + [caplog.text]
    channels += [p.read_text() for p in reports if p.exists()]
    assert "skipped" in caplog.text  # the log was written, and is checked below
    for value in PLANTED + ["Thornton", "margaret.thornton", "555 0132", "4111"]:
        leaks = [c for c in channels if value.lower() in c.lower()]
        assert not leaks, f"{value!r} appears in clear text: {leaks[0][:300]}"


@pytest.mark.parametrize(
    "deny", ["# names to hide\nPERSON: Zork Quux\n", '{"PERSON": ["Zork Quux"]}'], ids=["lines", "json"]
)
def test_when_allow_and_deny_lists_are_given_then_detection_follows_them(tmp_path: Path, deny: str) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Zork Quux wrote from help@example.org and ann@example.org\n")
    deny_file = tmp_path / "deny.txt"
    deny_file.write_text(deny)
    out = tmp_path / "o.txt"
    res = run_cli("pii", "redact", str(src), "-o", str(out), "--deny-file", str(deny_file),
                  "--allow", "help@example.org", NO_NER)
    assert res.exit_code == 0, res.stderr
    assert out.read_text() == "<PERSON_1> wrote from help@example.org and <EMAIL_ADDRESS_1>\n"


def test_when_the_deny_file_is_malformed_then_the_error_names_its_line(tmp_path: Path) -> None:
    deny_file = tmp_path / "deny.txt"
    deny_file.write_text("PERSON: Zork\njust a value\n")
    src = tmp_path / "in.txt"
    src.write_text("x\n")
    line = only_line(run_cli("pii", "scan", str(src), "--deny-file", str(deny_file), NO_NER))
    assert f"deny file {deny_file} line 2" in line


def test_when_a_run_is_terminated_then_no_partial_output_is_left(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "in.txt"
    src.write_text("mail someone@example.org today\n" * 400_000)
    out = tmp_path / "out.txt"
    proc = subprocess.Popen(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-m", "ethos._cli.main", "pii", "redact", str(src), "-o", str(out), NO_NER,
         "--chunk-size", "100"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.txt.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until it is writing
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr  # like Ctrl-C
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]
