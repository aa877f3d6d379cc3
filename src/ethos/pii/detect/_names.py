"""Repair of PERSON spans from a small spaCy NER model, on the tokens it already made.

Small pipelines (``en_core_web_sm``) cut names badly: "Ana Souza called" → PERSON "Souza" (the
first name stays in clear text after anonymization), "Call Ana Souza" → "Call Ana Souza", and
"Dear Shannon Price" → ORG. :func:`repair` fixes the spans of one ``Doc`` with rules on token
text only (the tagger and parser stay off, so it costs no model time):

1. **Trim** greetings, verbs of addressing, titles and role nouns off both ends of a PERSON span
   ("Call", "Dear", "Dr.", "Customer"; lists in :mod:`._name_words`). Titles are never part of the
   span (OntoNotes's and Presidio's convention: "Dr. <PERSON>").
2. **Split** a PERSON span at lower-case words and punctuation inside it ("Bernard joined
   Chevalier" → two spans); particles ("van der") and hyphens inside names stay.
3. **Extend** a PERSON span over directly adjacent name-like tokens on the same line (capitalised,
   with a lower-case letter, only letters, apostrophes, hyphens or dots; not a stop word, weekday,
   month, title, greeting, role or generic word such as "Team"; not inside another entity), with
   particles between them, up to :data:`MAX_NAME_TOKENS` tokens.
4. **Second chance** after a strong cue: a greeting, a title, "my name is", "I'm", a signature line
   after a sign-off, or an e-mail header field is followed by one or more name-like tokens; a verb
   of addressing ("call", "email", "meet") or a role noun ("customer") needs at least two. Such a
   run is a PERSON (score :data:`CUE_SCORE`) when no entity covers it, or when NER labelled it an
   organisation, place, product … instead.
5. **Merge** PERSON spans that touch (separated by one space or a hyphen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ethos.pii.detect import _name_words as words

__all__ = ["CUE_SCORE", "MAX_NAME_TOKENS", "NerHit", "repair"]

CUE_SCORE = 0.6
MAX_NAME_TOKENS = 5
# NER labels a name after a cue is often mistaken for; dates, numbers and money are never relabelled.
_RELABEL = frozenset({"ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "WORK_OF_ART", "EVENT", "LANGUAGE"})
_TRIM = words.TITLES | words.GREETINGS | words.ADDRESS_VERBS | words.ROLES | frozenset(
    str.split("please so and but ok okay fyi re fw fwd note reminder urgent update good")
)
_CONNECTORS = frozenset({"-", "‐"})


@dataclass(frozen=True, slots=True)
class NerHit:
    """One entity after repair: character offsets, spaCy label and what the repair did."""

    start: int
    end: int
    label: str
    rule: str = ""
    """Empty when spaCy's span is kept as is; else the rule that made or changed it."""


@dataclass(frozen=True, slots=True)
class _Tokens:
    text: list[str]
    lower: list[str]
    space: list[str]
    idx: list[int]
    stop: list[bool]

    @classmethod
    def of(cls, doc: Any) -> _Tokens:
        return cls([t.text for t in doc], [t.lower_ for t in doc], [t.whitespace_ for t in doc],
                   [t.idx for t in doc], [t.is_stop for t in doc])

    def name_like(self, i: int) -> bool:
        """Capitalised word with a lower-case letter ("Ana", "O'Brien", "H.-Dieter") or an initial ("F.")."""
        w = self.text[i]
        if len(w) == 2 and w[0].isupper() and w[1] == ".":
            return True
        return (w[0].isupper() and any(c.islower() for c in w) and all(c.isalpha() or c in "'’-." for c in w)
                and not w.endswith("."))

    def part(self, i: int) -> bool:
        """A name-like token that is not a known non-name."""
        return self.name_like(i) and not self.stop[i] and self.lower[i] not in words.NOT_NAMES

    def particle(self, i: int) -> bool:
        return self.lower[i] in words.PARTICLES and self.text[i].islower()

    def joined(self, i: int) -> bool:
        """Whether tokens ``i`` and ``i + 1`` are on one line, one space or a hyphen apart."""
        return self.space[i] == " " or (self.space[i] == "" and i + 1 < len(self.text) and (
            self.text[i] in _CONNECTORS or self.text[i + 1] in _CONNECTORS))

    def chars(self, s: int, e: int) -> tuple[int, int]:
        return self.idx[s], self.idx[e - 1] + len(self.text[e - 1])


