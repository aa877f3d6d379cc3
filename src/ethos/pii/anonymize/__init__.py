"""Anonymization operators: replace found PII per entity type, safely by default.

Built-in operators (``operator_registry`` names):

========== ============================================================ ====== ==========
name       what it does                                                 key    reversible
========== ============================================================ ====== ==========
placeholder ``<PERSON_1>``, numbered per value within a document (default) no     no
redact     removes the value                                            no     no
mask       ``****1111`` (char, count, from_end)                         no     no
keep       leaves the value (exempts one type from the default)         no     no
pseudonym  ``<PERSON_3f9a1c2b>``: HMAC-SHA256, stable for one key        yes    no
surrogate  a fake value of the same type and shape, stable for one key  yes    no
encrypt    ``⟦ENC:PERSON:…⟧`` AES-256-GCM token; :func:`restore` opens it yes    yes
========== ============================================================ ====== ==========

::

    from ethos.pii.anonymize import Anonymizer, anonymize

    anonymize(["Call Ann on +44 20 7946 0958"], operators={"PHONE_NUMBER": "mask"})
"""

from __future__ import annotations

from ethos.pii.anonymize._encrypt import TOKEN_PATTERN, TokenCipher, restore
from ethos.pii.anonymize._engine import AnonymizedText, Anonymizer, Replacement, merge_overlaps
from ethos.pii.anonymize._engine import anonymize as anonymize  # public, but kept out of __all__: see below
from ethos.pii.anonymize._keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    PiiKey,
    generate_key,
    read_key_file,
    resolve_key,
    write_key_file,
)
from ethos.pii.anonymize._operator import (
    DEFAULT_OPERATOR,
    Document,
    NoParams,
    Operator,
    OperatorConfig,
    normalise,
    operator,
    operator_registry,
)

# ``anonymize`` is not listed: ``ethos.pii`` lazily re-exports the names listed here, and a function
# called ``ethos.pii.anonymize`` would shadow this package. Use ``ethos.anonymize`` or
# ``from ethos.pii.anonymize import anonymize``.
__all__ = [
    "DEFAULT_OPERATOR",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "TOKEN_PATTERN",
    "AnonymizedText",
    "Anonymizer",
    "Document",
    "NoParams",
    "Operator",
    "OperatorConfig",
    "PiiKey",
    "Replacement",
    "TokenCipher",
    "generate_key",
    "merge_overlaps",
    "normalise",
    "operator",
    "operator_registry",
    "read_key_file",
    "resolve_key",
    "restore",
    "write_key_file",
]
