"""Phone numbers through Google's libphonenumber (the ``phonenumbers`` package).

``PhoneNumberMatcher`` runs once per configured region, and only on texts with at least seven
digits (it is the slowest pattern step). A match is dropped when it has fewer than seven digits,
touches a letter, digit or ``-`` (a fragment of an id or a UUID), has the SSN shape
``AAA-GG-SSSS``, or is written in a national format without the region's trunk prefix ``0``
(``030 1234567`` is a Berlin number, ``301234567`` is not). Numbers written with ``+`` and a country code are found
whatever the region. Scores: valid for its region (allocated prefix, right length) 0.75;
merely *possible* (right length, unallocated prefix, as fake data often is) 0.5 when written in
a phone-like grouping (``(555) 010-4477``, ``555.010.4477``), else 0.25. Bare digit runs
(``5550104477``) score 0.3 at most. Below the default threshold (0.4), a context word is needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ethos.pii.detect._config import AnalyzerConfig
from ethos.pii.detect._context import ContextMatcher
from ethos.pii.detect._recognizer import Recognizer, recognizer
from ethos.types import Explanation, Span

__all__ = ["PhoneRecognizer"]

VALID_SCORE = 0.75
FORMATTED_SCORE = 0.5
POSSIBLE_SCORE = 0.25
BARE_SCORE = 0.3
_MIN_DIGITS = 7
_GROUPED = re.compile(r"^\+|^\(\d{2,5}\)|\d[\s.\-/]\d{2,4}[\s.\-/]\d")
_NATIONAL_TRUNK = re.compile(r"(?<!\d)\(?0\d")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
CONTEXT = ("phone", "telephone", "cell", "cellphone", "mobile", "call", "tel", "fax", "reach", "text",
           "whatsapp", "contact", "dial")


@recognizer("phone")
class PhoneRecognizer(Recognizer):
    """International and national phone numbers (regions from ``AnalyzerConfig.phone_regions``)."""

    entities = frozenset({"PHONE_NUMBER"})

    def __init__(self, config: AnalyzerConfig) -> None:
        """Store the config; the library is imported by :meth:`load`."""
        super().__init__(config)
        self._pn: Any = None
        self._context = ContextMatcher(CONTEXT)

    def load(self) -> None:
        """Import ``phonenumbers`` (an optional extra: ``ethos[pii]``)."""
        if self._pn is None:
            from ethos._util.deps import require

            self._pn = require("phonenumbers", extra="pii", purpose="phone number detection")

    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        """Run the matcher on each text with enough digits."""
        self.load()
        return [self._find_one(t) if sum(c.isdigit() for c in t) >= _MIN_DIGITS else [] for t in texts]

    def _find_one(self, text: str) -> list[Span]:
        pn = self._pn
        best: dict[tuple[int, int], Span] = {}
        regions = self.config.phone_regions
        if len(regions) > 1 and _NATIONAL_TRUNK.search(text) is None:
            regions = regions[:1]  # only "+…" numbers or the first region's format can match: one pass finds them
        for region in regions:
            for match in pn.PhoneNumberMatcher(text, region, leniency=pn.Leniency.POSSIBLE):
                if not self._plausible(text, match, region):
                    continue
                span = self._span(text, match, region)
                key = (span.start, span.end)
                if key not in best or best[key].score < span.score:
                    best[key] = span
        return list(best.values())

    def _plausible(self, text: str, match: Any, region: str) -> bool:
        """Reject fragments of ids, amounts and SSN-shaped strings; national formats need the trunk prefix."""
        raw = match.raw_string
        before = text[match.start - 1] if match.start else " "
        after = text[match.end] if match.end < len(text) else " "
        if before.isalnum() or before in "-_." or after.isalnum() or after in "-_":
            return False
        if sum(c.isdigit() for c in raw) < _MIN_DIGITS or _SSN_SHAPE.match(raw):
            return False
        prefix = self._pn.PhoneMetadata.metadata_for_region(region).national_prefix
        national = raw.lstrip("(").lstrip()
        return not (prefix == "0" and not raw.startswith("+") and not national.startswith("0"))

    def _span(self, text: str, match: Any, region: str) -> Span:
        pn = self._pn
        raw = match.raw_string
        valid = bool(pn.is_valid_number(match.number))
        if raw.isdigit():  # a bare run of digits is as likely an id or an amount: needs a context word
            score, pattern = BARE_SCORE if valid else POSSIBLE_SCORE - 0.05, f"bare digits ({region})"
        elif valid:
            score, pattern = VALID_SCORE, f"valid number ({region})"
        elif _GROUPED.search(raw) and not _DATE_LIKE.match(raw):
            score, pattern = FORMATTED_SCORE, f"possible number, phone-like grouping ({region})"
        else:
            score, pattern = POSSIBLE_SCORE, f"possible number ({region})"
        if _DATE_LIKE.match(raw):
            score = min(score, POSSIBLE_SCORE)
        boost, word = self._context.boost(text, match.start, match.end, score)
        explanation = Explanation(
            recognizer=self.name,
            pattern=pattern,
            original_score=score,
            context_boost=boost,
            validation=valid,
            note=None if word is None else f"context word {word!r}",
        )
        return Span(match.start, match.end, "PHONE_NUMBER", score + boost, explanation)
