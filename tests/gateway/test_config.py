"""``load_config``: gateway.toml to validated settings, with errors that name the file, line and field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ethos._util.serving import is_loopback
from ethos.errors import ConfigError
from ethos.gateway import GatewayConfig, load_config
from ethos.gateway._toml_lines import locate

FULL = """\
# a full file
[server]
host = "127.0.0.1"
port = 9100
max_body_bytes = 2048

[upstream]
kind = "openai"
url = "http://127.0.0.1:8000"
aliases = { fast = "tiny-gpt2" }

[limits]
requests_per_minute = 10

[pii]
enabled = true
entities = ["EMAIL_ADDRESS"]

[[policy.rules]]
name = "no_foo"
pattern = "foo"

[[policy.rules]]
name = "no_bar"
pattern = "bar"
action = "flag"
"""


def write(tmp_path: Path, text: str, name: str = "gateway.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | None, **overrides: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides=overrides or None)
    return str(info.value)


def test_when_no_file_then_safe_defaults() -> None:
    config = load_config(None)
    assert config == GatewayConfig()
    assert config.server.host == "127.0.0.1"
    assert config.server.require_keys


def test_when_full_file_then_every_section_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.server.port == 9100
    assert config.upstream.kind == "openai"
    assert config.upstream.aliases == {"fast": "tiny-gpt2"}
    assert config.limits.requests_per_minute == 10
    assert config.pii.entities == ("EMAIL_ADDRESS",)
    assert [r.name for r in config.policy.rules] == ["no_foo", "no_bar"]


def test_when_overrides_given_then_they_win_over_the_file_and_none_is_ignored(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, FULL),
        overrides={"server.port": 9200, "upstream.url": "http://localhost:1", "pii.enabled": None},
    )
    assert config.server.port == 9200
    assert config.upstream.url == "http://localhost:1"
    assert config.pii.enabled is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[limits]\nrequests_per_minute = -5\n", "gateway.toml:2: [limits] requests_per_minute: must be ≥ 0 (got -5)"),
        ("\n\n[server]\nport = 70000\n", "gateway.toml:4: [server] port: must be ≤ 65535 (got 70000)"),
        ("[server]\nport = 'x'\n", "gateway.toml:2: [server] port: must be a whole number (got 'x')"),
        ("[pii]\nanswer_operator = 'x'\n", "gateway.toml:2: [pii] answer_operator: must be one of 'mask', "),
        (FULL.replace('"no_bar"', '"No Bar"'), "gateway.toml:24: [policy.rules #2] name: must match"),
        ("[server]\ntls_cert = 'a.pem'\n", "gateway.toml:1: [server]: tls_cert and tls_key go together"),
    ],
    ids=["negative-limit", "port-too-high", "port-not-a-number", "unknown-choice", "rule-in-second-table", "tls-pair"],
)
def test_when_a_value_is_invalid_then_error_names_file_line_field_and_rule(
    tmp_path: Path, text: str, expected: str
) -> None:
    message = error_of(write(tmp_path, text))
    assert str(tmp_path / expected.split(":")[0]) in message
    assert message.split(str(tmp_path) + "/", 1)[1].startswith(expected)


def test_when_a_key_is_misspelt_then_did_you_mean_and_the_allowed_keys(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "[server]\nhost = '127.0.0.1'\nprot = 3\n"))
    assert message.startswith(f"{tmp_path / 'gateway.toml'}:3: [server] prot: unknown key 'prot'; did you mean 'port'?")
    assert "allowed: host, port," in message


def test_when_a_section_is_misspelt_then_did_you_mean_the_section(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "[server]\nport = 1\n\n[limit]\nrequests_per_minute = 1\n"))
    assert ":4: [limit]: unknown section 'limit'; did you mean 'limits'?" in message


def test_when_toml_syntax_is_broken_then_error_names_the_line(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "[server]\nport = 1\nhost = \n"))
    assert "not valid TOML" in message
    assert "line 3" in message


def test_when_file_is_missing_then_error_says_how_to_create_one(tmp_path: Path) -> None:
    message = error_of(tmp_path / "nope.toml")
    assert "no such file" in message
    assert "ethos gateway config init" in message


def test_when_an_override_is_invalid_then_error_names_the_setting_not_a_line() -> None:
    message = error_of(None, **{"server.port": -1})
    assert message.startswith("server.port (set by a flag or an ETHOS_GATEWAY_* variable): must be")
    assert "must be ≥ 0 (got -1)" in message


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "gateway.example.org"])  # noqa: S104
def test_when_remote_host_without_tls_then_refused_with_both_fixes(tmp_path: Path, host: str) -> None:
    message = error_of(write(tmp_path, f"[server]\nhost = '{host}'\n"))
    assert ":2: [server] host:" in message
    assert "clear text" in message
    assert "tls_cert" in message
    assert "allow_plaintext_remote = true" in message


def test_when_remote_host_with_plaintext_allowed_then_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[server]\nhost = '0.0.0.0'\nallow_plaintext_remote = true\n"))  # noqa: S104
    assert config.server.host == "0.0.0.0"  # noqa: S104


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104
        ("::", False),
        ("10.0.0.1", False),
        ("example.org", False),
    ],
)
def test_when_host_is_checked_then_only_loopback_counts_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "127.0.0.1:11434", "http://", "unix:///tmp/sock"])
def test_when_upstream_url_is_not_http_with_a_host_then_refused(tmp_path: Path, url: str) -> None:
    message = error_of(write(tmp_path, f"[upstream]\nurl = '{url}'\n"))
    assert ":2: [upstream] url: must be an http:// or https:// URL with a host" in message


def test_when_tls_files_are_missing_then_refused_naming_the_file(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "[server]\ntls_cert = 'cert.pem'\ntls_key = 'key.pem'\n"))
    assert f":2: [server] tls_cert: {tmp_path / 'cert.pem'} cannot be read (no such file)" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_when_tls_key_is_unreadable_then_refused(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("x")
    (tmp_path / "key.pem").write_text("x")
    (tmp_path / "key.pem").chmod(0)
    message = error_of(write(tmp_path, "[server]\ntls_cert = 'cert.pem'\ntls_key = 'key.pem'\n"))
    assert ":3: [server] tls_key:" in message
    assert "Permission denied" in message


def test_when_paths_are_relative_then_they_are_taken_from_the_file_folder(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "audit.key").write_bytes(b"k" * 32)
    config = load_config(write(folder, "[audit]\ndir = 'audit'\nencrypt_key_file = 'audit.key'\n"))
    assert config.audit.dir == folder / "audit"
    assert config.audit.encrypt_key_file == folder / "audit.key"


def test_when_encrypt_key_file_is_missing_then_refused_with_the_fix(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "[audit]\nencrypt_key_file = 'audit.key'\n"))
    assert "[audit] encrypt_key_file:" in message
    assert "ethos pii keygen" in message


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("server", "port"), 4),
        (("policy", "rules", 1, "pattern"), 10),
        (("server",), 3),
        (("pii", "x"), None),
        (("upstream", "url"), 12),
    ],
)
def test_when_locating_a_field_then_its_line_is_found(loc: tuple[str | int, ...], line: int | None) -> None:
    text = "# x\n\n[server]\nport = 1\n\n[[policy.rules]]\nname = 'a'\npattern = 'b'\n[[policy.rules]]\npattern = 'c'\n"
    text += "\nupstream.url = 'x'\n"
    assert locate(text, loc) == line


def test_when_keys_are_off_on_a_remote_host_then_refused(tmp_path: Path) -> None:
    text = "[server]\nhost = '0.0.0.0'\nallow_plaintext_remote = true\nrequire_keys = false\n"  # noqa: S104
    message = error_of(write(tmp_path, text))
    assert ":4: [server] require_keys: keys are off on '0.0.0.0'" in message
    assert "ethos gateway keys create" in message
    assert load_config(None, overrides={"server.require_keys": False}).server.require_keys is False  # loopback: ok


def test_when_the_example_file_is_loaded_then_it_shows_exactly_the_defaults() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "gateway.toml"
    packaged = Path(__file__).resolve().parents[2] / "src" / "ethos" / "gateway" / "example.toml"
    assert load_config(example) == GatewayConfig()
    assert packaged.read_text(encoding="utf-8") == example.read_text(encoding="utf-8")
    for section in GatewayConfig.model_fields:
        assert f"[{section}]" in example.read_text(encoding="utf-8")
