"""The gateway's settings: one pydantic model per ``gateway.toml`` section, all ``extra="forbid"``.

Every field has a safe default, so an empty file (or none) gives a loopback-only gateway in front of
a local Ollama with keys required, limits on and the PII guard off. ``load_config`` reads the TOML
and reports mistakes with the file, line and field path.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ethos._util.serving import is_loopback
from ethos.errors import ConfigError
from ethos.gateway._toml_lines import locate
from ethos.gateway._types import Endpoint, Format


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Section):
    """``[server]``: where and how the gateway listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8400, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Plain HTTP on a non-loopback address sends keys and prompts in clear text: refused unless asked for.
    allow_plaintext_remote: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_concurrency: int = Field(default=256, ge=1)
    graceful_timeout_s: float = Field(default=30.0, ge=0)
    require_keys: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self


class UpstreamConfig(_Section):
    """``[upstream]``: the model server the gateway forwards to."""

    kind: Format = "ollama"
    url: str = "http://127.0.0.1:11434"
    # The upstream's own key is read from this environment variable, never written in the file.
    api_key_env: str | None = None
    connect_timeout_s: float = Field(default=5.0, gt=0)
    timeout_s: float = Field(default=300.0, gt=0)
    # When non-empty, only these public model names are served (after aliases).
    models: tuple[str, ...] = ()
    # Public name -> upstream name.
    aliases: dict[str, str] = Field(default_factory=dict)


class KeysConfig(_Section):
    """``[keys]``: where key hashes live (default ``ETHOS_HOME/gateway/keys.db``)."""

    path: Path | None = None


class LimitsConfig(_Section):
    """``[limits]``: per-key defaults; a key's own limits override them. ``0`` means unlimited."""

    requests_per_minute: int = Field(default=600, ge=0)
    tokens_per_minute: int = Field(default=200_000, ge=0)
    max_parallel: int = Field(default=0, ge=0)


class PiiConfig(_Section):
    """``[pii]``: placeholders before the upstream, restored for the caller; answers masked."""

    enabled: bool = False
    entities: tuple[str, ...] | None = None
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # None: patterns only (fast, no NER); a spaCy pipeline name adds names, places, organisations.
    spacy_model: str | None = None
    restore: bool = True
    mask_answers: bool = True
    answer_operator: Literal["mask", "placeholder", "redact"] = "mask"
    # Streamed answers are held back at most this many characters while a value may be incomplete.
    stream_holdback: int = Field(default=64, ge=16, le=4096)
    # Prompt texts scanned lately are not scanned again (a chat resends its system prompt and its
    # whole history every turn); entries hold a digest and offsets, never text. 0 turns it off.
    prompt_cache: int = Field(default=4096, ge=0, le=1_000_000)


