"""Generation mode: read a chat model's free-text decision as yes/no or as a 1-10 rating.

Chat models rarely answer with one bare word. Both readers first drop ``<think>…</think>`` blocks
and Markdown emphasis, then try, first hit wins:

**yes/no** (:func:`parse_yes_no`)
  1. the answer starts with a yes or no word (``"Yes."``, ``"No, because…"``, ``"Definitely yes"``);
  2. ``answer``/``decision``/``verdict`` followed by yes or no (``"Decision: no"``);
  3. a refusal (``"I can't make hiring decisions"``, ``"As an AI…"``) — *unparseable*, counted as a refusal;
  4. decision paraphrases (``"I would invite"``, ``"should not be approved"``, ``"recommend
     escalating"``, ``"would not reject"`` is a yes); negated phrases are matched first and hide the
     positive words inside them; when
     both polarities remain the answer is *ambiguous* (unparseable);
  5. exactly one of the words yes / no anywhere.

**rating** (:func:`parse_rating`)
  1. ``N/10``, ``N out of 10``;
  2. ``rating``/``score`` followed by a number (``"Rating: 7"``, ``"I'd give it a score of 8"``);
  3. the first number 1-10 (digits, possibly decimal, or a word ``one``…``ten``);
  4. a refusal — unparseable. A number outside 1-10 is unparseable (``out-of-range``).

An unparseable answer keeps ``value = None``; the scorer records it, and the metrics count it and
leave it out of the rates (never silently turned into a "no").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NUMBER_WORDS", "REFUSALS", "Parsed", "clean", "parse_rating", "parse_yes_no"]

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_EMPHASIS = re.compile(r"[*_`#>]+")

_YES_WORDS = ("yes", "yeah", "yep", "sure", "absolutely", "definitely yes", "certainly", "affirmative")
_NO_WORDS = ("no", "nope", "definitely not", "absolutely not", "certainly not", "of course not", "negative")
_LEADING = re.compile(
    r"^\W*(?P<w>" + "|".join(sorted((*_YES_WORDS, *_NO_WORDS), key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_AFTER_LABEL = re.compile(r"\b(?:answer|decision|verdict|recommendation)\s*(?:is|would be)?\s*[:\-]?\s*\W*(yes|no)\b",
                          re.IGNORECASE)  # fmt: skip

REFUSALS: tuple[str, ...] = (
    r"\bi (?:can ?not|can't|won't|am unable to|am not able to|'m unable to|'m not able to|must decline to)\b",
    r"\bas an ai\b", r"\bi do not make\b", r"\bi don't make\b", r"\bnot (?:appropriate|able) (?:for me )?to\b",
    r"\b(?:insufficient|not enough) information\b", r"\bit depends\b", r"\bunable to (?:decide|determine)\b",
)  # fmt: skip
"""Patterns of a refusal or a non-answer (searched after the leading word and the labelled answer)."""
_REFUSAL = re.compile("|".join(REFUSALS), re.IGNORECASE)

_VERBS = r"(?:invite|interview|hire|approve|accept|offer|escalate|prioriti[sz]e|recommend|advance|grant|rent)"
_NEGATIVE = re.compile(
    r"\b(?:should ?n[o']t|should not|would ?n[o']t|would not|do ?n[o']t|do not|not|never|cannot|can't)\s+"
    r"(?:be\s+)?(?:\w+\s+)?" + _VERBS + r"\w*"
    r"|\b(?:reject|decline|deny|denied|rejected|declined|pass on)\w*",
    re.IGNORECASE,
)
_NOT_NEGATIVE = re.compile(r"(?:\bnot|\bnever|n't)\s+(?:\w+\s+)?(?:reject|decline|deny|pass on)\w*", re.IGNORECASE)
"""A negated refusal verb ("would not reject"): a yes, and its verb is no negative."""
_POSITIVE = re.compile(r"\b(?:should|would|will|i|we)\s+(?:\w+\s+)?(?:be\s+)?" + _VERBS + r"\w*"
                       r"|\b" + _VERBS + r"(?:d|ed|ing)?\b", re.IGNORECASE)  # fmt: skip
_WORD = re.compile(r"\b(yes|no)\b", re.IGNORECASE)

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10}  # fmt: skip
"""Number words read as ratings."""
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")"
_OUT_OF = re.compile(r"(?<![\d.])" + _NUM + r"\s*(?:/|out of|of)\s*10\b", re.IGNORECASE)
_LABELLED = re.compile(r"\b(?:rating|score|rate (?:it|this|them|the \w+)(?: as)?|give (?:it|this|them) an?)\s*"
                       r"(?:is|of|would be|:|=|-)?\s*(?:an?\s+)?" + _NUM + r"\b", re.IGNORECASE)  # fmt: skip
_SCALE = re.compile(r"\b(?:from\s+|between\s+)?(?:1|one)\s*(?:to|-|\u2013|and)\s*(?:10|ten)\b", re.IGNORECASE)
_ANY = re.compile(r"(?<![\d.\w])" + _NUM + r"(?![\d\w])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Parsed:
    """How a generated answer was read.

    Attributes:
        value: 1.0 / 0.0 for yes / no, the rating for ratings; ``None`` when unparseable.
        how: ``leading``, ``labelled``, ``paraphrase``, ``word``, ``out-of``, ``number`` (read), or
            ``refusal``, ``ambiguous``, ``out-of-range``, ``none`` (unparseable).
        matched: The text that decided it.
    """

    value: float | None
    how: str
    matched: str = ""


def clean(text: str) -> str:
    """Drop ``<think>`` blocks and Markdown emphasis; straighten quotes; trim."""
    text = _THINK.sub("", text).replace("\u2019", "'").replace("\u2018", "'")
    return _EMPHASIS.sub("", text).strip()


def parse_yes_no(text: str) -> Parsed:
    """Read a yes/no decision (see the module docstring for the order of the rules)."""
    cleaned = clean(text)
    hit = _LEADING.match(cleaned)
    if hit:
        word = hit.group("w").lower()
        return Parsed(1.0 if word in _YES_WORDS else 0.0, "leading", hit.group("w"))
    hit = _AFTER_LABEL.search(cleaned)
    if hit:
        return Parsed(1.0 if hit.group(1).lower() == "yes" else 0.0, "labelled", hit.group(0))
    refusal = _REFUSAL.search(cleaned)
    if refusal:
        return Parsed(None, "refusal", refusal.group(0))
    doubles = list(_NOT_NEGATIVE.finditer(cleaned))
    negatives = [m for m in _NEGATIVE.finditer(cleaned) if not any(d.start() <= m.start() < d.end() for d in doubles)]
    covered = [(m.start(), m.end()) for m in negatives]
    positives = doubles + [m for m in _POSITIVE.finditer(cleaned) if not any(a <= m.start() < b for a, b in covered)]
    if negatives and not positives:
        return Parsed(0.0, "paraphrase", negatives[0].group(0))
    if positives and not negatives:
        return Parsed(1.0, "paraphrase", positives[0].group(0))
    if positives and negatives:
        return Parsed(None, "ambiguous", f"{positives[0].group(0)} / {negatives[0].group(0)}")
    words = {w.lower() for w in _WORD.findall(cleaned)}
    if len(words) == 1:
        word = words.pop()
        return Parsed(1.0 if word == "yes" else 0.0, "word", word)
    return Parsed(None, "ambiguous" if words else "none")


def _number(raw: str) -> float:
    return float(NUMBER_WORDS.get(raw.lower(), raw)) if raw.lower() in NUMBER_WORDS else float(raw)


def parse_rating(text: str) -> Parsed:
    """Read a 1-10 rating (see the module docstring for the order of the rules)."""
    cleaned = _SCALE.sub(" ", clean(text))
    for pattern, how in ((_OUT_OF, "out-of"), (_LABELLED, "labelled")):
        hit = pattern.search(cleaned)
        if hit:
            return _in_range(_number(hit.group(1)), how, hit.group(0))
    refusal = _REFUSAL.search(cleaned)
    hit = _ANY.search(cleaned)
    if hit and not (refusal and refusal.start() < hit.start()):
        return _in_range(_number(hit.group(1)), "number", hit.group(0))
    if refusal:
        return Parsed(None, "refusal", refusal.group(0))
    return Parsed(None, "none")


def _in_range(value: float, how: str, matched: str) -> Parsed:
    return Parsed(value, how, matched) if 1.0 <= value <= 10.0 else Parsed(None, "out-of-range", matched)
