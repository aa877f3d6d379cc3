"""API keys: tokens issued once and stored as hashes, refusals without an oracle, scopes, revocation
seen by a running gateway's store within a second, and the key file's safety."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ethos.errors import ConfigError, RequestRefused, SchemaVersionError, StoreError
from ethos.gateway._keys import ApiKey, KeyStore, parse_key_id

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


class FakeTime:
    """A wall clock and a monotonic clock that tests move by hand."""

    def __init__(self) -> None:
        self.wall = T0
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "private" / "keys.db"


@pytest.fixture
def store(db: Path, clock: FakeTime) -> KeyStore:
    return KeyStore(db, clock=clock.now, monotonic=clock.monotonic)


def refusal(store: KeyStore, token: str | None) -> RequestRefused:
    with pytest.raises(RequestRefused) as info:
        store.authenticate(token)
    return info.value


# -- issuing and storing -------------------------------------------------------------------------------


def test_when_a_key_is_created_then_its_token_has_the_id_and_a_256_bit_secret(store: KeyStore) -> None:
    key, token = store.create("ci")
    prefix, key_id, secret = token[:4], token[4:16], token[17:]
    assert prefix == "eth_"
    assert key_id == key.key_id
    assert len(secret) == 43  # 32 random bytes, URL-safe base64 without padding
    assert parse_key_id(token) == key.key_id
    assert store.authenticate(token) == key


def test_when_a_key_is_created_then_only_the_hash_of_its_token_is_stored(store: KeyStore, db: Path) -> None:
    _, token = store.create("ci")
    raw = db.read_bytes() + (
        db.with_name(db.name + "-wal").read_bytes() if db.with_name(db.name + "-wal").exists() else b""
    )
    secret = token[17:].encode()
    assert secret not in raw
    assert token.encode() not in raw
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT token_hash FROM keys").fetchone()
    assert stored == hashlib.sha256(token.encode()).digest()


def test_when_the_store_is_created_then_the_file_is_0600_and_new_folders_0700(store: KeyStore, db: Path) -> None:
    store.create("ci")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for sidecar in db.parent.iterdir():
        assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600, sidecar.name


def test_when_an_existing_store_is_readable_by_others_then_opening_makes_it_private(db: Path) -> None:
    KeyStore(db).close()
    db.chmod(0o644)
    KeyStore(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_when_two_tokens_are_issued_then_they_differ(store: KeyStore) -> None:
    tokens = {store.create(f"k{i}")[1] for i in range(20)}
    assert len(tokens) == 20
    assert len({parse_key_id(t) for t in tokens}) == 20


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": ""}, "key name"),
        ({"name": "has space"}, "key name"),
        ({"name": "0123456789ab"}, "looks like a key id"),
        ({"name": "ok", "models": ()}, "model patterns"),
        ({"name": "ok", "models": ("a b",)}, "model patterns"),
        ({"name": "ok", "endpoints": ("chat", "pull")}, "endpoint scope"),
        ({"name": "ok", "endpoints": ()}, "endpoint scope"),
        ({"name": "ok", "requests_per_minute": -1}, "requests_per_minute"),
        ({"name": "ok", "expires_at": T0 - timedelta(seconds=1)}, "not in the future"),
        ({"name": "ok", "expires_at": datetime(2030, 1, 1)}, "time zone"),  # noqa: DTZ001 - a naive time on purpose
    ],
)
def test_when_create_gets_bad_values_then_config_error_names_them(store: KeyStore, kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        store.create(**kwargs)
    assert store.list(include_revoked=True) == []


def test_when_an_active_key_has_the_name_then_create_refuses_but_after_revoke_it_may_reuse_it(
    store: KeyStore,
) -> None:
    first, _ = store.create("ci")
    with pytest.raises(ConfigError, match=f"already exists \\(id {first.key_id}\\)"):
        store.create("ci")
    store.revoke("ci")
    second, token = store.create("ci")
    assert second.key_id != first.key_id
    assert store.authenticate(token) == second


def test_when_admin_is_asked_then_admin_joins_the_endpoints(store: KeyStore) -> None:
    plain, _ = store.create("plain")
    admin, _ = store.create("root", admin=True)
    assert plain.endpoints == ("chat", "completion", "embedding", "models")
    assert admin.endpoints == ("chat", "completion", "embedding", "models", "admin")


def test_when_listing_then_revoked_keys_appear_only_with_include_revoked(store: KeyStore, clock: FakeTime) -> None:
    a, _ = store.create("a", models=("llama3*", "qwen*"), requests_per_minute=5, log_content=False)
    clock.advance(1)
    b, _ = store.create("b")
    store.revoke(b.key_id)
    assert [k.key_id for k in store.list()] == [a.key_id]
    listed = store.list(include_revoked=True)
    assert [k.key_id for k in listed] == [a.key_id, b.key_id]
    assert listed[0] == a
    assert listed[1].revoked_at == T0 + timedelta(seconds=1)


def test_when_revoking_an_unknown_key_then_the_error_lists_the_known_ids(store: KeyStore) -> None:
    key, _ = store.create("ci")
    with pytest.raises(ConfigError, match=f"'nope'.*{key.key_id} \\(ci\\)"):
        store.revoke("nope")


def test_when_revoking_twice_then_the_first_time_is_kept(store: KeyStore, clock: FakeTime) -> None:
    key, _ = store.create("ci")
    first = store.revoke(key.key_id)
    clock.advance(60)
    again = store.revoke(key.key_id)
    assert again.revoked_at == first.revoked_at == T0


# -- authenticate ---------------------------------------------------------------------------------------


def test_when_no_token_is_sent_then_401_missing_key_with_a_bearer_challenge(store: KeyStore) -> None:
    for token in (None, ""):
        refused = refusal(store, token)
        assert (refused.status, refused.reason) == (401, "auth.missing_key")
        assert refused.headers == {"WWW-Authenticate": 'Bearer realm="ethos"'}


def test_when_tokens_are_forged_then_all_get_the_same_invalid_key_answer(store: KeyStore) -> None:
    key, token = store.create("ci")
    other_secret = token[:17] + ("A" if token[17] != "A" else "B") + token[18:]
    forged = [
        other_secret,  # the right id with a wrong secret
        "eth_000000000000_" + token[17:],  # an unknown id with a plausible secret
        token[:-1],  # one character short
        token + "x",  # one character long
        token.replace("eth_", "sk-_"),  # another prefix
        "eth_" + key.key_id.upper() + token[16:],  # the id in upper case
        "eth_" + key.key_id + "-" + token[17:],  # no separator
        "Bearer " + token,  # the header's scheme left in
        "not a token at all",
        "é" * 60,
    ]
    answers = {(r.status, r.reason, str(r)) for r in (refusal(store, t) for t in forged)}
    assert len(answers) == 1
    status, reason, message = answers.pop()
    assert (status, reason) == (401, "auth.invalid_key")
    assert key.key_id not in message
    assert store.authenticate(token) == key


def test_when_a_key_is_revoked_then_its_token_gets_revoked_key_naming_only_the_id(store: KeyStore) -> None:
    key, token = store.create("ci")
    store.revoke("ci")
    refused = refusal(store, token)
    assert (refused.status, refused.reason) == (401, "auth.revoked_key")
    assert key.key_id in str(refused)
    assert token[17:] not in str(refused)


def test_when_a_revoked_keys_token_is_forged_then_it_is_invalid_not_revoked(store: KeyStore) -> None:
    _, token = store.create("ci")
    store.revoke("ci")
    assert refusal(store, token[:-1] + ("A" if token[-1] != "A" else "B")).reason == "auth.invalid_key"


def test_when_a_key_expires_then_it_works_until_the_second_before_and_not_at_expiry(
    store: KeyStore, clock: FakeTime
) -> None:
    key, token = store.create("ci", expires_at=T0 + timedelta(hours=1))
    clock.advance(3599)
    assert store.authenticate(token) == key
    clock.advance(1)
    refused = refusal(store, token)
    assert (refused.status, refused.reason) == (401, "auth.expired_key")
    assert "2027-03-01T13:00:00Z" in str(refused)


def test_when_another_store_revokes_a_key_then_this_one_refuses_it_after_the_refresh_interval(
    db: Path, clock: FakeTime
) -> None:
    gateway = KeyStore(db, clock=clock.now, monotonic=clock.monotonic, refresh_interval=0.5)
    cli = KeyStore(db)
    assert refusal(gateway, "eth_nothing").reason == "auth.invalid_key"  # the first request checks the file
    key, token = cli.create("ci")
    clock.advance(0.4)
    assert refusal(gateway, token).reason == "auth.invalid_key"  # checked moments ago: not seen yet
    clock.advance(0.1)
    assert gateway.authenticate(token) == key
    cli.revoke(key.key_id)
    clock.advance(0.4)
    assert gateway.authenticate(token) == key  # served from memory between checks
    clock.advance(0.1)
    assert refusal(gateway, token).reason == "auth.revoked_key"


def test_when_another_store_revokes_with_real_clocks_then_refusal_comes_within_a_second(db: Path) -> None:
    gateway = KeyStore(db, refresh_interval=0.05)
    cli = KeyStore(db)
    _, token = cli.create("ci")
    revoked = threading.Event()

    def revoke() -> None:
        cli.revoke("ci")
        revoked.set()

    threading.Timer(0.0, revoke).start()
    assert revoked.wait(5)
    deadline = threading.Event()
    for _ in range(100):
        try:
            gateway.authenticate(token)
        except RequestRefused as exc:
            assert exc.reason == "auth.revoked_key"
            break
        deadline.wait(0.01)
    else:
        pytest.fail("the revocation was not seen within a second")


def test_when_the_file_is_replaced_then_the_store_reads_the_new_one(db: Path, clock: FakeTime, tmp_path: Path) -> None:
    gateway = KeyStore(db, clock=clock.now, monotonic=clock.monotonic)
    old_key, old_token = gateway.create("old")
    other = KeyStore(tmp_path / "other.db")
    new_key, new_token = other.create("new")
    other.close()
    (tmp_path / "other.db").replace(db)
    clock.advance(1)
    assert gateway.authenticate(new_token) == new_key
    assert refusal(gateway, old_token).reason == "auth.invalid_key"


def test_when_the_file_is_deleted_then_every_key_is_refused_until_a_store_is_back(
    db: Path, clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = KeyStore(db, clock=clock.now, monotonic=clock.monotonic)
    _, token = gateway.create("ci")
    db.unlink()
    clock.advance(1)
    assert refusal(gateway, token).reason == "auth.invalid_key"
    clock.advance(1)
    assert refusal(gateway, token).reason == "auth.invalid_key"
    assert len([r for r in caplog.records if "is gone" in r.getMessage()]) == 1  # logged once, not per check
    new_key, new_token = KeyStore(db).create("fresh")
    clock.advance(1)
    assert gateway.authenticate(new_token) == new_key


def test_when_threads_authenticate_while_keys_change_then_answers_stay_correct(db: Path) -> None:
    gateway = KeyStore(db, refresh_interval=0.0)
    key, token = gateway.create("steady")
    writer = KeyStore(db)
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            for _ in range(300):
                assert gateway.authenticate(token) == key
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(10):
        writer.revoke(writer.create(f"churn{i}")[0].key_id)
    for thread in threads:
        thread.join()
    assert errors == []


# -- authorize ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "model", "allowed"),
    [
        (("*",), "anything:latest", True),
        (("llama3*",), "llama3.2:1b", True),
        (("llama3*",), "llama2:7b", False),
        (("llama3*",), "LLAMA3:8b", False),  # case-sensitive, like model names
        (("qwen2.5:?b",), "qwen2.5:7b", True),
        (("qwen2.5:?b",), "qwen2.5:14b", False),
        (("gpt-4o", "text-embedding-*"), "text-embedding-3-small", True),
        (("gpt-4o",), "gpt-4o-mini", False),
        (("org/[ab]*",), "org/beta", True),
        (("org/[ab]*",), "org/cat", False),
    ],
)
def test_when_a_model_is_checked_then_fnmatch_patterns_decide(
    store: KeyStore, patterns: tuple[str, ...], model: str, allowed: bool
) -> None:
    key, _ = store.create("scoped", models=patterns)
    assert key.allows_model(model) is allowed
    if allowed:
        store.authorize(key, "chat", model)
    else:
        with pytest.raises(RequestRefused) as info:
            store.authorize(key, "chat", model)
        refused = info.value
        assert (refused.status, refused.reason) == (403, "auth.model_not_allowed")
        assert key.key_id in str(refused)
        assert model in str(refused)
        assert "ethos gateway keys create" in str(refused)
        assert "--model" in str(refused)


def test_when_an_endpoint_is_outside_the_scope_then_403_names_it_and_the_flag(store: KeyStore) -> None:
    key, _ = store.create("embedder", endpoints=("embedding",))
    store.authorize(key, "embedding", "nomic-embed-text")
    with pytest.raises(RequestRefused) as info:
        store.authorize(key, "chat", "nomic-embed-text")
    refused = info.value
    assert (refused.status, refused.reason) == (403, "auth.endpoint_not_allowed")
    assert "chat" in str(refused)
    assert "--endpoint chat" in str(refused)


def test_when_a_plain_key_asks_for_admin_routes_then_it_is_refused_and_an_admin_key_is_not(store: KeyStore) -> None:
    plain, _ = store.create("plain")
    root, _ = store.create("root", admin=True)
    with pytest.raises(RequestRefused, match="admin"):
        store.authorize(plain, "admin", None)
    store.authorize(root, "admin", None)
    store.authorize(root, "chat", "any")


def test_when_the_endpoint_is_checked_before_the_model_then_the_endpoint_reason_wins(store: KeyStore) -> None:
    key, _ = store.create("narrow", endpoints=("embedding",), models=("e5",))
    with pytest.raises(RequestRefused) as info:
        store.authorize(key, "chat", "llama3")
    assert info.value.reason == "auth.endpoint_not_allowed"


def test_when_api_key_is_built_directly_then_defaults_are_open_models_and_no_admin() -> None:
    key = ApiKey("0123456789ab", "x", T0, None, None)
    assert key.allows_model("whatever")
    assert key.allows_endpoint("chat")
    assert not key.allows_endpoint("admin")


# -- bad files ------------------------------------------------------------------------------------------


def test_when_the_file_is_not_sqlite_then_store_error_names_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    path.write_bytes(b"this is not a database, just text" * 10)
    path.chmod(0o644)
    with pytest.raises(StoreError, match=str(path)):
        KeyStore(path)
    assert path.read_bytes().startswith(b"this is not a database")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not ours: not even its permissions are touched


def test_when_the_file_is_another_sqlite_database_then_it_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x)")
    with pytest.raises(StoreError, match="not an Ethos gateway key store"):
        KeyStore(path)


def test_when_a_newer_ethos_wrote_the_file_then_schema_version_error(db: Path) -> None:
    KeyStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        KeyStore(db)


def test_when_the_file_is_missing_and_create_is_false_then_store_error_says_how_to_start(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    with pytest.raises(StoreError, match="ethos gateway keys create"):
        KeyStore(path, create=False)
    assert not path.exists()
