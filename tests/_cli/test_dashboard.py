"""``ethos dashboard``: host refusal, start-up errors, and a real server stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from ethos.errors import ConfigError  # noqa: E402
from ethos.reports.dashboard import check_host, is_loopback  # noqa: E402
from tests.helpers.cli import run_cli  # noqa: E402
from tests.reports._dashboard_data import RULES, build_database  # noqa: E402

PUBLIC = "0.0.0.0"  # noqa: S104 - the address the dashboard must refuse without --host


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        (PUBLIC, False),
        ("192.168.1.20", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_when_classifying_hosts_then_only_this_machine_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_when_a_public_host_is_explicit_then_it_is_allowed_with_a_warning() -> None:
    assert check_host("127.0.0.1", 8765, explicit=False) is None
    warning = check_host(PUBLIC, 8765, explicit=True)
    assert warning is not None and "0.0.0.0:8765" in warning and "no login" in warning
    with pytest.raises(ConfigError, match="pass --host 0.0.0.0 explicitly"):
        check_host(PUBLIC, 8765, explicit=False)


def test_when_the_environment_names_a_public_host_then_the_command_refuses(
    ethos_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_database(ethos_home / "ethos.db")
    monkeypatch.setenv("ETHOS_DASHBOARD_HOST", PUBLIC)
    result = run_cli("dashboard", "--port", "0")
    assert result.exit_code == 2
    assert "refusing to serve the dashboard on '0.0.0.0'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_when_there_are_no_runs_yet_then_the_command_says_so(ethos_home: Path) -> None:
    result = run_cli("dashboard", "--port", "0")
    assert result.exit_code == 2
    assert "no run database" in result.stderr and "Traceback" not in result.stderr
    assert not ethos_home.exists()


def test_when_the_rules_file_is_invalid_then_the_command_names_its_line(ethos_home: Path, tmp_path: Path) -> None:
    build_database(ethos_home / "ethos.db")
    rules = tmp_path / "gates.toml"
    rules.write_text('[[rule]]\nbenchmark = "stereoset"\nmetric = "ss"\nmax = "high"\n', encoding="utf-8")
    result = run_cli("dashboard", "--port", "0", "--rules", str(rules))
    assert result.exit_code == 2
    assert f"{rules}:4: rule 1, field 'max'" in result.stderr


def test_when_the_port_is_taken_then_the_command_says_so(ethos_home: Path) -> None:
    build_database(ethos_home / "ethos.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("dashboard", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1:" in result.stderr


def _wait_for_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "Ethos dashboard at " in line:
            return line.split("Ethos dashboard at ", 1)[1].split()[0]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the dashboard did not start: {proc.stderr.read() if proc.stderr else ''}")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_when_serving_then_pages_load_the_browser_opens_and_a_signal_stops_cleanly(
    ethos_home: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    build_database(ethos_home / "ethos.db")
    rules = tmp_path / "gates.toml"
    rules.write_text(RULES, encoding="utf-8")
    opened = tmp_path / "opened.txt"
    # Python's webbrowser runs $BROWSER with %s replaced by the URL: a stand-in that records it.
    browser = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'w').write(sys.argv[2])\" {opened} %s"
    proc = subprocess.Popen(  # noqa: S603 - fixed interpreter, test-controlled arguments
        [sys.executable, "-m", "ethos._cli.main", "dashboard", "--port", "0", "--rules", str(rules), "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", "BROWSER": browser},
    )
    try:
        url = _wait_for_url(proc)
        assert url.startswith("http://127.0.0.1:")
        page = httpx.get(url, timeout=10, trust_env=False)
        assert page.status_code == 200 and "stereoset ss at most 0.6" in page.text
        deadline = time.monotonic() + 20
        while not (opened.exists() and opened.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == url
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "dashboard stopped" in out
    assert "Traceback" not in err