def repair(doc: Any) -> list[NerHit]:
    """Entities of a spaCy ``Doc`` with PERSON spans repaired (see the module docstring)."""
    ents: list[tuple[int, int, str]] = [(e.start, e.end, e.label_) for e in doc.ents]
    if not ents and not any(t.lower_ in _CUE_WORDS for t in doc):
        return []
    tok = _Tokens.of(doc)
    persons: list[tuple[int, int, str]] = []
    others: list[tuple[int, int, str]] = []
    for s, e, label in ents:
        if label == "PERSON":
            persons.extend(_clean(tok, s, e))
        elif label in _RELABEL and (cue := _cue_before(tok, *_trim(tok, s, e))) is not None:
            persons.append((*_trim(tok, s, e), f"name after {cue} (spaCy {label})"))
        else:
            others.append((s, e, label))
    taken = [False] * len(tok.text)
    for s, e, label in others:  # a one-word ORG/GPE … next to a name may be part of it ("Chantal" van der Dussen)
        if not (e - s == 1 and label in _RELABEL and tok.part(s)):
            taken[s:e] = [True] * (e - s)
    grown = [(*_extend(tok, s, e, taken), s, e, rule) for s, e, rule in persons]
    persons = [(s, e, rule or ("extended" if (s, e) != (s0, e0) else "")) for s, e, s0, e0, rule in grown]
    for s, e, _ in persons:
        taken[s:e] = [True] * (e - s)
    persons.extend(_second_chance(tok, taken))
    others = [o for o in others if not any(o[0] < e and s < o[1] for s, e, _ in persons)]
    hits = [NerHit(*tok.chars(s, e), "PERSON", rule) for s, e, rule in _merge(tok, persons)]
    hits.extend(NerHit(*tok.chars(s, e), label) for s, e, label in others)
    return sorted(hits, key=lambda h: h.start)


def _trim(tok: _Tokens, s: int, e: int) -> tuple[int, int]:
    """Drop cue words, titles, roles and punctuation from both ends of ``[s, e)``."""
    while s < e and (tok.lower[s] in _TRIM or not tok.text[s][0].isalnum()):
        s += 1
    while e > s and (tok.lower[e - 1] in _TRIM or not tok.text[e - 1][0].isalnum()):
        e -= 1
    return s, e


def _clean(tok: _Tokens, s: int, e: int) -> list[tuple[int, int, str]]:
    """Trim a PERSON span and split it at lower-case words and punctuation inside it."""
    t0, t1 = _trim(tok, s, e)
    rule = "" if (t0, t1) == (s, e) else "trimmed"
    if t1 <= t0:
        return []
    if not any(tok.name_like(i) for i in range(t0, t1)) or any(
            c.isdigit() or c in "@/" for i in range(t0, t1) for c in tok.text[i]):
        return [(t0, t1, rule)]  # not a name to cut up (no capital, or digits and ids: the filter decides)
    out: list[tuple[int, int, str]] = []
    start = t0
    for i in range(t0, t1 + 1):
        if i == t1 or (tok.text[i].isalpha() and tok.text[i].islower() and not tok.particle(i)) \
                or tok.text[i] in (",", ";", "(", ")", "/", "|"):
            if i > start:
                out.append((start, i, rule if len(out) == 0 and i == t1 else "split"))
            start = i + 1
    return out


def _extend(tok: _Tokens, s: int, e: int, taken: Sequence[bool]) -> tuple[int, int]:
    """Grow ``[s, e)`` over adjacent name parts, with up to two particles or a hyphen before each."""
    while e - s < MAX_NAME_TOKENS and (k := _next_part(tok, s - 1, -1, taken)) is not None:
        s = k
    while e - s < MAX_NAME_TOKENS and (k := _next_part(tok, e, 1, taken)) is not None:
        e = k + 1
    return s, e


def _next_part(tok: _Tokens, i: int, step: int, taken: Sequence[bool]) -> int | None:
    """Index of the name part at ``i`` (or after particles/hyphens from ``i``), going ``step``; else ``None``."""
    skipped = 0
    while 0 <= i < len(tok.text) and skipped <= 2:
        gap = i if step < 0 else i - 1  # tokens gap and gap + 1 must be on one line, close together
        if not tok.joined(gap):
            return None
        if not taken[i] and tok.part(i):
            return i
        if not (tok.particle(i) or tok.text[i] in _CONNECTORS):
            return None
        skipped += 1
        i += step
    return None


