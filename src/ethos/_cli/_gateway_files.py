"""Which gateway.toml and which key store / audit folder a ``ethos gateway`` command uses.

``serve``, ``keys``, ``log``, ``config`` and ``openapi`` resolve them the same way, so a key made by
``ethos gateway keys create`` is the one ``serve`` checks, and ``log verify`` reads the log it writes.
"""

from __future__ import annotations

from pathlib import Path

import typer

CONFIG_OPTION = typer.Option(
    None, "--config", "-c", envvar="ETHOS_GATEWAY_CONFIG", help="gateway.toml [default: ./gateway.toml when it exists]."
)


def config_path(given: Path | None) -> Path | None:
    """``--config`` (or ``ETHOS_GATEWAY_CONFIG``), else ``./gateway.toml`` when it exists, else none."""
    if given is not None:
        return given
    local = Path("gateway.toml")
    return local if local.is_file() else None


def gateway_files(config: Path | None) -> tuple[Path, Path]:
    """The key store and the audit folder that ``config`` (see :func:`config_path`) names, or the defaults."""
    from ethos.gateway._config import default_paths, load_config

    return default_paths(load_config(config_path(config)))
