"""Input validation for fairness metrics, in the spirit of fairlearn's ``utils/_input_validation.py``.

Everything :func:`~ethos.audit.fairness.assess` receives is checked here once and turned into
plain numpy arrays: 0/1 decisions, an optional 0/1 ground truth, optional scores, and one group
code per row. Every problem is a :class:`~ethos.errors.DataError` that names the input, the rows
and what to do. Message templates are module constants so that tests can import them.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ethos.errors import DataError

__all__ = [
    "GROUP_SEPARATOR",
    "MSG_EMPTY_GROUP",
    "MSG_LENGTH",
    "MSG_MISSING",
    "MSG_NOT_BINARY",
    "MSG_ONE_GROUP",
    "SINGLE_COLUMN",
    "Prepared",
    "prepare",
]

GROUP_SEPARATOR = "|"
"""Joins the values of several sensitive columns into one intersectional group key, e.g. ``F|black``."""

SINGLE_COLUMN = "group"
"""Column name given to a sensitive feature passed as one plain sequence."""

MSG_LENGTH = "{name} has {got} rows but {ref} has {want}; every input needs exactly one entry per row"
MSG_MISSING = "{name} has missing values (None/NaN) at rows {rows}; drop or fill those rows first"
MSG_NOT_BINARY = (
    "{name} must be binary (two values), but it has {k} distinct values: {values}; "
    "map it to 0/1 first (or name the positive value with positive_label)"
)
MSG_NO_POSITIVE = (
    "{name} has the values {values}, none of which is the positive label {label!r}; "
    "pass positive_label=<the value that means a positive outcome> (CLI: --positive-label VALUE)"
)
MSG_ONE_GROUP = "{name} has only one group ({value!r}); fairness needs at least two groups to compare"
MSG_EMPTY_GROUP = "group {group!r} has no rows (after filtering); fairness cannot be measured for a group with no data"
_PREVIEW = 5
_NEGATIVE_DEFAULTS = (0, -1, False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Validated inputs: numpy arrays with one entry per row, and the groups they fall into.

    Attributes:
        y_pred: 0/1 decisions (1 = the positive label).
        y_true: 0/1 ground truth, or ``None``.
        scores: Float scores, or ``None``.
        codes: Index into ``keys`` of each row's group.
        keys: Group keys, sorted: the value itself for one column, values joined by ``|`` for several.
        labels: ``{column: value}`` of each group, in ``keys`` order.
        columns: The sensitive column names.
        sensitive: The sensitive values as strings, by column (what fairlearn receives).
    """

    y_pred: npt.NDArray[np.int8]
    y_true: npt.NDArray[np.int8] | None
    scores: npt.NDArray[np.float64] | None
    codes: npt.NDArray[np.intp]
    keys: tuple[str, ...]
    labels: tuple[Mapping[str, str], ...]
    columns: tuple[str, ...]
    sensitive: Mapping[str, npt.NDArray[np.str_]]

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.y_pred)


def prepare(  # noqa: PLR0913 - mirrors assess()'s inputs
    y_pred: Sequence[Any] | npt.ArrayLike,
    sensitive: Sequence[Any] | npt.ArrayLike | Mapping[str, Sequence[Any] | npt.ArrayLike],
    *,
    y_true: Sequence[Any] | npt.ArrayLike | None = None,
    scores: Sequence[Any] | npt.ArrayLike | None = None,
    positive_label: Hashable = 1,
    groups: Sequence[str] | None = None,
) -> Prepared:
    """Check every input and convert it; see :func:`~ethos.audit.fairness.assess` for the arguments.

    Raises:
        DataError: Lengths differ, values are missing, labels are not binary, a sensitive column
            has a single group, a group named in ``groups`` has no rows, or there are no rows.
    """
    pred_values = _column("y_pred", y_pred)
    n = len(pred_values)
    if n == 0:
        raise DataError("y_pred is empty; fairness metrics need at least one row per group")
    pred = _binary("y_pred", pred_values, positive_label)
    truth = None if y_true is None else _binary("y_true", _column("y_true", y_true, n), positive_label)
    score = None if scores is None else _scores(_column("scores", scores, n))
    columns = _sensitive_columns(sensitive, n)
    codes, keys, labels = _group_codes(columns)
    _check_expected(groups, keys)
    return Prepared(pred, truth, score, codes, keys, labels, tuple(columns), columns)


def _column(name: str, values: Any, n: int | None = None, ref: str = "y_pred") -> npt.NDArray[Any]:
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional (one entry per row), got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise DataError(MSG_LENGTH.format(name=name, got=len(arr), ref=ref, want=n))
    if arr.dtype.kind not in "Ofc":
        return arr
    missing = np.flatnonzero([_is_missing(v) for v in arr.tolist()])
    if len(missing):
        raise DataError(MSG_MISSING.format(name=name, rows=_rows(missing)))
    return arr


def _is_missing(value: Any) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing markers
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(float(value))
    return False


def _rows(indices: Sequence[int] | npt.NDArray[np.intp]) -> str:
    shown = ", ".join(str(int(i)) for i in indices[:_PREVIEW])
    more = len(indices) - _PREVIEW
    return shown + (f" (and {more} more)" if more > 0 else "")


