"""Computing a release: each query's OpenDP measurement run on its column, with its noise interval.

Noise comes from OpenDP's own CSPRNG unless a seed is given. OpenDP 0.16 offers no way to seed
it, so a *seeded* release runs the same OpenDP transformation (clamping, sensitivity, scores) with
the scale OpenDP's privacy map chose, and draws the noise from NumPy's seeded PCG64 with the
same distribution: two-sided geometric (= discrete Laplace) for integers, Laplace for floats
(OpenDP samples floats on a fine discrete grid, a difference far below the noise), exponential
for the quantile's noisy min. Seeded releases are for tests and reproducible reports, **not for
production**: anyone who learns the seed can subtract the noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethos.errors import ConfigError
from ethos.pii.dp import _opendp
from ethos.pii.dp._opendp import Noisy
from ethos.pii.dp._spec import Bounds, Query, ReleaseSpec
from ethos.pii.dp._table import Frame, numeric_column, text_column

if TYPE_CHECKING:
    import numpy as np

__all__ = ["OTHER_CATEGORY", "Release", "ReleasedValue", "draw", "release"]

OTHER_CATEGORY = "(other)"
"""Label of the histogram bin that counts every value outside the declared categories."""

_ALPHA = 0.05  # 95% noise intervals


@dataclass(frozen=True, slots=True)
class ReleasedValue:
    """One released number (a histogram gives one per category).

    Attributes:
        query: The query, e.g. ``mean:age``.
        label: The histogram category, else ``None``.
        value: The noisy value.
        epsilon: The ε OpenDP's privacy map charges for the query (one row added or removed).
        mechanism: The mechanism, e.g. ``discrete Laplace``.
        scale: The noise scale (for means from a sum and a count: the sum's scale).
        ci_low: Lower end of the 95% noise interval, when the mechanism has one.
        ci_high: Upper end of the 95% noise interval.
    """

    query: str
    label: str | None
    value: float
    epsilon: float
    mechanism: str
    scale: float | None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """A whole release: its values, the ε and δ it costs and how its noise was drawn.

    Attributes:
        values: The released numbers, in query order.
        epsilon: The total ε charged (basic sequential composition: the sum of the queries' shares).
        delta: The total δ; 0 because every mechanism here is pure ε-DP.
        seed: The seed of a reproducible release, ``None`` for OpenDP's CSPRNG.
        opendp_version: The OpenDP version that built the measurements.
    """

    values: tuple[ReleasedValue, ...]
    epsilon: float
    delta: float
    seed: int | None
    opendp_version: str

    @property
    def noise_source(self) -> str:
        """``opendp-csprng`` or ``seeded-numpy-pcg64`` (tests and reproducible reports only)."""
        return "opendp-csprng" if self.seed is None else "seeded-numpy-pcg64"

    def to_dict(self) -> dict[str, Any]:
        """The release as JSON-ready data."""
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "seed": self.seed,
            "noise_source": self.noise_source,
            "opendp_version": self.opendp_version,
            "composition": "basic sequential",
            "values": [asdict(v) for v in self.values],
        }


def draw(noisy: Noisy, data: Any, rng: np.random.Generator | None) -> Any:
    """Run a measurement on ``data``: OpenDP's CSPRNG when ``rng`` is ``None``, else seeded noise."""
    out = noisy.measurement(data) if rng is None else _seeded(noisy, noisy.transformation(data), rng)
    if noisy.noise == "exponential_min":
        return noisy.candidates[int(out)]
    return out


def _seeded(noisy: Noisy, exact: Any, rng: np.random.Generator) -> Any:
    import numpy as np

    if noisy.noise == "laplace":
        return float(exact) + float(rng.laplace(0.0, noisy.scale))
    if noisy.noise == "discrete_laplace":
        # discrete Laplace(scale) = difference of two iid geometrics with p = 1 - exp(-1/scale)
        p = -math.expm1(-1.0 / noisy.scale)
        shape = np.shape(exact)
        noise = rng.geometric(p, size=shape) - rng.geometric(p, size=shape)
        return (np.asarray(exact, dtype=np.int64) + noise).tolist()
    scores = -np.asarray(exact, dtype=np.float64)  # report noisy *min*: negate, then noisy max
    return int(np.argmax(scores + rng.exponential(noisy.scale, size=scores.shape)))


def release(spec: ReleaseSpec, frame: Frame, *, source: Path, seed: int | None = None) -> Release:
    """Compute every query of ``spec`` on ``frame``.

    Args:
        spec: The checked request (queries, ε shares, bounds, categories, public size).
        frame: The table, cells as text (see :func:`ethos.pii.dp.read_csv`).
        source: The file the table came from, for error messages.
        seed: Draw noise from a seeded generator (tests, reproducible reports); ``None`` uses OpenDP's CSPRNG.

    Raises:
        ConfigError: OpenDP finds no finite noise scale for a query's ε and bounds (names the query).
        DataError: A column is missing or a numeric column holds text (names the line).
        MissingDependencyError: OpenDP, pandas or NumPy is not installed.
    """
    import numpy as np

    rng = None if seed is None else np.random.default_rng(seed)
    values: list[ReleasedValue] = []
    refused: Any = _opendp.opendp().OpenDPException
    for query, epsilon in zip(spec.queries, spec.epsilons, strict=True):
        try:
            values.extend(_one(spec, query, epsilon, frame, source, rng))
        except refused as exc:  # e.g. an ε too small or bounds too wide for any finite noise scale
            reason = " ".join(str(exc).split())
            reason = reason if len(reason) <= 160 else reason[:160] + "…"
            raise ConfigError(
                f"query {query}: OpenDP cannot calibrate noise for ε={epsilon:g} ({reason}); "
                "use a larger --epsilon (or narrower --bounds)"
            ) from None
    return Release(tuple(values), spec.epsilon, 0.0, seed, _opendp.opendp_version())


def _one(
    spec: ReleaseSpec, query: Query, epsilon: float, frame: Frame, source: Path, rng: np.random.Generator | None
) -> list[ReleasedValue]:
    if query.kind == "count":
        return [_plain(str(query), _opendp.count_rows(epsilon), [0.0] * len(frame), rng)]
    assert query.column is not None  # noqa: S101 - parse_query gives every other kind a column
    if query.kind == "histogram":
        cats = spec.categories[query.column]
        noisy = _opendp.histogram(cats, epsilon)
        counts = draw(noisy, text_column(frame, query.column, source), rng)
        half = noisy.accuracy(_ALPHA)
        return [
            _value(str(query), label, count, noisy, half)
            for label, count in zip((*cats, OTHER_CATEGORY), counts, strict=True)
        ]
    bounds = spec.bounds[query.column]
    data = numeric_column(frame, query.column, source)
    if query.kind == "sum":
        return [_plain(str(query), _opendp.total(bounds, epsilon), data, rng)]
    if query.kind == "quantile":
        assert query.alpha is not None  # noqa: S101
        return [_plain(str(query), _opendp.quantile(bounds, query.alpha, epsilon), data, rng)]
    if spec.size is not None:
        return [_plain(str(query), _opendp.sized_mean(bounds, spec.size, epsilon), data, rng)]
    return [_ratio_mean(str(query), bounds, epsilon, data, rng)]


def _plain(query: str, noisy: Noisy, data: Any, rng: np.random.Generator | None) -> ReleasedValue:
    return _value(query, None, draw(noisy, data, rng), noisy, noisy.accuracy(_ALPHA))


def _value(query: str, label: str | None, value: Any, noisy: Noisy, half: float | None) -> ReleasedValue:
    low, high = (None, None) if half is None else (float(value) - half, float(value) + half)
    return ReleasedValue(query, label, float(value), noisy.epsilon, noisy.mechanism, noisy.scale, low, high)


def _ratio_mean(
    query: str, bounds: Bounds, epsilon: float, data: Sequence[float], rng: np.random.Generator | None
) -> ReleasedValue:
    """Mean with an unknown row count: a noisy clamped sum over a noisy count, ε split in half.

    Post-processing only: the ratio is clamped to the bounds, and its interval combines the two
    97.5% noise intervals (a union bound, so it covers at least 95%).
    """
    sum_m, count_m = _opendp.total(bounds, epsilon / 2), _opendp.count_rows(epsilon / 2)
    noisy_sum, noisy_count = float(draw(sum_m, data, rng)), float(draw(count_m, data, rng))
    a_sum, a_count = sum_m.accuracy(_ALPHA / 2) or 0.0, count_m.accuracy(_ALPHA / 2) or 0.0

    def clamp(x: float) -> float:
        return min(max(x, bounds.low), bounds.high)

    value = clamp(noisy_sum / max(noisy_count, 1.0))
    low = clamp((noisy_sum - a_sum) / (noisy_count + a_count)) if noisy_count + a_count > 0 else bounds.low
    high = clamp((noisy_sum + a_sum) / (noisy_count - a_count)) if noisy_count - a_count > 0 else bounds.high
    mechanism = f"{sum_m.mechanism} sum / {count_m.mechanism} count"
    return ReleasedValue(query, None, value, sum_m.epsilon + count_m.epsilon, mechanism, sum_m.scale, low, high)
