"""The gateway's settings: one pydantic model per ``gateway.toml`` section, all ``extra="forbid"``.

Every field has a safe default, so an empty file (or none) gives a loopback-only gateway in front of
a local Ollama with keys required, limits on and the PII guard off. ``load_config`` reads the TOML
and reports mistakes with the file, line and field path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
