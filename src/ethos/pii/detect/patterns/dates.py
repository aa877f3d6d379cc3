"""Dates and ages.

Dates: numeric (ISO ``1990-04-17``, ``04/17/1990``, ``17.04.1990``) and written-out
(``April 17, 1990``, ``17 April 1990``, ``Apr 17th``), validated as calendar dates. Machine
timestamps with seconds (``2024-03-01 12:00:03``, ``2024-03-01T12:00:03Z``), as in log lines, are
not reported: they date events, not people. Ages: ``42 years old``, ``aged 42``, ``age: 42``.
"""

from __future__ import annotations

import re

from ethos.pii.detect._recognizer import Pattern, PatternRecognizer, recognizer
from ethos.types import Span

__all__ = ["AgeRecognizer", "DateRecognizer", "is_timestamp"]

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_TIMESTAMP_TAIL = re.compile(r"[T ]?\d{1,2}:\d{2}:\d{2}")


def is_timestamp(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is (part of) a machine timestamp: a time with seconds inside or just after."""
    return _TIMESTAMP_TAIL.match(text, end) is not None or _TIMESTAMP_TAIL.search(text, start, end) is not None


@recognizer("date")
class DateRecognizer(PatternRecognizer):
    """Calendar dates (not log timestamps)."""

    entity = "DATE_TIME"
    patterns = (
        Pattern("iso date", rf"(?<![\w\-/.]){_YEAR}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?![\w\-/]|\.\d)", 0.6),
        Pattern("numeric date", r"(?<![\w\-/.])(?:0?[1-9]|[12]\d|3[01])([/.\-])(?:0?[1-9]|[12]\d|3[01])\1"
                r"(?:1[89]\d\d|20\d\d)(?![\w\-/]|\.\d)", 0.55),
        Pattern("numeric date, 2-digit year", r"(?<![\w\-/.])(?:0?[1-9]|[12]\d|3[01])([/\-])(?:0?[1-9]|[12]\d|3[01])\1"
                r"\d\d(?![\w\-/]|\.\d)", 0.45),
        Pattern("month day year", rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", 0.6, re.IGNORECASE),
        Pattern("day month year", rf"\b{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?\b", 0.6, re.IGNORECASE),
        Pattern("month year", rf"\b{_MONTH}\s+{_YEAR}\b", 0.5, re.IGNORECASE),
    )
    context = ("born", "birth", "birthday", "dob", "date", "on", "since", "appointment", "died", "married")

    def find_one(self, text: str) -> list[Span]:
        """Dates, minus machine timestamps."""
        return [s for s in super().find_one(text) if not is_timestamp(text, s.start, s.end)]

    def validate(self, value: str) -> bool | None:
        """Numeric dates must name a real month (day-month or month-day order)."""
        parts = re.split(r"[/.\-]", value)
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        a, b = int(parts[0]), int(parts[1])
        if len(parts[0]) == 4:  # ISO: year-month-day
            return 1 <= b <= 12
        return (1 <= a <= 12) or (1 <= b <= 12)


@recognizer("age")
class AgeRecognizer(PatternRecognizer):
    """Ages written with an age word; the number alone is reported."""

    entity = "AGE"
    patterns = (
        Pattern("n years old", r"\b(?P<value>1[01]\d|\d{1,2})[\s\-]*(?:years?|yrs?|y/o)[\s\-]*old\b", 0.7,
                re.IGNORECASE),
        Pattern("aged n", r"\b(?:aged?|age:|age of|turned|turning)\s*(?P<value>1[01]\d|\d{1,2})\b(?![./:]\d)", 0.6,
                re.IGNORECASE),
        Pattern("n-year-old", r"\b(?P<value>1[01]\d|\d{1,2})-year-old\b", 0.7, re.IGNORECASE),
    )
    context = ("patient", "born")
    required = ("ye", "Ye", "YE", "ag", "Ag", "AG", "y/o", "urn", "URN")