def _preview(values: Sequence[Any]) -> str:
    shown = ", ".join(repr(_plain(v)) for v in values[:_PREVIEW])
    more = len(values) - _PREVIEW
    return shown + (f" … ({more} more)" if more > 0 else "")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _distinct(arr: npt.NDArray[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for v in arr.tolist():
        seen.setdefault(v, None)
        if len(seen) > _PREVIEW + 1:
            break
    try:
        return sorted(seen)
    except TypeError:
        return sorted(seen, key=repr)


def _binary(name: str, arr: npt.NDArray[Any], positive_label: Hashable) -> npt.NDArray[np.int8]:
    values = _distinct(arr)
    if len(values) > 2:  # noqa: PLR2004 - binary means two
        raise DataError(MSG_NOT_BINARY.format(name=name, k=_count_distinct(arr), values=_preview(values)))
    is_positive = [v == positive_label for v in values]
    if not any(is_positive) and not (len(values) == 1 and values[0] in _NEGATIVE_DEFAULTS):
        raise DataError(MSG_NO_POSITIVE.format(name=name, values=_preview(values), label=_plain(positive_label)))
    if not any(is_positive):
        return np.zeros(len(arr), dtype=np.int8)
    positive = values[is_positive.index(True)]
    return np.fromiter((v == positive for v in arr.tolist()), dtype=bool, count=len(arr)).astype(np.int8)


def _count_distinct(arr: npt.NDArray[Any]) -> int:
    return len({repr(v) if isinstance(v, float) else v for v in arr.tolist()})


def _scores(arr: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    try:
        out = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        bad = [i for i, v in enumerate(arr.tolist()) if not _is_number(v)]
        raise DataError(f"scores must be numbers; rows {_rows(bad)} are not (e.g. {arr[bad[0]]!r})") from None
    bad_rows = np.flatnonzero(~np.isfinite(out))
    if len(bad_rows):
        raise DataError(f"scores must be finite numbers; rows {_rows(bad_rows)} are not")
    return out


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _named_columns(sensitive: Any) -> tuple[dict[str, Any], bool]:
    """``{column: values}`` from a mapping, a DataFrame, a named Series, or one plain sequence."""
    if isinstance(sensitive, Mapping):
        return {str(k): v for k, v in sensitive.items()}, True
    columns = getattr(sensitive, "columns", None)
    if columns is not None and getattr(sensitive, "ndim", 1) == 2:  # noqa: PLR2004 - a DataFrame
        return {str(c): sensitive[c] for c in columns}, True
    name = getattr(sensitive, "name", None)
    if isinstance(name, str) and name:  # a named pandas Series
        return {name: sensitive}, True
    return {SINGLE_COLUMN: sensitive}, False


def _categories(values: Any) -> list[str]:
    """The declared categories of a pandas categorical (kept after filtering rows), else none."""
    holder = values.cat if str(getattr(values, "dtype", "")) == "category" and hasattr(values, "cat") else values
    categories = getattr(holder, "categories", None)
    return [] if categories is None else [str(c) for c in categories]


def _sensitive_columns(
    sensitive: Sequence[Any] | npt.ArrayLike | Mapping[str, Sequence[Any] | npt.ArrayLike], n: int
) -> dict[str, npt.NDArray[np.str_]]:
    raw, named = _named_columns(sensitive)
    if not raw:
        raise DataError("sensitive has no columns; give one sequence or a mapping {column: sequence}")
    out: dict[str, npt.NDArray[np.str_]] = {}
    for column, values in raw.items():
        name = f"sensitive column {column!r}" if named else "sensitive"
        arr = _column(name, values, n)
        text = np.asarray([str(_plain(v)) for v in arr.tolist()], dtype=np.str_)
        distinct = np.unique(text)
        unused = [c for c in _categories(values) if c not in set(distinct.tolist())]
        if unused:
            raise DataError(
                MSG_EMPTY_GROUP.format(group=unused[0])
                + f" ({name} declares it as a category; drop unused categories or add rows for it)"
            )
        if len(distinct) < 2:  # noqa: PLR2004 - a comparison needs two groups
            raise DataError(MSG_ONE_GROUP.format(name=name, value=str(distinct[0])))
        out[column] = text
    return out


def _group_codes(
    columns: Mapping[str, npt.NDArray[np.str_]],
) -> tuple[npt.NDArray[np.intp], tuple[str, ...], tuple[Mapping[str, str], ...]]:
    names = list(columns)
    per_column = [np.unique(columns[c], return_inverse=True) for c in names]
    combined = np.zeros(len(columns[names[0]]), dtype=np.intp)
    for uniques, inverse in per_column:
        combined = combined * len(uniques) + inverse
    present, codes = np.unique(combined, return_inverse=True)
    labels: list[dict[str, str]] = []
    for value in present.tolist():
        parts: list[str] = []
        for uniques, _ in reversed(per_column):
            value, index = divmod(value, len(uniques))
            parts.append(str(uniques[index]))
        labels.append(dict(zip(names, reversed(parts), strict=True)))
    keys = tuple(GROUP_SEPARATOR.join(label[c] for c in names) for label in labels)
    if len(set(keys)) < len(keys):
        clash = next(k for k in keys if keys.count(k) > 1)
        raise DataError(
            f"two different groups both make the key {clash!r}: a sensitive value contains {GROUP_SEPARATOR!r}, "
            "which joins the columns of intersectional groups; replace it in the values"
        )
    return codes.astype(np.intp), keys, tuple(labels)


def _check_expected(groups: Sequence[str] | None, keys: tuple[str, ...]) -> None:
    if groups is None:
        return
    missing = [g for g in groups if g not in keys]
    if missing:
        raise DataError(MSG_EMPTY_GROUP.format(group=missing[0]) + f" (groups with rows: {', '.join(keys)})")
