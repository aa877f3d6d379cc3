"""Prometheus metrics for one gateway, on a registry of its own.

Each :class:`Metrics` owns a ``CollectorRegistry``: two apps in one process (tests, several
gateways) never share or collide on series. Label values are bounded on purpose: ``route`` is the
route template (never a raw path), ``reason`` a stable refusal code, ``entity`` a PII entity name;
beyond :data:`MAX_LABEL_VALUES` distinct values per label, new ones are counted under ``other`` so a
bug or a hostile client cannot grow the series without bound.

Label children are cached in plain dicts, so recording a request costs a dict lookup and the
increments, not prometheus_client's locked ``labels()`` lookup (see docs/gateway-ops.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DURATION_BUCKETS", "MAX_LABEL_VALUES", "Metrics"]

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Seconds, from 1 ms (the gateway's own overhead) to 120 s (a long generation)."""
MAX_LABEL_VALUES = 200
"""Distinct values one label may take before new ones are folded into ``other``."""
UPSTREAM_ERROR_KINDS = ("unreachable", "timeout", "status_5xx", "in_band", "malformed")
_OTHER = "other"


class Metrics:
    """The gateway's counters, histograms and gauge, with cheap recording methods.

    Attributes:
        registry: The ``prometheus_client.CollectorRegistry`` holding every series.
        in_flight: Gauge of requests being handled (``inc()`` on arrival, ``dec()`` when done).
    """

    def __init__(self) -> None:
        """Create the registry and every metric (prometheus_client is imported here, not at start-up)."""
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self._requests = Counter(
            "ethos_gateway_requests", "Requests answered, by route template and HTTP status.", ["route", "status"],
            registry=reg,
        )  # fmt: skip
        self._duration = Histogram(
            "ethos_gateway_request_duration_seconds", "Time from request to the last byte of the answer.",
            ["route"], buckets=DURATION_BUCKETS, registry=reg,
        )  # fmt: skip
        self._upstream = Histogram(
            "ethos_gateway_upstream_duration_seconds", "Time spent waiting for the upstream model server.",
            ["route"], buckets=DURATION_BUCKETS, registry=reg,
        )  # fmt: skip
        self._upstream_errors = Counter(
            "ethos_gateway_upstream_errors", "Upstream failures by kind.", ["kind"], registry=reg
        )
        self._blocked = Counter(
            "ethos_gateway_blocked", "Refusals and guard blocks or flags, by reason code.", ["reason"], registry=reg
        )
        self._redactions = Counter(
            "ethos_gateway_redactions", "PII values replaced, by entity.", ["entity"], registry=reg
        )
        self.in_flight = Gauge("ethos_gateway_in_flight", "Requests being handled now.", registry=reg)
        tokens = Counter("ethos_gateway_tokens", "Tokens used, as reported by the upstream.", ["kind"], registry=reg)
        self._prompt_tokens = tokens.labels(kind="prompt")
        self._completion_tokens = tokens.labels(kind="completion")
        for kind in UPSTREAM_ERROR_KINDS:  # pre-bound: the series exist (at 0) before the first failure
            self._upstream_errors.labels(kind=kind)
        self._children: dict[tuple[Any, ...], Any] = {}
        self._seen: dict[str, set[str]] = {}

    def _bounded(self, label: str, value: str) -> str:
        """``value``, or ``other`` once ``label`` has :data:`MAX_LABEL_VALUES` other values."""
        seen = self._seen.setdefault(label, set())
        if value not in seen:
            if len(seen) >= MAX_LABEL_VALUES:
                return _OTHER
            seen.add(value)
        return value

    def _child(self, metric: Any, label: str, value: str) -> Any:
        """The cached child of ``metric`` for ``value`` (``label`` names the metric's one label)."""
        key = (label, self._bounded(label, value))  # bounded first: the cache stays as small as the series
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(key[1])
        return child

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration.

        Args:
            route: The route template (``/v1/chat/completions``), never the raw path.
            status: The HTTP status sent to the caller.
            seconds: From the request's arrival to the answer's last byte.
        """
        label = self._bounded("route", route)
        key = ("request", label, status)
        pair = self._children.get(key)
        if pair is None:
            pair = self._children[key] = (self._requests.labels(label, str(status)), self._duration.labels(label))
        pair[0].inc()
        pair[1].observe(seconds)

    def observe_upstream(self, route: str, seconds: float) -> None:
        """Record how long the upstream took for one request on ``route``."""
        self._child(self._upstream, "upstream_route", route).observe(seconds)

    def upstream_error(self, kind: str) -> None:
        """Count one upstream failure: ``unreachable``, ``timeout``, ``status_5xx``, ``in_band`` or ``malformed``."""
        self._child(self._upstream_errors, "kind", kind).inc()

    def blocked(self, reason: str) -> None:
        """Count one refusal or guard decision by its reason code (``limit.rate``, ``policy.deny_list``)."""
        self._child(self._blocked, "reason", reason).inc()

    def redacted(self, counts: Mapping[str, int]) -> None:
        """Add the PII values replaced in one request, by entity (``{"EMAIL_ADDRESS": 2}``)."""
        for entity, count in counts.items():
            if count > 0:
                self._child(self._redactions, "entity", entity).inc(count)

    def tokens(self, prompt: int, completion: int) -> None:
        """Add one request's prompt and completion token counts."""
        if prompt > 0:
            self._prompt_tokens.inc(prompt)
        if completion > 0:
            self._completion_tokens.inc(completion)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of every series, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
