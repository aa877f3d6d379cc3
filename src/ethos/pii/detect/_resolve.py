"""Filters and overlap resolution applied to every recognizer's raw spans.

Order: entity filter → allow-list → threshold → same-entity overlaps merged (union of the
spans, highest score and its explanation kept) → a span strictly inside a span of another
entity is dropped (the larger wins, as in Presidio's anonymizer) → remaining overlaps: higher
score wins, then the longer span, then the earlier one. The result is sorted by start and has no
overlaps.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Mapping

from ethos.types import Explanation, Span

__all__ = ["DenyList", "resolve"]

_DENY_EXPLANATION = Explanation(recognizer="deny_list", pattern="deny list entry", original_score=1.0)


def resolve(
    text: str,
    spans: Iterable[Span],
    *,
    entities: Collection[str] | None,
    threshold: float,
    allow: Collection[str] = (),
) -> list[Span]:
    """Filter ``spans`` found in ``text`` and resolve their overlaps (see the module docstring)."""
    kept = [
        s
        for s in spans
        if (entities is None or s.entity in entities)
        and s.score >= threshold
        and s.end > s.start
        and not (allow and text[s.start : s.end] in allow)
    ]
    merged = _merge_same_entity(kept)
    outer = [s for s in merged if not any(_strictly_inside(s, o) for o in merged if o.entity != s.entity)]
    chosen: list[Span] = []
    for span in sorted(outer, key=lambda s: (-s.score, s.start - s.end, s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _strictly_inside(inner: Span, outer: Span) -> bool:
    longer = (outer.end - outer.start) > (inner.end - inner.start)
    return longer and outer.start <= inner.start and inner.end <= outer.end


def _merge_same_entity(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    by_entity: dict[str, list[Span]] = {}
    for s in spans:
        by_entity.setdefault(s.entity, []).append(s)
    for group in by_entity.values():
        group.sort(key=lambda s: (s.start, -s.end))
        current = group[0]
        for s in group[1:]:
            if s.start < current.end:
                best = current if current.score >= s.score else s
                current = dataclasses.replace(best, start=current.start, end=max(current.end, s.end))
            else:
                out.append(current)
                current = s
        out.append(current)
    return out


class DenyList:
    """Exact strings always reported as their entity (score 1.0), matched on word boundaries.

    Args:
        entries: Entity → strings.
    """

    def __init__(self, entries: Mapping[str, Iterable[str]]) -> None:
        """Compile one alternation per entity, longest strings first."""
        self._rx: list[tuple[str, re.Pattern[str]]] = []
        for entity, words in entries.items():
            alternatives = sorted({w for w in words if w}, key=len, reverse=True)
            if alternatives:
                joined = "|".join(re.escape(w) for w in alternatives)
                self._rx.append((entity, re.compile(rf"(?<!\w)(?:{joined})(?!\w)")))

    def __bool__(self) -> bool:
        return bool(self._rx)

    def find(self, text: str) -> list[Span]:
        """Every occurrence of a listed string in ``text``."""
        return [
            Span(m.start(), m.end(), entity, 1.0, _DENY_EXPLANATION)
            for entity, rx in self._rx
            for m in rx.finditer(text)
        ]
