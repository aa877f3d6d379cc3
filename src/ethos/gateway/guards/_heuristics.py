"""Model-free checks: prompt-injection cues, hidden characters, system-prompt echoes, token estimates.

Prompt injection (OWASP LLM01) is scored with weighted patterns, no model: a text whose cues add
up to :data:`INJECTION_THRESHOLD` (1.0) is an injection. One strong cue is enough ("ignore all
previous instructions", a ``<|im_start|>system`` tag, Unicode tag characters, two fake ``system:`` /
``assistant:`` turns); weak cues ("you are now", "from now on", one fake turn) need company.
Base64 blobs are decoded and their text scored too. The cues follow the attacks in garak's
``promptinject``, ``dan``, ``encoding`` and ``goodside`` probes and LLM Guard's invisible-text
scanner (see ``docs/gateway-guards.md``).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass

__all__ = ["INJECTION_THRESHOLD", "Injection", "LeakFinder", "score_injection"]

INJECTION_THRESHOLD = 1.0

_I = re.IGNORECASE
_PREVIOUS = r"(?:previous|prior|above|earlier|preceding|foregoing|initial|original|system|developer|all)"
_RULES = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|messages|context|constraints)"
_CUES: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("ignore_previous", 1.0, re.compile(
        rf"\b(?:ignore|disregard|forget|skip|override|bypass|neglect)\b(?:\s+\w+){{0,3}}?\s+{_PREVIOUS}\b"
        rf"(?:\s+\w+){{0,2}}?\s+{_RULES}\b", _I)),
    ("forget_everything", 1.0, re.compile(
        r"\b(?:forget|ignore|disregard)\s+(?:everything|all|anything)\s+(?:(?:that\s+)?you(?:'ve|\s+have|\s+were|"
        r"\s+are)?\s+(?:been\s+)?(?:told|taught|instructed|given)|(?:you\s+)?(?:said|read)?\s*(?:above|before|so\s+far))",
        _I)),
    ("new_instructions", 0.5, re.compile(r"\b(?:new|updated|real|actual)\s+(?:instructions?|rules|task)\s*:", _I)),
    ("reveal_system_prompt", 1.0, re.compile(
        r"\b(?:reveal|print|show|repeat|output|display|tell\s+me|leak|give\s+me|what\s+(?:is|are|was|were))\b"
        r"(?:\s+\w+){0,4}?\s+(?:system|initial|hidden|secret|original)\s+(?:prompt|instructions?|message)", _I)),
    ("you_are_now", 0.5, re.compile(r"\byou\s+are\s+now\b|\bfrom\s+now\s+on\b|\bact\s+as\s+an?\s+unrestricted\b", _I)),
    ("dan", 1.0, re.compile(r"\bDAN\b|\bdo\s+anything\s+now\b|\bjailbr(?:eak|oken)\b")),
    ("developer_mode", 1.0, re.compile(r"\b(?:developer|god|admin|debug|sudo)\s+mode\b", _I)),
    ("no_restrictions", 0.5, re.compile(
        r"\b(?:without|no|free\s+(?:of|from)|ignore\s+(?:all|any|your))\s+(?:any\s+)?"
        r"(?:restrictions|filters|censorship|limitations|guidelines|ethical|safety)\b", _I)),
    ("role_tag", 1.0, re.compile(
        r"<\|(?:im_start|im_end|system|user|assistant|start_header_id|end_header_id|eot_id)\|>|\[/?INST\]"
        r"|<</?SYS>>|^\s*#{2,}\s*(?:system|instruction|assistant)\s*:?\s*$", _I | re.MULTILINE)),
)
_FAKE_TURN = re.compile(r"^\s*(?:assistant|system|ai|gpt)\s*:", _I | re.MULTILINE)
_TAG_CHARS = re.compile("[\U000e0000-\U000e007f]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_ZERO_WIDTH_BULK = 4


@dataclass(frozen=True, slots=True)
class Injection:
    """A prompt-injection score and the cues that made it."""

    score: float
    cues: tuple[str, ...]

    @property
    def detected(self) -> bool:
        """Whether the score reaches :data:`INJECTION_THRESHOLD`."""
        return self.score >= INJECTION_THRESHOLD


def score_injection(text: str, *, decode: bool = True) -> Injection:
    """Score ``text`` for prompt-injection cues (each cue counts once).

    Args:
        text: A user or tool message.
        decode: Also decode base64 blobs of 40+ characters and score their text.
    """
    cues: dict[str, float] = {}
    for name, weight, pattern in _CUES:
        if pattern.search(text):
            cues[name] = weight
    turns = len(_FAKE_TURN.findall(text))
    if turns:
        cues["fake_turn"] = 1.0 if turns > 1 else 0.6
    if _TAG_CHARS.search(text):
        cues["unicode_tags"] = 1.0
    if len(_ZERO_WIDTH.findall(text)) >= _ZERO_WIDTH_BULK:
        cues["zero_width"] = 0.6
    if _BIDI.search(text):
        cues["bidi_override"] = 0.6
    if decode:
        for blob in _BASE64.findall(text):
            inner = _decoded(blob)
            if inner is not None and score_injection(inner, decode=False).detected:
                cues["base64_instructions"] = 1.0
                break
    return Injection(round(sum(cues.values()), 3), tuple(cues))


def _decoded(blob: str) -> str | None:
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return text if text and printable / len(text) > 0.95 else None


class LeakFinder:
    """Finds verbatim pieces of system prompts in an answer (OWASP LLM07, system-prompt leakage).

    A piece counts when it is at least ``min(40, half the system prompt)`` characters long (and
    never under :data:`MIN_LEAK_CHARS`, so a one-line system prompt does not flag every answer).
    Matching is exact on character shingles of that length, one set lookup per answer position.
    """

    MIN_LEAK_CHARS = 16
    LEAK_CHARS = 40

    def __init__(self, system_prompts: list[str]) -> None:
        """Index the shingles of every long-enough system prompt."""
        self._shingles: dict[int, set[str]] = {}
        for prompt in system_prompts:
            k = min(self.LEAK_CHARS, math.ceil(len(prompt) / 2))
            if k < self.MIN_LEAK_CHARS or len(prompt) < self.MIN_LEAK_CHARS:
                continue
            bucket = self._shingles.setdefault(k, set())
            bucket.update(prompt[i : i + k] for i in range(len(prompt) - k + 1))

    def __bool__(self) -> bool:
        """Whether any system prompt is long enough to be looked for."""
        return bool(self._shingles)

    def find(self, text: str) -> list[tuple[int, int]]:
        """Spans of ``text`` that are verbatim pieces of a system prompt (merged when they touch)."""
        spans: list[tuple[int, int]] = []
        for k, bucket in self._shingles.items():
            for i in range(len(text) - k + 1):
                if text[i : i + k] in bucket:
                    if spans and spans[-1][1] >= i:
                        spans[-1] = (spans[-1][0], i + k)
                    else:
                        spans.append((i, i + k))
        return sorted(spans)
