"""``ethos gateway keys``: create, list and revoke the gateway's API keys.

The key store is the first of: ``--db``, ``$ETHOS_GATEWAY_KEYS``, ``[keys] path`` in the file given
with ``--config``, ``$ETHOS_HOME/gateway/keys.db``. The running gateway notices changes within a
second, so a revoked key stops working without a restart. Tokens are printed once, by ``create``,
and never again: only their SHA-256 is stored.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer

from ethos._cli._common import JSON_OPTION
from ethos._cli._gateway_files import CONFIG_OPTION, gateway_files
from ethos._cli._output import console, emit_json, err_console, table
from ethos.errors import ConfigError

if TYPE_CHECKING:
    from ethos.gateway._keys import ApiKey, KeyStore
    from ethos.gateway._types import Endpoint

app = typer.Typer(help="Create, list and revoke gateway API keys (stored only as hashes).", no_args_is_help=True)

ENV_KEYS = "ETHOS_GATEWAY_KEYS"
_DURATION = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

DB_OPTION = typer.Option(
    None,
    "--db",
    envvar=ENV_KEYS,
    help="The key store file [env: ETHOS_GATEWAY_KEYS; default ETHOS_HOME/gateway/keys.db].",
)
MODEL_OPTION = typer.Option(
    None, "--model", help="A model the key may use; fnmatch patterns ('llama3*') allowed (repeatable; default any)."
)
ENDPOINT_OPTION = typer.Option(
    None,
    "--endpoint",
    help="What it may call: chat, completion, embedding, models, admin (repeatable; default all but admin).",
)


@app.command("create")
def create_cmd(  # noqa: PLR0913 - one flag per scope and limit
    name: str = typer.Argument(..., help="A name for the key's holder (unique among active keys), e.g. ci-bot."),
    model: list[str] | None = MODEL_OPTION,
    endpoint: list[str] | None = ENDPOINT_OPTION,
    admin: bool = typer.Option(False, "--admin", help="Also allow Ollama model management routes and /metrics."),
    rpm: int | None = typer.Option(None, "--rpm", min=0, help="Requests per minute (0 unlimited; default [limits])."),
    tpm: int | None = typer.Option(None, "--tpm", min=0, help="Tokens per minute (0 unlimited; default [limits])."),
    max_parallel: int | None = typer.Option(
        None, "--max-parallel", min=0, help="Requests in flight at once (0 unlimited; default [limits])."
    ),
    no_content_log: bool = typer.Option(
        False, "--no-content-log", help="Keep no prompt or answer content in the audit log for this key."
    ),
    expires: str | None = typer.Option(
        None, "--expires", help="When the key stops working: a duration (90m, 12h, 30d, 2w) or a date (2027-01-01)."
    ),
    db: Path | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a key and print its token once (it cannot be shown again)."""
    from ethos.gateway._config import SCOPE_ENDPOINTS

    expires_at = parse_expiry(expires, datetime.now(UTC)) if expires else None
    with _open(db, config, create=True) as store:
        key, token = store.create(
            name,
            models=tuple(model or ("*",)),
            endpoints=cast("tuple[Endpoint, ...]", tuple(endpoint or SCOPE_ENDPOINTS)),
            admin=admin,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
            max_parallel=max_parallel,
            log_content=not no_content_log,
            expires_at=expires_at,
        )
    if as_json:
        emit_json({"key_id": key.key_id, "name": key.name, "token": token, **key.to_dict()})
        return
    # The token alone on stdout, so `ethos gateway keys create ci > ci.token` captures just the token.
    console.print(token, markup=False)
    err_console.print(
        f"created key {key.key_id} ({key.name}) in {store.path}. Store the token above now: "
        "it cannot be shown again (only its hash is kept).",
        markup=False,
    )
    table(None, ("scope", "value"), _scope_rows(key), target=err_console)


