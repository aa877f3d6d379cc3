"""The 'worst examples' of a run: samples whose recorded value lies furthest from the typical one.

Sample text (string fields of a sample's ``detail`` and its error message) may hold personal data,
so it is shown only through a ``mask`` callable that the caller passes in (the CLI passes an
``ethos.pii`` anonymizer when ``ethos[pii]`` is installed). Without one, text is left out and the
report says so; clear text is never shown. Nested JSON in ``detail`` is left out too, and so are
fields with the same value in every sample (such as the variant): they describe the run, not the
sample, and the run's header already shows what matters.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from ethos.records import RunRecord, SampleResult
from ethos.reports._notes import EXAMPLE_KEYS

__all__ = ["Example", "ExampleSection", "pick_key", "worst_examples"]

MAX_TEXT = 400
"""Characters of (masked) text shown per field."""
_BINARY = 2

NO_MASK_NOTE = (
    "Sample text is left out: no personal-data masker was available (install 'ethos[pii]'). "
    "Reports never show sample text unmasked."
)


@dataclass(frozen=True, slots=True)
class Example:
    """One sample as the report shows it."""

    index: int
    sample_id: str
    value: float
    values: dict[str, float]
    groups: str
    text: tuple[tuple[str, str], ...]
    """``(detail field, masked text)`` pairs; empty without a masker."""
    numbers: tuple[tuple[str, str], ...]
    """Scalar, non-text detail fields, as text."""


@dataclass(frozen=True, slots=True)
class ExampleSection:
    """The examples shown, the per-sample value that ranked them, and what was left out and why."""

    key: str | None
    examples: tuple[Example, ...]
    note: str = ""


def pick_key(run: RunRecord) -> str | None:
    """The per-sample value to rank by: the benchmark's preferred one, else the first non-binary one."""
    scored = [s for s in run.samples if s.error is None]
    keys = list(dict.fromkeys(k for s in scored for k in s.values))
    if not keys:
        return None
    preferred = EXAMPLE_KEYS.get(run.benchmark.name)
    if preferred in keys:
        return preferred
    for key in keys:
        distinct = {s.values[key] for s in scored if key in s.values and math.isfinite(s.values[key])}
        if len(distinct) > _BINARY:
            return key
    return keys[0]


def worst_examples(run: RunRecord, count: int, mask: Callable[[str], str] | None) -> ExampleSection:
    """Up to ``count`` scored samples with the most extreme value of :func:`pick_key`.

    Extreme means furthest from the median of that value over the run's samples (ties: lower
    index first). ``mask`` is applied to every text field before it is cut to :data:`MAX_TEXT`.
    """
    key = pick_key(run) if count > 0 else None
    if key is None:
        return ExampleSection(None, ())
    scored = [s for s in run.samples if s.error is None and key in s.values and math.isfinite(s.values[key])]
    if not scored:
        return ExampleSection(key, ())
    middle = statistics.median(s.values[key] for s in scored)
    chosen = sorted(scored, key=lambda s: (-abs(s.values[key] - middle), s.index))[:count]
    constant = _constant_fields(scored)
    has_text = any(isinstance(v, str) and k not in constant for s in chosen for k, v in s.detail.items())
    note = NO_MASK_NOTE if has_text and mask is None else ""
    return ExampleSection(key, tuple(_example(s, key, mask, constant) for s in chosen), note)


def _constant_fields(samples: list[SampleResult]) -> set[str]:
    if len(samples) < _BINARY:
        return set()
    first = samples[0].detail
    return {k for k, v in first.items() if all(s.detail.get(k, None) == v for s in samples[1:])}


def _example(sample: SampleResult, key: str, mask: Callable[[str], str] | None, constant: set[str]) -> Example:
    text: list[tuple[str, str]] = []
    numbers: list[tuple[str, str]] = []
    for name, value in sample.detail.items():
        if name in constant:
            continue
        if isinstance(value, str):
            if mask is not None:
                shown = mask(value)
                text.append((name, shown if len(shown) <= MAX_TEXT else shown[: MAX_TEXT - 1] + "…"))
        elif isinstance(value, bool | int | float) and value is not None:
            numbers.append((name, str(value)))
    return Example(
        index=sample.index,
        sample_id=sample.sample_id,
        value=sample.values[key],
        values=dict(sample.values),
        groups=", ".join(f"{k}={v}" for k, v in sample.groups.items()),
        text=tuple(text),
        numbers=tuple(numbers),
    )
