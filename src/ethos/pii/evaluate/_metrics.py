"""Span matching by character IoU and the precision / recall / F-scores built on it.

Matching: a predicted and a gold span *match* when their character IoU (overlap length over
union length) is at least ``iou`` (default 0.5). Pairs are matched one-to-one, greedily by
decreasing IoU (ties: earlier gold span first), so one prediction can never count for two gold
spans. Entity-agnostic ("overall") matching ignores the type; per-entity matching requires the
same canonical type. Precision = TP / predicted, recall = TP / gold, F1, and F2 (recall weighted,
as presidio-research reports). A ratio with a zero denominator is undefined (``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ethos.types import Span

__all__ = ["EntityMetrics", "EvalReport", "f_beta", "iou", "match_spans", "score_predictions"]


def iou(a: Span, b: Span) -> float:
    """Character intersection over union of two spans (0.0 when they do not overlap)."""
    inter = min(a.end, b.end) - max(a.start, b.start)
    if inter <= 0:
        return 0.0
    return inter / (max(a.end, b.end) - min(a.start, b.start))


def match_spans(gold: Sequence[Span], predicted: Sequence[Span], *, threshold: float, typed: bool) -> int:
    """Number of one-to-one matches between ``gold`` and ``predicted`` spans (see module docstring)."""
    pairs = [
        (iou(g, p), gi, pi)
        for gi, g in enumerate(gold)
        for pi, p in enumerate(predicted)
        if (not typed or g.entity == p.entity)
    ]
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    for overlap, gi, pi in sorted(pairs, key=lambda t: (-t[0], t[1], t[2])):
        if overlap < threshold or overlap == 0.0:
            break
        if gi not in used_gold and pi not in used_pred:
            used_gold.add(gi)
            used_pred.add(pi)
    return len(used_gold)


def f_beta(precision: float | None, recall: float | None, beta: float) -> float | None:
    """The F-beta score; ``None`` when precision or recall is undefined, 0.0 when both are 0."""
    if precision is None or recall is None:
        return None
    if precision == 0.0 and recall == 0.0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


@dataclass(frozen=True, slots=True)
class EntityMetrics:
    """Counts and scores for one entity type (or all of them, entity-agnostic)."""

    true_positives: int
    predicted: int
    support: int

    @property
    def precision(self) -> float | None:
        """TP / predicted spans."""
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        """TP / gold spans."""
        return self.true_positives / self.support if self.support else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall."""
        return f_beta(self.precision, self.recall, 1.0)

    @property
    def f2(self) -> float | None:
        """F-beta with beta = 2 (recall counts four times as much as precision)."""
        return f_beta(self.precision, self.recall, 2.0)

    def to_json(self) -> dict[str, Any]:
        """``{"precision", "recall", "f1", "f2", "support", "predicted", "true_positives"}``."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "f2": self.f2,
            "support": self.support,
            "predicted": self.predicted,
            "true_positives": self.true_positives,
        }


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The result of scoring predictions against gold spans.

    Attributes:
        overall: Entity-agnostic metrics (a match ignores the type).
        per_entity: Per canonical entity type (same type required), sorted by name.
        texts_per_second: Throughput of the detector, when it was timed (else ``None``).
        n_texts: Number of texts scored.
        iou_threshold: The IoU a match needed.
    """

    overall: EntityMetrics
    per_entity: dict[str, EntityMetrics] = field(default_factory=dict)
    texts_per_second: float | None = None
    n_texts: int = 0
    iou_threshold: float = 0.5

    def to_json(self) -> dict[str, Any]:
        """``{"overall": {...}, "per_entity": {ENTITY: {...}}, "texts_per_second", "n_texts", "iou"}``."""
        return {
            "overall": self.overall.to_json(),
            "per_entity": {name: m.to_json() for name, m in self.per_entity.items()},
            "texts_per_second": self.texts_per_second,
            "n_texts": self.n_texts,
            "iou": self.iou_threshold,
        }


def score_predictions(
    gold: Sequence[Sequence[Span]],
    predicted: Sequence[Sequence[Span]],
    *,
    iou_threshold: float = 0.5,
    texts_per_second: float | None = None,
) -> EvalReport:
    """Score predicted spans against gold spans, text by text (entity names must be canonical).

    Raises:
        ValueError: When the two sequences differ in length or the threshold is not in (0, 1].
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold texts but {len(predicted)} predicted")
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"the IoU threshold must be in (0, 1], got {iou_threshold}")
    overall = [0, 0, 0]
    per: dict[str, list[int]] = {}
    for g, p in zip(gold, predicted, strict=True):
        overall[0] += match_spans(g, p, threshold=iou_threshold, typed=False)
        overall[1] += len(p)
        overall[2] += len(g)
        for entity in {s.entity for s in g} | {s.entity for s in p}:
            g_e = [s for s in g if s.entity == entity]
            p_e = [s for s in p if s.entity == entity]
            counts = per.setdefault(entity, [0, 0, 0])
            counts[0] += match_spans(g_e, p_e, threshold=iou_threshold, typed=True)
            counts[1] += len(p_e)
            counts[2] += len(g_e)
    return EvalReport(
        overall=EntityMetrics(*overall),
        per_entity={e: EntityMetrics(*per[e]) for e in sorted(per)},
        texts_per_second=texts_per_second,
        n_texts=len(gold),
        iou_threshold=iou_threshold,
    )
