"""Keyed operators: ``pseudonym`` (HMAC-SHA256) and ``surrogate`` (Faker, seeded by the pseudonym).

Both are stable for one key, across documents, files and runs, and differ across keys. A bare,
unkeyed hash of a name is *not* anonymization: names come from a small space, so anyone can
hash a list of names and look the digests up. The HMAC key is what stops that dictionary attack.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ethos._util.deps import require
from ethos.pii.anonymize._basic import check_format
from ethos.pii.anonymize._keys import PiiKey
from ethos.pii.anonymize._operator import Document, Operator, normalise, operator
from ethos.pii.anonymize._surrogates import fake_value

__all__ = ["Pseudonym", "Surrogate"]


class _Digester:
    """HMAC-SHA256 of normalised values under the pseudonym sub-key (shared by both operators)."""

    def __init__(self, key: PiiKey) -> None:
        self._mac = hmac.new(key.derive("pseudonym/v1"), digestmod=hashlib.sha256)

    def digest(self, value: str) -> bytes:
        mac = self._mac.copy()
        mac.update(normalise(value).encode("utf-8"))
        return mac.digest()


class PseudonymParams(BaseModel):
    """Parameters of ``pseudonym``.

    Attributes:
        format: Template with ``{entity}`` and ``{digest}`` (hex digits of the keyed HMAC).
        length: How many hex digits of the HMAC to show (8 = 32 bits: collisions become likely
            beyond ~65,000 distinct values of one type; raise it for large corpora).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = "<{entity}_{digest}>"
    length: int = Field(default=8, ge=4, le=64)

    @field_validator("format")
    @classmethod
    def _check(cls, value: str) -> str:
        return check_format(value, entity="PERSON", digest="3f9a1c2b")


@operator
class Pseudonym(Operator):
    """A keyed pseudonym: ``John Smith`` → ``<PERSON_3f9a1c2b>``, the same for one key everywhere.

    The digest is HMAC-SHA256(key, normalised value): case and spacing do not change it.
    """

    name = "pseudonym"
    Params = PseudonymParams
    needs_key = True

    def __init__(self, params: dict[str, Any] | None = None, *, key: PiiKey | None = None) -> None:
        """Validate parameters, require the key and prepare the HMAC."""
        super().__init__(params, key=key)
        assert self.key is not None  # noqa: S101 - checked by Operator.__init__ (needs_key)
        self._digester = _Digester(self.key)

    def replace(self, value: str, entity: str, doc: Document) -> str:
        """Return the formatted pseudonym of ``value``."""
        p: PseudonymParams = self.params
        return p.format.format(entity=entity, digest=self._digester.digest(value).hex()[: p.length])


class SurrogateParams(BaseModel):
    """Parameters of ``surrogate``.

    Attributes:
        locale: The Faker locale fake values come from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: str = "en_US"


@operator
class Surrogate(Operator):
    """A realistic fake value of the same type and shape, the same for one key everywhere.

    ``John Smith`` → ``Maria Lopez``; ``+1 (415) 555-0100`` → ``+1 (803) 214-7719``; a card
    number → another Luhn-valid number with the same grouping. Faker is seeded from the keyed
    pseudonym of the value, so one person always gets the same fake name. Surrogates may by
    chance equal a real value; they are not reversible.
    """

    name = "surrogate"
    Params = SurrogateParams
    needs_key = True

    def __init__(self, params: dict[str, Any] | None = None, *, key: PiiKey | None = None) -> None:
        """Validate parameters, require the key and load Faker for the locale."""
        super().__init__(params, key=key)
        assert self.key is not None  # noqa: S101 - checked by Operator.__init__ (needs_key)
        faker = require("faker", extra="pii", purpose="the 'surrogate' operator")
        try:
            self._fake = faker.Faker(self.params.locale)
        except AttributeError:
            from ethos.errors import ConfigError

            raise ConfigError(f"operator 'surrogate': unknown Faker locale {self.params.locale!r}") from None
        self._digester = _Digester(self.key)
        self._lock = threading.Lock()  # Faker is seeded, then drawn from: one value at a time

    def replace(self, value: str, entity: str, doc: Document) -> str:
        """Return a fake value for ``value``, seeded by its keyed digest."""
        seed = int.from_bytes(self._digester.digest(value)[:8], "big")
        with self._lock:
            return fake_value(self._fake, entity, value, seed)
