"""Energy of an audit, measured with CodeCarbon's offline tracker (optional extra ``ethos[energy]``).

:class:`EnergyMeter` wraps ``codecarbon.OfflineEmissionsTracker`` so that it behaves on a CI box:

- **offline**: the offline tracker never looks up the location over the network; the grid carbon
  intensity comes from the country given (CodeCarbon's Our World in Data table) or, when none is,
  the world average of 475 gCO2e/kWh (IEA 2019), forced explicitly and said so in the notes;
- **no stray files**: ``output_methods=[]`` (no ``emissions.csv``), ``allow_multiple_runs=True``
  (no ``$TMPDIR/.codecarbon.lock``, and no SIGINT handler replacing Ctrl-C's ``KeyboardInterrupt``);
- **quiet**: CodeCarbon's logger prints nothing while we measure; its errors become notes;
- **honest**: the record says how CPU, RAM and GPU power were obtained (RAPL counters, CPU-load
  estimate, constant TDP, 5 W per DIMM slot) — see :class:`ethos.records.Energy`.

CodeCarbon probes the hardware once per process (about 2 s here); later meters reuse the probe.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ethos._util.deps import require
from ethos.errors import ConfigError
from ethos.records import MEASURED_METHODS, Energy

if TYPE_CHECKING:
    from ethos.config import Settings

__all__ = ["WORLD_INTENSITY", "EnergyMeter", "EnergyOptions", "energy_available"]

WORLD_INTENSITY = 475.0
"""gCO2e/kWh applied when no country or intensity is set: CodeCarbon's world average (IEA 2019)."""

_MEASURE_SECS = 15.0  # CodeCarbon's default interval between power readings
_CPU_METHODS = {
    "intel_rapl": "rapl",
    "cpu_load": "cpu-load",
    "constant": "tdp",
    "intel_power_gadget": "power-gadget",
    "windows_emi": "windows-emi",
}
_GPU_METHODS = {"NvidiaGPUDevice": "nvml", "AMDGPUDevice": "amdsmi"}


def energy_available() -> bool:
    """Whether CodeCarbon is installed (without importing it: it pulls in pandas)."""
    return importlib.util.find_spec("codecarbon") is not None


@dataclass(frozen=True, slots=True)
class EnergyOptions:
    """How to measure energy and turn it into CO2e.

    Attributes:
        country: ISO 3166-1 alpha-3 code whose grid intensity applies; ``None``: world average.
        intensity: gCO2e/kWh to apply instead of the country's.
        cpu_watts: The CPU's power, instead of RAPL or CodeCarbon's TDP table.
        ram_watts: The RAM's power, instead of 5 W per assumed DIMM slot.
    """

    country: str | None = None
    intensity: float | None = None
    cpu_watts: float | None = None
    ram_watts: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EnergyOptions:
        """Take the ``energy_*`` settings."""
        return cls(
            country=settings.energy_country,
            intensity=settings.energy_intensity,
            cpu_watts=settings.energy_cpu_watts,
            ram_watts=settings.energy_ram_watts,
        )


