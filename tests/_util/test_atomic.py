"""Atomic writes: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ethos._util.atomic import atomic_open, atomic_write_bytes, atomic_write_text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_when_writing_a_new_file_then_it_gets_the_permissions_of_a_plain_open(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = tmp_path / "report.html"
    atomic_write_text(atomic, "<html></html>")
    assert _mode(atomic) == _mode(plain)
    assert atomic.read_text() == "<html></html>"


def test_when_replacing_a_file_then_its_permissions_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new")
    assert _mode(target) == 0o640
    assert target.read_text() == "new"


def test_when_the_block_fails_then_the_old_file_stays_and_no_temp_file_is_left(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_when_perms_are_given_then_the_file_has_them_even_over_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "secret.pem"
    target.write_bytes(b"old")
    target.chmod(0o644)
    atomic_write_bytes(target, b"new key", perms=0o600)
    assert target.read_bytes() == b"new key"
    assert target.stat().st_mode & 0o777 == 0o600
