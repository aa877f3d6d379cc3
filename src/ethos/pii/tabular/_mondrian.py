"""Mondrian multidimensional partitioning (LeFevre, DeWitt and Ramakrishnan, ICDE 2006), strict variant.

The records are split recursively: a partition is cut on the quasi-identifier with the widest
range (normalised by its range over the whole table) at the median, so that the values at or
below the median go left and the rest right; when that cut would leave a side smaller than k (or
not l-diverse), the next widest attribute is tried, and a partition that no attribute can cut
becomes an equivalence class. Numeric attributes are released as ranges ``[low-high]``;
categorical ones are ordered along their hierarchy (siblings together) and released as the lowest
common ancestor of the partition's values, or as a set ``{a, b}`` without a hierarchy. Nothing is
suppressed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ethos.errors import DataError
from ethos.pii.tabular._criteria import Privacy
from ethos.pii.tabular._encode import Attribute, Encoded, IntArray
from ethos.pii.tabular._metrics import InformationLoss

__all__ = ["Partitioning", "mondrian"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Partitioning:
    """The classes Mondrian made.

    Attributes:
        partitions: The record indices of each class.
        labels: ``labels[p][j]``, the released value of quasi-identifier j in class p.
        loss: The information loss.
    """

    partitions: list[IntArray]
    labels: list[list[str]]
    loss: InformationLoss


def mondrian(encoded: Encoded, privacy: Privacy) -> Partitioning:
    """Partition the records so that every class satisfies ``privacy`` (its suppression limit is unused).

    Raises:
        DataError: The whole table already fails the privacy model, so no partitioning can satisfy it.
    """
    values = np.stack([_order_values(a)[encoded.codes[:, j]] for j, a in enumerate(encoded.attributes)], axis=1)
    span = values.max(axis=0) - values.min(axis=0) if len(values) else np.zeros(len(encoded.attributes))
    everything = np.arange(encoded.records, dtype=np.int64)
    if not _allowed(encoded, everything, privacy):
        raise DataError(
            f"the whole table ({encoded.records} records) does not satisfy k={privacy.k}"
            f"{'' if privacy.l is None else f', l={privacy.l}'}; no partitioning can; lower k or l"
        )
    partitions: list[IntArray] = []
    stack = [everything]
    while stack:
        part = stack.pop()
        cut = _cut(encoded, values, span, part, privacy)
        if cut is None:
            partitions.append(part)
        else:
            stack.extend(cut)
    labels = [[_label(a, encoded.codes[part, j]) for j, a in enumerate(encoded.attributes)] for part in partitions]
    return Partitioning(partitions, labels, _loss(encoded, values, partitions))


def _order_values(attribute: Attribute) -> FloatArray:
    """A number per level-0 code: the value itself for numbers, else its rank along the hierarchy."""
    if attribute.numeric is not None:
        return attribute.numeric
    order = np.lexsort(tuple(attribute.maps))  # the last key (the top level) sorts first
    ranks = np.empty(len(order), dtype=np.float64)
    ranks[order] = np.arange(len(order), dtype=np.float64)
    return ranks


def _cut(
    encoded: Encoded, values: FloatArray, span: FloatArray, part: IntArray, privacy: Privacy
) -> tuple[IntArray, IntArray] | None:
    if len(part) < 2 * privacy.k:
        return None
    sub = values[part]
    width = np.divide(sub.max(axis=0) - sub.min(axis=0), span, out=np.zeros(len(span)), where=span > 0)
    for j in np.argsort(-width, kind="stable"):
        if width[j] <= 0:
            return None
        column = sub[:, j]
        middle = (len(column) - 1) // 2
        median = np.partition(column, middle)[middle]
        left = column <= median
        if left.all():
            left = column < median
        sides = (part[left], part[~left])
        if all(_allowed(encoded, side, privacy) for side in sides):
            return sides
    return None


def _allowed(encoded: Encoded, part: IntArray, privacy: Privacy) -> bool:
    if len(part) < privacy.k:
        return False
    if privacy.l is None:
        return True
    for s in range(len(encoded.sensitive_names)):
        _, counts = np.unique(encoded.sensitive[part, s], return_counts=True)
        if privacy.diversity == "distinct":
            if len(counts) < privacy.l:
                return False
        else:
            share = counts / counts.sum()
            if math.exp(float(-np.sum(share * np.log(share)))) < privacy.l - 1e-12:
                return False
    return True


def _lca_level(attribute: Attribute, codes: IntArray) -> int | None:
    if not attribute.hierarchical:
        return None
    for level, mapping in enumerate(attribute.maps):
        mapped = mapping[codes]
        if mapped.min() == mapped.max():
            return level
    return None  # unreachable for a tree with one top value; ARX hierarchies end in "*"


def _label(attribute: Attribute, codes: IntArray) -> str:
    names = attribute.labels[0]
    if attribute.numeric is not None:
        low, high = codes[np.argmin(attribute.numeric[codes])], codes[np.argmax(attribute.numeric[codes])]
        return names[low] if low == high else f"[{names[low]}-{names[high]}]"
    level = _lca_level(attribute, codes)
    if level is not None:
        return attribute.labels[level][int(attribute.maps[level][codes[0]])]
    present = np.unique(codes)
    return names[present[0]] if len(present) == 1 else "{" + ", ".join(names[c] for c in present) + "}"


def _loss(encoded: Encoded, values: FloatArray, partitions: list[IntArray]) -> InformationLoss:
    """Non-uniform entropy, discernibility and NCP of a partitioning (local recoding)."""
    records, width = encoded.records, len(encoded.attributes)
    nue = 0.0
    penalty = 0.0
    for j, attribute in enumerate(encoded.attributes):
        counts = attribute.counts.astype(np.float64)
        nue -= float(np.sum(np.log2(counts[encoded.codes[:, j]])))
        ordered = np.sort(values[:, j])
        span = ordered[-1] - ordered[0] if len(ordered) else 0.0
        present = int(np.count_nonzero(counts))
        for part in partitions:
            cover, share = _cover(attribute, encoded.codes[part, j], values[part, j], ordered, span, present)
            nue += len(part) * math.log2(cover)
            penalty += len(part) * share
    sizes = np.array([len(p) for p in partitions], dtype=np.float64)
    ncp = penalty / (records * width) if records and width else 0.0
    return InformationLoss(nue, float(np.sum(sizes * sizes)), float(ncp), None)


def _cover(
    attribute: Attribute, codes: IntArray, values: FloatArray, ordered: FloatArray, span: float, present: int
) -> tuple[float, float]:
    """Records of the whole table covered by a class's released value, and its NCP share."""
    if attribute.numeric is not None:
        low, high = float(values.min()), float(values.max())
        inside = int(np.searchsorted(ordered, high, side="right")) - int(np.searchsorted(ordered, low, side="left"))
        return float(inside), (high - low) / span if span > 0 else 0.0
    level = _lca_level(attribute, codes)
    if level is not None:
        mapping = attribute.maps[level]
        node = int(mapping[codes[0]])
        covered = float(attribute.counts[mapping == node].sum())
        domain = len(attribute.labels[0])
        return covered, (float(attribute.leaves[level][node]) - 1) / (domain - 1) if domain > 1 else 0.0
    distinct = np.unique(codes)
    share = (len(distinct) - 1) / (present - 1) if present > 1 else 0.0
    return float(attribute.counts[distinct].sum()), share
