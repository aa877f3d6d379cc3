"""Secret keys for the keyed operators (pseudonym, surrogate, encrypt): make, store, find, derive.

A key is 32 random bytes, written as one line ``ethos-pii-key-v1:<base64url>``. Each operator
uses its own sub-key, derived as ``HMAC-SHA256(key, label)``, so a pseudonym never reveals
anything about the encryption key and the other way round.

Where a key comes from, first match wins: the ``key`` argument (a :class:`PiiKey` or a key
file path), then ``ETHOS_PII_KEY_FILE`` (a path), then ``ETHOS_PII_KEY`` (the key line itself).
Never a plain command-line value: shells keep history. A key file that the group or others can
read is refused (``chmod 600 FILE`` fixes it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ethos.errors import ConfigError

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "PiiKey", "generate_key", "read_key_file", "resolve_key", "write_key_file"]

KEY_ENV = "ETHOS_PII_KEY"
KEY_FILE_ENV = "ETHOS_PII_KEY_FILE"
_PREFIX = "ethos-pii-key-v1:"
_KEY_BYTES = 32
HOW_TO_GET_A_KEY = (
    "create one with `ethos pii keygen -o pii.key` and pass --key-file pii.key "
    f"(or set {KEY_FILE_ENV}=pii.key, or {KEY_ENV} to the key line)"
)


@dataclass(frozen=True, slots=True, repr=False)
class PiiKey:
    """A secret key; its ``repr`` shows a fingerprint, never the key.

    Attributes:
        secret: The 32 key bytes.
    """

    secret: bytes

    def __post_init__(self) -> None:
        """Refuse keys of the wrong length."""
        if len(self.secret) != _KEY_BYTES:
            raise ConfigError(f"a PII key must be {_KEY_BYTES} bytes, got {len(self.secret)}; {HOW_TO_GET_A_KEY}")

    def derive(self, label: str) -> bytes:
        """The 32-byte sub-key for one purpose (``"pseudonym/v1"``, ``"encrypt/v1"``)."""
        return hmac.new(self.secret, f"ethos/pii/{label}".encode(), hashlib.sha256).digest()

    @property
    def fingerprint(self) -> str:
        """A short public id of the key (first 8 hex digits of a derived value)."""
        return self.derive("fingerprint/v1").hex()[:8]

    def to_line(self) -> str:
        """The key as its one-line text form (what a key file holds)."""
        return _PREFIX + base64.urlsafe_b64encode(self.secret).decode("ascii").rstrip("=")

    @classmethod
    def from_line(cls, line: str, *, origin: str) -> PiiKey:
        """Parse the one-line text form; ``origin`` names where it came from in errors."""
        text = line.strip()
        if not text.startswith(_PREFIX):
            raise ConfigError(f"{origin} does not hold an Ethos PII key (expected a line starting {_PREFIX!r})")
        body = text[len(_PREFIX) :]
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{origin}: the key is not valid base64url; {HOW_TO_GET_A_KEY}") from None
        if len(raw) != _KEY_BYTES:
            raise ConfigError(f"{origin}: the key has {len(raw)} bytes, expected {_KEY_BYTES}; {HOW_TO_GET_A_KEY}")
        return cls(raw)

    def __repr__(self) -> str:
        return f"PiiKey(fingerprint={self.fingerprint!r})"


def generate_key() -> PiiKey:
    """A fresh random key from the operating system's CSPRNG."""
    return PiiKey(secrets.token_bytes(_KEY_BYTES))


def write_key_file(path: Path, key: PiiKey | None = None, *, overwrite: bool = False) -> PiiKey:
    """Write ``key`` (default: a new one) to ``path`` atomically with mode 0600 and return it.

    Raises:
        ConfigError: If ``path`` exists and ``overwrite`` is false (a lost key cannot be recovered).
    """
    key = key or generate_key()
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; refusing to replace a key (data encrypted with it would be lost)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.to_line() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return key


def read_key_file(path: Path) -> PiiKey:
    """Read a key file, refusing one that the group or others may read.

    Raises:
        ConfigError: Naming the file: missing, unreadable, too open, or not a key.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"key file {path}: {exc.strerror or exc}; {HOW_TO_GET_A_KEY}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"key file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}` and try again"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"key file {path} cannot be read ({type(exc).__name__}); {HOW_TO_GET_A_KEY}") from None
    return PiiKey.from_line(text, origin=f"key file {path}")


def resolve_key(key: PiiKey | Path | str | None = None, env: Mapping[str, str] | None = None) -> PiiKey | None:
    """Find the key: ``key`` (a key or a key-file path), else ``ETHOS_PII_KEY_FILE``, else ``ETHOS_PII_KEY``.

    Returns:
        The key, or ``None`` when none is configured (operators that need one then refuse to run).
    """
    if isinstance(key, PiiKey):
        return key
    if key is not None:
        return read_key_file(Path(key).expanduser())
    env = os.environ if env is None else env
    if env.get(KEY_FILE_ENV):
        return read_key_file(Path(env[KEY_FILE_ENV]).expanduser())
    if env.get(KEY_ENV):
        return PiiKey.from_line(env[KEY_ENV], origin=f"the environment variable {KEY_ENV}")
    return None
