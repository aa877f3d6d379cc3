"""The re-identification risk of a table as it is: its k, its l and the riskiest records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ethos.errors import ConfigError, DataError
from ethos.pii.tabular._criteria import diversity_of, group
from ethos.pii.tabular._encode import encode
from ethos.pii.tabular._table import Table, resolve_columns

__all__ = ["RiskReport", "check_table"]


@dataclass(frozen=True)
class RiskReport:
    """k, l and prosecutor risk of a table (classes = records sharing all quasi-identifier values).

    Attributes:
        records: Number of records.
        classes: Number of equivalence classes.
        k: Size of the smallest class.
        l: Smallest number of distinct sensitive values in a class (over all sensitive attributes), or
            ``None`` without sensitive attributes.
        entropy_l: The entropy l-diversity, ``exp`` of the smallest class entropy, or ``None``.
        risk_threshold: Classes smaller than this count as risky.
        records_at_risk: Records in risky classes.
        unique_records: Records alone in their class.
        prosecutor_max: Highest prosecutor re-identification risk, ``1 / k``.
        prosecutor_average: Average over records of ``1 / |class|`` (= classes / records).
    """

    records: int
    classes: int
    k: int
    l: int | None  # noqa: E741 - the letter of the literature
    entropy_l: float | None
    risk_threshold: int
    records_at_risk: int
    unique_records: int
    prosecutor_max: float
    prosecutor_average: float

    @property
    def share_at_risk(self) -> float:
        """Share of records in classes smaller than ``risk_threshold``."""
        return self.records_at_risk / self.records

    def as_dict(self) -> dict[str, Any]:
        """The report for JSON: k, l and records first."""
        return {
            "k": self.k,
            "l": self.l,
            "records": self.records,
            "classes": self.classes,
            "entropy_l": self.entropy_l,
            "risk_threshold": self.risk_threshold,
            "records_at_risk": self.records_at_risk,
            "share_at_risk": self.share_at_risk,
            "unique_records": self.unique_records,
            "prosecutor_risk": {"max": self.prosecutor_max, "average": self.prosecutor_average},
        }


def check_table(
    table: Table, quasi: Sequence[str], sensitive: Sequence[str] = (), *, risk_threshold: int = 5
) -> RiskReport:
    """Measure k, l and the prosecutor risk of ``table`` with the given quasi-identifiers.

    Args:
        table: The table.
        quasi: The quasi-identifier columns.
        sensitive: Sensitive columns for l (optional).
        risk_threshold: Classes smaller than this count as risky (default 5).

    Raises:
        ConfigError: A column is unknown, or quasi-identifiers and sensitive columns overlap.
        DataError: The table has no records.
    """
    resolve_columns(table, quasi, "--quasi")
    resolve_columns(table, sensitive, "--sensitive")
    if not quasi:
        raise ConfigError("--quasi: name at least one quasi-identifier column")
    if set(quasi) & set(sensitive):
        raise ConfigError(
            f"{', '.join(sorted(set(quasi) & set(sensitive)))}: a column cannot be both --quasi and --sensitive"
        )
    if not len(table):
        raise DataError(f"{table.source}: the table has no records")
    encoded = encode(table, quasi, {}, sensitive)
    ids, count = group(encoded, [0] * len(quasi))
    sizes = np.bincount(ids, weights=encoded.counts, minlength=count).astype(np.int64)
    distinct = [diversity_of(encoded, ids, count, s, "distinct") for s in range(len(sensitive))]
    entropy = [diversity_of(encoded, ids, count, s, "entropy") for s in range(len(sensitive))]
    k = int(sizes.min())
    return RiskReport(
        records=encoded.records,
        classes=count,
        k=k,
        l=int(min(d.min() for d in distinct)) if distinct else None,
        entropy_l=float(min(e.min() for e in entropy)) if entropy else None,
        risk_threshold=risk_threshold,
        records_at_risk=int(sizes[sizes < risk_threshold].sum()),
        unique_records=int(np.sum(sizes == 1)),
        prosecutor_max=1.0 / k,
        prosecutor_average=count / encoded.records,
    )
