"""Apply operators to texts: :class:`Anonymizer` (built once, reused) and :func:`anonymize`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ethos.errors import ConfigError
from ethos.pii.anonymize._keys import PiiKey, resolve_key
from ethos.pii.anonymize._operator import DEFAULT_OPERATOR, Document, Operator, OperatorConfig, operator_registry
from ethos.types import Span

if TYPE_CHECKING:
    from ethos.pii.detect import Analyzer

__all__ = ["AnonymizedText", "Anonymizer", "Replacement", "anonymize", "merge_overlaps"]

OperatorSpec = OperatorConfig | str | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Replacement:
    """One replaced span: where it was in the input, where its replacement is in the output.

    Attributes:
        start: Start of the value in the input text.
        end: End (exclusive) of the value in the input text.
        entity: The entity type.
        operator: The operator that replaced it.
        out_start: Start of the replacement in the output text.
        out_end: End (exclusive) of the replacement in the output text.
    """

    start: int
    end: int
    entity: str
    operator: str
    out_start: int
    out_end: int


@dataclass(frozen=True, slots=True)
class AnonymizedText:
    """An anonymized text and what was replaced in it."""

    text: str
    replacements: tuple[Replacement, ...]

    def __str__(self) -> str:
        return self.text


def merge_overlaps(spans: Sequence[Span]) -> list[Span]:
    """Sorted spans without overlaps: overlapping spans merge into one covering both.

    The merged span takes the entity of the higher-scoring part, so no character of either
    finding is left in clear text.
    """
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start < out[-1].end:
            prev = out[-1]
            best = prev if prev.score >= span.score else span
            out[-1] = Span(prev.start, max(prev.end, span.end), best.entity, best.score, best.explanation)
        elif span.end > span.start:
            out.append(span)
    return out


def _config(entity: str, spec: OperatorSpec) -> OperatorConfig:
    if isinstance(spec, OperatorConfig):
        return spec
    if isinstance(spec, str):
        return OperatorConfig(name=spec)
    try:
        return OperatorConfig(**spec)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"operator for {entity}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


class Anonymizer:
    """Operators per entity type, validated and built once; rewrites texts from their spans.

    Args:
        operators: ``{ENTITY or "DEFAULT": OperatorConfig | name | {"name": ..., "params": ...}}``.
            Entity types without an entry use ``DEFAULT``, which is ``placeholder`` unless given.
        key: The secret key for keyed operators (``pseudonym``, ``surrogate``, ``encrypt``).

    Raises:
        UnknownNameError: For an operator name that is not registered.
        ConfigError: For bad parameters, or a keyed operator without a key.
    """

    def __init__(self, operators: Mapping[str, OperatorSpec] | None = None, *, key: PiiKey | None = None) -> None:
        """Build every operator now, so configuration errors surface before any text is read."""
        from ethos.pii.detect import canonical_entity

        configs = {
            name if name == "DEFAULT" else canonical_entity(name): _config(name, spec)
            for name, spec in (operators or {}).items()
        }
        configs.setdefault("DEFAULT", OperatorConfig(name=DEFAULT_OPERATOR))
        self.configs: dict[str, OperatorConfig] = configs
        self._ops: dict[str, Operator] = {
            entity: operator_registry.get(cfg.name)(cfg.params, key=key) for entity, cfg in configs.items()
        }

    def operator_for(self, entity: str) -> Operator:
        """The operator used for ``entity``."""
        return self._ops.get(entity) or self._ops["DEFAULT"]

    def rewrite(self, text: str, spans: Sequence[Span], doc: Document | None = None) -> AnonymizedText:
        """Replace each span of ``text``; ``doc`` carries placeholder numbers across texts of one record."""
        doc = Document() if doc is None else doc
        parts: list[str] = []
        done: list[Replacement] = []
        cursor = out_len = 0
        for span in merge_overlaps(spans):
            if span.end > len(text):
                raise ConfigError(f"span {span.start}..{span.end} lies beyond the text ({len(text)} characters)")
            op = self.operator_for(span.entity)
            new = op.replace(text[span.start : span.end], span.entity, doc)
            out_len += span.start - cursor
            parts += [text[cursor : span.start], new]
            done.append(Replacement(span.start, span.end, span.entity, op.name, out_len, out_len + len(new)))
            out_len += len(new)
            cursor = span.end
        parts.append(text[cursor:])
        return AnonymizedText("".join(parts), tuple(done))

    def rewrite_record(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> list[AnonymizedText]:
        """Rewrite the texts of one record (e.g. the fields of a JSON line) as one document."""
        doc = Document()
        return [self.rewrite(t, s, doc) for t, s in zip(texts, spans, strict=True)]


def anonymize(
    texts: Sequence[str],
    spans: Sequence[Sequence[Span]] | None = None,
    *,
    operators: Mapping[str, OperatorSpec] | None = None,
    analyzer: Analyzer | None = None,
    key: PiiKey | Path | str | None = None,
) -> list[AnonymizedText]:
    """Anonymize texts: find PII (unless ``spans`` are given), then replace it per entity type.

    Each text is one document: placeholders are numbered within it. Safe by default: every
    entity type without an operator gets ``placeholder`` (``<PERSON_1>``).

    Args:
        texts: The texts.
        spans: Findings per text; when ``None``, ``analyzer`` (or a cached default one) scans the texts.
        operators: ``{ENTITY or "DEFAULT": operator}``, see :class:`Anonymizer`.
        analyzer: A loaded :class:`~ethos.pii.detect.Analyzer` to reuse across calls.
        key: A key, or a key file path; default ``ETHOS_PII_KEY_FILE`` / ``ETHOS_PII_KEY``.

    Returns:
        One :class:`AnonymizedText` per text.

    Example::

        ethos.anonymize(["Mail ann@example.org"], operators={"DEFAULT": "pseudonym"}, key="pii.key")
    """
    if isinstance(texts, str):
        raise ConfigError("anonymize() takes a list of texts; wrap a single text in a list")
    engine = Anonymizer(operators, key=resolve_key(key))
    if spans is None:
        from ethos.pii._scan import cached_analyzer

        spans = (analyzer.load() if analyzer is not None else cached_analyzer()).scan(list(texts))
    if len(spans) != len(texts):
        raise ConfigError(f"anonymize() got {len(texts)} texts but {len(spans)} lists of spans")
    return [engine.rewrite(t, s) for t, s in zip(texts, spans, strict=True)]
