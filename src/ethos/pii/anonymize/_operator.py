"""The ``Operator`` contract, its registry, and the per-document state operators share.

An operator turns one found value into its replacement. It has typed parameters (a pydantic
model, validated before anything runs), may need a secret key, and may be reversible::

    @operator
    class Shout(Operator):
        name = "shout"

        def replace(self, value: str, entity: str, doc: Document) -> str:
            return value.upper()

Detection and transformation meet only at :class:`~ethos.types.Span`; :meth:`Operator.apply`
rewrites a whole text from its spans.
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ethos.errors import ConfigError
from ethos.pii.anonymize._keys import HOW_TO_GET_A_KEY, PiiKey
from ethos.registry import Registry
from ethos.types import Span

__all__ = [
    "DEFAULT_OPERATOR",
    "Document",
    "NoParams",
    "Operator",
    "OperatorConfig",
    "normalise",
    "operator",
    "operator_registry",
]

DEFAULT_OPERATOR = "placeholder"


class NoParams(BaseModel):
    """Parameters of an operator that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OperatorConfig(BaseModel):
    """Which operator to use for an entity type, and its parameters.

    Attributes:
        name: A registered operator name (``redact``, ``mask``, ``placeholder``, ``pseudonym``, ...).
        params: The operator's parameters; checked against its ``Params`` model.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default=DEFAULT_OPERATOR, min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


def normalise(value: str) -> str:
    """The form a value is compared in: NFKC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


@dataclass(slots=True)
class Document:
    """State shared by the operators while one document (a text, a record) is rewritten.

    ``number`` gives each distinct value of an entity type its own number, in order of first
    appearance, so ``<PERSON_1>`` means the same person throughout the document.
    """

    _numbers: dict[str, dict[str, int]] = field(default_factory=dict)

    def number(self, entity: str, value: str) -> int:
        """The 1-based number of ``value`` among the distinct values of ``entity`` seen so far."""
        seen = self._numbers.setdefault(entity, {})
        return seen.setdefault(normalise(value), len(seen) + 1)


class Operator(ABC):
    """Base class of every operator. Subclasses set ``name`` and implement :meth:`replace`.

    Class attributes:
        name: Registry name, used in ``--operator PERSON=name``.
        Params: Pydantic model of the parameters (``extra="forbid"``).
        needs_key: Whether the operator refuses to run without a secret key.
        reversible: Whether :meth:`invert` undoes it (given the key).

    Args:
        params: Parameter values, validated against :attr:`Params`.
        key: The secret key, for operators that need one.

    Raises:
        ConfigError: On an invalid parameter (named), or a missing key for a keyed operator.
    """

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = NoParams
    needs_key: ClassVar[bool] = False
    reversible: ClassVar[bool] = False

    def __init__(self, params: Mapping[str, Any] | None = None, *, key: PiiKey | None = None) -> None:
        """Validate the parameters and check that a key is present when one is needed."""
        try:
            self.params: Any = self.Params(**(params or {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "?"
            raise ConfigError(f"operator {self.name!r}, parameter {where!r}: {first['msg']}") from None
        if self.needs_key and key is None:
            raise ConfigError(f"operator {self.name!r} needs a secret key; {HOW_TO_GET_A_KEY}")
        self.key = key

    @abstractmethod
    def replace(self, value: str, entity: str, doc: Document) -> str:
        """The replacement for ``value``, a found entity of type ``entity``."""

    def apply(self, text: str, spans: Sequence[Span], doc: Document | None = None) -> str:
        """Rewrite ``text``, replacing every span (sorted, non-overlapping) with :meth:`replace`."""
        doc = Document() if doc is None else doc
        parts: list[str] = []
        cursor = 0
        for span in sorted(spans, key=lambda s: (s.start, s.end)):
            if span.start < cursor:
                continue  # overlaps the previous span: already replaced
            parts += [text[cursor : span.start], self.replace(text[span.start : span.end], span.entity, doc)]
            cursor = span.end
        parts.append(text[cursor:])
        return "".join(parts)

    def invert(self, text: str) -> str:
        """Undo this operator's replacements in ``text`` (reversible operators only).

        Raises:
            ConfigError: For operators that cannot be undone.
        """
        raise ConfigError(f"operator {self.name!r} is not reversible; only 'encrypt' can be restored")


OpT = TypeVar("OpT", bound=type[Operator])

operator_registry: Registry[type[Operator]] = Registry(
    "operator",
    builtins=("ethos.pii.anonymize._basic", "ethos.pii.anonymize._keyed", "ethos.pii.anonymize._encrypt"),
)


def operator(cls: OpT) -> OpT:
    """Class decorator: register an :class:`Operator` subclass under its ``name``."""
    operator_registry.add(cls.name, cls)
    return cls
