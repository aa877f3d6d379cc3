"""Incremental rewriting of a streamed answer with a bounded hold-back.

A :class:`WindowFilter` turns any whole-text rewrite ``emit(text, find(text))`` into a streamed one
that gives the same output for values up to ``holdback`` characters long, without buffering the
whole answer (LiteLLM's first fix collapsed time-to-first-token to full generation time) and
without ever sending half a value (its second one flushed on sentence boundaries and could).

How it decides what to send: the filter keeps the raw text it has not sent (*pending*) and up to
:data:`CONTEXT_CHARS` raw characters it has sent (*context*, for context words such as "phone"
that raise a match's score). Each time new text arrives and at least :data:`MIN_RELEASE` pending characters lie more
than ``holdback`` characters before the end, it scans context + pending once and cuts at the last
whitespace boundary that

* lies at least ``holdback`` characters before the end (a value that crosses it and is at most
  ``holdback`` long is then complete in the scanned text, and was found), and
* is not inside any found hit (a PII value, a placeholder, a rule match, an unclosed ``<...``).

Text before the cut is rewritten and sent; the rest waits. A run without whitespace longer than
``2 × holdback`` (a base64 blob) is cut at ``len - holdback`` unless a hit covers that point. At
the end of the stream everything pending is rewritten and sent.

Limits: a value longer than ``holdback`` whose start was sent before its end arrived (a PEM key)
may leave in part; spaCy NER sees a window, not the whole answer, and may decide differently at
the edges. Both are documented in ``docs/gateway-guards.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["CONTEXT_CHARS", "MIN_RELEASE", "Hit", "WindowFilter"]

CONTEXT_CHARS = 96
"""Sent characters kept for scanning: more than the 80 the PII engine's context words look back."""

MIN_RELEASE = 16
"""Releasable characters gathered before a scan: one scan per ~16 characters, not one per token."""

Hit = tuple[int, int, Any]
"""``(start, end, payload)`` of something found in a text; ``payload`` is the finder's own."""

Finder = Callable[[str], Sequence[Hit]]
Emitter = Callable[[str, Sequence[Hit]], str]


class WindowFilter:
    """A :class:`~ethos.gateway._types.TextFilter` over a whole-text ``find`` + ``emit`` pair.

    Args:
        find: Returns the hits in a text (any order; they may overlap).
        emit: Rewrites a piece of text given the hits that lie wholly inside it (offsets relative
            to the piece); it is called on consecutive pieces in order and may keep state.
        holdback: Characters always kept back before a cut (see the module docstring).
        on_finish: Called once after the last piece was emitted (e.g. to record a decision).
    """

    def __init__(
        self,
        find: Finder,
        emit: Emitter,
        *,
        holdback: int,
        on_finish: Callable[[], None] | None = None,
    ) -> None:
        """Start with nothing held."""
        self._find = find
        self._emit = emit
        self._holdback = holdback
        self._on_finish = on_finish
        self._raw = ""  # context (already sent) + pending
        self._sent = 0  # length of the context prefix of _raw
        self._finished = False

    def feed(self, text: str) -> str:
        """Take the next piece of the answer; return what may be sent now."""
        if not text:
            return ""
        self._raw += text
        limit = len(self._raw) - self._holdback
        if limit - self._sent < MIN_RELEASE:
            return ""
        boundary = _last_boundary(self._raw, self._sent, limit)
        forced = boundary is None and len(self._raw) - self._sent > 2 * self._holdback
        if boundary is None and not forced:
            return ""
        hits = self._find(self._raw)
        cut = self._choose_cut(hits, limit)
        if cut is None:
            return ""
        return self._release(cut, hits)

    def finish(self) -> str:
        """Rewrite and return everything still held (the stream has ended)."""
        if self._finished:
            return ""
        self._finished = True
        out = self._release(len(self._raw), self._find(self._raw)) if len(self._raw) > self._sent else ""
        if self._on_finish is not None:
            self._on_finish()
        return out

    def _choose_cut(self, hits: Sequence[Hit], limit: int) -> int | None:
        """The last cut at or before ``limit`` that no hit straddles: a whitespace boundary, else forced."""
        blocked = [(s, e) for s, e, _ in hits if e > self._sent and s < limit]
        cut = limit
        while cut > self._sent:
            boundary = _last_boundary(self._raw, self._sent, cut)
            if boundary is None:
                break
            if not any(s < boundary < e for s, e in blocked):
                return boundary
            cut = boundary - 1
        if len(self._raw) - self._sent <= 2 * self._holdback:
            return None
        if not any(s < limit < e for s, e in blocked):
            return limit
        return None

    def _release(self, cut: int, hits: Sequence[Hit]) -> str:
        start = self._sent
        # A hit that began in sent text cannot be undone; its pending part is still rewritten.
        inside = [(max(s, start) - start, e - start, p) for s, e, p in hits if e > start and s < cut and e <= cut]
        out = self._emit(self._raw[start:cut], inside)
        keep_from = max(0, cut - CONTEXT_CHARS)
        self._raw = self._raw[keep_from:]
        self._sent = cut - keep_from
        return out


def _last_boundary(text: str, low: int, high: int) -> int | None:
    """The largest ``i`` in ``(low, high]`` with ``text[i - 1]`` whitespace, or ``None``."""
    for i in range(high, low, -1):
        if text[i - 1].isspace():
            return i
    return None
