"""Reversible encryption: the ``encrypt`` operator (AES-256-GCM) and :func:`restore`.

A value becomes a self-contained token ``⟦ENC:PERSON:<base64url(nonce | ciphertext | tag)>⟧``.
The nonce is random (96 bits), so equal values give different tokens and tokens cannot be
linked without the key. The entity type is authenticated (GCM associated data): a token moved
to another type, or altered in any way, fails to decrypt instead of yielding wrong text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from typing import Any

from ethos._util.deps import require
from ethos.errors import ConfigError, DataError
from ethos.pii.anonymize._keys import PiiKey
from ethos.pii.anonymize._operator import Document, Operator, operator

__all__ = ["TOKEN_PATTERN", "Encrypt", "TokenCipher", "restore"]

TOKEN_PATTERN = re.compile(r"⟦ENC:([A-Za-z0-9_]{1,64}):([A-Za-z0-9_-]{38,})⟧")
_NONCE = 12
_TAG = 16


class TokenCipher:
    """AES-256-GCM under the key's ``encrypt/v1`` sub-key; makes and opens tokens.

    Args:
        key: The secret key.
    """

    def __init__(self, key: PiiKey) -> None:
        """Prepare the cipher (imports ``cryptography``)."""
        require("cryptography", extra="pii", purpose="the 'encrypt' operator and `ethos pii restore`")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key.derive("encrypt/v1"))

    @staticmethod
    def _aad(entity: str) -> bytes:
        return b"ethos-pii/v1|" + entity.encode("ascii")

    def seal(self, value: str, entity: str) -> str:
        """The token for ``value`` of type ``entity``."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, value.encode("utf-8"), self._aad(entity))
        payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"⟦ENC:{entity}:{payload}⟧"

    def open(self, entity: str, payload: str) -> str:
        """The clear text inside one token.

        Raises:
            DataError: If the token was altered, or made with another key.
        """
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad(entity))
            return plain.decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError):
            raise DataError(
                f"an encrypted {entity} token cannot be decrypted: it was made with another key or altered"
            ) from None

    def restore(self, text: str) -> str:
        """``text`` with every token replaced by its clear text."""
        if "⟦ENC:" not in text:
            return text
        return TOKEN_PATTERN.sub(lambda m: self.open(m.group(1), m.group(2)), text)


@operator
class Encrypt(Operator):
    """Replace the value by an AES-GCM token that :func:`restore` (or ``ethos pii restore``) opens."""

    name = "encrypt"
    needs_key = True
    reversible = True

    def __init__(self, params: dict[str, Any] | None = None, *, key: PiiKey | None = None) -> None:
        """Validate parameters, require the key and prepare the cipher."""
        super().__init__(params, key=key)
        assert self.key is not None  # noqa: S101 - checked by Operator.__init__ (needs_key)
        self._cipher = TokenCipher(self.key)

    def replace(self, value: str, entity: str, doc: Document) -> str:
        """Return the token for ``value``."""
        if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", entity):
            raise ConfigError(f"operator 'encrypt': entity type {entity!r} must be letters, digits or _")
        return self._cipher.seal(value, entity)

    def invert(self, text: str) -> str:
        """Decrypt every token in ``text``."""
        return self._cipher.restore(text)


def restore(texts: list[str], key: PiiKey) -> list[str]:
    """Decrypt every ``encrypt`` token in each text with ``key``.

    Raises:
        DataError: If a token was made with another key or altered.
    """
    cipher = TokenCipher(key)
    return [cipher.restore(t) for t in texts]
