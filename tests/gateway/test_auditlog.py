"""The hash-chained audit log: writing, rotation, resume, content modes, and every kind of tampering."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from ethos.errors import ConfigError, DataError
from ethos.gateway._auditlog import AuditLog, load_key, read_log, verify_log
from ethos.gateway._auditverify import GENESIS, LogCursor, canonical_json, chain_hash

KEY = bytes(range(32))


def _entry(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": f"req-{i}",
        "key_id": "k_test",
        "route": "/v1/chat/completions",
        "endpoint": "chat",
        "caller": "openai",
        "model": "tiny",
        "status": 200,
        "reason": None,
        "latency_ms": 1.25 + i,
        "upstream_ms": 0.5,
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "decisions": [{"guard": "pii", "action": "modify", "reason": "pii.masked"}],
        "redactions": {"PERSON": 1},
        "content": {"prompt": [f"Hello <PERSON_1>, café n°{i}"], "answer": "Hi ✓"},
        **extra,
    }


def _write(directory: Path, n: int, **options: Any) -> list[str]:
    with AuditLog(directory, **options) as log:
        return [log.append(_entry(i)) for i in range(n)]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _bad(directory: Path) -> tuple[str, int, int | None, str]:
    result = verify_log(directory)
    assert not result.ok and result.first_bad is not None
    bad = result.first_bad
    return bad.file.name, bad.line, bad.seq, bad.why


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_when_many_entries_rotate_over_files_then_the_log_verifies_and_reads_back(
    tmp_path: Path, key: bytes | None
) -> None:
    hashes = _write(tmp_path / "a", 60, key=key, rotate_bytes=4096)
    result = verify_log(tmp_path / "a")
    assert result.ok and result.first_bad is None
    assert (result.entries, result.head) == (60, hashes[-1])
    assert result.files == len(list((tmp_path / "a").glob("audit-*.jsonl"))) > 3
    entries = read_log(tmp_path / "a", key=key)
    assert [e["seq"] for e in entries] == list(range(1, 61))
    assert [e["hash"] for e in entries] == hashes
    assert entries[7]["content"] == _entry(7)["content"]
    assert entries[0]["prev"] == GENESIS and all(
        b["prev"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False)
    )


def test_when_an_entry_is_stored_then_its_hash_and_line_follow_the_documented_formula(tmp_path: Path) -> None:
    digest = _write(tmp_path, 1, content="none")[0]
    line = (tmp_path / "audit-000001.jsonl").read_text(encoding="utf-8")
    entry = json.loads(line)
    body = {k: v for k, v in entry.items() if k != "hash"}
    assert digest == entry["hash"] == hashlib.sha256(f"{GENESIS}\n{canonical_json(body)}".encode()).hexdigest()
    assert line == canonical_json(entry) + "\n"
    assert len(entry["ts"]) == len("2026-01-01T00:00:00.000Z") and entry["ts"].endswith("Z")


def test_when_content_mode_varies_then_content_is_stored_hashed_or_dropped(tmp_path: Path) -> None:
    content = _entry(1)["content"]
    for mode, expected in (
        ("redacted", content),
        ("hash", {"sha256": hashlib.sha256(canonical_json(content).encode()).hexdigest()}),
        ("none", None),
    ):
        _write(tmp_path / mode, 2, content=mode)
        assert read_log(tmp_path / mode)[1]["content"] == expected, mode
    assert "content" not in read_log(_write_plain(tmp_path / "absent"))[0]


def _write_plain(directory: Path) -> Path:
    with AuditLog(directory) as log:
        log.append({"request_id": "r"})
    return directory


def test_when_a_key_is_given_then_content_is_sealed_to_its_entry_and_needs_the_key(tmp_path: Path) -> None:
    _write(tmp_path, 3, key=KEY)
    raw = (tmp_path / "audit-000001.jsonl").read_bytes()
    assert b"PERSON_1" not in raw and "café".encode() not in raw
    stored = read_log(tmp_path)[0]["content"]
    assert stored["alg"] == "AES-256-GCM" and len(base64.b64decode(stored["enc"])) > 12 + 16
    with pytest.raises(DataError, match=r"audit-000001\.jsonl:1: content cannot be decrypted"):
        read_log(tmp_path, key=bytes(32))
    # The sealed content of entry 1 moved into entry 2 does not open: the seq is bound in.
    lines = [json.loads(line) for line in _lines(tmp_path / "audit-000001.jsonl")]
    lines[1]["content"] = lines[0]["content"]
    (tmp_path / "audit-000001.jsonl").write_text("".join(canonical_json(e) + "\n" for e in lines), encoding="utf-8")
    with pytest.raises(DataError, match=r"audit-000001\.jsonl:2"):
        read_log(tmp_path, key=KEY)


def test_when_log_is_created_then_folder_and_files_are_private(tmp_path: Path) -> None:
    _write(tmp_path / "deep" / "audit", 2)
    folder = tmp_path / "deep" / "audit"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("audit-000001.jsonl", "audit.head"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name


@pytest.mark.parametrize("flip", [0x01, 0x20, 0x80], ids=["low-bit", "case-bit", "high-bit"])
def test_when_any_single_byte_of_the_log_is_altered_then_verify_fails(tmp_path: Path, flip: int) -> None:
    _write(tmp_path, 4, rotate_bytes=900, content="hash")
    files = sorted(tmp_path.glob("audit-*.jsonl"))
    assert len(files) == 2
    checked = 0
    for path in files:
        original = path.read_bytes()
        for position in range(len(original)):
            altered = bytearray(original)
            altered[position] ^= flip
            path.write_bytes(bytes(altered))
            result = verify_log(tmp_path)
            assert not result.ok, f"{path.name} byte {position} ^ {flip:#x} went unnoticed"
            checked += 1
        path.write_bytes(original)
    assert checked > 1500 and verify_log(tmp_path).ok


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (b'"status":200', b'"status": 200', "not in canonical form"),
        ("café".encode(), b"caf\\u00e9", "not in canonical form"),
        (b'"latency_ms":3.25', b'"latency_ms":3.250', "not in canonical form"),
        (b'"status":200', b'"status":404', "hash does not match its content (edited?)"),
        ("Hi ✓".encode(), b"Hi \\ud800", "hash does not match its content (edited?)"),
    ],
    ids=["space", "escape", "float-digits", "value", "lone-surrogate"],
)
def test_when_a_line_is_edited_to_other_bytes_then_verify_names_the_line(
    tmp_path: Path, old: bytes, new: bytes, why: str
) -> None:
    _write(tmp_path, 4)
    path = tmp_path / "audit-000001.jsonl"
    lines = _lines(path)
    assert old in lines[2]
    lines[2] = lines[2].replace(old, new, 1)
    path.write_bytes(b"".join(lines))
    name, line, seq, reason = _bad(tmp_path)
    assert (name, line, seq) == ("audit-000001.jsonl", 3, 3) and why in reason


def test_when_a_line_is_deleted_then_verify_reports_the_gap(tmp_path: Path) -> None:
    _write(tmp_path, 5)
    path = tmp_path / "audit-000001.jsonl"
    lines = _lines(path)
    path.write_bytes(b"".join(lines[:1] + lines[2:]))
    assert _bad(tmp_path) == ("audit-000001.jsonl", 2, 3, "seq 3 follows 1 (entry missing or moved?)")


def test_when_two_lines_are_swapped_then_verify_reports_the_first_out_of_place(tmp_path: Path) -> None:
    _write(tmp_path, 5)
    path = tmp_path / "audit-000001.jsonl"
    lines = _lines(path)
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))
    assert _bad(tmp_path) == ("audit-000001.jsonl", 3, 4, "seq 4 follows 2 (entry missing or moved?)")


def test_when_the_first_line_is_deleted_then_verify_says_the_log_starts_late(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    path = tmp_path / "audit-000001.jsonl"
    path.write_bytes(b"".join(_lines(path)[1:]))
    name, line, seq, why = _bad(tmp_path)
    assert (name, line, seq) == ("audit-000001.jsonl", 1, 2) and why.startswith("log starts at seq 2, not 1")


def test_when_entries_from_another_chain_are_spliced_in_then_prev_does_not_match(tmp_path: Path) -> None:
    _write(tmp_path / "a", 4)
    _write(tmp_path / "b", 4)
    a, b = _lines(tmp_path / "a" / "audit-000001.jsonl"), _lines(tmp_path / "b" / "audit-000001.jsonl")
    (tmp_path / "a" / "audit-000001.jsonl").write_bytes(b"".join(a[:2] + b[2:]))
    assert _bad(tmp_path / "a") == (
        "audit-000001.jsonl",
        3,
        3,
        "prev does not match entry 2's hash (deleted or reordered?)",
    )


def test_when_a_middle_file_is_deleted_then_verify_names_the_missing_file(tmp_path: Path) -> None:
    _write(tmp_path, 12, rotate_bytes=1200)
    assert len(list(tmp_path.glob("audit-*.jsonl"))) >= 3
    (tmp_path / "audit-000002.jsonl").unlink()
    assert _bad(tmp_path) == ("audit-000002.jsonl", 0, None, "file audit-000002.jsonl missing")


@pytest.mark.parametrize("cut", ["last-lines", "last-file"])
def test_when_the_tail_is_cut_off_then_the_head_anchor_reveals_it(tmp_path: Path, cut: str) -> None:
    _write(tmp_path, 12, rotate_bytes=1200)
    files = sorted(tmp_path.glob("audit-*.jsonl"))
    if cut == "last-lines":
        lines = _lines(files[-1])
        assert len(lines) >= 2
        files[-1].write_bytes(lines[0])
        kept = files[-1]
    else:
        files[-1].unlink()
        kept = files[-2]
    last = json.loads(_lines(kept)[-1])["seq"]
    assert last < 12
    assert _bad(tmp_path) == (
        kept.name,
        len(_lines(kept)),
        last,
        f"log ends at seq {last} but the head anchor says 12 (truncated?)",
    )


def test_when_the_whole_chain_is_rewritten_then_the_head_anchor_does_not_match(tmp_path: Path) -> None:
    _write(tmp_path / "real", 3)
    _write(tmp_path / "forged", 3)
    (tmp_path / "forged" / "audit.head").write_bytes((tmp_path / "real" / "audit.head").read_bytes())
    assert _bad(tmp_path / "forged") == (
        "audit-000001.jsonl",
        3,
        3,
        "hash differs from the head anchor's (chain rewritten?)",
    )


def test_when_the_head_anchor_is_deleted_or_the_last_newline_cut_then_verify_fails(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    path = tmp_path / "audit-000001.jsonl"
    path.write_bytes(path.read_bytes()[:-1])
    assert _bad(tmp_path)[1:] == (3, None, "file does not end with a newline (cut mid-entry?)")
    path.write_bytes(path.read_bytes() + b"\n")
    assert verify_log(tmp_path).ok
    (tmp_path / "audit.head").unlink()
    assert _bad(tmp_path) == ("audit.head", 0, None, "head anchor audit.head missing (deleted?)")


def test_when_the_log_is_reopened_then_the_chain_continues_in_the_same_file(tmp_path: Path) -> None:
    first = _write(tmp_path, 3)
    with AuditLog(tmp_path) as log:
        assert log.head == (3, first[-1])
        log.append(_entry(3))
    entries = read_log(tmp_path)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4] and entries[3]["prev"] == first[-1]
    assert [p.name for p in tmp_path.glob("audit-*.jsonl")] == ["audit-000001.jsonl"]
    assert verify_log(tmp_path).ok
    assert json.loads((tmp_path / "audit.head").read_text())["seq"] == 4


def test_when_the_last_entry_is_damaged_or_the_tail_cut_then_reopening_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    path = tmp_path / "audit-000001.jsonl"
    original = path.read_bytes()
    path.write_bytes(original.replace(b'"status":200', b'"status":201'))
    with pytest.raises(DataError, match=r"audit-000001\.jsonl:3: the last entry fails its own check"):
        AuditLog(tmp_path).open()
    path.write_bytes(b"".join(original.splitlines(keepends=True)[:2]))
    with pytest.raises(DataError, match="ends at seq 2 but its head anchor says 3"):
        AuditLog(tmp_path).open()
    assert path.read_bytes() == b"".join(original.splitlines(keepends=True)[:2])  # nothing written


def test_when_a_second_writer_opens_the_same_folder_then_it_is_refused(tmp_path: Path) -> None:
    with AuditLog(tmp_path) as log:
        log.append(_entry(0))
        with pytest.raises(DataError, match="being written by another process"):
            AuditLog(tmp_path).open()
    with AuditLog(tmp_path) as again:
        again.append(_entry(1))
    assert verify_log(tmp_path).entries == 2


def test_when_threads_append_at_once_then_the_chain_stays_valid(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, rotate_bytes=20_000).open()
    results: list[str] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        for i in range(150):
            digest = log.append(_entry(t * 1000 + i))
            with lock:
                results.append(digest)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    result = verify_log(tmp_path)
    assert result.ok and result.entries == 900 and result.files > 1
    assert sorted(results) == sorted(e["hash"] for e in read_log(tmp_path))


def test_when_the_process_dies_without_close_then_the_log_still_verifies(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, anchor_every=5, anchor_seconds=3600).open()
    for i in range(8):
        log.append(_entry(i))
    head = json.loads((tmp_path / "audit.head").read_text())
    assert head["seq"] == 6 and head["file"] == "audit-000001.jsonl"  # first entry, then every 5
    assert verify_log(tmp_path).ok  # the log may run ahead of its anchor
    log.close()
    assert json.loads((tmp_path / "audit.head").read_text())["seq"] == 8


def test_when_entries_misuse_the_api_then_clear_errors_are_raised(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    with pytest.raises(RuntimeError, match="before open"):
        log.append({"request_id": "r"})
    with log, pytest.raises(ValueError, match="may not set hash, seq"):
        log.append({"seq": 3, "hash": "x"})
    with pytest.raises(ConfigError, match="32 bytes"):
        AuditLog(tmp_path, key=b"short")
    with pytest.raises(ConfigError, match="unknown"):
        AuditLog(tmp_path, content="full")  # type: ignore[arg-type]


def test_when_content_holds_a_lone_surrogate_then_it_is_stored_replaced_and_verifies(tmp_path: Path) -> None:
    with AuditLog(tmp_path) as log:
        log.append({"request_id": "r", "content": {"prompt": ["bad \ud800 text"], "answer": None}})
    assert read_log(tmp_path)[0]["content"]["prompt"] == ["bad \ufffd text"]
    assert verify_log(tmp_path).ok


def test_when_a_log_is_empty_or_missing_then_verify_says_so(tmp_path: Path) -> None:
    AuditLog(tmp_path / "empty").open().close()
    result = verify_log(tmp_path / "empty")
    assert (result.ok, result.entries, result.files, result.head) == (True, 0, 0, None)
    with pytest.raises(DataError, match="does not exist"):
        verify_log(tmp_path / "nowhere")


def test_when_reading_the_last_entries_then_only_the_newest_are_returned_in_order(tmp_path: Path) -> None:
    _write(tmp_path, 30, rotate_bytes=2000)
    assert [e["seq"] for e in read_log(tmp_path, last=7)] == list(range(24, 31))
    assert read_log(tmp_path, last=0) == []
    assert len(read_log(tmp_path, last=100)) == 30


def test_when_following_a_log_then_the_cursor_yields_new_entries_across_rotation(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, rotate_bytes=1500).open()
    log.append(_entry(0))
    cursor = LogCursor(tmp_path)
    assert cursor.read_new() == []
    for i in range(1, 8):
        log.append(_entry(i))
    assert [e["seq"] for e in cursor.read_new()] == list(range(2, 9))
    log.append(_entry(8))
    log.close()
    assert [e["seq"] for e in cursor.read_new()] == [9]
    assert len(list(tmp_path.glob("audit-*.jsonl"))) > 2


def test_when_a_pii_key_file_is_loaded_then_the_log_gets_a_derived_32_byte_key(tmp_path: Path) -> None:
    from ethos.pii.anonymize import read_key_file, write_key_file

    path = tmp_path / "audit.key"
    write_key_file(path)
    key = load_key(path)
    assert len(key) == 32 and key != read_key_file(path).secret and key == load_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        load_key(path)


def test_chain_hash_is_sha256_of_prev_newline_body() -> None:
    assert chain_hash("ab", "{}") == hashlib.sha256(b"ab\n{}").hexdigest()


def test_when_a_head_kept_elsewhere_is_expected_then_a_rewritten_log_fails(tmp_path: Path) -> None:
    kept = _write(tmp_path / "real", 3)[-1]
    _write(tmp_path / "real", 2)  # the log grows after the head was copied: still fine
    assert verify_log(tmp_path / "real", expect_head=kept).ok
    _write(tmp_path / "forged", 5)
    result = verify_log(tmp_path / "forged", expect_head=kept)
    assert not result.ok and result.first_bad is not None
    assert result.first_bad.why.startswith(f"no entry has the expected head {kept}")


def test_when_progress_is_asked_for_then_it_counts_bytes_up_to_the_total(tmp_path: Path) -> None:
    _write(tmp_path, 12, rotate_bytes=1200)
    calls: list[tuple[int, int]] = []
    assert verify_log(tmp_path, progress=lambda done, total: calls.append((done, total))).ok
    total = sum(p.stat().st_size for p in tmp_path.glob("audit-*.jsonl"))
    assert len(calls) == len(list(tmp_path.glob("audit-*.jsonl")))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls) and calls[-1] == (total, total)
