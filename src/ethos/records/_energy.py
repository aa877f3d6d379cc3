"""The energy part of a run record: how much a run used, what that emitted, and how it was known.

A number without its method misleads: on a laptop with readable RAPL counters the CPU's energy is
*measured*; in a container or a VM it is *estimated* from CPU load and a TDP table, and RAM is
always estimated (CodeCarbon: 5 W per DIMM slot). So every :class:`Energy` carries the method of
the whole and of each part, the tracker that produced it, and the carbon intensity applied.

All fields but ``kwh`` and ``method`` are optional: records written before they existed still load.
"""

from __future__ import annotations

from pydantic import Field

from ethos.records._base import RecordModel

__all__ = ["MEASURED_METHODS", "Energy", "combine_energy"]

MEASURED_METHODS: frozenset[str] = frozenset({"rapl", "powermetrics", "windows-emi", "power-gadget", "raspberry-pmic"})
"""CPU methods that read hardware energy counters; any other method is an estimate."""


class Energy(RecordModel):
    """Energy a run used and the emissions it implies, with how both were obtained."""

    kwh: float = Field(ge=0)
    """Energy in kilowatt-hours (CPU + RAM + GPU)."""
    co2_g: float | None = Field(default=None, ge=0)
    """Grams of CO₂-equivalent, when a carbon intensity was known."""
    method: str
    """How the total was obtained: ``rapl`` (CPU energy read from RAPL counters; RAM still
    estimated), another counter (``powermetrics``, ``windows-emi`` …), or ``estimate`` (CPU power
    from load and TDP). Older records may hold other words (``tdp-estimate``, ``nvml``)."""
    duration_s: float | None = Field(default=None, ge=0)
    """Seconds measured (all segments of a resumed run together)."""
    cpu_kwh: float | None = Field(default=None, ge=0)
    """The CPU's share of ``kwh``."""
    ram_kwh: float | None = Field(default=None, ge=0)
    """The RAM's share of ``kwh``."""
    gpu_kwh: float | None = Field(default=None, ge=0)
    """The GPUs' share of ``kwh``."""
    cpu_method: str | None = None
    """``rapl``, ``cpu-load`` (TDP × (0.1 + 0.9 × load³)), ``tdp`` (constant TDP), ``powermetrics`` …"""
    ram_method: str | None = None
    """``dimm-estimate`` (5 W per assumed DIMM slot) or ``fixed`` (user watts)."""
    gpu_method: str | None = None
    """``nvml`` or ``amdsmi`` when GPUs were tracked; ``None`` when there were none."""
    cpu_model: str | None = None
    """CPU model as the tracker saw it."""
    gpu_model: str | None = None
    """GPU model(s) as the tracker saw them."""
    country_iso_code: str | None = None
    """ISO 3166-1 alpha-3 country whose grid carbon intensity was applied; ``None``: see ``carbon_intensity``."""
    carbon_intensity: float | None = Field(default=None, ge=0)
    """Grams of CO₂e per kWh applied to get ``co2_g``."""
    tracking_mode: str | None = None
    """``machine`` (the whole machine, other processes included) or ``process``."""
    tracker: str | None = None
    """What measured it, e.g. ``codecarbon 3.3.2``."""
    segments: int = Field(default=1, ge=1)
    """How many measured stretches the numbers add up (more than one after a resume)."""
    notes: tuple[str, ...] = ()
    """What a reader should know about these numbers (estimates, defaults applied)."""

    @property
    def estimated(self) -> bool:
        """Whether the total rests on an estimate rather than hardware counters."""
        return self.method not in MEASURED_METHODS

    def describe(self) -> str:
        """One line for people: ``0.0012 kWh, 0.55 g CO2e in 3.1 s (estimate: CPU cpu-load, RAM dimm-estimate)``."""
        co2 = "" if self.co2_g is None else f", {self.co2_g:.3g} g CO2e"
        took = "" if self.duration_s is None else f" in {self.duration_s:.1f} s"
        parts = [
            f"{name} {how}"
            for name, how in (("CPU", self.cpu_method), ("RAM", self.ram_method), ("GPU", self.gpu_method))
            if how
        ]
        how = self.method + (f": {', '.join(parts)}" if parts else "")
        return f"{self.kwh:.3g} kWh{co2}{took} ({how})"


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _same(a: str | None, b: str | None, *, mixed: str | None = None) -> str | None:
    return a if a == b else mixed


def combine_energy(before: Energy | None, after: Energy | None) -> Energy | None:
    """Energy of a run measured in two segments (before and after a resume): sums, with honest methods.

    Totals add up; a part (CPU, RAM, GPU, CO₂) that one segment lacks is unknown for the whole.
    Methods that differ between segments become ``mixed``, which counts as an estimate.
    """
    if before is None or after is None:
        return after or before
    trackers = [t for t in dict.fromkeys((before.tracker, after.tracker)) if t]
    return Energy(
        kwh=before.kwh + after.kwh,
        co2_g=_add(before.co2_g, after.co2_g),
        method=_same(before.method, after.method, mixed="mixed") or "mixed",
        duration_s=_add(before.duration_s, after.duration_s),
        cpu_kwh=_add(before.cpu_kwh, after.cpu_kwh),
        ram_kwh=_add(before.ram_kwh, after.ram_kwh),
        gpu_kwh=_add(before.gpu_kwh, after.gpu_kwh),
        cpu_method=_same(before.cpu_method, after.cpu_method, mixed="mixed"),
        ram_method=_same(before.ram_method, after.ram_method, mixed="mixed"),
        gpu_method=_same(before.gpu_method, after.gpu_method, mixed="mixed"),
        cpu_model=_same(before.cpu_model, after.cpu_model),
        gpu_model=_same(before.gpu_model, after.gpu_model),
        country_iso_code=_same(before.country_iso_code, after.country_iso_code),
        carbon_intensity=before.carbon_intensity if before.carbon_intensity == after.carbon_intensity else None,
        tracking_mode=_same(before.tracking_mode, after.tracking_mode, mixed="mixed"),
        tracker="; ".join(trackers) or None,
        segments=before.segments + after.segments,
        notes=tuple(dict.fromkeys(before.notes + after.notes)),
    )
