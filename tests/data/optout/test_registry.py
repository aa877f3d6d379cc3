"""The registry file: keyed hashes only, encrypted, atomic, refusing wrong keys and tampering."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from ethos.data.optout import Registry, RegistryKey, Subject, create_key_file, normalise
from ethos.errors import ConfigError, DataError

EMAIL, NAME, USER = "Ada.Lovelace@Example.ORG", "Ada   Lovelace", "u-90210"


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    key = create_key_file(tmp_path / "registry.key")
    return Registry.create(tmp_path / "registry.ethos", key)


def test_when_identifiers_are_normalised_then_trivial_spellings_match() -> None:
    assert normalise("email", "  Ada@Example.ORG ") == "ada@example.org"
    assert normalise("name", "ADA\t  Lovelace\n") == "ada lovelace"
    assert normalise("name", "Straße") == normalise("name", "STRASSE")
    assert normalise("user_id", " U-1 ") == "U-1"  # ids keep their case


def test_when_subjects_are_added_then_the_raw_file_holds_no_identifier(registry: Registry) -> None:
    registry.add([Subject((EMAIL,), (USER,), (NAME,), reason="Art. 21 objection")])
    raw = registry.path.read_bytes()
    for secret in (EMAIL, EMAIL.lower(), "Ada Lovelace", "ada lovelace", USER, "Art. 21", "Lovelace"):
        assert secret.encode() not in raw
        assert secret.lower().encode() not in raw.lower()
    reopened = Registry.open(registry.path, registry.key)
    assert [e.kinds for e in reopened.entries] == [("email", "user_id", "name")]
    assert reopened.entries[0].reason == "Art. 21 objection"


def test_when_files_are_created_then_key_and_registry_are_private(registry: Registry, tmp_path: Path) -> None:
    for path in (registry.path, tmp_path / "registry.key"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(ConfigError, match="never overwrites a key"):
        create_key_file(tmp_path / "registry.key")
    with pytest.raises(ConfigError, match="never overwrites a registry"):
        Registry.create(registry.path, registry.key)


def test_when_the_same_subject_is_added_again_then_it_is_deduplicated_or_merged(registry: Registry) -> None:
    first = registry.add([Subject(emails=(EMAIL,))])
    again = registry.add([Subject(emails=(EMAIL.upper(),)), Subject(emails=(EMAIL,), names=(NAME,))])
    assert len(first.added) == 1 and again.unchanged == first.added and again.merged == first.added
    assert [e.kinds for e in Registry.open(registry.path, registry.key).entries] == [("email", "name")]
    with pytest.raises(ConfigError, match="at least one identifier"):
        registry.add([Subject(emails=("  ",))])


def test_when_opened_with_the_wrong_key_then_data_error_says_so(registry: Registry) -> None:
    with pytest.raises(DataError, match="encrypted with a different key"):
        Registry.open(registry.path, RegistryKey.generate())


@pytest.mark.parametrize("offset", [-1, -20, 30])
def test_when_one_byte_is_flipped_then_the_integrity_check_fails(registry: Registry, offset: int) -> None:
    registry.add([Subject(emails=(EMAIL,))])
    blob = bytearray(registry.path.read_bytes())
    blob[offset] ^= 0x01
    registry.path.write_bytes(bytes(blob))
    with pytest.raises(DataError, match="failed its integrity check"):
        Registry.open(registry.path, registry.key)


def test_when_the_file_is_not_a_registry_then_data_error(tmp_path: Path, registry: Registry) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello " * 20, encoding="utf-8")
    with pytest.raises(DataError, match="not an Ethos opt-out registry"):
        Registry.open(other, registry.key)


def test_when_the_key_text_is_malformed_then_config_error_names_the_source_not_the_value() -> None:
    with pytest.raises(ConfigError) as info:
        RegistryKey.from_text("not-a-key-at-all", source="ETHOS_OPTOUT_KEY")
    assert "ETHOS_OPTOUT_KEY" in str(info.value) and "not-a-key-at-all" not in str(info.value)


def test_when_two_writers_add_concurrently_then_no_entry_is_lost(registry: Registry) -> None:
    def writer(prefix: str) -> None:
        mine = Registry.open(registry.path, registry.key)
        for i in range(10):
            mine.add([Subject(user_ids=(f"{prefix}-{i}",))])

    threads = [threading.Thread(target=writer, args=(p,)) for p in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = Registry.open(registry.path, registry.key)
    assert len(final.entries) == 20 and final.version == 21
