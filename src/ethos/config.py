"""Settings and their precedence: defaults < ``ethos.toml`` < ``ETHOS_*`` environment < flags.

The configuration file is the first that exists of: ``$ETHOS_CONFIG``, ``./ethos.toml``,
``$ETHOS_HOME/ethos.toml``. It holds run settings only, as top-level keys named like the fields of
:class:`Settings`; unknown keys are errors that name the file and line. Every setting ``name`` can
also be given as the environment variable ``ETHOS_NAME`` (``ETHOS_BATCH_SIZE=8``).

Nothing here is global: callers build a :class:`Settings` with :func:`load_settings` and pass it on.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ethos.errors import ConfigError

__all__ = ["ENV_PREFIX", "Settings", "SettingSource", "config_file", "explain_settings", "load_settings"]

ENV_PREFIX = "ETHOS_"


def _default_home() -> Path:
    return Path("~/.ethos").expanduser()


class Settings(BaseModel):
    """Every setting Ethos reads, with its default.

    Attributes:
        home: Where Ethos keeps its database, cache and keys (``ETHOS_HOME``).
        data_dir: A local copy of benchmark data; when unset, data is downloaded into the cache.
        device: ``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``mps``.
        dtype: Torch dtype for local models; ``auto`` keeps the checkpoint's dtype on GPU, float32 on CPU.
        batch_size: Requests per forward pass for local models.
        timeout: Seconds to wait for a model server before giving up on one attempt.
        max_retries: Retries on HTTP 429/5xx and connection errors, with exponential backoff.
        seed: Seed for sampling and any randomness in a run.
        offline: Never touch the network for model weights or data (hub downloads fail fast).
        energy: Measure each audit's energy with CodeCarbon when it is installed (``ethos[energy]``).
        energy_country: ISO 3166-1 alpha-3 code (``DEU``) whose grid carbon intensity turns kWh into
            CO2e; unset: the world average, 475 gCO2e/kWh.
        energy_intensity: Grid carbon intensity in gCO2e/kWh; overrides ``energy_country``.
        energy_cpu_watts: The CPU's power in watts, when known better than CodeCarbon's TDP table.
        energy_ram_watts: The RAM's power in watts, instead of CodeCarbon's 5 W per assumed DIMM slot.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    home: Path = Field(default_factory=_default_home)
    data_dir: Path | None = None
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    batch_size: int = Field(default=16, ge=1, le=4096)
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=20)
    seed: int = 1234
    offline: bool = False
    energy: bool = True
    energy_country: str | None = None
    energy_intensity: float | None = Field(default=None, ge=0, le=5000)
    energy_cpu_watts: float | None = Field(default=None, gt=0)
    energy_ram_watts: float | None = Field(default=None, gt=0)

    @field_validator("energy_country")
    @classmethod
    def _iso3(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 country code such as DEU, FRA or USA")
        return value.upper()

    @property
    def db_path(self) -> Path:
        """The run database, ``ETHOS_HOME/ethos.db``."""
        return self.home / "ethos.db"

    @property
    def cache_dir(self) -> Path:
        """Downloaded data sets and other re-creatable files."""
        return self.home / "cache"


SettingSource = Literal["default", "file", "env", "flag"]


@dataclass(frozen=True, slots=True)
class _Layer:
    source: SettingSource
    values: Mapping[str, Any]
    origin: str


def config_file(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path | None:
    """Return the configuration file in force, or ``None`` when there is none."""
    env = os.environ if env is None else env
    explicit = env.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{ENV_PREFIX}CONFIG points at {path}, which is not a file; fix or unset it")
        return path
    candidates = [(cwd or Path.cwd()) / "ethos.toml"]
    home = env.get(f"{ENV_PREFIX}HOME")
    candidates.append((Path(home).expanduser() if home else _default_home()) / "ethos.toml")
    return next((p for p in candidates if p.is_file()), None)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve settings from defaults, the config file, the environment and ``flags``.

    Args:
        flags: Values given on the command line; ``None`` values are ignored.
        env: The environment to read (default: ``os.environ``).
        cwd: Where to look for ``ethos.toml`` (default: the working directory).

    Raises:
        ConfigError: Naming the file and line, the variable or the flag whose value is invalid.
    """
    return _resolve(flags, env, cwd)[0]


def explain_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> list[tuple[str, Any, str]]:
    """Return ``(name, value, where it came from)`` for every setting, for ``ethos config show``."""
    settings, layers = _resolve(flags, env, cwd)
    rows = []
    for name in Settings.model_fields:
        origin = "default"
        for layer in layers:
            if name in layer.values:
                origin = layer.origin
        rows.append((name, getattr(settings, name), origin))
    return rows


def _resolve(
    flags: Mapping[str, Any] | None, env: Mapping[str, str] | None, cwd: Path | None
) -> tuple[Settings, list[_Layer]]:
    env = os.environ if env is None else env
    layers: list[_Layer] = []
    path = config_file(env, cwd)
    if path is not None:
        layers.append(_Layer("file", _read_file(path), str(path)))
    env_values = {
        name: env[f"{ENV_PREFIX}{name.upper()}"]
        for name in Settings.model_fields
        if f"{ENV_PREFIX}{name.upper()}" in env and env[f"{ENV_PREFIX}{name.upper()}"] != ""
    }
    layers.append(_Layer("env", env_values, "environment"))
    layers.append(_Layer("flag", {k: v for k, v in (flags or {}).items() if v is not None}, "flag"))
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer.values)
    try:
        return Settings(**merged), layers
    except ValidationError as exc:
        raise ConfigError(_explain_validation(exc, layers)) from None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    for key in data:
        if key not in Settings.model_fields:
            line = _line_of(text, key)
            close = difflib.get_close_matches(key, list(Settings.model_fields), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(Settings.model_fields))
            raise ConfigError(f"{path}:{line}: unknown setting {key!r}.{hint} Known settings: {known}")
    return data


def _line_of(text: str, key: str) -> int:
    pattern = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _explain_validation(exc: ValidationError, layers: list[_Layer]) -> str:
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "?"
    where = f"setting {name!r}"
    for layer in layers:  # the last layer that set the value is the one to blame
        if name not in layer.values:
            continue
        if layer.source == "file":
            line = _line_of(Path(layer.origin).read_text(encoding="utf-8"), name)
            where = f"{layer.origin}:{line} (setting {name!r})"
        elif layer.source == "env":
            where = f"environment variable {ENV_PREFIX}{name.upper()}"
        else:
            where = f"flag --{name.replace('_', '-')}"
    return f"invalid value in {where}: {first['msg']}"
