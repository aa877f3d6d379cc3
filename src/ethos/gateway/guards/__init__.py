"""The gateway's content guards: policy (rules, injection, secrets, leaks), PII, and transparency.

:func:`build_guards` gives the guards a configuration asks for, in the order they run on
prompts: policy first (it sees what the caller wrote), then PII (what leaves for the upstream).
Answers pass through the same list in the same order. The transparency helpers are applied by
the app to canonical requests and responses::

    guards = build_guards(config)
    for guard in guards:
        texts = guard.check_prompt(texts, ctx)

Every decision reason is a stable dotted code; ``docs/gateway-guards.md`` lists them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethos.gateway.guards._heuristics import Injection, score_injection
from ethos.gateway.guards._pii import PiiGuard
from ethos.gateway.guards._policy import PolicyGuard
from ethos.gateway.guards._stream import WindowFilter
from ethos.gateway.guards._transparency import (
    apply_disclaimer,
    decorate_final_chunk,
    decorate_response,
    normalize_citations,
)

if TYPE_CHECKING:
    from ethos.gateway._config import GatewayConfig
    from ethos.gateway._types import Guard

__all__ = [
    "Injection",
    "PiiGuard",
    "PolicyGuard",
    "WindowFilter",
    "apply_disclaimer",
    "build_guards",
    "decorate_final_chunk",
    "decorate_response",
    "normalize_citations",
    "score_injection",
]


def build_guards(config: GatewayConfig) -> list[Guard]:
    """The guards ``config`` enables, in prompt order; the PII analyzer is loaded here, once.

    Raises:
        UnknownNameError: When ``[pii] entities`` names an entity no recognizer reports.
        MissingDependencyError: When the spaCy pipeline or an optional package is missing.
        ConfigError: When a ``[[policy.rules]]`` pattern is not a valid regular expression.
    """
    guards: list[Guard] = [PolicyGuard(config.policy).load()]
    if config.pii.enabled:
        guards.append(PiiGuard(config.pii).load())
    return guards
