"""Checks written independently of ``ethos.pii.tabular``: plain pandas group-bys over the released table.

Also a small synthetic data set with ARX-format hierarchies, and a brute-force optimum over its whole
lattice, for the tests that compare the pruned search against exhaustive evaluation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HIERARCHIES: dict[str, dict[str, list[str]]] = {
    "zip": {z: [z, z[:3] + "*", z[:2] + "**", "*"] for z in ("1301", "1302", "1305", "1401", "1402", "1501", "1502")},
    "age": {str(a): [str(a), f"{a // 10 * 10}-{a // 10 * 10 + 9}", "*"] for a in range(20, 45)},
    "sex": {"M": ["M", "*"], "F": ["F", "*"]},
    "job": {
        "nurse": ["nurse", "health", "*"],
        "doctor": ["doctor", "health", "*"],
        "clerk": ["clerk", "office", "*"],
        "lawyer": ["lawyer", "office", "*"],
        "driver": ["driver", "transport", "*"],
    },
}
QUASI = ("zip", "age", "sex", "job")
DISEASES = ("flu", "cold", "asthma", "cancer")


@dataclass(frozen=True)
class Optimum:
    """The brute-force answer: best levels (or None), its non-uniform entropy, records suppressed."""

    levels: tuple[int, ...] | None
    entropy: float
    suppressed: int


def synthetic(folder: Path, rows: int = 150, seed: int = 7, sep: str = ";") -> Path:
    """Write a seeded patient table and its four ARX hierarchies into ``folder``; return the table."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(rows)],
            "zip": rng.choice(list(HIERARCHIES["zip"]), size=rows, p=[0.3, 0.2, 0.05, 0.2, 0.1, 0.1, 0.05]),
            "age": rng.integers(20, 45, size=rows).astype(str),
            "sex": rng.choice(["M", "F"], size=rows),
            "job": rng.choice(list(HIERARCHIES["job"]), size=rows, p=[0.3, 0.1, 0.3, 0.1, 0.2]),
            "disease": rng.choice(DISEASES, size=rows, p=[0.5, 0.3, 0.15, 0.05]),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "patients.csv"
    data.to_csv(path, sep=sep, index=False)
    for name, hierarchy in HIERARCHIES.items():
        lines = [";".join(levels) for levels in hierarchy.values()]
        (folder / f"patients_hierarchy_{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path, sep: str = ";") -> pd.DataFrame:
    """Read a table as strings only."""
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)


def class_sizes(frame: pd.DataFrame, quasi: Sequence[str]) -> pd.Series:
    """Records per equivalence class."""
    return frame.groupby(list(quasi), dropna=False).size()


def assert_k_anonymous(frame: pd.DataFrame, quasi: Sequence[str], k: int) -> None:
    """Every class of the released table has at least k records."""
    assert len(frame) > 0
    sizes = class_sizes(frame, quasi)
    assert int(sizes.min()) >= k, f"smallest class has {int(sizes.min())} records, k={k}"


def class_entropy(values: pd.Series) -> float:
    """Natural-log entropy of one class's sensitive values."""
    shares = values.value_counts(normalize=True).to_numpy()
    return float(-(shares * np.log(shares)).sum())


def assert_l_diverse(frame: pd.DataFrame, quasi: Sequence[str], sensitive: str, l: int, kind: str) -> None:  # noqa: E741
    """Every class has l distinct sensitive values (distinct) or entropy at least log(l) (entropy)."""
    groups = frame.groupby(list(quasi), dropna=False)[sensitive]
    if kind == "distinct":
        assert int(groups.nunique().min()) >= l
    else:
        assert float(groups.apply(class_entropy).min()) >= math.log(l) - 1e-9


def generalise(frame: pd.DataFrame, levels: Sequence[int]) -> pd.DataFrame:
    """The synthetic table with each quasi-identifier replaced by its value at the given level."""
    out = frame.copy()
    for name, level in zip(QUASI, levels, strict=True):
        out[name] = frame[name].map({v: row[level] for v, row in HIERARCHIES[name].items()})
    return out


def non_uniform_entropy(frame: pd.DataFrame, levels: Sequence[int]) -> float:
    """Sum over records and attributes of -log2(f(original) / f(generalised)), frequencies over all records."""
    generalised = generalise(frame, levels)
    total = 0.0
    for name in QUASI:
        original = frame[name].map(frame[name].value_counts())
        coarse = generalised[name].map(generalised[name].value_counts())
        total += float(-np.log2(original / coarse).sum())
    return total


def brute_force(frame: pd.DataFrame, k: int, suppress: float, l: int | None = None, kind: str = "distinct") -> Optimum:  # noqa: E741
    """Evaluate every node of the lattice; return the least-entropy node that satisfies the model."""
    limit = math.floor(suppress * len(frame) + 1e-9)
    best = Optimum(None, math.inf, 0)
    heights = [len(next(iter(HIERARCHIES[name].values()))) for name in QUASI]
    for levels in itertools.product(*(range(h) for h in heights)):
        generalised = generalise(frame, levels)
        groups = generalised.groupby(list(QUASI))
        sizes = groups["disease"].transform("size")
        failing = sizes < k
        if l is not None:
            if kind == "distinct":
                failing |= groups["disease"].transform("nunique") < l
            else:
                failing |= groups["disease"].transform(class_entropy) < math.log(l) - 1e-12
        if int(failing.sum()) > limit:
            continue
        entropy = non_uniform_entropy(frame, levels)
        if entropy < best.entropy - 1e-9:
            best = Optimum(tuple(levels), entropy, int(failing.sum()))
    return best
