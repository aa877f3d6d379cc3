"""Context words: a word such as "phone" or "passport" near a match raises its score.

Rule (Presidio's ``LemmaContextAwareEnhancer`` defaults, on lower-cased words instead of
lemmas so that it works without a lemmatizer): if one of the recognizer's context words starts
one of the :data:`WORDS_BEFORE` words before the match (or :data:`WORDS_AFTER` after it; 0, as
in Presidio: in lists such as "SSN …, phone …" a following word belongs to the next value),
the score rises by :data:`CONTEXT_BOOST`, to at least :data:`MIN_SCORE_WITH_CONTEXT`, at most 1.0.
Prefix matching lets "phone" match "phones" and "license" match "licensed"; context words
shorter than four letters must match a whole word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["CONTEXT_BOOST", "MIN_SCORE_WITH_CONTEXT", "WORDS_AFTER", "WORDS_BEFORE", "ContextMatcher"]

CONTEXT_BOOST = 0.35
MIN_SCORE_WITH_CONTEXT = 0.4
WORDS_BEFORE = 5
WORDS_AFTER = 0
_WINDOW_CHARS = 80
_WORD = re.compile(r"[^\W\d_]+")


class ContextMatcher:
    """Looks for context words around a span.

    Args:
        words: Context words (case-insensitive); multi-word entries count each word.
    """

    def __init__(self, words: Sequence[str]) -> None:
        """Split and lower-case the words once."""
        parts = {w for phrase in words for w in phrase.lower().split()}
        self._exact = frozenset(w for w in parts if len(w) < 4)
        self._prefixes = tuple(sorted(w for w in parts if len(w) >= 4))

    def boost(self, text: str, start: int, end: int, score: float) -> tuple[float, str | None]:
        """Return the score increase for the span ``text[start:end]`` and the word that caused it."""
        if not self._exact and not self._prefixes:
            return 0.0, None
        before = _WORD.findall(text[max(0, start - _WINDOW_CHARS) : start].lower())[-WORDS_BEFORE:]
        after = _WORD.findall(text[end : end + _WINDOW_CHARS].lower())[:WORDS_AFTER]
        for word in (*reversed(before), *after):
            if word in self._exact or (self._prefixes and word.startswith(self._prefixes)):
                new = min(1.0, max(score + CONTEXT_BOOST, MIN_SCORE_WITH_CONTEXT))
                return max(0.0, new - score), word
        return 0.0, None

    def near(self, text: str, start: int, end: int) -> str | None:
        """The context word found around the span, or ``None``."""
        return self.boost(text, start, end, 0.0)[1]
