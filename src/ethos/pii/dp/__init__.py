"""Differential-privacy releases of CSV columns, built on OpenDP.

Counts, sums, means, histograms over declared categories and quantiles, each with its share of
ε, the mechanism's noise scale and a 95% noise interval::

    from ethos.pii.dp import ReleaseSpec, parse_bounds, parse_query, read_csv, release

    spec = ReleaseSpec.build([parse_query("mean:age")], epsilon=1.0, bounds=parse_bounds(["age=0,120"]))
    result = release(spec, read_csv(path), source=path)          # OpenDP's CSPRNG
    result = release(spec, read_csv(path), source=path, seed=7)  # reproducible (tests, reports only)

This package computes releases and nothing else: it does not keep the privacy budget. The CLI
checks the budget in ``ethos.records`` first, charges it afterwards (re-checking atomically) and
discards the release when the charge fails.
"""

from ethos.pii.dp._opendp import Noisy, opendp_version, quantile_candidates
from ethos.pii.dp._release import OTHER_CATEGORY, Release, ReleasedValue, draw, release
from ethos.pii.dp._spec import (
    BOUNDED_KINDS,
    QUERY_KINDS,
    Bounds,
    Query,
    QueryKind,
    ReleaseSpec,
    parse_bounds,
    parse_categories,
    parse_query,
)
from ethos.pii.dp._table import read_csv, sniff_separator

__all__ = [
    "BOUNDED_KINDS",
    "OTHER_CATEGORY",
    "QUERY_KINDS",
    "Bounds",
    "Noisy",
    "Query",
    "QueryKind",
    "Release",
    "ReleaseSpec",
    "ReleasedValue",
    "draw",
    "opendp_version",
    "parse_bounds",
    "parse_categories",
    "parse_query",
    "quantile_candidates",
    "read_csv",
    "release",
    "sniff_separator",
]
