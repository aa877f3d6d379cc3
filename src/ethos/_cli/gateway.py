"""``ethos gateway``: serve a model behind keys, TLS, limits and guards; manage keys and the audit log.

Every ``serve`` flag is also an ``ETHOS_GATEWAY_<NAME>`` variable; precedence is defaults <
``gateway.toml`` < environment < flags. Heavy imports (uvicorn, starlette, cryptography, the
gateway itself) happen inside the commands so ``ethos --help`` stays fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from ethos._cli import gateway_keys, gateway_log
from ethos._cli._common import JSON_OPTION
from ethos._cli._gateway_files import CONFIG_OPTION, config_path
from ethos._cli._output import console, emit_json, err_console
from ethos.errors import ConfigError

app = typer.Typer(
    help="Serve any local LLM behind API keys, TLS, limits, PII and policy guards, and an audit log.",
    no_args_is_help=True,
)
app.add_typer(gateway_keys.app, name="keys")
app.add_typer(gateway_log.app, name="log")
config_app = typer.Typer(help="Check the effective gateway settings, or write a commented gateway.toml.")
app.add_typer(config_app, name="config", no_args_is_help=True)

_E = "ETHOS_GATEWAY_"


HOST_OPTION = typer.Option(None, "--host", envvar=f"{_E}HOST", help="Address to listen on [127.0.0.1].")
PORT_OPTION = typer.Option(None, "--port", envvar=f"{_E}PORT", help="Port (0: any free port) [8400].")
UPSTREAM_OPTION = typer.Option(
    None, "--upstream", envvar=f"{_E}UPSTREAM", help="The model server's URL [http://127.0.0.1:11434]."
)
UPSTREAM_KIND_OPTION = typer.Option(
    None, "--upstream-kind", envvar=f"{_E}UPSTREAM_KIND", help="Its API: openai or ollama [ollama]."
)
TLS_CERT_OPTION = typer.Option(None, "--tls-cert", envvar=f"{_E}TLS_CERT", help="PEM certificate (with --tls-key).")
TLS_KEY_OPTION = typer.Option(None, "--tls-key", envvar=f"{_E}TLS_KEY", help="PEM private key.")
SELF_SIGNED_OPTION = typer.Option(
    False, "--tls-self-signed", envvar=f"{_E}TLS_SELF_SIGNED",
    help="Serve HTTPS with a self-signed certificate kept in ETHOS_HOME/gateway/tls (development).",
)  # fmt: skip
NO_KEYS_OPTION = typer.Option(
    False, "--no-keys", envvar=f"{_E}NO_KEYS", help="Serve without API keys (local development, loopback only)."
)
KEYS_DB_OPTION = typer.Option(
    None, "--keys-db", envvar=f"{_E}KEYS", help="The key store ([keys] path) [ETHOS_HOME/gateway/keys.db]."
)
AUDIT_DIR_OPTION = typer.Option(
    None, "--audit-dir", envvar=f"{_E}AUDIT_DIR", help="The audit log folder ([audit] dir) [ETHOS_HOME/gateway/audit]."
)
PII_OPTION = typer.Option(None, "--pii/--no-pii", envvar=f"{_E}PII", help="Turn the PII guard on or off.")
WORKERS_OPTION = typer.Option(1, "--workers", envvar=f"{_E}WORKERS", min=1, help="Worker processes (only 1).")
LOG_FORMAT_OPTION = typer.Option(
    "json", "--log-format", envvar=f"{_E}LOG_FORMAT", help="json (one object per line) or text, on stderr."
)
INIT_PATH_ARGUMENT = typer.Argument(Path("gateway.toml"), help="Where to write it [./gateway.toml].")
FORCE_OPTION = typer.Option(False, "--force", help="Replace an existing file.")


@app.command()
def serve(  # noqa: PLR0913 - one parameter per command-line option
    config: Path | None = CONFIG_OPTION,
    host: str | None = HOST_OPTION,
    port: int | None = PORT_OPTION,
    upstream: str | None = UPSTREAM_OPTION,
    upstream_kind: str | None = UPSTREAM_KIND_OPTION,
    tls_cert: Path | None = TLS_CERT_OPTION,
    tls_key: Path | None = TLS_KEY_OPTION,
    tls_self_signed: bool = SELF_SIGNED_OPTION,
    no_keys: bool = NO_KEYS_OPTION,
    pii: bool | None = PII_OPTION,
    keys_db: Path | None = KEYS_DB_OPTION,
    audit_dir: Path | None = AUDIT_DIR_OPTION,
    workers: int = WORKERS_OPTION,
    log_format: str = LOG_FORMAT_OPTION,
) -> None:
    """Serve the OpenAI and Ollama APIs in front of a model server until SIGTERM or Ctrl-C."""
    # The gateway scans many small texts concurrently: multi-threaded BLAS (spaCy NER's matrix
    # products) would spin its threads against each other and double the CPU per request. Set
    # before numpy loads; a value the user exported wins.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from ethos._cli.gateway_serve import FLAG_KEYS, resolve
    from ethos._cli.gateway_serve import serve as run_gateway
    from ethos._util.deps import require
    from ethos.config import load_settings

    for module in ("starlette", "uvicorn", "aiohttp", "prometheus_client"):
        require(module, extra="gateway", purpose="ethos gateway serve")
    if workers != 1:
        raise ConfigError(
            "--workers: only 1 is supported: the audit log's hash chain and the rate limits live in one process. "
            "For more throughput run several gateways (each with its own [audit] dir) behind a load balancer"
        )
    if log_format not in ("json", "text"):
        raise ConfigError(f"--log-format must be json or text (got {log_format!r})")
    given = {"host": host, "port": port, "upstream": upstream, "upstream_kind": upstream_kind, "pii": pii,
             "tls_cert": str(tls_cert) if tls_cert else None, "tls_key": str(tls_key) if tls_key else None,
             "keys": str(keys_db) if keys_db else None, "audit_dir": str(audit_dir) if audit_dir else None}  # fmt: skip
    overrides: dict[str, Any] = {FLAG_KEYS[name]: value for name, value in given.items() if value is not None}
    if no_keys:
        overrides["server.require_keys"] = False
    settings = resolve(config_path(config), overrides, self_signed=tls_self_signed, home=load_settings().home)

    def announce(line: str) -> None:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)

    run_gateway(settings, json_logs=log_format == "json", announce=announce)
    err_console.print("ethos gateway stopped", markup=False)


@config_app.command("check")
def config_check(config: Path | None = CONFIG_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Validate gateway.toml (with ETHOS_GATEWAY_* variables on top) and print the effective settings."""
    from ethos._cli.gateway_serve import env_overrides
    from ethos.gateway import load_config

    path = config_path(config)
    settings = load_config(path, overrides=env_overrides())
    values = settings.model_dump(mode="json")
    env_name = settings.upstream.api_key_env
    key_state = None if env_name is None else ("set" if os.environ.get(env_name) else "not set")
    if as_json:
        emit_json({"config_file": str(path) if path else None, "valid": True, "config": values,
                   "upstream_api_key": key_state})  # fmt: skip
        return
    err_console.print(f"{path or 'no gateway.toml (defaults)'}: valid", markup=False)
    for section, fields in values.items():
        console.print(f"[{section}]", markup=False)
        for name, value in fields.items():
            if value is None:  # TOML has no null: an unset optional field is shown as a comment
                console.print(f"# {name} = (not set)", markup=False)
                continue
            shown = json.dumps(value, ensure_ascii=False)
            if name == "api_key_env":
                shown += f"  # {key_state}"
            console.print(f"{name} = {shown}", markup=False)
        console.print("", markup=False)


@config_app.command("init")
def config_init(
    path: Path = INIT_PATH_ARGUMENT,
    force: bool = FORCE_OPTION,
) -> None:
    """Write a commented gateway.toml that shows every setting with its default."""
    from importlib.resources import files

    from ethos._util.atomic import atomic_write_text

    if path.exists() and not force:
        raise ConfigError(f"{path} exists; give --force to replace it")
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name such as {path / 'gateway.toml'}")
    text = files("ethos.gateway").joinpath("example.toml").read_text(encoding="utf-8")
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    err_console.print(f"wrote {path}; check it with: ethos gateway config check --config {path}", markup=False)


@app.command()
def openapi(config: Path | None = CONFIG_OPTION) -> None:
    """Print the gateway's OpenAPI document (JSON) for the settings in gateway.toml."""
    from ethos.gateway import load_config
    from ethos.gateway._openapi import openapi_document

    emit_json(openapi_document(load_config(config_path(config))))
