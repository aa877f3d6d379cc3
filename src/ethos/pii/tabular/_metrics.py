"""Information-loss metrics of full-domain transformations, as ARX defines them where it defines them.

- **Non-uniform entropy** (ARX ``MetricMDNUEntropyPrecomputed``, the monotonic variant that
  ``Metric.createPrecomputedEntropyMetric(threshold, true)`` selects): for each quasi-identifier,
  ``sum over records of -log2(f(original value) / f(generalised value))``, frequencies counted over
  the whole input, summed over attributes. Suppression does not change it (ARX's monotonic variant
  ignores suppression), so it depends on the transformation alone.
- **Discernibility** (ARX ``MetricSDNMDiscernability``): ``sum |E|^2`` over kept classes plus
  ``records * |E|`` for each suppressed class.
- **NCP** (normalised certainty penalty, Xu et al. 2006; Iyengar's loss): per record and attribute
  ``(leaves under the generalised value - 1) / (domain size - 1)``, 1 for a suppressed record,
  averaged over records and attributes (0 = original data, 1 = everything suppressed).
- **Generalisation intensity**: the mean over attributes of ``level / height``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ethos.pii.tabular._criteria import Classes
from ethos.pii.tabular._encode import Attribute, Encoded, IntArray

__all__ = ["InformationLoss", "discernibility", "entropy_table", "full_domain_loss", "node_entropies"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class InformationLoss:
    """How much a transformation coarsened the data (lower is better).

    Attributes:
        non_uniform_entropy: ARX's non-uniform entropy, in bits.
        discernibility: ARX's discernibility, with its penalty for suppressed records.
        ncp: Normalised certainty penalty in [0, 1].
        generalization_intensity: Mean level/height over attributes (``None`` for Mondrian).
    """

    non_uniform_entropy: float
    discernibility: float
    ncp: float
    generalization_intensity: float | None

    def as_dict(self) -> dict[str, float | None]:
        """The metrics by name, for JSON."""
        return {
            "non_uniform_entropy": self.non_uniform_entropy,
            "discernibility": self.discernibility,
            "ncp": self.ncp,
            "generalization_intensity": self.generalization_intensity,
        }


def entropy_table(attribute: Attribute) -> FloatArray:
    """Non-uniform entropy of one attribute at each of its levels (bits, over all records)."""
    a = attribute.counts.astype(np.float64)
    present = a > 0
    terms = np.zeros(attribute.height + 1, dtype=np.float64)
    for level, mapping in enumerate(attribute.maps):
        b = np.bincount(mapping, weights=a, minlength=len(attribute.labels[level]))[mapping]
        terms[level] = float(np.sum(a[present] * np.log2(b[present] / a[present])))
    return terms


def node_entropies(attributes: Sequence[Attribute], nodes: IntArray) -> FloatArray:
    """Non-uniform entropy of every transformation in ``nodes`` (one row of levels each)."""
    total = np.zeros(len(nodes), dtype=np.float64)
    for j, attribute in enumerate(attributes):
        total += entropy_table(attribute)[nodes[:, j]]
    return total


def discernibility(sizes: IntArray, failing: npt.NDArray[np.bool_], records: int) -> float:
    """ARX's discernibility: ``|E|^2`` per kept class, ``records * |E|`` per suppressed class."""
    kept = sizes[~failing].astype(np.float64)
    dropped = sizes[failing].astype(np.float64)
    return float(np.sum(kept * kept) + records * np.sum(dropped))


def full_domain_loss(encoded: Encoded, levels: Sequence[int], classes: Classes) -> InformationLoss:
    """All metrics of a full-domain transformation with its suppressed classes."""
    attributes = encoded.attributes
    nue = sum(float(entropy_table(a)[lv]) for a, lv in zip(attributes, levels, strict=True))
    suppressed_tuple = classes.failing[classes.ids]
    penalty = 0.0
    for j, (attribute, level) in enumerate(zip(attributes, levels, strict=True)):
        domain = len(attribute.labels[0])
        leaves = attribute.leaves[level][attribute.maps[level][encoded.base[:, j]]].astype(np.float64)
        share = (leaves - 1.0) / (domain - 1.0) if domain > 1 else np.zeros_like(leaves)
        penalty += float(np.sum(encoded.counts * np.where(suppressed_tuple, 1.0, share)))
    ncp = penalty / (encoded.records * len(attributes)) if attributes and encoded.records else 0.0
    heights = [a.height for a in attributes]
    intensity = float(np.mean([lv / h if h else 0.0 for lv, h in zip(levels, heights, strict=True)]))
    return InformationLoss(nue, discernibility(classes.sizes, classes.failing, encoded.records), ncp, intensity)
