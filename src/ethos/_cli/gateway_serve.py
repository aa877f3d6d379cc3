"""What ``ethos gateway serve`` does between parsing flags and serving: settings, TLS, the start line.

Settings come from defaults < ``gateway.toml`` < ``ETHOS_GATEWAY_*`` variables < flags (typer
merges the last two; :func:`resolve` lays them over the file). The socket is bound before the start
line is printed, so ``--port 0`` shows the port really chosen and early clients queue.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethos._util.serving import bind, run_until_stopped
from ethos.errors import ConfigError, EthosError

if TYPE_CHECKING:
    from ethos.gateway import GatewayConfig

ENV_PREFIX = "ETHOS_GATEWAY_"
# Flag (its ETHOS_GATEWAY_<NAME> variable) -> the dotted gateway.toml key it overrides.
FLAG_KEYS = {
    "host": "server.host",
    "port": "server.port",
    "upstream": "upstream.url",
    "upstream_kind": "upstream.kind",
    "tls_cert": "server.tls_cert",
    "tls_key": "server.tls_key",
    "pii": "pii.enabled",
    # the same variables the keys and log commands read, so all three open the same files
    "keys": "keys.path",
    "audit_dir": "audit.dir",
}
_WILDCARDS = {"0.0.0.0", "::", ""}  # noqa: S104 - names, not a bind


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The dotted overrides that ``ETHOS_GATEWAY_*`` variables give (for ``config check``)."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {key: environ[f"{ENV_PREFIX}{flag.upper()}"] for flag, key in FLAG_KEYS.items()
                           if environ.get(f"{ENV_PREFIX}{flag.upper()}")}  # fmt: skip
    if environ.get(f"{ENV_PREFIX}NO_KEYS", "").lower() in ("1", "true", "yes", "on"):
        out["server.require_keys"] = False
    return out


def resolve(path: Path | None, overrides: dict[str, Any], *, self_signed: bool, home: Path) -> GatewayConfig:
    """Load the settings; with ``self_signed``, write (or reuse) a certificate for the host first.

    Raises:
        ConfigError: A setting is invalid, or ``--tls-self-signed`` is combined with ``--tls-cert``.
    """
    from ethos.gateway import load_config

    if not self_signed:
        return load_config(path, overrides=overrides)
    if overrides.get("server.tls_cert") or overrides.get("server.tls_key"):
        raise ConfigError("--tls-self-signed writes its own certificate; drop it or drop --tls-cert/--tls-key")
    # A first pass only to learn the host the certificate must name (TLS is not there yet).
    probe = load_config(path, overrides={**overrides, "server.allow_plaintext_remote": True,
                                         "server.tls_cert": None, "server.tls_key": None})  # fmt: skip
    from ethos.gateway._tls import DEFAULT_HOSTS, self_signed_cert

    host = probe.server.host.strip("[]")
    hosts = [*DEFAULT_HOSTS, *([socket.gethostname()] if host in _WILDCARDS else [host])]
    cert, key = self_signed_cert(home / "gateway" / "tls", hosts=list(dict.fromkeys(hosts)))
    return load_config(path, overrides={**overrides, "server.tls_cert": str(cert), "server.tls_key": str(key)})


def start_line(config: GatewayConfig, port: int, guards: list[str], audit_dir: Path | None) -> str:
    """One line for people: where it listens, what it forwards to, keys, guards, audit, TLS pin."""
    server, tls = config.server, config.server.tls_cert is not None
    host = f"[{server.host.strip('[]')}]" if ":" in server.host else server.host
    parts = [
        f"ethos gateway on {'https' if tls else 'http'}://{host}:{port}",
        f"upstream {config.upstream.kind} {config.upstream.url}",
        "API keys required" if server.require_keys else "API keys OFF (local development only)",
        f"guards: {', '.join(guards) if guards else 'none'}",
        f"audit log: {audit_dir}" if audit_dir is not None else "audit log: off",
    ]
    if server.tls_cert is not None:
        from ethos.gateway._tls import fingerprint

        parts.append(f"TLS SHA-256 {fingerprint(server.tls_cert)}")
    return " · ".join(parts)


def serve(config: GatewayConfig, *, json_logs: bool, announce: Any) -> None:
    """Build the app, bind, call ``announce(line)``, and serve until SIGTERM or Ctrl-C.

    Requests in flight get ``[server] graceful_timeout_s`` to finish; then the process returns
    normally (exit 0).

    Raises:
        EthosError: The app's startup failed (its log line says why).
    """
    import uvicorn

    from ethos.gateway import create_app
    from ethos.gateway._config import default_paths
    from ethos.gateway._logging import configure_logging

    logger = configure_logging(config.server.log_level, json=json_logs)
    uv_log = logging.getLogger("uvicorn.error")
    uv_log.handlers, uv_log.propagate = list(logger.handlers), False
    uv_log.setLevel(logging.WARNING)
    app = create_app(config)
    gateway = getattr(app.state, "gateway", None)
    guards = [str(g.name) for g in getattr(gateway, "guards", [])]
    audit_dir = default_paths(config)[1] if config.audit.enabled else None
    sock = bind(config.server.host, config.server.port)
    announce(start_line(config, sock.getsockname()[1], guards, audit_dir))
    server_cfg = config.server
    uv_config = uvicorn.Config(
        app,
        ssl_certfile=str(server_cfg.tls_cert) if server_cfg.tls_cert else None,
        ssl_keyfile=str(server_cfg.tls_key) if server_cfg.tls_key else None,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        ws="none",
        timeout_graceful_shutdown=math.ceil(server_cfg.graceful_timeout_s),
        access_log=False,
        log_config=None,
        lifespan="on",
        server_header=False,
    )
    server = uvicorn.Server(uv_config)
    _run(server, sock)
    if not server.started:
        raise EthosError("the gateway did not start; the log line above says why")


def _run(server: Any, sock: socket.socket) -> None:
    """Run uvicorn; a stop by SIGTERM or Ctrl-C is the normal end, not an error."""
    try:
        run_until_stopped(server, sock)
    finally:
        sys.stderr.flush()
