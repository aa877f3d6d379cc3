"""Privacy models: k-anonymity and l-diversity (distinct, entropy), evaluated on equivalence classes.

k-anonymity (Sweeney 2002): every equivalence class (records sharing all generalised
quasi-identifier values) holds at least k records. Distinct l-diversity (Machanavajjhala et al.
2007): every class holds at least l distinct values of each sensitive attribute. Entropy
l-diversity: the entropy of each class's sensitive values is at least log(l). With a suppression
limit, records of classes that fail are suppressed, as in ARX, and a transformation is acceptable
when at most ``floor(suppress * records)`` records are suppressed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from ethos.errors import ConfigError
from ethos.pii.tabular._encode import Encoded, IntArray, combine, dense_ids

__all__ = ["Classes", "Diversity", "Privacy", "diversity_of", "evaluate", "group"]

Diversity = Literal["distinct", "entropy"]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Privacy:
    """What an anonymised table must satisfy.

    Attributes:
        k: Smallest allowed equivalence class.
        l: Required l-diversity of each sensitive attribute, or ``None``.
        diversity: ``"distinct"`` or ``"entropy"`` l-diversity.
        sensitive: The sensitive attributes (needed when ``l`` is set).
        suppress: Largest share of records that may be suppressed, in [0, 1).
    """

    k: int = 2
    l: int | None = None  # noqa: E741 - the letter of the literature
    diversity: Diversity = "distinct"
    sensitive: tuple[str, ...] = ()
    suppress: float = 0.0

    def __post_init__(self) -> None:
        """Reject impossible settings with the flag that holds them."""
        if self.k < 1:
            raise ConfigError(f"--k {self.k}: k must be at least 1")
        if self.l is not None and self.l < 1:
            raise ConfigError(f"--l {self.l}: l must be at least 1")
        if self.l is not None and not self.sensitive:
            raise ConfigError("--l needs --sensitive: name the sensitive column(s) that must be l-diverse")
        if self.diversity not in ("distinct", "entropy"):
            raise ConfigError(f"--diversity {self.diversity!r}: choose distinct or entropy")
        if not 0.0 <= self.suppress < 1.0:
            raise ConfigError(f"--suppress {self.suppress}: give a share in [0, 1), e.g. 0.04 for 4 %")

    def max_outliers(self, records: int) -> int:
        """How many records may be suppressed (ARX: ``floor(limit * records)``)."""
        return math.floor(self.suppress * records + 1e-9)

    @property
    def monotone(self) -> bool:
        """Whether every generalisation of an acceptable transformation is acceptable.

        True for k-anonymity and distinct l-diversity with or without suppression (a record in a
        passing class stays in a passing class when classes merge), and for entropy l-diversity
        without suppression (entropy is concave); not for entropy l-diversity with suppression, where
        merging a passing class with a failing one can fail.
        """
        return self.l is None or self.diversity == "distinct" or self.suppress == 0.0


@dataclass(frozen=True, eq=False)
class Classes:
    """The equivalence classes of a transformation, over the distinct input tuples.

    Attributes:
        ids: For each distinct tuple (``Encoded.base`` row), its class.
        sizes: Records per class.
        failing: Per class, whether it violates the privacy model (its records are suppressed).
    """

    ids: IntArray
    sizes: IntArray
    failing: BoolArray

    @property
    def outliers(self) -> int:
        """Records in failing classes."""
        return int(self.sizes[self.failing].sum())


def group(encoded: Encoded, levels: Sequence[int]) -> tuple[IntArray, int]:
    """Class ids of the distinct tuples under a full-domain transformation, and the class count."""
    columns = [a.maps[lv][encoded.base[:, j]] for j, (a, lv) in enumerate(zip(encoded.attributes, levels, strict=True))]
    radices = [len(a.labels[lv]) for a, lv in zip(encoded.attributes, levels, strict=True)]
    key, span = combine(columns, radices)
    return dense_ids(key, span)


def evaluate(encoded: Encoded, ids: IntArray, count: int, privacy: Privacy) -> Classes:
    """Sizes of the classes and which of them fail k-anonymity or l-diversity."""
    sizes = np.bincount(ids, weights=encoded.counts, minlength=count).astype(np.int64)
    failing = sizes < privacy.k
    if privacy.l is not None:
        for s in range(len(encoded.sensitive_names)):
            failing |= diversity_of(encoded, ids, count, s, privacy.diversity) < privacy.l - _TOLERANCE
    return Classes(ids, sizes, failing)


def diversity_of(encoded: Encoded, ids: IntArray, count: int, sensitive: int, kind: Diversity) -> FloatArray:
    """Per class, its l for one sensitive attribute: distinct values, or exp(entropy) for ``"entropy"``."""
    size = encoded.sensitive_sizes[sensitive]
    values = encoded.base[:, len(encoded.attributes) + sensitive]
    pair, pairs = dense_ids(*combine([ids, values], [count, size]))
    pair_class = np.zeros(pairs, dtype=np.int64)
    pair_class[pair] = ids
    if kind == "distinct":
        return np.bincount(pair_class, minlength=count).astype(np.float64)
    pair_counts = np.bincount(pair, weights=encoded.counts, minlength=pairs)
    class_sizes = np.bincount(pair_class, weights=pair_counts, minlength=count)
    share = pair_counts / class_sizes[pair_class]
    entropy = -np.bincount(pair_class, weights=share * np.log(share), minlength=count)
    return np.asarray(np.exp(entropy), dtype=np.float64)
