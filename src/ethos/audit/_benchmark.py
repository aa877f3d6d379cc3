"""The ``Benchmark`` contract and its registry.

A benchmark is one module with one class registered by ``@benchmark``. It says which data files
it reads, which *variants* it has (each needs some model capabilities), how to load samples, how
to score a chunk of samples with a model, and how to turn stored per-sample results into
metrics. The runner does everything else: data resolution, chunking, checkpoints, resume,
progress, run records. Metrics are computed only from stored per-sample results, so a resumed
run and a report see the same numbers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ethos.errors import CapabilityError, ConfigError
from ethos.registry import Registry
from ethos.types import MetricValue, Sample, Score

if TYPE_CHECKING:
    from ethos.data import RemoteFile
    from ethos.models import Capabilities, ModelClient
    from ethos.records import SampleResult

__all__ = ["Benchmark", "NoParams", "Variant", "benchmark", "benchmark_registry"]


@dataclass(frozen=True, slots=True)
class Variant:
    """One way to run a benchmark, and the capabilities it needs.

    Attributes:
        name: Stable id recorded in the run, e.g. ``mlm-pll``, ``causal-ll``, ``generate``.
        needs: Capabilities the model must have, e.g. ``("loglikelihood",)``.
        description: What is computed, in words, naming the reference it follows.
    """

    name: str
    needs: tuple[str, ...]
    description: str


class NoParams(BaseModel):
    """Parameters of a benchmark that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Benchmark(ABC):
    """Base class of every benchmark. Subclasses set the class attributes and three methods.

    Class attributes:
        name: Registry name (``stereoset``).
        version: Bump when scoring or data changes; recorded in every run.
        summary: One line for ``ethos audit list``.
        suites: Suites the benchmark belongs to (``("bias",)``).
        variants: In order of preference; the first one the model can run is chosen.
        files: Data files (relative names, URLs, pinned SHA-256).
        headline: Metric names shown first in tables.
        chunk_size: Samples per ``score`` call (one checkpoint each); bigger chunks batch better.
        Params: Pydantic model of the benchmark's parameters (``-P key=value``).
    """

    name: ClassVar[str]
    version: ClassVar[str]
    summary: ClassVar[str]
    suites: ClassVar[tuple[str, ...]] = ()
    variants: ClassVar[tuple[Variant, ...]]
    files: ClassVar[tuple[RemoteFile, ...]] = ()
    headline: ClassVar[tuple[str, ...]] = ()
    chunk_size: ClassVar[int] = 256
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        """Validate ``params`` against :attr:`Params` (errors name the parameter)."""
        try:
            self.params: Any = self.Params(**(params or {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "?"
            raise ConfigError(f"benchmark {self.name!r}, parameter {where!r}: {first['msg']}") from None

    def choose_variant(self, capabilities: Capabilities, *, model: str, prefer: str | None = None) -> Variant:
        """The first variant (or the one named ``prefer``) whose needs the model meets.

        Raises:
            CapabilityError: One line naming what the model lacks and what would work instead.
            ConfigError: When ``prefer`` names no variant of this benchmark.
        """
        candidates = self.variants
        if prefer is not None:
            candidates = tuple(v for v in self.variants if v.name == prefer)
            if not candidates:
                known = ", ".join(v.name for v in self.variants)
                raise ConfigError(f"benchmark {self.name!r} has no variant {prefer!r}; variants: {known}")
        have = set(capabilities.names())
        for variant in candidates:
            if set(variant.needs) <= have:
                return variant
        options = " or ".join("+".join(v.needs) for v in candidates)
        why = f" ({'; '.join(capabilities.notes)})" if capabilities.notes else ""
        raise CapabilityError(f"{self.name} needs {options}, which {model} cannot do{why}")

    def data_files(self) -> tuple[RemoteFile, ...]:
        """The files this instance reads (default: all of :attr:`files`; narrow it by parameters)."""
        return self.files

    @abstractmethod
    def load(self, data_dir: Path, *, limit: int | None, seed: int) -> list[Sample]:
        """Read the samples, in a deterministic order (``limit``: a seeded, stratified subset)."""

    @abstractmethod
    def score(self, model: ModelClient, samples: Sequence[Sample], variant: Variant) -> list[Score]:
        """Score a chunk of samples with the model, one :class:`Score` per sample, in order."""

    @abstractmethod
    def metrics(self, results: Sequence[SampleResult], *, variant: Variant, seed: int) -> list[MetricValue]:
        """Aggregate stored per-sample results into metrics (with bootstrap CIs where meaningful)."""


B = TypeVar("B", bound=type[Benchmark])

benchmark_registry: Registry[type[Benchmark]] = Registry(
    "benchmark",
    builtins=(
        "ethos.audit.suites.bias.stereoset",
        "ethos.audit.suites.bias.crows_pairs",
        "ethos.audit.suites.bias.bbq",
        "ethos.audit.suites.bias.seat",
        "ethos.audit.suites.fairness.counterfactual",
    ),
)


def benchmark(cls: B) -> B:
    """Class decorator: register a :class:`Benchmark` subclass under its ``name``."""
    benchmark_registry.add(cls.name, cls)
    return cls


