"""PII detection: batched recognizers, an analyzer that resolves their spans, entity names.

Recognizers (patterns with validators and context words, spaCy NER) meet at a frozen
:class:`~ethos.types.Span`; the :class:`Analyzer` filters their spans and resolves overlaps.

Importing this package is cheap: recognizer modules are imported on the first registry lookup,
spaCy and phonenumbers by :meth:`Analyzer.load`.
"""

from __future__ import annotations

from ethos.pii.detect._config import DEFAULT_SPACY_MODEL, DEFAULT_THRESHOLD, AnalyzerConfig
from ethos.pii.detect._context import CONTEXT_BOOST, MIN_SCORE_WITH_CONTEXT
from ethos.pii.detect._engine import Analyzer
from ethos.pii.detect._entities import CANONICAL_ENTITIES, ENTITY_ALIASES, canonical_entity
from ethos.pii.detect._recognizer import Pattern, PatternRecognizer, Recognizer, recognizer, recognizer_registry

__all__ = [
    "CANONICAL_ENTITIES",
    "CONTEXT_BOOST",
    "DEFAULT_SPACY_MODEL",
    "DEFAULT_THRESHOLD",
    "ENTITY_ALIASES",
    "MIN_SCORE_WITH_CONTEXT",
    "Analyzer",
    "AnalyzerConfig",
    "Pattern",
    "PatternRecognizer",
    "Recognizer",
    "canonical_entity",
    "recognizer",
    "recognizer_registry",
]
