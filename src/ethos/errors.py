"""The one exception tree of Ethos.

Library code raises only these; ``ethos._cli`` turns them into one line on stderr and an exit
code. Every message names the file, field, line or URL at fault and says what to do.

::

    EthosError                      exit 2 unless noted
    ├── ConfigError                 a setting, flag or ethos.toml entry is wrong
    │   └── UnknownNameError        no provider/benchmark/... of that name ("did you mean")
    ├── MissingDependencyError      an optional extra is not installed (message has the pip command)
    ├── DataError                   an input file or data set is unreadable or malformed
    ├── ModelError                  a model could not be loaded or used
    │   ├── CapabilityError         the model cannot do what was asked (e.g. score a continuation)
    │   └── ServerError             a model server misbehaved
    │       ├── ServerUnreachableError  no connection, or timed out (names the URL)
    │       │   └── ServerTimeoutError      the server did not answer in time
    │       ├── ServerResponseError     an HTTP error status after retries (names status and URL)
    │       └── MalformedResponseError  a reply was not what the API promises (names the field)
    ├── StoreError                  the run database is unreadable or a run is missing
    │   └── SchemaVersionError      the database or a record was written by a newer Ethos
    ├── PolicyViolation             a guard refused a request
    │   └── RequestRefused          the gateway refused a request (HTTP status, reason code)
    ├── GateError                   a CI gate rule could not be evaluated (run, metric or baseline missing)
    └── GateFailed                  a CI gate rule failed (exit 1)
"""

from __future__ import annotations

__all__ = [
    "CapabilityError",
    "ConfigError",
    "DataError",
    "EthosError",
    "GateError",
    "GateFailed",
    "MalformedResponseError",
    "MissingDependencyError",
    "ModelError",
    "PolicyViolation",
    "SchemaVersionError",
    "ServerError",
    "RequestRefused",
    "ServerResponseError",
    "ServerTimeoutError",
    "ServerUnreachableError",
    "StoreError",
    "UnknownNameError",
]


class EthosError(Exception):
    """Base of every error Ethos raises on purpose.

    Attributes:
        exit_code: The CLI exit code for this error (2: usage or input error).
    """

    exit_code: int = 2


class ConfigError(EthosError):
    """A setting, flag or ``ethos.toml`` entry is invalid."""


class UnknownNameError(ConfigError):
    """A registry was asked for a name it does not hold."""

    def __init__(self, kind: str, name: str, known: list[str], suggestions: list[str]) -> None:
        """Build the message from the registry kind, the bad name and the known names."""
        self.kind = kind
        self.name = name
        self.known = known
        self.suggestions = suggestions
        hint = f" Did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        listing = ", ".join(known) if known else "none registered"
        kinds = f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
        super().__init__(f"unknown {kind} {name!r}.{hint} Known {kinds}: {listing}.")


class MissingDependencyError(EthosError):
    """An optional dependency is missing; the message carries the pip command."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        """Name the missing import, the extra that provides it and what needed it."""
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the optional package {package!r}, which is not installed. "
            f"Install it with: pip install 'ethos[{extra}]'"
        )


class DataError(EthosError):
    """An input file or data set is unreadable or malformed."""


class ModelError(EthosError):
    """A model could not be loaded or used."""


class CapabilityError(ModelError):
    """The model lacks a capability the caller needs."""


class ServerError(ModelError):
    """A model server did not answer as its API promises."""


class ServerUnreachableError(ServerError):
    """The server could not be reached (refused, DNS, timeout)."""


class ServerTimeoutError(ServerUnreachableError):
    """The server accepted the connection but did not answer in time."""


class ServerResponseError(ServerError):
    """The server answered with an HTTP error status (after any retries)."""

    def __init__(self, message: str, *, status: int) -> None:
        """Keep the HTTP status for callers that branch on it."""
        self.status = status
        super().__init__(message)


class MalformedResponseError(ServerError):
    """A server reply lacks a field or has one of the wrong type."""


class StoreError(EthosError):
    """The run database is unreadable, or a run was not found."""


class SchemaVersionError(StoreError):
    """A database or record was written by a newer version of Ethos."""


class PolicyViolation(EthosError):
    """A guard refused a request; ``reason`` is a stable code."""

    def __init__(self, message: str, *, reason: str) -> None:
        """Keep the stable reason code next to the human message."""
        self.reason = reason
        super().__init__(message)


class RequestRefused(PolicyViolation):
    """The gateway refused a request; it carries the HTTP status and headers for the answer.

    ``reason`` is a stable, dotted code (``auth.missing_key``, ``limit.requests``,
    ``policy.prompt_injection`` ...) that appears in the answer, the audit log and the metrics.
    """

    def __init__(
        self, message: str, *, reason: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        """Keep the status, the reason code and any extra answer headers (e.g. ``Retry-After``)."""
        self.status = status
        self.headers = dict(headers or {})
        super().__init__(message, reason=reason)


class GateError(EthosError):
    """A CI gate rule could not be evaluated: its run, metric or baseline is missing or unusable."""


class GateFailed(EthosError):
    """One or more CI gate rules failed."""

    exit_code = 1
