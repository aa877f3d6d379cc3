"""OpenDP measurements for each query, with what a seeded release needs to redraw their noise.

OpenDP 0.16 keeps every constructor used here behind its ``contrib`` feature (proofs written but
not yet vetted), so :func:`opendp` turns it on. The ``floating-point`` feature is *not* needed:
OpenDP's float sums account for rounding in their sensitivity (a sum clamped to ``[0, 100]`` has
sensitivity 100.0000009) and its float Laplace samples on a discrete grid.

Each query becomes one or two :class:`Noisy` values: an OpenDP measurement whose noise scale is
found by OpenDP's own ``binary_search_param`` against its privacy map (so the ε we charge is the
ε OpenDP proves), plus the deterministic transformation in front of the noise.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ethos._util.deps import require
from ethos.pii.dp._spec import Bounds

__all__ = [
    "NoiseKind",
    "Noisy",
    "count_rows",
    "histogram",
    "opendp",
    "opendp_version",
    "quantile",
    "quantile_candidates",
    "sized_mean",
    "total",
]

NoiseKind = Literal["discrete_laplace", "laplace", "exponential_min"]
"""``discrete_laplace`` on integers, ``laplace`` on floats, ``exponential_min``: report-noisy-min
with exponential noise on OpenDP's quantile scores (the exponential mechanism, as permute-and-flip)."""

MECHANISM_NAMES: dict[NoiseKind, str] = {
    "discrete_laplace": "discrete Laplace",
    "laplace": "Laplace",
    "exponential_min": "exponential (report noisy min)",
}

_QUANTILE_STEPS = 1000


def opendp() -> Any:
    """``opendp.prelude`` with the ``contrib`` feature on (or a MissingDependencyError)."""
    dp: Any = require("opendp.prelude", extra="tabular", purpose="differential-privacy releases")
    dp.enable_features("contrib")
    return dp


def opendp_version() -> str:
    """The installed OpenDP version."""
    return importlib.metadata.version("opendp")


@dataclass(frozen=True, slots=True)
class Noisy:
    """One noisy quantity.

    Attributes:
        measurement: The OpenDP measurement (what a release uses by default, with OpenDP's CSPRNG).
        transformation: Its deterministic part, before the noise (for seeded releases).
        noise: Which noise the measurement adds.
        scale: The noise scale OpenDP's privacy map needs for ``epsilon``.
        epsilon: OpenDP's privacy map at one added or removed row (≤ the ε asked for).
        candidates: The values a quantile selects from (``exponential_min`` only).
    """

    measurement: Any
    transformation: Any
    noise: NoiseKind
    scale: float
    epsilon: float
    candidates: tuple[float, ...] = ()

    @property
    def mechanism(self) -> str:
        """The mechanism's name for people."""
        return MECHANISM_NAMES[self.noise]

    def accuracy(self, alpha: float = 0.05) -> float | None:
        """Half-width of the ``1 - alpha`` noise interval (OpenDP's accuracy), when defined."""
        dp = opendp()
        if self.noise == "discrete_laplace":
            return float(dp.discrete_laplacian_scale_to_accuracy(self.scale, alpha))
        if self.noise == "laplace":
            return float(dp.laplacian_scale_to_accuracy(self.scale, alpha))
        return None


def _search(build: Callable[[float], Any], epsilon: float) -> tuple[Any, float, float]:
    dp = opendp()
    scale = float(dp.binary_search_param(build, d_in=1, d_out=epsilon))
    measurement = build(scale)
    return measurement, scale, float(measurement.map(1))


def _float_space(dp: Any) -> tuple[Any, Any]:
    return dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()


def count_rows(epsilon: float) -> Noisy:
    """Row count of a float vector, with discrete Laplace noise."""
    dp = opendp()
    trans = _float_space(dp) >> dp.t.then_count()
    meas, scale, eps = _search(lambda s: trans >> dp.m.then_laplace(scale=s), epsilon)
    return Noisy(meas, trans, "discrete_laplace", scale, eps)


def total(bounds: Bounds, epsilon: float) -> Noisy:
    """Clamped sum of a float vector of unknown length, with Laplace noise."""
    dp = opendp()
    trans = _float_space(dp) >> dp.t.then_clamp((bounds.low, bounds.high)) >> dp.t.then_sum()
    meas, scale, eps = _search(lambda s: trans >> dp.m.then_laplace(scale=s), epsilon)
    return Noisy(meas, trans, "laplace", scale, eps)


def sized_mean(bounds: Bounds, size: int, epsilon: float) -> Noisy:
    """Clamped mean with a public row count: OpenDP resizes to ``size`` (imputing the midpoint) first."""
    dp = opendp()
    middle = (bounds.low + bounds.high) / 2
    trans = (
        _float_space(dp)
        >> dp.t.then_clamp((bounds.low, bounds.high))
        >> dp.t.then_resize(size=size, constant=middle)
        >> dp.t.then_mean()
    )
    meas, scale, eps = _search(lambda s: trans >> dp.m.then_laplace(scale=s), epsilon)
    return Noisy(meas, trans, "laplace", scale, eps)


def histogram(categories: Sequence[str], epsilon: float) -> Noisy:
    """Counts of the declared categories plus one count for every other value, with discrete Laplace noise."""
    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()
    trans = space >> dp.t.then_count_by_categories(categories=list(categories), null_category=True)
    meas, scale, eps = _search(lambda s: trans >> dp.m.then_laplace(scale=s), epsilon)
    return Noisy(meas, trans, "discrete_laplace", scale, eps)


def quantile_candidates(bounds: Bounds) -> tuple[float, ...]:
    """The values a quantile release chooses from, derived from the bounds only (never the data).

    Whole-number bounds at most 1,000 apart give every whole number between them; otherwise
    1,001 evenly spaced values, so the resolution is (HIGH − LOW) / 1000.
    """
    if bounds.integral and bounds.high - bounds.low <= _QUANTILE_STEPS:
        return tuple(float(v) for v in range(int(bounds.low), int(bounds.high) + 1))
    step = (bounds.high - bounds.low) / _QUANTILE_STEPS
    return tuple(bounds.low + i * step for i in range(_QUANTILE_STEPS)) + (bounds.high,)


def quantile(bounds: Bounds, alpha: float, epsilon: float) -> Noisy:
    """The ``alpha``-quantile, chosen among :func:`quantile_candidates`.

    This is OpenDP's ``make_private_quantile`` spelled out: OpenDP's integer quantile scores of the
    clamped data, then its report-noisy-min with exponential noise. The spelled-out chain lets a
    seeded release redraw the same noise; its scale is on OpenDP's integer scores (for α = 0.5 it
    is twice ``make_private_quantile``'s scale, which multiplies by the same factor inside, so the
    mechanism and its ε are identical).
    """
    dp = opendp()
    candidates = quantile_candidates(bounds)
    clamped = _float_space(dp) >> dp.t.then_clamp((bounds.low, bounds.high))
    scores = clamped >> dp.t.then_quantile_score_candidates(list(candidates), alpha)
    meas, scale, eps = _search(
        lambda s: scores >> dp.m.then_noisy_max(dp.max_divergence(), scale=s, negate=True), epsilon
    )
    return Noisy(meas, scores, "exponential_min", scale, eps, candidates)
