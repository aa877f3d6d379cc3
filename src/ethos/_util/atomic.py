"""Atomic file writes: write a temp file beside the target, fsync, then rename over it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text"]


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` can only be read by setting it)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


@contextlib.contextmanager
def atomic_open(
    path: Path, mode: str = "w", encoding: str | None = "utf-8", *, perms: int | None = None
) -> Iterator[IO[Any]]:
    """Open a temp file that replaces ``path`` only if the block finishes without error.

    The result has the permissions a plain ``open`` would give (or keeps those of the file it
    replaces): ``mkstemp``'s private 0600 would hide reports from the web server meant to serve
    them. ``perms`` overrides that (0o600 for a secret: set before the first byte is written).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if perms is None:
        try:
            perms = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            perms = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, perms)
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes, *, perms: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically; ``perms`` (e.g. 0o600 for a key) apply from the start."""
    with atomic_open(path, "wb", encoding=None, perms=perms) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically."""
    with atomic_open(path) as fh:
        fh.write(text)
