"""Key files and key lookup: 0600 files, refusal of open permissions, env variables, no overwrite."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ethos.errors import ConfigError
from ethos.pii.anonymize import KEY_ENV, KEY_FILE_ENV, PiiKey, read_key_file, resolve_key, write_key_file


def test_when_a_key_file_is_written_then_it_is_private_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "pii.key"
    key = write_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path) == key
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_when_the_key_file_exists_then_it_is_not_replaced_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "pii.key"
    first = write_key_file(path)
    with pytest.raises(ConfigError, match="refusing to replace"):
        write_key_file(path)
    assert read_key_file(path) == first
    assert write_key_file(path, overwrite=True) != first


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_when_others_may_read_the_key_file_then_it_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "pii.key"
    write_key_file(path)
    os.chmod(path, mode)
    with pytest.raises(ConfigError, match=f"chmod 600 {path}"):
        read_key_file(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("hello\n", "does not hold an Ethos PII key"),
        ("ethos-pii-key-v1:AAAA\n", "expected 32"),
        ("ethos-pii-key-v1:***\n", "not valid base64url"),
    ],
)
def test_when_the_key_file_is_not_a_key_then_the_error_names_the_file(
    tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "pii.key"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match=fragment) as info:
        read_key_file(path)
    assert str(path) in str(info.value)


def test_when_no_key_is_configured_then_none_is_found_and_env_variables_are_used(tmp_path: Path) -> None:
    assert resolve_key(None, env={}) is None
    path = tmp_path / "pii.key"
    key = write_key_file(path)
    assert resolve_key(None, env={KEY_FILE_ENV: str(path)}) == key
    assert resolve_key(None, env={KEY_ENV: key.to_line()}) == key
    assert resolve_key(path, env={KEY_ENV: PiiKey(bytes(32)).to_line()}) == key  # the argument wins
    with pytest.raises(ConfigError, match=KEY_ENV):
        resolve_key(None, env={KEY_ENV: "not a key"})


def test_when_the_key_file_is_missing_then_the_error_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ethos pii keygen"):
        resolve_key(tmp_path / "nope.key")
