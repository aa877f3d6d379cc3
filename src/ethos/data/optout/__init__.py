"""The opt-out registry (GDPR Art. 21 objection, Art. 17 erasure): keyed hashes, encrypted at rest.

::

    key = create_key_file(home / "optout" / "registry.key")
    registry = Registry.create(home / "optout" / "registry.ethos", key)
    registry.add([Subject(emails=("ada@example.org",), reason="Art. 21 objection")])
    result = apply_registry(registry, Path("users.csv"), Path("users.clean.csv"))
    write_receipt(Path("users.clean.csv.receipt.json"), sign_receipt(result, registry))

``data`` may not import ``pii``: a PII detector for names in text is passed in as a callable.
"""

from ethos.data.optout._apply import (
    COLUMN_ALIASES,
    REDACTION,
    ApplyResult,
    DatasetFormat,
    Detector,
    apply_registry,
    detect_format,
    sign_receipt,
    verify_receipt,
    write_receipt,
)
from ethos.data.optout._keys import KEY_ENV, RegistryKey, create_key_file
from ethos.data.optout._registry import IDENTIFIER_KINDS, AddResult, Entry, IdentifierKind, Registry, Subject, normalise

__all__ = [
    "COLUMN_ALIASES",
    "IDENTIFIER_KINDS",
    "KEY_ENV",
    "REDACTION",
    "AddResult",
    "ApplyResult",
    "DatasetFormat",
    "Detector",
    "Entry",
    "IdentifierKind",
    "Registry",
    "RegistryKey",
    "Subject",
    "apply_registry",
    "create_key_file",
    "detect_format",
    "normalise",
    "sign_receipt",
    "verify_receipt",
    "write_receipt",
]
