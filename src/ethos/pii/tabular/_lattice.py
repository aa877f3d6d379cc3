"""Optimal full-domain generalisation over the lattice of level vectors (one level per quasi-identifier).

The result is the transformation of least non-uniform entropy that satisfies the privacy model.

The loss of every node is known up front (non-uniform entropy is a per-attribute sum of
precomputed terms), and it never decreases when a node is generalised. When the privacy model is
monotone (see :attr:`Privacy.monotone`) the search uses predictive tagging as ARX's Flash does:
it walks upward paths from the lowest undecided node and binary-searches each path; an acceptable
node tags all its generalisations (which cannot beat it, so they are pruned together with every
node whose loss is not below the best so far), a failing node tags all its specialisations as
failing. The search ends when no undecided node with a smaller loss than the best remains, so
the result is the global optimum. A non-monotone model (entropy l-diversity with suppression) is
searched in order of increasing loss instead: the first acceptable node is optimal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ethos.errors import ConfigError
from ethos.pii.tabular._criteria import Privacy, evaluate, group
from ethos.pii.tabular._encode import Encoded
from ethos.pii.tabular._metrics import node_entropies

__all__ = ["MAX_NODES", "Progress", "SearchResult", "search"]

Progress = Callable[[int, int], None]
"""Called with (lattice nodes decided, lattice nodes in all) as the search goes on."""

MAX_NODES = 5_000_000
"""Largest lattice searched; beyond it, use Mondrian or fewer quasi-identifiers."""

_UNKNOWN, _PASS, _FAIL = 0, 1, -1


@dataclass(frozen=True)
class SearchResult:
    """The outcome of a lattice search.

    Attributes:
        levels: The optimal transformation, or ``None`` when no node satisfies the model.
        loss: Its non-uniform entropy (``inf`` when there is none).
        checked: How many nodes were evaluated on the data.
        nodes: The lattice size.
    """

    levels: tuple[int, ...] | None
    loss: float
    checked: int
    nodes: int


class _Lattice:
    """All level vectors, with their losses and what is known about them."""

    def __init__(self, encoded: Encoded, privacy: Privacy) -> None:
        heights = [a.height for a in encoded.attributes]
        size = math.prod(h + 1 for h in heights)
        if size > MAX_NODES:
            raise ConfigError(
                f"the generalisation lattice has {size:,} nodes (over {MAX_NODES:,}); use fewer quasi-identifiers, "
                f"shorter hierarchies, or --algorithm mondrian"
            )
        self.encoded = encoded
        self.privacy = privacy
        self.limit = privacy.max_outliers(encoded.records)
        self.heights = np.array(heights, dtype=np.int64)
        self.nodes = np.array(list(itertools.product(*(range(h + 1) for h in heights))), dtype=np.int64).reshape(
            size, len(heights)
        )
        self.strides = np.array([math.prod(h + 1 for h in heights[j + 1 :]) for j in range(len(heights))])
        self.loss = node_entropies(encoded.attributes, self.nodes)
        self.status = np.zeros(size, dtype=np.int8)
        self.best = -1
        self.best_loss = math.inf
        self.checked = 0

    def check(self, node: int) -> bool:
        """Evaluate one node on the data."""
        self.checked += 1
        ids, count = group(self.encoded, self.nodes[node])
        return evaluate(self.encoded, ids, count, self.privacy).outliers <= self.limit

    def passed(self, node: int) -> None:
        above = np.all(self.nodes >= self.nodes[node], axis=1)
        self.status[above & (self.status == _UNKNOWN)] = _PASS
        if self.loss[node] < self.best_loss:
            self.best, self.best_loss = node, float(self.loss[node])

    def failed(self, node: int) -> None:
        self.status[np.all(self.nodes <= self.nodes[node], axis=1)] = _FAIL

    def open(self) -> npt.NDArray[np.bool_]:
        """Nodes still worth deciding: unknown, with a loss below the best found."""
        return np.asarray((self.status == _UNKNOWN) & (self.loss < self.best_loss))

    def successors(self, node: int) -> list[int]:
        levels = self.nodes[node]
        return [node + int(self.strides[j]) for j in range(len(levels)) if levels[j] < self.heights[j]]


def search(encoded: Encoded, privacy: Privacy, progress: Progress | None = None) -> SearchResult:
    """Find the transformation of least non-uniform entropy that satisfies ``privacy``.

    Args:
        encoded: The table, encoded with a hierarchy for every quasi-identifier.
        privacy: The privacy model and suppression limit.
        progress: Optional callback ``(decided, total)``.

    Raises:
        ConfigError: The lattice is too large to search.
    """
    lattice = _Lattice(encoded, privacy)
    if privacy.monotone:
        _tagging_search(lattice, progress)
    else:
        _ordered_search(lattice, progress)
    levels = None if lattice.best < 0 else tuple(int(v) for v in lattice.nodes[lattice.best])
    return SearchResult(levels, lattice.best_loss, lattice.checked, len(lattice.nodes))


def _tagging_search(lattice: _Lattice, progress: Progress | None) -> None:
    total = len(lattice.nodes)
    order = np.lexsort((lattice.loss, lattice.nodes.sum(axis=1)))  # bottom-up, cheapest first
    cursor = 0
    while True:
        open_nodes = lattice.open()
        if progress is not None:
            progress(total - int(open_nodes.sum()), total)
        while cursor < total and not open_nodes[order[cursor]]:
            cursor += 1
        if cursor == total:
            return
        _binary_search(lattice, _upward_path(lattice, int(order[cursor]), open_nodes))


def _upward_path(lattice: _Lattice, start: int, open_nodes: npt.NDArray[np.bool_]) -> list[int]:
    path = [start]
    while True:
        nexts = [s for s in lattice.successors(path[-1]) if open_nodes[s]]
        if not nexts:
            return path
        path.append(min(nexts, key=lambda s: (lattice.loss[s], s)))


def _binary_search(lattice: _Lattice, path: Sequence[int]) -> None:
    low, high = 0, len(path) - 1
    while low <= high:
        mid = (low + high) // 2
        node = path[mid]
        status = lattice.status[node]
        ok = lattice.check(node) if status == _UNKNOWN else status == _PASS
        if ok:
            lattice.passed(node)
            high = mid - 1
        else:
            lattice.failed(node)
            low = mid + 1


def _ordered_search(lattice: _Lattice, progress: Progress | None) -> None:
    total = len(lattice.nodes)
    for rank, node in enumerate(np.argsort(lattice.loss, kind="stable")):
        if progress is not None and rank % 64 == 0:
            progress(rank, total)
        if lattice.check(int(node)):
            lattice.best, lattice.best_loss = int(node), float(lattice.loss[node])
            break
    if progress is not None:
        progress(total, total)
