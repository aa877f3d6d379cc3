"""The ``Recognizer`` contract, its registry, and the pattern recognizer most built-ins share.

A recognizer has one required method, batched: ``find(texts) -> list[list[Span]]``. It is built
from the :class:`AnalyzerConfig` (constructors only store), and ``load()`` does the expensive part
(compiling, loading a pipeline) once. Register one with ``@recognizer("name")``; plugins use the
same decorator.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ethos.pii.detect._config import AnalyzerConfig
from ethos.pii.detect._context import ContextMatcher
from ethos.registry import Registry
from ethos.types import Explanation, Span

__all__ = ["Pattern", "PatternRecognizer", "Recognizer", "recognizer", "recognizer_registry"]


class Recognizer(ABC):
    """Finds entities of some types in a batch of texts.

    Class attributes:
        name: Registry name, recorded in every span's explanation.
        entities: Canonical entity names this recognizer can report.
    """

    name: ClassVar[str]
    entities: ClassVar[frozenset[str]]

    def __init__(self, config: AnalyzerConfig) -> None:
        """Store the config; nothing expensive happens here."""
        self.config = config

    def load(self) -> None:  # noqa: B027  (optional hook: most recognizers need nothing)
        """Do the expensive set-up once (compile, load a model). The default does nothing."""

    @property
    def notes(self) -> tuple[str, ...]:
        """Limits the user should know about (e.g. a missing pipeline), after :meth:`load`."""
        return ()

    @abstractmethod
    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        """Return the spans found in each text (one list per text, any order)."""


recognizer_registry: Registry[type[Recognizer]] = Registry(
    "recognizer",
    builtins=(
        "ethos.pii.detect.patterns.contact",
        "ethos.pii.detect.patterns.finance",
        "ethos.pii.detect.patterns.government",
        "ethos.pii.detect.patterns.dates",
        "ethos.pii.detect.patterns.address",
        "ethos.pii.detect.patterns.secrets",
        "ethos.pii.detect.patterns.phone",
        "ethos.pii.detect._ner",
    ),
)


def recognizer(name: str) -> Callable[[type[Recognizer]], type[Recognizer]]:
    """Register a :class:`Recognizer` subclass under ``name`` (also sets its ``name``)."""

    def decorate(cls: type[Recognizer]) -> type[Recognizer]:
        cls.name = name
        return recognizer_registry.register(name)(cls)

    return decorate


@dataclass(frozen=True, slots=True)
class Pattern:
    """One regular expression of a pattern recognizer.

    Attributes:
        name: Shown in explanations (``"visa"``, ``"iban compact"``).
        regex: The expression; group ``value`` (when present) is the reported span.
        score: Base score before validation and context.
        flags: ``re`` flags.
    """

    name: str
    regex: str
    score: float
    flags: int = 0


class PatternRecognizer(Recognizer):
    """Regex patterns + an optional validator + context words, for one entity type.

    Class attributes:
        entity: The entity reported.
        patterns: Tried in order; overlapping matches are resolved later by the engine.
        context: Words that raise the score when found near a match (see :mod:`._context`).
        required: A cheap prefilter: a text is searched only if it contains one of these
            substrings (empty: always), or ``needs_digits`` digits.
        validated_score: Score of a match the validator accepts (``None`` keeps the base score).
    """

    entity: ClassVar[str]
    patterns: ClassVar[tuple[Pattern, ...]]
    context: ClassVar[tuple[str, ...]] = ()
    required: ClassVar[tuple[str, ...]] = ()
    needs_digits: ClassVar[int] = 0
    validated_score: ClassVar[float | None] = None

    def __init__(self, config: AnalyzerConfig) -> None:
        """Store the config; patterns are compiled by :meth:`load`."""
        super().__init__(config)
        self._compiled: list[tuple[Pattern, re.Pattern[str]]] = []
        self._context = ContextMatcher(self.context)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "entity" in cls.__dict__:
            cls.entities = frozenset({cls.entity})

    def load(self) -> None:
        """Compile the patterns once."""
        if not self._compiled:
            self._compiled = [(p, re.compile(p.regex, p.flags)) for p in self.patterns]

    def validate(self, value: str) -> bool | None:
        """Check a match: ``True`` valid, ``False`` reject it, ``None`` no validator (default)."""
        return None

    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        """Search each text that passes the prefilter."""
        self.load()
        return [self.find_one(text) if self._worth_searching(text) else [] for text in texts]

    def find_one(self, text: str) -> list[Span]:
        """Search one text with every pattern."""
        found: list[Span] = []
        for pattern, rx in self._compiled:
            for m in rx.finditer(text):
                start, end = m.span("value") if "value" in rx.groupindex else m.span()
                span = self._span(text, start, end, pattern)
                if span is not None:
                    found.append(span)
        return found

    def _worth_searching(self, text: str) -> bool:
        if self.required and not any(r in text for r in self.required):
            return False
        return not self.needs_digits or _digit_count(text) >= self.needs_digits

    def _span(self, text: str, start: int, end: int, pattern: Pattern) -> Span | None:
        validation = self.validate(text[start:end])
        if validation is False:
            return None
        score = self.validated_score if validation and self.validated_score is not None else pattern.score
        boost, word = self._context.boost(text, start, end, score)
        return Span(
            start,
            end,
            self.entity,
            score + boost,
            Explanation(
                recognizer=self.name,
                pattern=pattern.name,
                original_score=score,
                context_boost=boost,
                validation=validation,
                note=None if word is None else f"context word {word!r}",
            ),
        )


@functools.lru_cache(maxsize=256)
def _digit_count(text: str) -> int:
    # Every digit-needing recognizer asks this of the same text: count once (strings cache their hash).
    return sum(map(str.isdigit, text))
