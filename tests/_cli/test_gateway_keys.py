"""``ethos gateway keys``: create, list and revoke through the real entry point."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ethos._cli.gateway_keys import parse_expiry
from ethos.errors import ConfigError, RequestRefused
from ethos.gateway._keys import KeyStore
from tests.helpers.cli import assert_one_line_error, run_cli, run_cli_subprocess


def _create(*args: str) -> dict:
    result = run_cli("gateway", "keys", "create", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_when_creating_then_the_token_is_printed_once_and_works_against_the_store(ethos_home: Path) -> None:
    result = run_cli("gateway", "keys", "create", "ci", "--model", "llama3*", "--rpm", "30")
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("eth_")
    assert len(result.stdout.strip().splitlines()) == 1  # only the token on stdout
    assert "cannot be shown again" in result.stderr
    assert "llama3*" in result.stderr
    db = ethos_home / "gateway" / "keys.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    store = KeyStore(db)
    key = store.authenticate(token)
    assert (key.name, key.models, key.requests_per_minute) == ("ci", ("llama3*",), 30)
    with pytest.raises(RequestRefused, match="auth.model_not_allowed|may not use model"):
        store.authorize(key, "chat", "qwen2.5")


def test_when_creating_as_json_then_one_object_with_token_and_scopes(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    created = _create(
        "bot",
        "--db",
        str(db),
        "--model",
        "a",
        "--model",
        "b*",
        "--endpoint",
        "embedding",
        "--tpm",
        "0",
        "--max-parallel",
        "2",
        "--no-content-log",
        "--expires",
        "30d",
    )
    assert created["name"] == "bot"
    assert created["models"] == ["a", "b*"]
    assert created["endpoints"] == ["embedding"]
    assert (created["tokens_per_minute"], created["max_parallel"], created["requests_per_minute"]) == (0, 2, None)
    assert created["log_content"] is False
    expires = datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert KeyStore(db).authenticate(created["token"]).key_id == created["key_id"]


def test_when_admin_is_asked_then_the_key_may_use_admin_routes(tmp_path: Path) -> None:
    created = _create("root", "--admin", "--db", str(tmp_path / "k.db"))
    assert created["admin"] is True
    assert "admin" in created["endpoints"]


def test_when_listing_then_no_token_or_hash_appears_and_revoked_keys_need_all(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    kept = _create("kept", "--db", db)
    gone = _create("gone", "--db", db)
    revoked = run_cli("gateway", "keys", "revoke", "gone", "--db", db)
    assert revoked.exit_code == 0, revoked.stderr
    assert gone["key_id"] in revoked.stdout

    listed = run_cli("gateway", "keys", "list", "--db", db, "--json")
    assert [k["key_id"] for k in json.loads(listed.stdout)] == [kept["key_id"]]
    every = run_cli("gateway", "keys", "list", "--all", "--db", db, "--json")
    statuses = {k["name"]: k["status"] for k in json.loads(every.stdout)}
    assert statuses == {"kept": "active", "gone": "revoked"}

    table = run_cli("gateway", "keys", "list", "--all", "--db", db)
    assert table.exit_code == 0
    for created in (kept, gone):
        assert created["key_id"] in table.stdout
        everything = every.stdout + table.stdout
        assert created["token"] not in everything
        assert created["token"][17:] not in everything
        assert hashlib.sha256(created["token"].encode()).hexdigest() not in everything


def test_when_there_is_no_store_then_list_says_so_and_creates_nothing(ethos_home: Path) -> None:
    result = run_cli("gateway", "keys", "list")
    assert result.exit_code == 0
    assert "no gateway keys" in result.stdout
    assert json.loads(run_cli("gateway", "keys", "list", "--json").stdout) == []
    assert not (ethos_home / "gateway").exists()


def test_when_the_db_comes_from_env_then_it_is_used_and_the_flag_wins_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_db, flag_db = tmp_path / "env.db", tmp_path / "flag.db"
    monkeypatch.setenv("ETHOS_GATEWAY_KEYS", str(env_db))
    _create("from-env")
    _create("from-flag", "--db", str(flag_db))
    assert [k.name for k in KeyStore(env_db).list()] == ["from-env"]
    assert [k.name for k in KeyStore(flag_db).list()] == ["from-flag"]


def test_when_a_config_names_the_store_then_it_is_used_below_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[keys]\npath = "conf-keys.db"\n')
    _create("from-config", "--config", str(config))
    assert [k.name for k in KeyStore(tmp_path / "conf-keys.db").list()] == ["from-config"]
    _create("from-local")  # ./gateway.toml (the cwd) is read without --config, as serve reads it
    assert [k.name for k in KeyStore(tmp_path / "conf-keys.db").list()] == ["from-config", "from-local"]
    monkeypatch.setenv("ETHOS_GATEWAY_KEYS", str(tmp_path / "env.db"))
    _create("from-env", "--config", str(config))
    assert [k.name for k in KeyStore(tmp_path / "env.db").list()] == ["from-env"]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("create", "has space"), ("key name",)),
        (("create", "x", "--endpoint", "pull"), ("endpoint scope", "chat, completion")),
        (("create", "x", "--expires", "soon"), ("--expires", "30d")),
        (("create", "x", "--expires", "2001-01-01"), ("not in the future",)),
        (("revoke", "nobody"), ("'nobody'", "known keys")),
    ],
)
def test_when_input_is_bad_then_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    db = str(tmp_path / "k.db")
    _create("existing", "--db", db)
    result = run_cli("gateway", "keys", *args, "--db", db)
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, *needles)


def test_when_the_name_is_taken_then_one_line_naming_the_existing_id(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    first = _create("ci", "--db", db)
    result = run_cli("gateway", "keys", "create", "ci", "--db", db)
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, first["key_id"], "revoke")


def test_when_the_db_is_not_a_key_store_then_a_real_process_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes, not a database\n" * 20)
    result = run_cli_subprocess("gateway", "keys", "create", "ci", "--db", str(bad))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, str(bad))
    assert bad.read_text().startswith("just some notes")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", datetime(2027, 1, 1, 13, 30, tzinfo=UTC)),
        ("12h", datetime(2027, 1, 2, 0, 0, tzinfo=UTC)),
        ("30d", datetime(2027, 1, 31, 12, 0, tzinfo=UTC)),
        ("2w", datetime(2027, 1, 15, 12, 0, tzinfo=UTC)),
        ("2027-02-01", datetime(2027, 2, 1, tzinfo=UTC)),
        ("2027-02-01T08:00:00+02:00", datetime(2027, 2, 1, 6, 0, tzinfo=UTC)),
    ],
)
def test_when_expiry_is_given_then_durations_count_from_now_and_dates_are_utc(text: str, expected: datetime) -> None:
    assert parse_expiry(text, datetime(2027, 1, 1, 12, 0, tzinfo=UTC)) == expected


@pytest.mark.parametrize("text", ["0d", "2026-12-31", "tomorrow", "5y"])
def test_when_expiry_is_past_or_unreadable_then_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="--expires"):
        parse_expiry(text, datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
