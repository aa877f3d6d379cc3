"""One API key's public record, its scope checks, and how it is stored as a database row.

Nothing here holds or sees a token; :mod:`ethos.gateway._keys` issues and checks tokens.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from ethos.errors import ConfigError
from ethos.gateway._config import SCOPE_ENDPOINTS
from ethos.gateway._types import ENDPOINTS, Endpoint

__all__ = ["ApiKey", "check_expiry", "check_limit", "check_models", "check_name", "check_endpoints"]

ID_RE = re.compile(r"[0-9a-f]{12}")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,63}")

KEY_COLUMNS = (
    "key_id, name, created_at, expires_at, revoked_at, models, endpoints, admin, "
    "requests_per_minute, tokens_per_minute, max_parallel, log_content"
)
"""The columns :func:`key_from_row` reads and :func:`key_to_row` writes, in order."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One API key's public record: who it is and what it may do (never the token).

    Attributes:
        key_id: The public id (12 hex characters), the middle part of the token.
        name: A human name, unique among keys that are not revoked.
        created_at: When the key was created (UTC).
        expires_at: When it stops working (UTC), or ``None`` for never.
        revoked_at: When it was revoked (UTC), or ``None``.
        models: ``fnmatch`` patterns on the public model name (``llama3*``); ``("*",)`` = any.
        endpoints: What routes it may use (``chat``, ``completion``, ``embedding``, ``models``, ``admin``).
        admin: Admin keys may also use Ollama's model management and ``/metrics``.
        requests_per_minute: Its own limit; ``None`` uses ``[limits]``, ``0`` is unlimited.
        tokens_per_minute: Its own token limit; ``None`` uses ``[limits]``, ``0`` is unlimited.
        max_parallel: Its own cap on concurrent requests; ``None`` uses ``[limits]``, ``0`` is unlimited.
        log_content: ``False``: the audit log keeps no prompt or answer content for this key.
    """

    key_id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    models: tuple[str, ...] = ("*",)
    endpoints: tuple[Endpoint, ...] = SCOPE_ENDPOINTS
    admin: bool = False
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    max_parallel: int | None = None
    log_content: bool = True

    def allows_model(self, model: str) -> bool:
        """Whether ``model`` (the public name the caller asked for) matches one of the key's patterns."""
        return any(pattern == "*" or fnmatch.fnmatchcase(model, pattern) for pattern in self.models)

    def allows_endpoint(self, endpoint: Endpoint) -> bool:
        """Whether the key may use routes of this kind (``admin`` keys also get ``admin``)."""
        return endpoint in self.endpoints or (self.admin and endpoint == "admin")

    def is_expired(self, now: datetime) -> bool:
        """Whether the key's expiry time has passed at ``now``."""
        return self.expires_at is not None and now >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """The key as plain JSON-ready values (for ``--json``); holds no token and no hash."""
        return {
            "key_id": self.key_id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "models": list(self.models),
            "endpoints": list(self.endpoints),
            "admin": self.admin,
            "requests_per_minute": self.requests_per_minute,
            "tokens_per_minute": self.tokens_per_minute,
            "max_parallel": self.max_parallel,
            "log_content": self.log_content,
        }


def key_to_row(key: ApiKey) -> tuple[Any, ...]:
    """The values of :data:`KEY_COLUMNS` for ``key``."""
    return (
        key.key_id,
        key.name,
        iso(key.created_at),
        iso(key.expires_at),
        iso(key.revoked_at),
        json.dumps(list(key.models)),
        json.dumps(list(key.endpoints)),
        int(key.admin),
        key.requests_per_minute,
        key.tokens_per_minute,
        key.max_parallel,
        int(key.log_content),
    )


def key_from_row(row: Sequence[Any]) -> ApiKey:
    """The key stored in a row of :data:`KEY_COLUMNS`."""
    return ApiKey(
        key_id=row[0],
        name=row[1],
        created_at=parse_time(row[2]) or utc_now(),
        expires_at=parse_time(row[3]),
        revoked_at=parse_time(row[4]),
        models=tuple(json.loads(row[5])),
        endpoints=cast("tuple[Endpoint, ...]", tuple(json.loads(row[6]))),
        admin=bool(row[7]),
        requests_per_minute=row[8],
        tokens_per_minute=row[9],
        max_parallel=row[10],
        log_content=bool(row[11]),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def quote_pattern(model: str) -> str:
    return model if re.fullmatch(r"[A-Za-z0-9._:/@+-]+", model) else "'" + model.replace("'", "") + "'"


def check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ConfigError(
            f"key name {name!r} is not valid: use 1-64 letters, digits or . _ @ : + - (starting with a letter or digit)"
        )
    if ID_RE.fullmatch(name):
        raise ConfigError(f"key name {name!r} looks like a key id; choose a name that does not (ids are 12 hex digits)")
    return name


def check_models(models: Iterable[str]) -> tuple[str, ...]:
    patterns = tuple(dict.fromkeys(m.strip() for m in models))
    if not patterns or any(not p or any(c.isspace() for c in p) for p in patterns):
        raise ConfigError(
            f"model patterns must be non-empty names or fnmatch patterns (got {list(patterns)}); '*' is any"
        )
    return ("*",) if "*" in patterns else patterns


def check_endpoints(endpoints: Iterable[str], *, admin: bool) -> tuple[Endpoint, ...]:
    chosen = tuple(dict.fromkeys(endpoints))
    unknown = [e for e in chosen if e not in ENDPOINTS]
    if unknown or not chosen:
        raise ConfigError(f"endpoint scope {unknown or '(empty)'} is not valid; choose from {', '.join(ENDPOINTS)}")
    if admin and "admin" not in chosen:
        chosen = (*chosen, "admin")
    return cast("tuple[Endpoint, ...]", chosen)


def check_limit(field: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or value < 0):
        raise ConfigError(f"{field} must be 0 (unlimited) or a positive whole number, not {value!r}")
    return value


def check_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise ConfigError(f"expiry {expires_at.isoformat()} has no time zone; give an aware datetime (UTC)")
    expires = expires_at.astimezone(UTC)
    if expires <= now:
        raise ConfigError(f"expiry {iso(expires)} is not in the future (now {iso(now)})")
    return expires
