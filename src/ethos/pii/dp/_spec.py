"""What to release: queries, clamping bounds, declared categories and how ε is split.

Everything here is checked before any data is read, so a bad flag costs nothing and spends no
budget. Messages name the query or flag at fault and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ethos.errors import ConfigError

__all__ = [
    "BOUNDED_KINDS",
    "QUERY_KINDS",
    "Bounds",
    "Query",
    "QueryKind",
    "ReleaseSpec",
    "parse_bounds",
    "parse_categories",
    "parse_query",
]

QueryKind = Literal["count", "sum", "mean", "histogram", "quantile"]
QUERY_KINDS: tuple[QueryKind, ...] = ("count", "sum", "mean", "histogram", "quantile")
BOUNDED_KINDS: frozenset[str] = frozenset({"sum", "mean", "quantile"})
"""Queries whose sensitivity depends on the size of one value: they need clamping bounds."""

_SENSITIVITY_WHY = (
    "clamping bounds cap how much one row can move the result (the sensitivity, which sets the noise); "
    "they must come from what is publicly known about the column, never from the data itself"
)


@dataclass(frozen=True, slots=True)
class Bounds:
    """Clamping bounds of a numeric column: values below ``low`` count as ``low``, above ``high`` as ``high``."""

    low: float
    high: float

    @property
    def integral(self) -> bool:
        """Both bounds are whole numbers."""
        return float(self.low).is_integer() and float(self.high).is_integer()


@dataclass(frozen=True, slots=True)
class Query:
    """One statistic to release.

    Attributes:
        kind: ``count`` (rows), ``sum``, ``mean``, ``histogram`` or ``quantile``.
        column: The column it reads (``None`` for ``count``).
        alpha: The quantile in ``[0, 1]`` for ``quantile`` (0.5 is the median).
    """

    kind: QueryKind
    column: str | None = None
    alpha: float | None = None

    def __str__(self) -> str:
        if self.kind == "count":
            return "count"
        if self.kind == "quantile":
            return f"quantile:{self.column}:{self.alpha:g}"
        return f"{self.kind}:{self.column}"


def parse_query(text: str) -> Query:
    """Parse ``count``, ``sum:COL``, ``mean:COL``, ``histogram:COL`` or ``quantile:COL:Q``.

    Raises:
        ConfigError: The text is none of these (the message lists the forms).
    """
    forms = "count, sum:COL, mean:COL, histogram:COL or quantile:COL:Q (e.g. quantile:age:0.5)"
    kind, _, rest = text.strip().partition(":")
    if kind == "count" and not rest:
        return Query("count")
    if kind in ("sum", "mean", "histogram") and rest:
        return Query(kind, rest)  # type: ignore[arg-type]  # narrowed by the membership test
    if kind == "quantile":
        column, _, alpha_text = rest.rpartition(":")
        try:
            alpha = float(alpha_text)
        except ValueError:
            alpha = math.nan
        if column and 0.0 <= alpha <= 1.0:
            return Query("quantile", column, alpha)
        raise ConfigError(f"--query {text!r}: a quantile query is quantile:COL:Q with Q between 0 and 1")
    raise ConfigError(f"--query {text!r} is not a query; use {forms}")


def parse_bounds(items: Sequence[str]) -> dict[str, Bounds]:
    """Parse ``--bounds COL=LOW,HIGH`` flags into bounds per column.

    Raises:
        ConfigError: A flag is malformed, a bound is not a finite number, or ``LOW >= HIGH``.
    """
    bounds: dict[str, Bounds] = {}
    for item in items:
        column, sep, values = item.partition("=")
        parts = values.split(",")
        if not sep or not column.strip() or len(parts) != 2:
            raise ConfigError(f"--bounds {item!r}: write COL=LOW,HIGH, e.g. --bounds age=0,120")
        try:
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            raise ConfigError(f"--bounds {item!r}: LOW and HIGH must be numbers") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ConfigError(f"--bounds {item!r}: LOW and HIGH must be finite numbers")
        if low >= high:
            raise ConfigError(f"--bounds {item!r}: LOW must be below HIGH")
        bounds[column.strip()] = Bounds(low, high)
    return bounds


def parse_categories(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Parse ``--categories COL=a,b,c`` flags (values are stripped, duplicates dropped, order kept).

    Raises:
        ConfigError: A flag is malformed or declares no category.
    """
    found: dict[str, tuple[str, ...]] = {}
    for item in items:
        column, sep, values = item.partition("=")
        cats = tuple(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
        if not sep or not column.strip() or not cats:
            raise ConfigError(f"--categories {item!r}: write COL=a,b,c with at least one category")
        found[column.strip()] = cats
    return found


def _parse_split(split: Sequence[float] | None, n: int) -> tuple[float, ...]:
    if split is None:
        return (1.0,) * n
    if len(split) != n:
        raise ConfigError(f"--split has {len(split)} weights for {n} queries; give one weight per --query")
    if any(not math.isfinite(w) or w <= 0 for w in split):
        raise ConfigError("--split weights must be positive numbers, e.g. --split 1,3")
    return tuple(float(w) for w in split)


@dataclass(frozen=True, slots=True)
class ReleaseSpec:
    """A checked release request: queries with their share of ε, bounds and categories.

    Build it with :meth:`build`; the shares follow basic sequential composition, so the
    per-query ε add up to the total ``epsilon`` that the ledger is charged.
    """

    queries: tuple[Query, ...]
    epsilon: float
    epsilons: tuple[float, ...]
    bounds: Mapping[str, Bounds] = field(default_factory=dict)
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    size: int | None = None

    @classmethod
    def build(  # noqa: PLR0913 - each is a separate, documented flag
        cls,
        queries: Sequence[Query],
        *,
        epsilon: float,
        bounds: Mapping[str, Bounds] | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
        split: Sequence[float] | None = None,
        size: int | None = None,
    ) -> ReleaseSpec:
        """Check a request before any data is read.

        Args:
            queries: The statistics to release, at least one.
            epsilon: The total ε of the release (> 0).
            bounds: Clamping bounds per column; required for sum, mean and quantile columns.
            categories: Declared categories per column; required for histogram columns.
            split: Relative weights of the queries' ε (default: equal shares).
            size: The dataset's row count when it is public; means then use OpenDP's sized mean.

        Raises:
            ConfigError: Naming the query or flag at fault and how to fix it.
        """
        if not queries:
            raise ConfigError("give at least one --query (count, sum:COL, mean:COL, histogram:COL, quantile:COL:Q)")
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ConfigError(f"--epsilon must be a positive number, got {epsilon}")
        if size is not None and size < 1:
            raise ConfigError(f"--size must be a positive row count, got {size}")
        bounds = dict(bounds or {})
        cats = {k: tuple(v) for k, v in (categories or {}).items()}
        for query in queries:
            _check_query(query, bounds, cats)
        weights = _parse_split(split, len(queries))
        total = math.fsum(weights)
        epsilons = tuple(epsilon * w / total for w in weights)
        return cls(tuple(queries), float(epsilon), epsilons, bounds, cats, size)


def _check_query(query: Query, bounds: Mapping[str, Bounds], cats: Mapping[str, tuple[str, ...]]) -> None:
    if query.kind in BOUNDED_KINDS and query.column not in bounds:
        raise ConfigError(
            f"query {query} needs clamping bounds: pass --bounds {query.column}=LOW,HIGH; {_SENSITIVITY_WHY}"
        )
    if query.kind == "histogram" and query.column not in cats:
        raise ConfigError(
            f"query {query} needs its categories declared: pass --categories {query.column}=a,b,c; "
            "releasing the categories found in the data would reveal rare values (values outside the "
            "declared ones are counted together as '(other)')"
        )

