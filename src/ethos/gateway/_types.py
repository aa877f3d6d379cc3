"""Values shared by the gateway's parts: API formats, endpoints, guard decisions and the guard contract.

Inside the gateway every request and answer is an OpenAI-shaped ``dict`` (the *canonical* form):
``ethos.gateway._wire`` translates the caller's format into it and out of it, and the upstream's
format likewise. Guards therefore see one shape, and only its text: a guard gets the list of prompt
texts and returns the list it wants sent on (or raises :class:`~ethos.errors.RequestRefused`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, Protocol

Format = Literal["openai", "ollama"]
"""A wire format: the caller's (by the route it used) or the upstream's (by configuration)."""

Endpoint = Literal["chat", "completion", "embedding", "models", "admin"]
"""What a route does; key scopes name these. ``admin`` is Ollama's model management (pull, push,
create, copy, delete, show, ps), never open to ordinary keys."""

ENDPOINTS: tuple[Endpoint, ...] = ("chat", "completion", "embedding", "models", "admin")

Action = Literal["allow", "modify", "block", "flag"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What one guard did to one request or answer, for the audit log and the metrics.

    Attributes:
        guard: The guard's name (``pii``, ``policy``, ``disclaimer`` ...).
        action: ``modify`` (text changed), ``block`` (refused), ``flag`` (noted, passed on).
        reason: A stable dotted code, e.g. ``pii.redacted``, ``policy.prompt_injection``.
        detail: A short human note without any prompt content (counts, rule names).
    """

    guard: str
    action: Action
    reason: str
    detail: str = ""


@dataclass(slots=True)
class GuardContext:
    """Per-request state the guards share; it lives in memory only and dies with the request.

    Who asked for what (request id, key, model, route) lives on the request's ``Exchange``: no guard
    decides by it.

    Attributes:
        log_content: Whether redacted content may be written to the audit log.
        decisions: Every guard decision, in order.
        redactions: Count of redacted values per entity type (``PERSON``, ``EMAIL_ADDRESS`` ...).
        vault: Placeholder -> original value for this request only (the PII guard fills it).
        system_prompts: The request's system prompts, for leak detection in answers.
    """

    log_content: bool = True
    decisions: list[Decision] = field(default_factory=list)
    redactions: Counter[str] = field(default_factory=Counter)
    vault: dict[str, str] = field(default_factory=dict)
    system_prompts: list[str] = field(default_factory=list)

    def record(self, guard: str, action: Action, reason: str, detail: str = "") -> None:
        """Append one decision."""
        self.decisions.append(Decision(guard, action, reason, detail))


class TextFilter(Protocol):
    """An incremental transformer of one streamed answer (one choice).

    ``feed`` takes the next piece of text and returns what may be sent now (possibly ``""``: a
    filter may hold text back until it can decide, e.g. until a PII value is complete);
    ``finish`` returns everything still held once the stream ends. The concatenation of all
    outputs is what :meth:`Guard.check_answer` would return for the whole text.
    """

    def feed(self, text: str) -> str:
        """Take the next piece of the answer; return the text that may be sent now."""
        ...

    def finish(self) -> str:
        """Return the text still held back (the stream has ended)."""
        ...


class Guard(Protocol):
    """A content guard: it reads and may rewrite prompt and answer texts, or refuse.

    Transport concerns (keys, limits, TLS, body size) are not guards; they live in the app.
    Guards raise :class:`~ethos.errors.RequestRefused` to block, and record what they did
    with :meth:`GuardContext.record`. Methods are synchronous and must be thread-safe.
    """

    name: str

    def check_prompt(self, texts: list[str], ctx: GuardContext) -> list[str]:
        """Return the prompt texts to send upstream (same length and order), or raise to refuse."""
        ...

    def check_answer(self, text: str, ctx: GuardContext) -> str:
        """Return the answer text to send to the caller, or raise to refuse."""
        ...

    def stream_filter(self, ctx: GuardContext) -> TextFilter | None:
        """Return a filter for one streamed answer, or ``None`` when answers pass untouched."""
        ...
