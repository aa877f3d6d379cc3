"""The PII guard: numbered placeholders before the upstream, the caller's values restored after.

Prompt: every value the analyzer finds becomes ``<ENTITY_N>`` (``<PERSON_1>``,
``<EMAIL_ADDRESS_2>``); the same value (compared case- and whitespace-insensitively) gets the same
placeholder in every message of the request. The placeholder → value map (the *vault*) lives in
the request's :class:`~ethos.gateway._types.GuardContext` only.

Collisions: a caller may type something that looks like ours (``<PERSON_1>``). Numbers whose
placeholder already occurs in the request's texts are skipped, so every placeholder in the vault
is absent from what the caller sent, and restoring never rewrites the caller's own text.

Answer: new personal data is masked first (``answer_operator``; the vault's placeholders are not
personal data and are left alone), then the vault's placeholders are replaced by the caller's
values. A streamed answer goes through a :class:`~ethos.gateway.guards._stream.WindowFilter`
with the same two steps.

Fail closed: if the analyzer raises, the request is refused with 503 (``pii.unavailable``) and no
text leaves: neither the prompt (to the upstream) nor the answer (to the caller).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ethos.errors import RequestRefused
from ethos.gateway._config import PiiConfig
from ethos.gateway._types import GuardContext, TextFilter
from ethos.gateway.guards._stream import Hit, WindowFilter

if TYPE_CHECKING:
    from ethos.pii import Analyzer
    from ethos.types import Span

__all__ = ["PLACEHOLDER", "PiiGuard", "format_counts"]

PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)_(\d+)>")
"""What a placeholder looks like (ours or one a caller typed)."""

_UNCLOSED = re.compile(r"<[A-Z0-9_]*$")
_PROTECTED = "placeholder"
_REFUSAL = "the PII guard could not check this request; it was not sent"


class PiiGuard:
    """Replaces personal data in prompts with placeholders and restores them in answers.

    Args:
        config: The ``[pii]`` section.
        analyzer: A loaded (or loadable) analyzer to share; by default one is built from the config.
    """

    name = "pii"

    def __init__(self, config: PiiConfig, analyzer: Analyzer | None = None) -> None:
        """Store the settings; :meth:`load` builds the analyzer."""
        self.config = config
        self._analyzer = analyzer
        self._cache = _SpanCache(config.prompt_cache) if config.prompt_cache else None

    def load(self) -> PiiGuard:
        """Build and load the analyzer once (compiles patterns, loads spaCy when configured)."""
        self._loaded()
        return self

    def _loaded(self) -> Analyzer:
        if self._analyzer is None:
            from ethos.pii import Analyzer, AnalyzerConfig

            self._analyzer = Analyzer(
                AnalyzerConfig(
                    entities=self.config.entities,
                    threshold=self.config.threshold,
                    spacy_model=self.config.spacy_model,
                )
            )
        return self._analyzer.load()

    # -- prompts -----------------------------------------------------------------------------------

    def check_prompt(self, texts: list[str], ctx: GuardContext) -> list[str]:
        """Replace each value with its placeholder; fill ``ctx.vault`` and ``ctx.redactions``."""
        found = self._scan_prompt(texts)
        numbering = _Numbering(taken={m.group(0) for t in texts for m in PLACEHOLDER.finditer(t)} | set(ctx.vault))
        for placeholder, value in ctx.vault.items():
            numbering.remember(placeholder, value)
        counts: Counter[str] = Counter()
        out: list[str] = []
        for text, spans in zip(texts, found, strict=True):
            parts: list[str] = []
            cursor = 0
            for span in spans:
                value = text[span.start : span.end]
                placeholder = numbering.placeholder(span.entity, value)
                ctx.vault.setdefault(placeholder, value)
                counts[span.entity] += 1
                parts += [text[cursor : span.start], placeholder]
                cursor = span.end
            parts.append(text[cursor:])
            out.append("".join(parts))
        if counts:
            ctx.redactions.update(counts)
            ctx.record(self.name, "modify", "pii.redacted", format_counts(counts))
        return out

    # -- answers -----------------------------------------------------------------------------------

    def check_answer(self, text: str, ctx: GuardContext) -> str:
        """Mask new personal data in the answer, then put the caller's values back."""
        rewriter = _AnswerRewriter(self, ctx)
        out = rewriter.emit(text, rewriter.find(text))
        rewriter.record()
        return out

    def stream_filter(self, ctx: GuardContext) -> TextFilter | None:
        """A filter giving :meth:`check_answer`'s output incrementally (``None`` when it has nothing to do)."""
        if not self.config.mask_answers and not (self.config.restore and ctx.vault):
            return None
        rewriter = _AnswerRewriter(self, ctx)
        return WindowFilter(rewriter.find, rewriter.emit, holdback=self.config.stream_holdback,
                            on_finish=rewriter.record)

    def _scan_prompt(self, texts: Sequence[str]) -> list[list[Span]]:
        """:meth:`_scan`, skipping texts scanned lately (a chat resends its system prompt and history)."""
        cache = self._cache
        if cache is None:
            return self._scan(texts)
        keys = [_digest(text) for text in texts]
        found: list[list[Span] | None] = [cache.get(key) for key in keys]
        missing = [i for i, spans in enumerate(found) if spans is None]
        if missing:
            for i, spans in zip(missing, self._scan([texts[i] for i in missing]), strict=True):
                found[i] = spans
                cache.put(keys[i], spans)
        return [spans or [] for spans in found]

    def _scan(self, texts: Sequence[str]) -> list[list[Span]]:
        """One analyzer call for all texts; any failure refuses the request (fail closed)."""
        analyzer = self._loaded()
        try:
            return analyzer.scan(list(texts))
        except Exception as exc:  # fail closed: whatever broke, nothing unchecked goes out
            raise RequestRefused(_REFUSAL, reason="pii.unavailable", status=503) from exc


