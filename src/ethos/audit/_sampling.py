"""Stratified sampling shared by benchmarks: how many draws each stratum gets under ``--limit``."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["allocate"]


def allocate(sizes: Sequence[int], limit: int) -> list[int]:
    """Proportional allocation of ``limit`` draws over strata of ``sizes`` (largest remainder).

    Every non-empty stratum gets at least one draw, so the total is ``max(limit, #non-empty)``
    (capped at ``sum(sizes)``). Quotas are ``limit·size/total`` in exact integer arithmetic;
    leftover draws go to the largest fractional remainders, ties to the earlier stratum.
    """
    total = sum(sizes)
    if limit >= total:
        return list(sizes)
    nonempty = [i for i, s in enumerate(sizes) if s]
    goal = max(limit, len(nonempty))
    alloc = [min(s, max(1, limit * s // total)) if s else 0 for s in sizes]
    remainder = [limit * s % total for s in sizes]
    grow = sorted(nonempty, key=lambda i: (-remainder[i], i))
    while sum(alloc) < goal:
        for i in grow:
            if sum(alloc) < goal and alloc[i] < sizes[i]:
                alloc[i] += 1
    shrink = sorted(nonempty, key=lambda i: (remainder[i], -i))
    while sum(alloc) > goal:
        for i in shrink:
            if sum(alloc) > goal and alloc[i] > 1:
                alloc[i] -= 1
    return alloc
