"""Applying the registry: rows and mentions removed, idempotent, with a signed receipt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from ethos.data.optout import (
    REDACTION,
    Registry,
    Subject,
    apply_registry,
    create_key_file,
    sign_receipt,
    verify_receipt,
    write_receipt,
)
from ethos.errors import ConfigError, DataError
from ethos.types import Span


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry.create(tmp_path / "registry.ethos", create_key_file(tmp_path / "registry.key"))
    reg.add(
        [
            Subject(emails=("ada@example.org",), names=("Ada Lovelace",)),
            Subject(user_ids=("u-42",)),
        ]
    )
    return reg


def _ids(registry: Registry) -> list[str]:
    return [e.id for e in registry.entries]


CSV_TEXT = (
    "user_id;Email;full_name;note\n"
    "u-1;ADA@example.org ;Someone Else;a\n"
    "u-2;bob@example.org;Bob Stone;b\n"
    "u-42;carol@example.org;Carol;c\n"
    "u-3;dan@example.org;ada  lovelace;d\n"
)


def test_when_applied_to_csv_then_matching_rows_go_and_are_counted_per_entry(
    registry: Registry, tmp_path: Path
) -> None:
    src, out = tmp_path / "users.csv", tmp_path / "clean.csv"
    src.write_text(CSV_TEXT, encoding="utf-8")
    result = apply_registry(registry, src, out)
    assert out.read_text(encoding="utf-8") == "user_id;Email;full_name;note\nu-2;bob@example.org;Bob Stone;b\n"
    ada, user42 = _ids(registry)
    assert result.removed == {ada: 2, user42: 1}
    assert (result.units_before, result.units_after) == (4, 1)


def test_when_applied_twice_then_the_second_run_removes_nothing_and_output_is_identical(
    registry: Registry, tmp_path: Path
) -> None:
    for name, text in (("u.csv", CSV_TEXT), ("u.jsonl", '{"email": "ada@example.org"}\n{"email": "x@y.z"}\n')):
        src, once, twice = tmp_path / name, tmp_path / f"once-{name}", tmp_path / f"twice-{name}"
        src.write_text(text, encoding="utf-8")
        first = apply_registry(registry, src, once)
        second = apply_registry(registry, once, twice)
        assert sum(first.removed.values()) > 0 and second.removed == {}
        assert twice.read_bytes() == once.read_bytes()
        assert second.sha256_before == second.sha256_after == first.sha256_after


def test_when_applied_to_jsonl_then_lines_are_kept_byte_for_byte(registry: Registry, tmp_path: Path) -> None:
    src, out = tmp_path / "u.jsonl", tmp_path / "o.jsonl"
    src.write_text('{"user": "u-42", "x": 1}\n{ "user" : "u-7",  "x": 2 }\n', encoding="utf-8")
    apply_registry(registry, src, out)
    assert out.read_text(encoding="utf-8") == '{ "user" : "u-7",  "x": 2 }\n'
    src.write_text('{"user": "u-1"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"u.jsonl, line 2: a JSON list, not an object"):
        apply_registry(registry, src, out)


def test_when_applied_to_text_then_exact_mentions_are_redacted(registry: Registry, tmp_path: Path) -> None:
    src, out = tmp_path / "notes.txt", tmp_path / "clean.txt"
    src.write_text("Mail ADA@example.org now.\nAda  Lovelace met u-42, then Ada left.\n", encoding="utf-8")
    result = apply_registry(registry, src, out)
    assert out.read_text(encoding="utf-8") == f"Mail {REDACTION} now.\n{REDACTION} met {REDACTION}, then Ada left.\n"
    assert sum(result.removed.values()) == 3 and result.format == "text"
    again = apply_registry(registry, out, tmp_path / "again.txt")
    assert again.removed == {} and (tmp_path / "again.txt").read_bytes() == out.read_bytes()


def test_when_a_detector_reports_a_name_then_it_is_redacted_where_word_matching_misses_it(
    registry: Registry, tmp_path: Path
) -> None:
    calls: list[Sequence[str]] = []

    def detector(texts: Sequence[str]) -> list[list[Span]]:
        # a callable of the PII engine's shape; like spaCy it reports "Ada Lovelace" without the "'s"
        calls.append(texts)
        return [[Span(t.find("Ada"), t.find("Lovelace") + 8, "PERSON", 0.9)] if "Lovelace" in t else [] for t in texts]

    src, out = tmp_path / "n.txt", tmp_path / "o.txt"
    src.write_text("Read Ada Lovelace's notes.\n", encoding="utf-8")  # "Lovelace's" is one word to the matcher
    assert apply_registry(registry, src, tmp_path / "plain.txt").removed == {}
    found = apply_registry(registry, src, out, detector=detector, detector_name="test")
    assert out.read_text(encoding="utf-8") == f"Read {REDACTION}'s notes.\n" and calls
    assert found.detector == "test" and sum(found.removed.values()) == 1


def test_when_no_identifier_column_exists_then_data_error_says_pass_columns(registry: Registry, tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="--columns email=COL"):
        apply_registry(registry, src, tmp_path / "o.csv")
    with pytest.raises(ConfigError, match="--columns"):
        apply_registry(registry, src, tmp_path / "o.csv", columns={"phone": "a"})
    with pytest.raises(ConfigError, match="is the input"):
        apply_registry(registry, src, src)
    assert apply_registry(registry, src, tmp_path / "o.csv", columns={"user_id": "a"}).removed == {}


def test_when_a_receipt_is_edited_then_it_no_longer_verifies(registry: Registry, tmp_path: Path) -> None:
    src, out, path = tmp_path / "u.csv", tmp_path / "c.csv", tmp_path / "r.json"
    src.write_text(CSV_TEXT, encoding="utf-8")
    receipt = sign_receipt(apply_registry(registry, src, out), registry)
    write_receipt(path, receipt)
    raw = path.read_text(encoding="utf-8")
    assert "ada@example.org" not in raw.lower() and "lovelace" not in raw.lower()
    assert verify_receipt(path, registry.key, out)["total_removed"] == 3
    edited = json.loads(raw)
    edited["total_removed"] = 0
    path.write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(DataError, match="was edited"):
        verify_receipt(path, registry.key)
    write_receipt(path, receipt)
    with pytest.raises(DataError, match="not the output"):
        verify_receipt(path, registry.key, src)


def test_when_a_csv_row_has_the_wrong_number_of_fields_then_data_error_names_its_line_and_nothing_is_written(
    registry: Registry, tmp_path: Path
) -> None:
    # A shifted row would hide Ada's email in the wrong column, so her row would silently survive.
    src, out = tmp_path / "users.csv", tmp_path / "clean.csv"
    src.write_text('id,email,name\nu-2,bob@example.org,Bob\n"x\ny",ada@example.org\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"users\.csv, line 4: 2 fields, but the header has 3"):
        apply_registry(registry, src, out)
    assert not out.exists()


def test_when_a_csv_has_blank_lines_then_they_are_kept_and_do_not_count_as_rows(
    registry: Registry, tmp_path: Path
) -> None:
    src, out = tmp_path / "users.csv", tmp_path / "clean.csv"
    src.write_text("id,email\nu-2,bob@example.org\n\nu-3,ada@example.org\n", encoding="utf-8")
    result = apply_registry(registry, src, out)
    assert out.read_text(encoding="utf-8") == "id,email\nu-2,bob@example.org\n\n"
    assert (result.units_before, result.units_after) == (2, 1)


def test_when_a_jsonl_string_holds_a_unicode_line_separator_then_the_line_is_one_record(
    registry: Registry, tmp_path: Path
) -> None:
    src, out = tmp_path / "users.jsonl", tmp_path / "clean.jsonl"
    kept = '{"email": "bob@example.org", "t": "x\u0085y"}\n'
    src.write_text('{"email": "ada@example.org", "t": "a\u2028b"}\n' + kept, encoding="utf-8")
    result = apply_registry(registry, src, out)
    assert out.read_text(encoding="utf-8") == kept
    assert (result.units_before, result.units_after) == (2, 1)