@app.command("list")
def list_cmd(
    show_all: bool = typer.Option(False, "--all", help="Also list revoked keys."),
    db: Path | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List keys (ids, names, scopes, limits, status); tokens and hashes are never shown."""
    path = key_store_path(db, config)
    keys: list[ApiKey] = []
    if path.exists():  # no store yet simply means no keys yet
        with _open(db, config, create=False) as store:
            keys = store.list(include_revoked=show_all)
    if as_json:
        emit_json([{**key.to_dict(), "status": _status(key)} for key in keys])
        return
    if not keys:
        console.print(f"no gateway keys in {path}", markup=False)
        return
    rows = [
        (
            key.key_id,
            key.name,
            _status(key),
            _day(key.created_at),
            _day(key.expires_at) if key.expires_at else "never",
            ", ".join(key.models),
            ", ".join(key.endpoints),
            _limits(key),
            "yes" if key.log_content else "no",
        )
        for key in keys
    ]
    columns = ("id", "name", "status", "created", "expires", "models", "endpoints", "rpm/tpm/parallel", "content log")
    table(f"gateway keys in {path}", columns, rows)


@app.command("revoke")
def revoke_cmd(
    key_id_or_name: str = typer.Argument(..., help="The key's id (see `ethos gateway keys list`) or its name."),
    db: Path | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke a key; a running gateway refuses it within a second."""
    with _open(db, config, create=False) as store:
        key = store.revoke(key_id_or_name)
    if as_json:
        emit_json({**key.to_dict(), "status": _status(key)})
        return
    console.print(f"revoked key {key.key_id} ({key.name}) on {_day(key.revoked_at, seconds=True)}", markup=False)


# -- helpers ------------------------------------------------------------------------------------------


def key_store_path(db: Path | None, config: Path | None) -> Path:
    """The key store file: ``--db`` (or ``$ETHOS_GATEWAY_KEYS``) > the gateway.toml's ``[keys] path`` > the default."""
    return db.expanduser() if db is not None else gateway_files(config)[0].expanduser()


@contextlib.contextmanager
def _open(db: Path | None, config: Path | None, *, create: bool) -> Iterator[KeyStore]:
    from ethos.gateway._keys import KeyStore

    store = KeyStore(key_store_path(db, config), create=create)
    try:
        yield store
    finally:
        store.close()


def parse_expiry(text: str, now: datetime) -> datetime:
    """``30d`` (from ``now``), ``2027-01-01`` (midnight UTC) or an ISO datetime, as an aware UTC time.

    Raises:
        ConfigError: The text is neither, or names a time that has passed.
    """
    match = _DURATION.fullmatch(text.strip())
    if match:
        when = now + timedelta(**{_UNITS[match[2]]: int(match[1])})
    else:
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ConfigError(
                f"--expires {text!r} is neither a duration (90m, 12h, 30d, 2w) nor a date (2027-01-01)"
            ) from None
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            parsed = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
        when = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if when <= now:
        raise ConfigError(f"--expires {text!r} is not in the future")
    return when.astimezone(UTC).replace(microsecond=0)


def _status(key: ApiKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "expired" if key.is_expired(datetime.now(UTC)) else "active"


def _day(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def _limit(value: int | None) -> str:
    return "default" if value is None else ("unlimited" if value == 0 else str(value))


def _limits(key: ApiKey) -> str:
    return "/".join(_limit(v) for v in (key.requests_per_minute, key.tokens_per_minute, key.max_parallel))


def _scope_rows(key: ApiKey) -> list[tuple[str, Any]]:
    return [
        ("id", key.key_id),
        ("name", key.name),
        ("models", ", ".join(key.models)),
        ("endpoints", ", ".join(key.endpoints)),
        ("admin", "yes" if key.admin else "no"),
        ("requests per minute", _limit(key.requests_per_minute)),
        ("tokens per minute", _limit(key.tokens_per_minute)),
        ("max parallel", _limit(key.max_parallel)),
        ("content in audit log", "yes" if key.log_content else "no"),
        ("expires", _day(key.expires_at) if key.expires_at else "never"),
    ]
