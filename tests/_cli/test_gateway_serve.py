"""``ethos gateway serve`` and ``ethos gateway config``: refusals before serving, and a real process.

The end-to-end tests run ``ethos gateway serve`` as a subprocess on a free port in front of the
session's tiny-model server, and stop it with SIGTERM while a slow request is in flight.
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ethos.gateway._tls import fingerprint
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.servers import ApiServer

# -- refused before anything listens ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--host", "0.0.0.0"], "clear text"),  # noqa: S104
        (["--host", "0.0.0.0", "--no-keys", "--tls-self-signed"], "keys are off on '0.0.0.0'"),  # noqa: S104
        (["--workers", "2"], "--workers: only 1 is supported"),
        (["--port", "70000"], "server.port (set by a flag or an ETHOS_GATEWAY_* variable): must be ≤ 65535"),
        (["--upstream", "ftp://x"], "must be an http:// or https:// URL"),
        (["--upstream-kind", "vllm"], "must be one of 'openai' or 'ollama'"),
        (["--tls-self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"], "--tls-self-signed writes its own"),
        (["--config", "missing.toml"], "missing.toml: no such file"),
        (["--log-format", "xml"], "--log-format must be json or text"),
    ],
    ids=["plaintext-remote", "no-keys-remote", "workers", "port", "upstream-url", "kind", "tls-both", "no-file", "log"],
)
def test_when_serve_settings_are_unsafe_or_invalid_then_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = run_cli("gateway", "serve", *args)
    assert result.exit_code == 2
    assert expected in assert_one_line_error(result.stderr)


def test_when_the_file_is_wrong_then_serve_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "gateway.toml").write_text("[server]\nport = 1\n\n[limits]\nrequests_per_minut = 5\n")
    result = run_cli("gateway", "serve")  # ./gateway.toml is read when --config is not given
    line = assert_one_line_error(result.stderr)
    assert "gateway.toml:5: [limits] requests_per_minut: unknown key" in line
    assert "did you mean 'requests_per_minute'?" in line


def test_when_file_env_and_flag_disagree_then_env_beats_file_and_flag_beats_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gateway.toml").write_text("[server]\nhost = '127.0.0.1'\nport = 70000\n")
    assert "gateway.toml:3: [server] port: must be ≤ 65535 (got 70000)" in assert_one_line_error(
        run_cli("gateway", "serve").stderr
    )
    monkeypatch.setenv("ETHOS_GATEWAY_PORT", "80000")
    assert "(got 80000)" in assert_one_line_error(run_cli("gateway", "serve").stderr)
    assert "(got 90000)" in assert_one_line_error(run_cli("gateway", "serve", "--port", "90000").stderr)
    monkeypatch.setenv("ETHOS_GATEWAY_PORT", "8400")
    monkeypatch.setenv("ETHOS_GATEWAY_HOST", "0.0.0.0")  # noqa: S104
    assert "clear text" in assert_one_line_error(run_cli("gateway", "serve").stderr)
    # The flag's loopback host passes the TLS check, so the next check (the upstream URL) speaks.
    result = run_cli("gateway", "serve", "--host", "127.0.0.1", "--upstream", "ftp://x")
    assert "upstream.url (set by a flag or an ETHOS_GATEWAY_* variable): must be an http" in assert_one_line_error(
        result.stderr
    )


# -- config init / check ----------------------------------------------------------------------


def test_when_config_is_initialised_then_it_checks_and_is_not_overwritten_without_force(tmp_path: Path) -> None:
    assert run_cli("gateway", "config", "init").exit_code == 0
    written = (tmp_path / "gateway.toml").read_text(encoding="utf-8")
    assert "[audit]" in written and "# " in written
    again = run_cli("gateway", "config", "init")
    assert again.exit_code == 2
    assert "exists; give --force" in assert_one_line_error(again.stderr)
    (tmp_path / "gateway.toml").write_text("edited")
    assert run_cli("gateway", "config", "init", "--force").exit_code == 0
    assert (tmp_path / "gateway.toml").read_text(encoding="utf-8") == written
    check = run_cli("gateway", "config", "check", "--json")
    assert check.exit_code == 0
    assert json.loads(check.stdout)["config"]["server"]["port"] == 8400


def test_when_config_is_checked_then_env_applies_and_the_upstream_key_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gw.toml").write_text("[upstream]\nkind = 'openai'\napi_key_env = 'UPSTREAM_KEY'\n")
    monkeypatch.setenv("UPSTREAM_KEY", "sk-very-secret-value")
    monkeypatch.setenv("ETHOS_GATEWAY_PORT", "9123")
    result = run_cli("gateway", "config", "check", "--config", "gw.toml", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["config"]["upstream"]["kind"] == "openai"
    assert report["config"]["server"]["port"] == 9123
    assert report["upstream_api_key"] == "set"
    text = run_cli("gateway", "config", "check", "--config", "gw.toml")
    assert 'api_key_env = "UPSTREAM_KEY"  # set' in text.stdout
    assert "sk-very-secret-value" not in text.stdout + result.stdout


def test_when_config_check_finds_an_error_then_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "gateway.toml").write_text("[pii]\nthreshold = 2\n")
    result = run_cli("gateway", "config", "check", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "gateway.toml:2: [pii] threshold: must be ≤ 1.0 (got 2)" in assert_one_line_error(result.stderr)


# -- a real process ---------------------------------------------------------------------------


@contextmanager
def gateway_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """Start ``ethos gateway serve --port 0 ...``; yield the process, its URL and its stderr lines."""
    pytest.importorskip("ethos.gateway._app", exc_type=ImportError)  # the app may not have landed yet
    proc = subprocess.Popen(  # noqa: S603 - fixed interpreter, test-controlled arguments
        [sys.executable, "-m", "ethos._cli.main", "gateway", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**os.environ, "COLUMNS": "400"},
    )  # fmt: skip
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith("ethos gateway on "):
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not started.wait(60):
            raise AssertionError("the gateway did not start:\n" + "\n".join(lines))
        url = re.search(r"ethos gateway on (\S+)", lines[-1] if lines else "")
        assert url is not None, lines
        yield proc, url.group(1), lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        reader.join(10)
        assert proc.stderr is not None
        proc.stderr.close()


def test_when_serving_then_a_slow_request_finishes_during_a_sigterm_and_the_exit_is_0(
    ollama_server: ApiServer,
) -> None:
    ollama_server.set_faults(delay=1.5)
    args = ("--upstream", ollama_server.url, "--upstream-kind", "ollama", "--no-keys")
    with gateway_process(*args) as (proc, url, lines):
        assert url.startswith("http://127.0.0.1:")
        assert "upstream ollama " + ollama_server.url in lines[-1]
        assert "API keys OFF" in lines[-1]
        assert httpx.get(url + "/healthz", timeout=10).json()["status"] == "ok"
        answers: list[httpx.Response] = []
        body = {"model": ollama_server.model, "prompt": "hello", "stream": False, "options": {"num_predict": 3}}
        slow = threading.Thread(target=lambda: answers.append(httpx.post(url + "/api/generate", json=body, timeout=30)))
        slow.start()
        time.sleep(0.5)  # the request is now waiting on the upstream's delay
        proc.send_signal(signal.SIGTERM)
        slow.join(30)
        assert proc.wait(30) == 0
    assert answers and answers[0].status_code == 200, answers
    assert answers[0].json()["done"] is True
    assert "ethos gateway stopped" in lines
    events = [json.loads(line) for line in lines if line.startswith("{")]
    request_lines = [e for e in events if e["event"] == "request"]
    assert request_lines and request_lines[-1]["route"] == "/api/generate"
    assert "hello" not in json.dumps(request_lines)  # no prompt content in logs


def test_when_serving_with_a_self_signed_cert_then_https_works_and_the_pin_matches(
    ollama_server: ApiServer, ethos_home: Path
) -> None:
    with gateway_process("--upstream", ollama_server.url, "--tls-self-signed") as (proc, url, lines):
        cert = ethos_home / "gateway" / "tls" / "cert.pem"
        assert url.startswith("https://127.0.0.1:")
        assert f"TLS SHA-256 {fingerprint(cert)}" in lines[-1]
        assert "API keys required" in lines[-1]
        context = ssl.create_default_context(cafile=str(cert))
        answer = httpx.get(url + "/v1/models", verify=context, timeout=10)
        assert answer.status_code == 401  # keys are on and none was given
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_when_openapi_is_asked_then_one_json_document_with_the_routes() -> None:
    pytest.importorskip("ethos.gateway._openapi", exc_type=ImportError)
    result = run_cli("gateway", "openapi")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["openapi"].startswith("3.")
    assert "/v1/chat/completions" in document["paths"]
