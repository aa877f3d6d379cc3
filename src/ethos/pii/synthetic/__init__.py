"""A seeded, labelled synthetic PII set: Faker values in sentence templates, with exact gold spans.

``generate(n=2000, seed=0)`` fills :data:`TEMPLATES` (52 templates: 0–4 labelled entities
each, 20 entity types, names/places/phones/addresses from four Faker locales, and unlabelled
decoys such as order numbers, versions, hashes and log timestamps). Texts are built by
concatenation, so every gold span's offsets are exact. The same seed and the same Faker version
give the same set.

Limits: synthetic text is not real text. Templates are short, well-formed English sentences in
which pattern entities dominate and context words are common; Faker's values are cleaner than
real data (and its phone numbers often have unallocated area codes). Scores on this set are an
upper bound for pattern entities and say little about names in messy text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ethos.pii.evaluate import LabeledText, write_labeled
from ethos.pii.synthetic._templates import TEMPLATES
from ethos.pii.synthetic._values import DECOYS, LOCALES, MAKERS, ValueContext
from ethos.types import Span

__all__ = ["ENTITY_TYPES", "LOCALES", "TEMPLATES", "generate", "render", "write_jsonl"]

_SLOT = re.compile(r"\{(\w+)\}")
ENTITY_TYPES: tuple[str, ...] = tuple(MAKERS)


def render(template: str, ctx: ValueContext) -> LabeledText:
    """Fill one template, recording the offsets of every labelled value."""
    parts: list[str] = []
    spans: list[Span] = []
    length = 0
    pos = 0
    for m in _SLOT.finditer(template):
        parts.append(template[pos : m.start()])
        length += m.start() - pos
        slot = m.group(1)
        maker = MAKERS.get(slot)
        value = maker(ctx) if maker is not None else DECOYS[slot](ctx)
        if maker is not None:
            spans.append(Span(length, length + len(value), slot, 1.0))
        parts.append(value)
        length += len(value)
        pos = m.end()
    parts.append(template[pos:])
    return LabeledText("".join(parts), tuple(spans))


def generate(n: int = 2000, seed: int = 0, *, templates: Iterable[str] = TEMPLATES) -> list[LabeledText]:
    """Generate ``n`` labelled texts, deterministically for a given ``seed``.

    Raises:
        ValueError: When ``n`` is negative or a template names an unknown slot.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    pool = tuple(templates)
    for template in pool:
        for slot in _SLOT.findall(template):
            if slot not in MAKERS and slot not in DECOYS:
                raise ValueError(f"template {template!r} has an unknown slot {{{slot}}}")
    ctx = ValueContext(seed)
    out: list[LabeledText] = []
    for _ in range(n):
        ctx.pick_locale()
        out.append(render(ctx.rng.choice(pool), ctx))
    return out


def write_jsonl(path: Path, n: int = 2000, seed: int = 0) -> list[LabeledText]:
    """Generate a set and write it as labelled JSONL (atomically); return it."""
    items = generate(n, seed)
    write_labeled(path, items)
    return items
