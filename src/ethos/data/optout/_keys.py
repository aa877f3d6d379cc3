"""The registry key: one random 256-bit secret, from which every other key is derived.

Three keys are derived with HKDF-Expand (RFC 5869, SHA-256; the master key is already uniformly
random, so it serves as the pseudorandom key): one hashes identifiers, one encrypts the registry
(AES-256-GCM) and one signs receipts. A short key id (derived too) tells a wrong key from a
damaged file. The key lives in a file written with mode 0600, or in ``ETHOS_OPTOUT_KEY``; it is
never taken as a bare command-line value, which would land in shell history and ``ps``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ethos.errors import ConfigError, DataError

__all__ = ["KEY_ENV", "KEY_PREFIX", "RegistryKey", "create_key_file", "write_private"]

KEY_ENV = "ETHOS_OPTOUT_KEY"
"""Environment variable that may hold the key text instead of a key file."""
KEY_PREFIX = "ethos-optout-key-v1:"


def _expand(master: bytes, purpose: str) -> bytes:
    return hmac.new(master, b"ethos-optout/v1/" + purpose.encode("ascii") + b"\x01", hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class RegistryKey:
    """The master key and the keys derived from it."""

    master: bytes

    def __post_init__(self) -> None:
        """Refuse keys of the wrong length."""
        if len(self.master) != 32:
            raise ValueError("a registry key is 32 bytes")

    @classmethod
    def generate(cls) -> RegistryKey:
        """A new random key (from the OS's CSPRNG)."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_text(cls, text: str, *, source: str) -> RegistryKey:
        """Read ``ethos-optout-key-v1:<base64>`` (the prefix may be left out).

        Raises:
            ConfigError: The text is not a registry key (names ``source``, never the text).
        """
        body = text.strip().removeprefix(KEY_PREFIX)
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ConfigError(
                f"{source} does not hold an opt-out registry key (expected {KEY_PREFIX}<44 base64 chars>)"
            )
        return cls(raw)

    @classmethod
    def load(cls, key_file: Path | None, env: dict[str, str] | None = None) -> RegistryKey:
        """The key from ``key_file``, else from ``ETHOS_OPTOUT_KEY``.

        Raises:
            ConfigError: Neither is given, or the file is unreadable or holds no key.
        """
        if key_file is not None:
            try:
                return cls.from_text(key_file.read_text(encoding="ascii"), source=f"key file {key_file}")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read key file {key_file}: {exc}; check --key-file") from None
        value = (os.environ if env is None else env).get(KEY_ENV, "")
        if value:
            return cls.from_text(value, source=KEY_ENV)
        raise ConfigError(f"no registry key: pass --key-file PATH or set {KEY_ENV} (see `ethos optout init`)")

    def to_text(self) -> str:
        """The key file's content."""
        return KEY_PREFIX + base64.urlsafe_b64encode(self.master).decode("ascii") + "\n"

    @property
    def hashing(self) -> bytes:
        """Key of the identifier hashes (HMAC-SHA256)."""
        return _expand(self.master, "identifier-hash")

    @property
    def encryption(self) -> bytes:
        """AES-256-GCM key of the registry file."""
        return _expand(self.master, "registry-encryption")

    @property
    def signing(self) -> bytes:
        """Key of receipt signatures (HMAC-SHA256)."""
        return _expand(self.master, "receipt-signature")

    @property
    def key_id(self) -> str:
        """16 hex digits that name the key without revealing it."""
        return _expand(self.master, "key-id")[:8].hex()


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600 (temp file in the same folder, then rename).

    Args:
        path: The target.
        data: The bytes.
        exclusive: Refuse (``FileExistsError``) when ``path`` already exists, even if created concurrently.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # fails if path exists: no overwrite, even in a race
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def create_key_file(path: Path) -> RegistryKey:
    """Make a new key and write it to ``path`` (mode 0600); never overwrites.

    Raises:
        ConfigError: ``path`` already exists.
        DataError: The file cannot be written.
    """
    key = RegistryKey.generate()
    try:
        write_private(path, key.to_text().encode("ascii"), exclusive=True)
    except FileExistsError:
        raise ConfigError(f"key file {path} already exists; Ethos never overwrites a key") from None
    except OSError as exc:
        raise DataError(f"cannot write key file {path}: {exc.strerror or exc}") from None
    return key