class _SpanCache:
    """What the analyzer found in recent prompt texts, by a digest of the text (never the text).

    Spans are offsets and entity types, so the cache holds no personal data; it is bounded (least
    recently used out) and shared by the threads that run the guard.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, list[Span]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> list[Span] | None:
        with self._lock:
            spans = self._items.get(key)
            if spans is not None:
                self._items.move_to_end(key)
            return spans

    def put(self, key: bytes, spans: list[Span]) -> None:
        with self._lock:
            self._items[key] = spans
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                self._items.popitem(last=False)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _Numbering:
    """Placeholders per (entity, value), skipping the ones in ``taken``."""

    def __init__(self, taken: set[str]) -> None:
        self._taken = taken
        self._by_value: dict[tuple[str, str], str] = {}
        self._last: Counter[str] = Counter()

    def remember(self, placeholder: str, value: str) -> None:
        m = PLACEHOLDER.fullmatch(placeholder)
        if m is not None:
            self._by_value[(m.group(1), _normalise(value))] = placeholder

    def placeholder(self, entity: str, value: str) -> str:
        key = (entity, _normalise(value))
        known = self._by_value.get(key)
        if known is not None:
            return known
        n = self._last[entity] + 1
        while f"<{entity}_{n}>" in self._taken:
            n += 1
        self._last[entity] = n
        made = self._by_value[key] = f"<{entity}_{n}>"
        self._taken.add(made)
        return made


class _AnswerRewriter:
    """``find`` + ``emit`` for one answer (whole or streamed): mask new values, restore the vault."""

    def __init__(self, guard: PiiGuard, ctx: GuardContext) -> None:
        self._guard = guard
        self._ctx = ctx
        self._config = guard.config
        self._numbering = _Numbering(taken=set(ctx.vault))
        self.masked: Counter[str] = Counter()
        self.restored = 0

    def find(self, text: str) -> list[Hit]:
        """Placeholders (protected) and, when masking, the personal data outside them."""
        hits: list[Hit] = [(m.start(), m.end(), _PROTECTED) for m in PLACEHOLDER.finditer(text)]
        unclosed = _UNCLOSED.search(text)
        if unclosed is not None:
            hits.append((unclosed.start(), len(text), _PROTECTED))
        if self._config.mask_answers:
            protected = list(hits)
            for span in self._guard._scan([text])[0]:
                if not any(s < span.end and span.start < e for s, e, _ in protected):
                    hits.append((span.start, span.end, span.entity))
        return hits

    def emit(self, text: str, hits: Sequence[Hit]) -> str:
        """Mask the PII hits, then restore the vault's placeholders (when configured)."""
        parts: list[str] = []
        cursor = 0
        for start, end, entity in sorted((h for h in hits if h[2] != _PROTECTED), key=lambda h: h[0]):
            if start < cursor:
                continue
            parts += [text[cursor:start], self._mask(text[start:end], entity)]
            self.masked[entity] += 1
            cursor = end
        parts.append(text[cursor:])
        out = "".join(parts)
        if self._config.restore and self._ctx.vault:
            out = PLACEHOLDER.sub(self._restore, out)
        return out

    def record(self) -> None:
        """Record what this answer's rewrite did (counts only)."""
        if self.masked:
            self._ctx.record("pii", "modify", "pii.answer_masked", format_counts(self.masked))
        if self.restored:
            self._ctx.record("pii", "modify", "pii.restored", f"{self.restored} placeholder(s)")

    def _mask(self, value: str, entity: str) -> str:
        operator = self._config.answer_operator
        if operator == "redact":
            return ""
        if operator == "placeholder":
            return self._numbering.placeholder(entity, value)
        return "*" * len(value)

    def _restore(self, m: re.Match[str]) -> str:
        value = self._ctx.vault.get(m.group(0))
        if value is None:
            return m.group(0)
        self.restored += 1
        return value


def format_counts(counts: Counter[str]) -> str:
    """``"PERSON×2, EMAIL_ADDRESS×1"``: entity types and counts, most frequent first, never values."""
    return ", ".join(f"{entity}×{n}" for entity, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _normalise(value: str) -> str:
    return " ".join(value.casefold().split())