class _Collect(logging.Handler):
    """Keeps CodeCarbon's error messages (for the record's notes) instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:300])


class EnergyMeter:
    """Measures one stretch of work: :meth:`start`, do the work, :meth:`stop` → :class:`Energy`.

    Args:
        options: Country, intensity and power overrides.

    Raises:
        MissingDependencyError: CodeCarbon is not installed (``pip install 'ethos[energy]'``).
        ConfigError: The country is not in CodeCarbon's table.
    """

    def __init__(self, options: EnergyOptions | None = None) -> None:
        """Check CodeCarbon and the country now, so a bad setting fails before any work."""
        self.options = options or EnergyOptions()
        self._codecarbon = require("codecarbon", extra="energy", purpose="energy measurement")
        self._intensity = self._grid_intensity()
        self._tracker: Any = None
        self._collect = _Collect()
        self._saved: tuple[list[logging.Handler], int] | None = None
        self.problem: str | None = None
        """Why the last start or stop measured nothing, when it did not."""

    def _grid_intensity(self) -> float | None:
        opts = self.options
        if opts.intensity is not None:
            return opts.intensity
        if opts.country is None:
            return WORLD_INTENSITY
        source: Any = importlib.import_module("codecarbon.input").DataSource()
        mix = source.get_global_energy_mix_data()
        if opts.country not in mix:
            raise ConfigError(
                f"energy_country {opts.country!r} is not in CodeCarbon's carbon-intensity table; use an "
                "ISO 3166-1 alpha-3 code such as DEU, FRA or USA, or set energy_intensity (gCO2e/kWh)"
            )
        known = mix[opts.country].get("carbon_intensity")
        return float(known) if known is not None else None  # CodeCarbon then derives it from the mix

    def start(self) -> None:
        """Start measuring (the first meter of a process probes the hardware, about 2 s).

        A tracker that fails to start leaves :attr:`problem` set and :meth:`stop` returning ``None``.
        """
        opts = self.options
        self._quiet()
        kwargs: dict[str, Any] = {
            "output_methods": [],
            "allow_multiple_runs": True,
            "log_level": "error",
            "measure_power_secs": _MEASURE_SECS,
            "tracking_mode": "machine",
            "force_cpu_power": opts.cpu_watts,
            "force_ram_power": opts.ram_watts,
        }
        if opts.country is not None and opts.intensity is None:
            kwargs["country_iso_code"] = opts.country
        else:
            kwargs["force_carbon_intensity_g_co2e_kwh"] = self._intensity
        try:
            self._tracker = self._codecarbon.OfflineEmissionsTracker(**kwargs)
            self._quiet()  # the tracker's constructor puts its own stderr handler back
            self._tracker.start()
        except Exception as exc:  # a tracker that cannot start must not stop the audit
            self.problem = f"CodeCarbon could not start: {type(exc).__name__}: {exc}"
            self._tracker = None
            self._restore()

    def stop(self) -> Energy | None:
        """Stop measuring and return the energy; ``None`` when not started, or see :attr:`problem`."""
        tracker, self._tracker = self._tracker, None
        if tracker is None:
            return None
        try:
            tracker.stop()
            return self._energy(tracker, tracker.final_emissions_data)
        except Exception as exc:  # measuring must never turn a finished audit into a failed one
            self.problem = f"CodeCarbon could not measure: {type(exc).__name__}: {exc}"
            return None
        finally:
            self._restore()

    # -- CodeCarbon's logger -----------------------------------------------------------------

    def _quiet(self) -> None:
        log = logging.getLogger("codecarbon")
        if self._saved is None:
            self._saved = (list(log.handlers), log.level)
        log.handlers = [self._collect]
        log.setLevel(logging.ERROR)

    def _restore(self) -> None:
        if self._saved is not None:
            log = logging.getLogger("codecarbon")
            log.handlers, level = self._saved
            log.setLevel(level)
            self._saved = None

    # -- the record ----------------------------------------------------------------------------

    def _energy(self, tracker: Any, data: Any) -> Energy:
        cpu_method, ram_method, gpu_method, tdp = _methods(tracker, self.options)
        kwh = float(data.energy_consumed)
        method = cpu_method if cpu_method in MEASURED_METHODS else "estimate"
        return Energy(
            kwh=kwh,
            co2_g=float(data.emissions) * 1000.0,
            method=method,
            duration_s=float(data.duration),
            cpu_kwh=float(data.cpu_energy),
            ram_kwh=float(data.ram_energy),
            gpu_kwh=float(data.gpu_energy) if gpu_method else None,
            cpu_method=cpu_method,
            ram_method=ram_method,
            gpu_method=gpu_method,
            cpu_model=str(data.cpu_model) or None,
            gpu_model=str(data.gpu_model) or None,
            country_iso_code=self.options.country if self.options.intensity is None else None,
            carbon_intensity=self._intensity if self._intensity is not None else _ratio(data.emissions * 1000.0, kwh),
            tracking_mode=str(data.tracking_mode),
            tracker=f"codecarbon {data.codecarbon_version}",
            notes=self._notes(cpu_method, ram_method, tdp),
        )

    def _notes(self, cpu_method: str | None, ram_method: str | None, tdp: float | None) -> tuple[str, ...]:
        notes = []
        if cpu_method == "cpu-load":
            at = f" {tdp:g} W" if tdp else ""
            why = "" if self.options.cpu_watts else ": RAPL counters were absent or not readable (root-only by default)"
            notes.append(f"CPU power estimated as TDP{at} x (0.1 + 0.9 x load^3){why}")
        elif cpu_method == "tdp":
            notes.append(f"CPU power taken as a constant TDP{f' of {tdp:g} W' if tdp else ''}, whatever the load")
        if self.options.cpu_watts is not None:
            notes.append(f"CPU power set by the user: {self.options.cpu_watts:g} W")
        if ram_method == "dimm-estimate":
            notes.append("RAM power estimated at 5 W per assumed DIMM slot; set energy_ram_watts when known")
        notes.append("machine-level: other processes running at the same time are included")
        if self.options.intensity is None and self.options.country is None:
            notes.append(f"world-average grid intensity {WORLD_INTENSITY:g} gCO2e/kWh; set energy_country")
        notes.extend(f"CodeCarbon: {m}" for m in dict.fromkeys(self._collect.messages))
        return tuple(notes)


def _methods(tracker: Any, options: EnergyOptions) -> tuple[str | None, str | None, str | None, float | None]:
    """CPU, RAM and GPU methods and the CPU's TDP, read from the tracker's hardware objects."""
    cpu = ram = gpu = None
    tdp: float | None = None
    for part in getattr(tracker, "_hardware", []):
        kind = type(part).__name__
        if kind == "CPU":
            mode = str(getattr(part, "_mode", ""))
            cpu = _CPU_METHODS.get(mode, mode or None)
            raw = getattr(part, "_tdp", None)
            tdp = float(raw) if isinstance(raw, int | float) else None
        elif kind == "RAM":
            ram = "fixed" if options.ram_watts is not None else "dimm-estimate"
        elif kind == "AppleSiliconChip":
            cpu = "powermetrics"
        elif kind == "Raspberry":
            cpu = ram = "raspberry-pmic"
        elif kind == "GPU":
            devices = getattr(getattr(part, "devices", None), "devices", [])
            names = {_GPU_METHODS.get(type(d).__name__, "gpu") for d in devices}
            gpu = "+".join(sorted(names)) or "gpu"
    return cpu, ram, gpu, tdp


def _ratio(grams: float, kwh: float) -> float | None:
    return float(grams) / kwh if kwh > 0 else None
