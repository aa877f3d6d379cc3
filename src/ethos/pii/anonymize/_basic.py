"""Operators that need no key: ``redact``, ``mask``, ``placeholder`` (the default) and ``keep``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ethos.pii.anonymize._operator import Document, Operator, operator

__all__ = ["Keep", "Mask", "Placeholder", "Redact", "check_format"]


def check_format(fmt: str, **fields: object) -> str:
    """Validate a ``str.format`` template against the fields it may use; return it unchanged."""
    try:
        fmt.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        allowed = ", ".join("{" + f + "}" for f in fields)
        raise ValueError(f"bad template {fmt!r} ({type(exc).__name__}: {exc}); it may use {allowed}") from None
    return fmt


@operator
class Redact(Operator):
    """Remove the value entirely (``"Call John"`` → ``"Call "``)."""

    name = "redact"

    def replace(self, value: str, entity: str, doc: Document) -> str:
        """Return the empty string."""
        return ""


@operator
class Keep(Operator):
    """Leave the value as it is (to exempt one entity type from a default operator)."""

    name = "keep"

    def replace(self, value: str, entity: str, doc: Document) -> str:
        """Return the value unchanged."""
        return value


class MaskParams(BaseModel):
    """Parameters of ``mask``.

    Attributes:
        char: The masking character.
        count: How many characters to mask (default: all of them).
        from_end: Mask the last ``count`` characters instead of the first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    char: str = Field(default="*", min_length=1, max_length=1)
    count: int | None = Field(default=None, ge=0)
    from_end: bool = False


@operator
class Mask(Operator):
    """Overwrite characters with a masking character (``4111 1111`` → ``****1111`` with ``count=5``)."""

    name = "mask"
    Params = MaskParams

    def replace(self, value: str, entity: str, doc: Document) -> str:
        """Mask ``count`` characters (all by default) from the start, or from the end."""
        p: MaskParams = self.params
        n = len(value) if p.count is None else min(p.count, len(value))
        if p.from_end:
            return value[: len(value) - n] + p.char * n
        return p.char * n + value[n:]


class PlaceholderParams(BaseModel):
    """Parameters of ``placeholder``.

    Attributes:
        format: Template with ``{entity}`` and ``{n}`` (the value's number within the document).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = "<{entity}_{n}>"

    @field_validator("format")
    @classmethod
    def _check(cls, value: str) -> str:
        return check_format(value, entity="PERSON", n=1)


@operator
class Placeholder(Operator):
    """A typed, numbered placeholder: the same value gets the same number within one document.

    ``"Ann met Bob, then Ann left"`` → ``"<PERSON_1> met <PERSON_2>, then <PERSON_1> left"``.
    Values are compared case- and whitespace-insensitively; numbering restarts in each document.
    """

    name = "placeholder"
    Params = PlaceholderParams

    def replace(self, value: str, entity: str, doc: Document) -> str:
        """Return the entity's placeholder with the value's number in this document."""
        p: PlaceholderParams = self.params
        return p.format.format(entity=entity, n=doc.number(entity, value))