class RuleConfig(_Section):
    """``[[policy.rules]]``: one regular-expression rule."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    pattern: str
    action: Literal["block", "redact", "flag"] = "block"
    applies_to: Literal["prompt", "answer", "both"] = "both"
    ignore_case: bool = True


class PolicyConfig(_Section):
    """``[policy]``: deny-lists, rules, size caps and model-free heuristics."""

    deny_list: tuple[str, ...] = ()
    rules: tuple[RuleConfig, ...] = ()
    max_prompt_tokens: int = Field(default=0, ge=0)
    max_answer_tokens: int = Field(default=0, ge=0)
    prompt_injection: Literal["off", "flag", "block"] = "flag"
    secrets: Literal["off", "flag", "redact", "block"] = "redact"
    system_prompt_leak: Literal["off", "flag", "block"] = "flag"


class DisclaimerConfig(_Section):
    """``[disclaimer]``: tell people they talk to an AI (EU AI Act Art. 50(1))."""

    text: str = ""
    system_prompt: bool = False
    response_field: bool = True


class CitationsConfig(_Section):
    """``[citations]``: normalise RAG citations into OpenAI ``annotations``."""

    enabled: bool = True
    verify_spans: bool = True


class AuditConfig(_Section):
    """``[audit]``: the hash-chained audit log."""

    enabled: bool = True
    # Default ETHOS_HOME/gateway/audit.
    dir: Path | None = None
    content: Literal["redacted", "hash", "none"] = "redacted"
    # A 32-byte key file (``ethos pii keygen`` writes one): content is then AES-256-GCM encrypted at rest.
    encrypt_key_file: Path | None = None
    rotate_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)


class GatewayConfig(_Section):
    """The whole ``gateway.toml``."""

    server: ServerConfig = ServerConfig()
    upstream: UpstreamConfig = UpstreamConfig()
    keys: KeysConfig = KeysConfig()
    limits: LimitsConfig = LimitsConfig()
    pii: PiiConfig = PiiConfig()
    policy: PolicyConfig = PolicyConfig()
    disclaimer: DisclaimerConfig = DisclaimerConfig()
    citations: CitationsConfig = CitationsConfig()
    audit: AuditConfig = AuditConfig()


SCOPE_ENDPOINTS: tuple[Endpoint, ...] = ("chat", "completion", "embedding", "models")
"""What a key may use when it is created without ``--endpoint`` (``admin`` must be asked for)."""


# -- loading ``gateway.toml`` ---------------------------------------------------------------------

# Path fields: relative values in the file are taken relative to the file's folder.
_PATH_FIELDS = (("server", "tls_cert"), ("server", "tls_key"), ("keys", "path"), ("audit", "dir"),
                ("audit", "encrypt_key_file"))  # fmt: skip


def load_config(path: Path | None, *, overrides: Mapping[str, Any] | None = None) -> GatewayConfig:
    """Read ``gateway.toml`` (or only the defaults when ``path`` is ``None``) and apply ``overrides``.

    Args:
        path: The TOML file; relative paths inside it are taken relative to its folder.
        overrides: Dotted keys from flags or the environment (``{"server.port": 9000}``) applied
            on top of the file; ``None`` values are ignored.

    Returns:
        The validated settings, after cross-field checks (TLS for remote hosts, the upstream URL,
        readable TLS and key files).

    Raises:
        ConfigError: Naming the file, the line and the field (``gateway.toml:12: [limits]
            requests_per_minute: must be ≥ 0 (got -5)``) and what is allowed.
    """
    text, data = ("", {}) if path is None else _read_toml(path)
    applied: dict[str, Any] = {}
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(data, dotted, value)
            applied[dotted] = value
    try:
        config = GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, path, text, applied) from None
    _check(config, _Where(path, text, applied))
    return config


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; `ethos gateway config init {path}` writes a commented one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message names the line and column
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    base = path.parent
    for section, name in _PATH_FIELDS:
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(name), str):
            value = Path(table[name]).expanduser()
            table[name] = str(value if value.is_absolute() else base / value)
    return text, data


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *tables, name = dotted.split(".")
    node = data
    for table in tables:
        child = node.setdefault(table, {})
        if not isinstance(child, dict):
            raise ConfigError(f"setting {dotted}: {table} is not a table in the config file")
        node = child
    node[name] = value


@dataclass(frozen=True)
class _Where:
    """Where settings came from, to name the file and line (or the flag) in an error."""

    path: Path | None
    text: str
    overrides: Mapping[str, Any]

    def at(self, loc: Sequence[str | int]) -> str:
        """``gateway.toml:12: [limits] requests_per_minute`` or ``--port/env server.port``."""
        field = _field_path(loc)
        dotted = ".".join(str(p) for p in loc)
        if dotted in self.overrides:
            return f"{dotted} (set by a flag or an ETHOS_GATEWAY_* variable)"
        if self.path is None:
            return field
        line = locate(self.text, loc)
        return f"{self.path}{f':{line}' if line else ''}: {field}"


def _field_path(loc: Sequence[str | int]) -> str:
    names = [str(p) for p in loc if isinstance(p, str)]
    index = next((p for p in loc if isinstance(p, int)), None)
    if len(names) <= 1:
        return f"[{names[0]}]" if names else "(top level)"
    table = ".".join(names[:-1]) if index is None else f"{'.'.join(names[:-1])} #{index + 1}"
    if index is not None and len(names) == 2:
        return f"[{table}]"
    return f"[{table}] {names[-1]}"


def _explain(exc: ValidationError, path: Path | None, text: str, overrides: Mapping[str, Any]) -> ConfigError:
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a typo explains the rest
    first = errors[0]
    loc = [p for p in first["loc"] if isinstance(p, int) or not _union_tag(p)]
    where = _Where(path, text, overrides)
    more = len(errors) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    if first["type"] == "extra_forbidden":
        return ConfigError(f"{where.at(loc)}: {_unknown(loc)}{tail}")
    return ConfigError(f"{where.at(loc)}: {_message(first)}{tail}")


def _union_tag(part: str | int) -> bool:
    return isinstance(part, str) and (part in ("str", "int", "float", "bool") or "[" in part)


def _unknown(loc: Sequence[str | int]) -> str:
    """``unknown key 'prot'; did you mean 'port'?`` with the known keys of that table."""
    model: type[BaseModel] = GatewayConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[str(part)].annotation
        model = next((t for t in (annotation, *get_args(annotation)) if isinstance(t, type) and
                      issubclass(t, BaseModel)), model)  # fmt: skip
    known = list(model.model_fields)
    name = str(loc[-1])
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ";"
    kind = "section" if len(loc) == 1 else "key"
    return f"unknown {kind} {name!r}{hint} allowed: {', '.join(known)}"


def _message(error: Any) -> str:
    kind, ctx, got = error["type"], error.get("ctx") or {}, error.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
    bounds = {"greater_than_equal": ("≥", "ge"), "less_than_equal": ("≤", "le"), "greater_than": (">", "gt"),
              "less_than": ("<", "lt")}  # fmt: skip
    if kind in bounds:
        sign, key = bounds[kind]
        return f"must be {sign} {ctx.get(key)}{shown}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{shown}"
    if kind == "missing":
        return "is required; add it"
    if kind.startswith(("int_", "float_", "bool_", "string_type", "path_type", "tuple_type", "dict_type")):
        expected = {"int": "a whole number", "flo": "a number", "boo": "true or false", "str": "a string",
                    "pat": "a path string", "tup": "a list", "dic": "a table"}[kind[:3]]  # fmt: skip
        return f"must be {expected}{shown}"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}{shown}"
    return str(error["msg"]).removeprefix("Value error, ") + shown


def _check(config: GatewayConfig, where: _Where) -> None:
    """Checks across fields that pydantic cannot express per field."""
    server, upstream = config.server, config.upstream
    tls = server.tls_cert is not None
    if not tls and not server.allow_plaintext_remote and not is_loopback(server.host):
        raise ConfigError(
            f"{where.at(('server', 'host'))}: {server.host!r} is reachable from other machines, and without TLS "
            "API keys, prompts and answers cross the network in clear text. Give [server] tls_cert and tls_key "
            "(or --tls-self-signed), or set allow_plaintext_remote = true when a TLS proxy in front terminates it"
        )
    if not server.require_keys and not is_loopback(server.host):
        raise ConfigError(
            f"{where.at(('server', 'require_keys'))}: keys are off on {server.host!r}, which other machines can "
            "reach, so anyone there could use the model. Turning keys off (--no-keys) is for local development "
            "on 127.0.0.1 only; create keys with `ethos gateway keys create` instead"
        )
    url = urlsplit(upstream.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(
            f"{where.at(('upstream', 'url'))}: must be an http:// or https:// URL with a host, "
            f"such as http://127.0.0.1:11434 (got {upstream.url!r})"
        )
    for name in ("tls_cert", "tls_key"):
        _readable(getattr(server, name), where, ("server", name))
    _readable(config.audit.encrypt_key_file, where, ("audit", "encrypt_key_file"),
              fix="`ethos pii keygen` writes a 32-byte key file")  # fmt: skip


def _readable(path: Path | None, where: _Where, loc: tuple[str, str], fix: str = "") -> None:
    if path is None:
        return
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
        raise ConfigError(f"{where.at(loc)}: {path} cannot be read ({reason}){'; ' + fix if fix else ''}") from None


def default_paths(config: GatewayConfig) -> tuple[Path, Path]:
    """The key database and the audit folder: ``[keys] path`` / ``[audit] dir``, else under ``ETHOS_HOME/gateway``."""
    from ethos.config import load_settings

    home = load_settings().home / "gateway"
    return (config.keys.path or home / "keys.db", config.audit.dir or home / "audit")