def _merge(tok: _Tokens, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Join PERSON spans that overlap or touch (one space or a hyphen between them)."""
    out: list[tuple[int, int, str]] = []
    for s, e, rule in sorted(spans):
        if out and (s < out[-1][1] or (s == out[-1][1] and tok.joined(s - 1))):
            ps, pe, prule = out[-1]
            out[-1] = (ps, max(pe, e), prule or rule or "merged")
        elif out and s == out[-1][1] + 1 and tok.text[s - 1] in _CONNECTORS and tok.joined(s - 2) \
                and tok.joined(s - 1):
            out[-1] = (out[-1][0], e, out[-1][2] or rule or "merged")
        else:
            out.append((s, e, rule))
    return out



_CUE_WORDS = (words.TITLES | words.GREETINGS | words.ADDRESS_VERBS | words.ROLES | words.HEADER_FIELDS
              | words.SIGN_OFFS | frozenset(p[-1] for p in words.PHRASE_CUES))


def _cue_at(tok: _Tokens, i: int) -> tuple[str, int] | None:
    """The cue ending at token ``i`` and how many name tokens must follow it, or ``None``."""
    w = tok.lower[i]
    if w in words.TITLES or w in words.GREETINGS:
        return f"'{w}'", 1
    if w in words.ADDRESS_VERBS or w in words.ROLES:
        return f"'{w}'", 2
    if w == "," and i > 0 and tok.lower[i - 1] in words.GREETINGS:
        return f"'{tok.lower[i - 1]}'", 1
    if w == ":" and i > 0 and tok.lower[i - 1] in words.HEADER_FIELDS and _line_start(tok, i - 1):
        return f"'{tok.lower[i - 1]}:'", 1
    for phrase in words.PHRASE_CUES:
        if i + 1 >= len(phrase) and tuple(tok.lower[i + 1 - len(phrase) : i + 1]) == phrase:
            return f"'{' '.join(phrase)}'", 1
    if "\n" in tok.text[i] and _after_sign_off(tok, i):
        return "a sign-off", 1
    return None


def _line_start(tok: _Tokens, i: int) -> bool:
    return i == 0 or "\n" in tok.text[i - 1] or "\n" in tok.space[i - 1]


def _after_sign_off(tok: _Tokens, i: int) -> bool:
    """Whether the line before the newline token ``i`` holds only sign-off words ("Best regards,")."""
    j = i - 1
    seen = 0
    while j >= 0 and "\n" not in tok.text[j]:
        w = tok.lower[j]
        if w in words.SIGN_OFFS:
            seen += 1
        elif w[0].isalnum():
            return False
        j -= 1
    return seen > 0


def _name_run(tok: _Tokens, s: int, e: int) -> int:
    """Name parts in ``[s, e)``, or -1 when another word is inside (particles and hyphens allowed)."""
    parts = 0
    for i in range(s, e):
        if tok.part(i):
            parts += 1
        elif not (s < i < e - 1 and (tok.particle(i) or tok.text[i] in _CONNECTORS)):
            return -1
    return parts


def _cue_before(tok: _Tokens, s: int, e: int) -> str | None:
    """The cue right before ``[s, e)`` when that span is a plausible name after it."""
    if s == 0 or e <= s or e - s > MAX_NAME_TOKENS:
        return None
    if e < len(tok.text) and tok.name_like(e) and tok.joined(e - 1):
        return None  # the run goes on with a capitalised non-name ("Apple Support", "London Team")
    cue = _cue_at(tok, s - 1)
    if cue is None or _name_run(tok, s, e) < cue[1]:
        return None
    return cue[0]


def _second_chance(tok: _Tokens, taken: Sequence[bool]) -> list[tuple[int, int, str]]:
    """Runs of name parts right after a cue that no entity covers."""
    found: list[tuple[int, int, str]] = []
    n = len(tok.text)
    for i in range(n - 1):
        if tok.lower[i] not in _CUE_WORDS and tok.text[i] not in (",", ":") and "\n" not in tok.text[i]:
            continue
        s = e = i + 1
        while e < n and not taken[e] and e - s < MAX_NAME_TOKENS and (e == s or tok.joined(e - 1)) and (
                tok.part(e) or (e > s and e + 1 < n and (tok.particle(e) or tok.text[e] in _CONNECTORS))):
            e += 1
        if e == s:
            continue
        cue = _cue_before(tok, s, e)
        if cue is not None:
            found.append((s, e, f"name after {cue}"))
    return found
