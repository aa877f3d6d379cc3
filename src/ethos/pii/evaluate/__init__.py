"""Score a detector against labelled texts: precision, recall, F1 and F2 by character-IoU span matching.

::

    from ethos.pii.evaluate import evaluate, read_labeled

    report = evaluate(Analyzer().load(), read_labeled(Path("labeled.jsonl")))
    report.to_json()["overall"]["f1"]

See :mod:`._metrics` for the matching rule and ``docs/pii.md`` for how it differs from
presidio-research's token-level evaluator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from ethos.pii.evaluate._data import LabeledText, read_labeled, texts_of, write_labeled
from ethos.pii.evaluate._metrics import EntityMetrics, EvalReport, f_beta, iou, match_spans, score_predictions
from ethos.types import Span

__all__ = [
    "Detector",
    "EntityMetrics",
    "EvalReport",
    "LabeledText",
    "evaluate",
    "f_beta",
    "iou",
    "match_spans",
    "read_labeled",
    "score_predictions",
    "texts_of",
    "write_labeled",
]


class Detector(Protocol):
    """Anything with a batched ``scan`` (an :class:`~ethos.pii.detect.Analyzer`, or a wrapper of another tool)."""

    def scan(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans per text, with canonical entity names."""
        ...


def evaluate(
    detector: Detector,
    items: Sequence[LabeledText],
    *,
    iou_threshold: float = 0.5,
    batch_size: int = 256,
    on_progress: Callable[[int], None] | None = None,
) -> EvalReport:
    """Run ``detector`` over the texts of ``items`` in batches and score it.

    Load the detector before calling (``Analyzer(...).load()``) so that ``texts_per_second``
    measures detection, not model loading.

    Args:
        detector: The detector to score.
        items: Labelled texts (entity names canonical, as :func:`read_labeled` returns them).
        iou_threshold: Minimum character IoU for a predicted span to match a gold one.
        batch_size: Texts per ``scan`` call.
        on_progress: Called with the number of texts done after each batch (for a progress bar).
    """
    predicted: list[list[Span]] = []
    elapsed = 0.0
    for start in range(0, len(items), batch_size):
        batch = texts_of(items[start : start + batch_size])
        began = time.perf_counter()
        predicted.extend(detector.scan(batch))
        elapsed += time.perf_counter() - began
        if on_progress is not None:
            on_progress(len(predicted))
    rate = len(items) / elapsed if elapsed > 0 else None
    gold = [list(item.spans) for item in items]
    return score_predictions(gold, predicted, iou_threshold=iou_threshold, texts_per_second=rate)
