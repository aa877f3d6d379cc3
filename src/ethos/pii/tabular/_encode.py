"""Integer codes for a table: one small int array per attribute and level, and the distinct tuples.

Every search step works on these arrays: a transformation maps each level-0 code through a lookup
array, the generalised codes of a row are packed into one int64 key (mixed radix) and equivalence
classes are the distinct keys, counted over the *distinct* input tuples with their multiplicities
rather than over every record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ethos.errors import DataError
from ethos.pii.tabular._hierarchy import Hierarchy
from ethos.pii.tabular._table import Table

__all__ = ["Attribute", "Encoded", "combine", "dense_ids", "encode"]

IntArray = npt.NDArray[np.int64]

_KEY_LIMIT = 1 << 62
_DIRECT_LIMIT = 1 << 22


@dataclass(frozen=True, eq=False)
class Attribute:
    """One quasi-identifier, encoded.

    Attributes:
        name: The column.
        labels: ``labels[level][code]``, the text of each generalised value.
        maps: ``maps[level][code0]``, the code at ``level`` of each level-0 code.
        leaves: ``leaves[level][code]``, how many level-0 values (of the hierarchy's domain) it covers.
        counts: How many records hold each level-0 code.
        numeric: The values (level 0) as numbers when all parse, else ``None``.
        hierarchical: Whether the levels come from a hierarchy file (else there is only level 0).
    """

    name: str
    labels: tuple[tuple[str, ...], ...]
    maps: tuple[IntArray, ...]
    leaves: tuple[IntArray, ...]
    counts: IntArray
    numeric: npt.NDArray[np.float64] | None
    hierarchical: bool

    @property
    def height(self) -> int:
        """The highest generalisation level."""
        return len(self.maps) - 1


@dataclass(frozen=True, eq=False)
class Encoded:
    """A table as codes.

    Attributes:
        records: Number of records.
        attributes: The quasi-identifiers.
        codes: ``(records, quasi)`` level-0 codes.
        sensitive_names: The sensitive attributes.
        sensitive: ``(records, sensitive)`` codes of the sensitive values.
        sensitive_sizes: Number of distinct values of each sensitive attribute.
        base: ``(distinct, quasi + sensitive)`` the distinct code tuples.
        counts: How many records hold each distinct tuple.
        inverse: For each record, the index of its tuple in ``base``.
    """

    records: int
    attributes: tuple[Attribute, ...]
    codes: IntArray
    sensitive_names: tuple[str, ...]
    sensitive: IntArray
    sensitive_sizes: tuple[int, ...]
    base: IntArray
    counts: IntArray
    inverse: IntArray


def combine(columns: Sequence[IntArray], radices: Sequence[int]) -> tuple[IntArray, int]:
    """Pack code columns into one int64 key per row (mixed radix); returns the keys and their span.

    When the product of the radices would overflow, the partial key is first renumbered densely.
    """
    key = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    span = 1
    for column, radix in zip(columns, radices, strict=True):
        if span * radix >= _KEY_LIMIT:
            key, span = dense_ids(key, span)
        key = key * radix + column
        span *= radix
    return key, span


def dense_ids(key: IntArray, span: int) -> tuple[IntArray, int]:
    """Renumber keys as 0..groups-1 (in key order); returns the ids and the number of groups."""
    if span <= max(_DIRECT_LIMIT, 4 * len(key)):
        present = np.zeros(span, dtype=np.int64)
        present[key] = 1
        remap = np.cumsum(present) - 1
        return remap[key], int(present.sum())
    uniques, ids = np.unique(key, return_inverse=True)
    return ids.astype(np.int64, copy=False), len(uniques)


def encode(
    table: Table, quasi: Sequence[str], hierarchies: dict[str, Hierarchy], sensitive: Sequence[str] = ()
) -> Encoded:
    """Encode the quasi-identifiers (with their hierarchies, where given) and the sensitive columns.

    Raises:
        DataError: A value of the table is missing from its hierarchy.
    """
    encoded = [_encode_attribute(table, name, hierarchies.get(name)) for name in quasi]
    attributes = tuple(attribute for attribute, _ in encoded)
    codes = np.empty((len(table), len(quasi)), dtype=np.int64)
    for j, (_, column) in enumerate(encoded):
        codes[:, j] = column
    sens = np.empty((len(table), len(sensitive)), dtype=np.int64)
    sizes = []
    for j, name in enumerate(sensitive):
        uniques, inverse = np.unique(np.array(table.column(name), dtype=object), return_inverse=True)
        sens[:, j] = inverse.reshape(-1)
        sizes.append(len(uniques))
    radices = [len(a.labels[0]) for a in attributes] + sizes
    key, span = combine([*codes.T, *sens.T], radices)
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    base = np.concatenate([codes[first], sens[first]], axis=1)
    return Encoded(
        len(table),
        attributes,
        codes,
        tuple(sensitive),
        sens,
        tuple(sizes),
        base,
        counts.astype(np.int64),
        inverse.reshape(-1).astype(np.int64),
    )


def _encode_attribute(table: Table, name: str, hierarchy: Hierarchy | None) -> tuple[Attribute, IntArray]:
    if hierarchy is None:
        values = sorted(set(table.column(name)), key=_sort_key)
        rows: tuple[tuple[str, ...], ...] = tuple((v,) for v in values)
    else:
        rows = hierarchy.rows
    levels = len(rows[0])
    labels: list[tuple[str, ...]] = []
    maps: list[IntArray] = []
    leaves: list[IntArray] = []
    for level in range(levels):
        index: dict[str, int] = {}
        mapped = np.fromiter(
            (index.setdefault(row[level], len(index)) for row in rows), dtype=np.int64, count=len(rows)
        )
        labels.append(tuple(index))
        maps.append(mapped)
        leaves.append(np.bincount(mapped, minlength=len(index)).astype(np.int64))
    codes = _codes(table, name, labels[0], rows[0])
    counts = np.bincount(codes, minlength=len(rows)).astype(np.int64)
    numeric = _as_numbers([row[0] for row in rows])
    attribute = Attribute(name, tuple(labels), tuple(maps), tuple(leaves), counts, numeric, hierarchy is not None)
    return attribute, codes


def _codes(table: Table, name: str, values: tuple[str, ...], first_row: tuple[str, ...]) -> IntArray:
    lookup = {value: code for code, value in enumerate(values)}
    column = table.column(name)
    try:
        return np.fromiter((lookup[v] for v in column), dtype=np.int64, count=len(column))
    except KeyError as exc:
        row = column.index(exc.args[0])
        raise DataError(
            f"{table.source} line {table.lines[row]}: value {exc.args[0]!r} of column {name!r} is not in its "
            f"hierarchy (first row: {';'.join(first_row)!r}); add a row for it to the hierarchy file"
        ) from None


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _as_numbers(values: list[str]) -> npt.NDArray[np.float64] | None:
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return None
