"""The secure gateway: OpenAI and Ollama APIs in front of any local model server.

Keys, TLS, limits, PII and policy guards, a disclaimer, citations and a tamper-evident audit log.
Start it with ``ethos gateway serve``; see ``docs/gateway.md``::

    from ethos.gateway import GatewayConfig, create_app

    app = create_app(GatewayConfig())      # any ASGI server can run it

Names are imported on first use, so ``import ethos.gateway`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethos._util.lazy import lazy_getattr

if TYPE_CHECKING:
    from ethos.gateway._app import create_app
    from ethos.gateway._auditlog import AuditLog, read_log, verify_log
    from ethos.gateway._config import GatewayConfig, load_config
    from ethos.gateway._keys import ApiKey, KeyStore

__all__ = [
    "ApiKey",
    "AuditLog",
    "GatewayConfig",
    "KeyStore",
    "create_app",
    "load_config",
    "read_log",
    "verify_log",
]

_HOMES = {
    "ApiKey": "ethos.gateway._keys",
    "AuditLog": "ethos.gateway._auditlog",
    "GatewayConfig": "ethos.gateway._config",
    "KeyStore": "ethos.gateway._keys",
    "create_app": "ethos.gateway._app",
    "load_config": "ethos.gateway._config",
    "read_log": "ethos.gateway._auditlog",
    "verify_log": "ethos.gateway._auditlog",
}


__getattr__ = lazy_getattr(__name__, _HOMES)
