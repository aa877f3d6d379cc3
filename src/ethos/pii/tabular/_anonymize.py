"""Anonymise a table: optimal full-domain generalisation or Mondrian, then build the released rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ethos.errors import ConfigError, DataError
from ethos.pii.tabular._criteria import Privacy, diversity_of, evaluate, group
from ethos.pii.tabular._encode import Encoded, encode
from ethos.pii.tabular._hierarchy import Hierarchy
from ethos.pii.tabular._lattice import Progress, search
from ethos.pii.tabular._metrics import InformationLoss, full_domain_loss
from ethos.pii.tabular._mondrian import mondrian
from ethos.pii.tabular._table import Table, resolve_columns, write_table

__all__ = ["Algorithm", "Anonymization", "SuppressedRows", "anonymize"]

Algorithm = Literal["optimal", "mondrian"]
SuppressedRows = Literal["remove", "star"]


@dataclass(frozen=True)
class Anonymization:
    """An anonymised table and how it was made.

    Attributes:
        algorithm: ``"optimal"`` or ``"mondrian"``.
        privacy: The model it satisfies.
        columns: The header of the released table.
        rows: The released records (suppressed ones removed, or with ``*`` quasi-identifiers).
        separator: The separator to write with (the input's).
        records: Records in the input.
        suppressed: Records suppressed.
        k: Smallest class among the released (not suppressed) records.
        l: Smallest distinct l among released classes, or ``None`` without sensitive attributes.
        transformation: Level per quasi-identifier (optimal), or ``None`` (Mondrian).
        information_loss: The loss metrics.
        seconds: Wall time of the search (after reading the files).
        details: Algorithm facts: lattice size and nodes checked, or partitions.
    """

    algorithm: Algorithm
    privacy: Privacy
    columns: tuple[str, ...]
    rows: list[list[str]]
    separator: str
    records: int
    suppressed: int
    k: int
    l: int | None  # noqa: E741 - the letter of the literature
    transformation: dict[str, int] | None
    information_loss: InformationLoss
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        """Write the released table atomically, with the input's separator."""
        write_table(path, self.columns, self.rows, self.separator)

    def as_dict(self) -> dict[str, Any]:
        """The result for JSON (without the rows)."""
        return {
            "k": self.k,
            "l": self.l,
            "transformation": self.transformation,
            "suppressed": self.suppressed,
            "records": self.records,
            "information_loss": self.information_loss.as_dict(),
            "seconds": self.seconds,
            "algorithm": self.algorithm,
            "requested": {
                "k": self.privacy.k,
                "l": self.privacy.l,
                "diversity": self.privacy.diversity,
                "sensitive": list(self.privacy.sensitive),
                "suppress": self.privacy.suppress,
            },
            **self.details,
        }


def anonymize(
    table: Table,
    quasi: Sequence[str],
    hierarchies: dict[str, Hierarchy],
    privacy: Privacy,
    *,
    algorithm: Algorithm = "optimal",
    suppressed_rows: SuppressedRows = "remove",
    progress: Progress | None = None,
) -> Anonymization:
    """Anonymise ``table`` so that it satisfies ``privacy``.

    Args:
        table: The input table.
        quasi: The quasi-identifier columns.
        hierarchies: Hierarchy per quasi-identifier; the optimal search needs one for each, Mondrian
            only for categorical columns it should generalise to hierarchy nodes.
        privacy: k, l and the suppression limit (the optimal search only; Mondrian suppresses nothing).
        algorithm: ``"optimal"`` (ARX-style full-domain) or ``"mondrian"``.
        suppressed_rows: Drop suppressed records (``"remove"``) or keep them with ``*`` for every
            quasi-identifier (``"star"``, as ARX does).
        progress: Optional ``(decided, total)`` callback for the optimal search.

    Raises:
        ConfigError: Unknown columns, a missing hierarchy, or an unknown algorithm.
        DataError: Malformed data or hierarchies, or no transformation satisfies the model.
    """
    _validate(table, quasi, hierarchies, privacy, algorithm)
    start = time.perf_counter()
    encoded = encode(table, quasi, hierarchies, privacy.sensitive)
    if algorithm == "optimal":
        return _optimal(table, encoded, privacy, suppressed_rows, progress, start)
    return _mondrian(table, encoded, privacy, start)


def _validate(
    table: Table, quasi: Sequence[str], hierarchies: dict[str, Hierarchy], privacy: Privacy, algorithm: str
) -> None:
    if algorithm not in ("optimal", "mondrian"):
        raise ConfigError(f"--algorithm {algorithm!r}: choose optimal or mondrian")
    if not quasi:
        raise ConfigError("--quasi: name at least one quasi-identifier column")
    resolve_columns(table, quasi, "--quasi")
    resolve_columns(table, privacy.sensitive, "--sensitive")
    overlap = sorted(set(quasi) & set(privacy.sensitive))
    if overlap:
        raise ConfigError(f"{', '.join(overlap)}: a column cannot be both --quasi and --sensitive")
    if not len(table):
        raise DataError(f"{table.source}: the table has no records")
    missing = [q for q in quasi if q not in hierarchies]
    if algorithm == "optimal" and missing:
        raise ConfigError(
            f"no hierarchy for {', '.join(repr(m) for m in missing)}: the optimal search needs one per "
            f"quasi-identifier (ARX format, <dataset>_hierarchy_<attribute>.csv); or use --algorithm mondrian"
        )


def _optimal(
    table: Table,
    encoded: Encoded,
    privacy: Privacy,
    suppressed_rows: SuppressedRows,
    progress: Progress | None,
    start: float,
) -> Anonymization:
    found = search(encoded, privacy, progress)
    if found.levels is None:
        raise DataError(
            f"{table.source}: no generalisation satisfies k={privacy.k}"
            f"{'' if privacy.l is None else f', l={privacy.l}'} with at most {privacy.suppress:.1%} suppressed; "
            f"raise --suppress or lower k/l"
        )
    ids, count = group(encoded, found.levels)
    classes = evaluate(encoded, ids, count, privacy)
    loss = full_domain_loss(encoded, found.levels, classes)
    suppressed_record = classes.failing[classes.ids][encoded.inverse]
    released = np.flatnonzero(~suppressed_record) if suppressed_rows == "remove" else np.arange(encoded.records)
    quasi = [a.name for a in encoded.attributes]
    generalised = {
        a.name: np.asarray(a.labels[lv], dtype=object)[a.maps[lv][encoded.codes[:, j]]]
        for j, (a, lv) in enumerate(zip(encoded.attributes, found.levels, strict=True))
    }
    for name in quasi:
        generalised[name][suppressed_record] = "*"
    rows = _rows(table, generalised, released)
    kept = ~classes.failing
    return Anonymization(
        algorithm="optimal",
        privacy=privacy,
        columns=table.columns,
        rows=rows,
        separator=table.separator,
        records=encoded.records,
        suppressed=int(suppressed_record.sum()),
        k=int(classes.sizes[kept].min()) if kept.any() else 0,
        l=_released_l(encoded, ids, count, kept),
        transformation=dict(zip(quasi, found.levels, strict=True)),
        information_loss=loss,
        seconds=time.perf_counter() - start,
        details={"lattice_nodes": found.nodes, "nodes_checked": found.checked},
    )


def _released_l(encoded: Encoded, ids: np.ndarray[Any, Any], count: int, kept: np.ndarray[Any, Any]) -> int | None:
    if not encoded.sensitive_names or not kept.any():
        return None
    return int(
        min(diversity_of(encoded, ids, count, s, "distinct")[kept].min() for s in range(len(encoded.sensitive_names)))
    )


def _mondrian(table: Table, encoded: Encoded, privacy: Privacy, start: float) -> Anonymization:
    result = mondrian(encoded, privacy)
    generalised = {a.name: np.empty(encoded.records, dtype=object) for a in encoded.attributes}
    for part, labels in zip(result.partitions, result.labels, strict=True):
        for a, label in zip(encoded.attributes, labels, strict=True):
            generalised[a.name][part] = label
    rows = _rows(table, generalised, np.arange(encoded.records))
    sizes = np.array([len(part) for part in result.partitions])
    l_value = None
    if encoded.sensitive_names:
        l_value = min(
            len(np.unique(encoded.sensitive[part, s]))
            for part in result.partitions
            for s in range(len(encoded.sensitive_names))
        )
    return Anonymization(
        algorithm="mondrian",
        privacy=privacy,
        columns=table.columns,
        rows=rows,
        separator=table.separator,
        records=encoded.records,
        suppressed=0,
        k=int(sizes.min()),
        l=l_value,
        transformation=None,
        information_loss=result.loss,
        seconds=time.perf_counter() - start,
        details={"partitions": len(result.partitions)},
    )


def _rows(
    table: Table, generalised: dict[str, np.ndarray[Any, Any]], released: np.ndarray[Any, Any]
) -> list[list[str]]:
    columns = [generalised.get(name) for name in table.columns]
    out: list[list[str]] = []
    for r in released.tolist():
        source = table.rows[r]
        out.append([str(col[r]) if col is not None else source[i] for i, col in enumerate(columns)])
    return out
