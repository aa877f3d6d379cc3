"""``ethos gateway log verify|tail`` through the real entry point, on logs written by the real AuditLog."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ethos.gateway._auditlog import AuditLog
from tests.helpers.cli import run_cli


def _write(directory: Path, n: int, *, key: bytes | None = None, start: int = 0) -> None:
    with AuditLog(directory, key=key, rotate_bytes=4096) as log:
        for i in range(start, start + n):
            log.append(
                {
                    "request_id": f"req-{i}",
                    "key_id": "k_ci",
                    "route": "/api/chat",
                    "model": "tiny[1b]",
                    "status": 200 if i % 2 else 429,
                    "reason": None if i % 2 else "limits.rpm",
                    "latency_ms": 2.5,
                    "content": {"prompt": [f"secret prompt {i}"], "answer": "ok"},
                }
            )


def test_when_the_log_is_intact_then_verify_prints_ok_and_exits_0(tmp_path: Path) -> None:
    _write(tmp_path / "audit", 40)
    result = run_cli("gateway", "log", "verify", "--dir", str(tmp_path / "audit"))
    assert result.exit_code == 0, result.stderr
    head = json.loads((tmp_path / "audit" / "audit.head").read_text())["hash"]
    files = len(list((tmp_path / "audit").glob("audit-*.jsonl")))
    assert result.stdout.strip() == f"OK: 40 entries in {files} files, head {head}"


def test_when_an_entry_was_edited_then_verify_names_it_on_one_line_and_exits_1(tmp_path: Path) -> None:
    _write(tmp_path / "audit", 5)
    path = tmp_path / "audit" / "audit-000001.jsonl"
    path.write_bytes(path.read_bytes().replace(b"req-3", b"req-9"))
    result = run_cli("gateway", "log", "verify", "--dir", str(tmp_path / "audit"))
    assert result.exit_code == 1
    assert result.stdout.strip() == "FAILED: audit-000001.jsonl:4 (seq 4): hash does not match its content (edited?)"
    as_json = run_cli("gateway", "log", "verify", "--dir", str(tmp_path / "audit"), "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert (report["ok"], report["entries"], report["first_bad"]["line"], report["first_bad"]["seq"]) == (
        False,
        3,
        4,
        4,
    )


def test_when_the_folder_is_missing_then_verify_prints_one_error_line_and_exits_2(tmp_path: Path) -> None:
    result = run_cli("gateway", "log", "verify", "--dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nowhere does not exist" in result.stderr


def test_when_no_dir_is_given_then_env_beats_config_and_config_beats_the_home_default(
    tmp_path: Path, ethos_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(ethos_home / "gateway" / "audit", 1)
    _write(tmp_path / "from-config", 2)
    _write(tmp_path / "from-env", 3)
    _write(tmp_path / "from-local", 4)
    config = tmp_path / "other.toml"
    config.write_text('[audit]\ndir = "from-config"\n', encoding="utf-8")

    def entries(*args: str) -> int:
        result = run_cli("gateway", "log", "verify", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return int(json.loads(result.stdout)["entries"])

    assert entries() == 1
    assert entries("--config", str(config)) == 2
    # As for serve: ./gateway.toml when it exists, and ETHOS_GATEWAY_CONFIG.
    (tmp_path / "gateway.toml").write_text('[audit]\ndir = "from-local"\n', encoding="utf-8")
    assert entries() == 4
    monkeypatch.setenv("ETHOS_GATEWAY_CONFIG", str(config))
    assert entries() == 2
    monkeypatch.setenv("ETHOS_GATEWAY_AUDIT_DIR", str(tmp_path / "from-env"))
    assert entries("--config", str(config)) == 3
    assert entries("--dir", str(tmp_path / "from-config")) == 2


def test_when_tailing_then_the_newest_entries_show_as_a_table_or_json_lines(tmp_path: Path) -> None:
    _write(tmp_path / "audit", 30)
    result = run_cli("gateway", "log", "tail", "-n", "3", "--dir", str(tmp_path / "audit"))
    assert result.exit_code == 0, result.stderr
    for text in ("request id", "latency ms", "req-27", "req-29", "tiny[1b]", "limits.rpm"):
        assert text in result.stdout, text
    assert "req-26" not in result.stdout
    lines = run_cli("gateway", "log", "tail", "-n", "5", "--json", "--dir", str(tmp_path / "audit")).stdout
    entries = [json.loads(line) for line in lines.splitlines()]
    assert [e["seq"] for e in entries] == [26, 27, 28, 29, 30]


def test_when_content_is_encrypted_then_tail_shows_it_only_with_the_key_file(tmp_path: Path) -> None:
    from ethos.gateway._auditlog import load_key
    from ethos.pii.anonymize import write_key_file

    key_file = tmp_path / "audit.key"
    write_key_file(key_file)
    _write(tmp_path / "audit", 2, key=load_key(key_file))
    base = ("gateway", "log", "tail", "--json", "--dir", str(tmp_path / "audit"))
    sealed = json.loads(run_cli(*base).stdout.splitlines()[-1])["content"]
    assert set(sealed) == {"enc", "alg"}
    opened = run_cli(*base, "--key-file", str(key_file))
    assert opened.exit_code == 0, opened.stderr
    assert json.loads(opened.stdout.splitlines()[-1])["content"] == {"prompt": ["secret prompt 1"], "answer": "ok"}
    table_args = ("gateway", "log", "tail", "--dir", str(tmp_path / "audit"))
    assert "secret prompt 1 → ok" in run_cli(*table_args, "--key-file", str(key_file)).stdout
    sealed_table = run_cli(*table_args).stdout
    assert "(encrypted" in sealed_table and "secret prompt" not in sealed_table
    os.chmod(key_file, 0o644)
    refused = run_cli(*base, "--key-file", str(key_file))
    assert refused.exit_code == 2 and "chmod 600" in refused.stderr


def test_when_following_then_new_entries_print_until_ctrl_c_and_exit_0(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    _write(folder, 2)
    proc = subprocess.Popen(  # noqa: S603 - fixed interpreter, test-controlled arguments
        [sys.executable, "-m", "ethos._cli.main", "gateway", "log", "tail", "-n", "1", "--follow", "--json"]
        + ["--poll", "0.05", "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline())["seq"] == 2
        _write(folder, 3, start=2)
        seen = [json.loads(proc.stdout.readline())["seq"] for _ in range(3)]
        assert seen == [3, 4, 5]
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == "" and "Traceback" not in err


def test_when_the_expected_head_is_missing_then_verify_exits_1(tmp_path: Path) -> None:
    _write(tmp_path / "audit", 3)
    head = json.loads(run_cli("gateway", "log", "verify", "--dir", str(tmp_path / "audit"), "--json").stdout)["head"]
    ok = run_cli("gateway", "log", "verify", "--dir", str(tmp_path / "audit"), "--expect-head", head)
    assert ok.exit_code == 0, ok.stdout
    bad = run_cli("gateway", "log", "verify", "--dir", str(tmp_path / "audit"), "--expect-head", "ab" * 32)
    assert bad.exit_code == 1 and "no entry has the expected head" in bad.stdout
