"""Ethos: audit, protect, serve and document local LLMs responsibly.

The public API is small and imported lazily, so ``import ethos`` costs almost nothing::

    import ethos

    model = ethos.load_model("encoder:minilm")
    settings = ethos.load_settings()
    spans = ethos.scan(["Mail ana@example.org"])[0]          # personal data found (ethos[pii])
    [clean] = ethos.anonymize(["Mail ana@example.org"])      # clean.text == "Mail <EMAIL_ADDRESS_1>"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethos._util.lazy import lazy_getattr

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ethos.config import Settings, load_settings
    from ethos.models import ModelClient, load_model
    from ethos.pii import scan
    from ethos.pii.anonymize import anonymize
    from ethos.records import RunRecord, RunStore, load_run

__all__ = [
    "ModelClient",
    "RunRecord",
    "RunStore",
    "Settings",
    "__version__",
    "anonymize",
    "load_model",
    "load_run",
    "load_settings",
    "scan",
]

_LAZY = {
    "Settings": "ethos.config",
    "load_settings": "ethos.config",
    "ModelClient": "ethos.models",
    "load_model": "ethos.models",
    "RunRecord": "ethos.records",
    "RunStore": "ethos.records",
    "load_run": "ethos.records",
    "scan": "ethos.pii",
    "anonymize": "ethos.pii.anonymize",
}


__getattr__ = lazy_getattr(__name__, _LAZY)
