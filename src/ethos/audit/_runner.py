"""The audit runner: one benchmark on one model, recorded as a resumable run.

The runner owns everything a benchmark should not: choosing the variant from the model's
capabilities (before any data is read), fetching and verifying data, the run record, scoring in
chunks with a checkpoint after each, resuming, hooks, and turning failures into run statuses::

    options = RunOptions.from_settings(settings, limit=200)
    with RunStore.open(settings.db_path) as store:
        record = Runner(store, options, hooks=[MyHooks()]).run(benchmark, model)
        again = Runner(store, options).run(benchmark, model, resume=interrupted_id)

How a run ends:

- ``finished``: every sample is stored and the metrics are computed from the stored results.
- ``interrupted`` (resumable): Ctrl-C (:class:`KeyboardInterrupt`, re-raised) or a model server
  that went away or kept failing (:class:`~ethos.errors.ServerUnreachableError`,
  :class:`~ethos.errors.ServerResponseError`, re-raised). The samples scored so far are kept.
- ``failed`` (final): any other error, re-raised. A chunk whose scoring raises
  :class:`~ethos.errors.DataError` is scored again sample by sample, and a sample that still
  raises is stored with its error instead of stopping the run. When every sample of the first
  chunk fails, or every sample of the run, the run is ``failed``: the problem is not the samples.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethos.audit._benchmark import Benchmark, Variant
from ethos.audit._energy import EnergyMeter, EnergyOptions, energy_available
from ethos.audit._resume import ResumeInfo, resume_info
from ethos.data import DownloadProgress, resolve_files
from ethos.errors import DataError, EthosError, ServerResponseError, ServerUnreachableError
from ethos.hooks import Hooks, RunFinished, RunStarted, SampleScored, emit
from ethos.records import (
    BenchmarkInfo,
    DataFile,
    ModelInfo,
    RunRecord,
    RunStatus,
    RunStore,
    SampleResult,
    Timings,
    combine_energy,
)
from ethos.types import MetricValue, Sample, Score

if TYPE_CHECKING:
    from ethos.config import Settings
    from ethos.models import ModelClient

__all__ = ["SAMPLE_ERRORS_METRIC", "RunOptions", "Runner", "run_benchmark"]

SAMPLE_ERRORS_METRIC = "sample_errors"
"""Metric added to a run in which some samples could not be scored: how many (``n``: all samples)."""

_RESUMABLE = (KeyboardInterrupt, ServerUnreachableError, ServerResponseError)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a benchmark (not *what*: the benchmark and its params say that).

    Attributes:
        cache_dir: Where downloaded data is cached (``Settings.cache_dir``).
        data_dir: A local copy of the data to use instead of downloading.
        offline: Never download; data must be in ``data_dir`` or the cache.
        seed: Seed for sample selection (``limit``) and bootstrap intervals.
        limit: Score at most this many samples (the benchmark picks a seeded, stratified subset).
        variant: Run this variant instead of the first one the model can do.
        chunk_size: Samples per checkpoint, instead of the benchmark's ``chunk_size``.
        batch_size: The model's batch size, recorded in the run's settings.
        tags: Labels stored with the run.
        energy: Measure the run's energy with CodeCarbon (``None``: do not measure).
    """

    cache_dir: Path
    data_dir: Path | None = None
    offline: bool = False
    seed: int = 1234
    limit: int | None = None
    variant: str | None = None
    chunk_size: int | None = None
    batch_size: int | None = None
    tags: tuple[str, ...] = ()
    energy: EnergyOptions | None = None

    def __post_init__(self) -> None:
        """Reject sizes that cannot work."""
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1, not {self.limit}")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {self.chunk_size}")

    @classmethod
    def from_settings(cls, settings: Settings, **fields: Any) -> RunOptions:
        """Take ``cache_dir``, ``data_dir``, ``offline``, ``seed``, ``batch_size`` and energy from settings.

        Energy is measured when ``settings.energy`` is on and CodeCarbon is installed.

        Args:
            settings: The resolved settings.
            **fields: Other :class:`RunOptions` fields (``limit``, ``variant``, ``chunk_size``, ``tags``).
        """
        base: dict[str, Any] = {
            "cache_dir": settings.cache_dir,
            "data_dir": settings.data_dir,
            "offline": settings.offline,
            "seed": settings.seed,
            "batch_size": settings.batch_size,
            "energy": EnergyOptions.from_settings(settings) if settings.energy and energy_available() else None,
        }
        return cls(**{**base, **fields})


@dataclass(slots=True)
class _Session:
    """The state of one call to :meth:`Runner.run`."""

    bench: Benchmark
    variant: Variant
    record: RunRecord
    samples: list[Sample]
    seed: int
    chunk_size: int
    started: float
    stages: dict[str, float]
    meter: EnergyMeter | None = None
    scored_any: bool = False


class Runner:
    """Runs benchmarks on models into a :class:`~ethos.records.RunStore`.

    Args:
        store: Where runs are recorded.
        options: Data location, seed, limit, variant and chunking.
        hooks: Lifecycle subscribers (progress displays, trackers); they never break a run.
        download_progress: Called as data files download, ``(name, done, total)``.
    """

    def __init__(
        self,
        store: RunStore,
        options: RunOptions,
        *,
        hooks: Sequence[Hooks] = (),
        download_progress: DownloadProgress | None = None,
    ) -> None:
        """Store what it is given; nothing runs yet."""
        self.store = store
        self.options = options
        self.hooks = tuple(hooks)
        self.download_progress = download_progress
        self.energy_problem: str | None = None
        """Why the last run's energy could not be measured, when energy was on and it could not."""

    def run(self, bench: Benchmark, model: ModelClient, *, resume: str | None = None) -> RunRecord:
        """Run ``bench`` on ``model`` to the end and return the finished record.

        Args:
            bench: The benchmark, with its parameters.
            model: The loaded model.
            resume: The id (or unique prefix) of an interrupted run of this benchmark and model to
                complete; its variant, limit, seed and chunking are used, not the options'.

        Raises:
            CapabilityError: The model cannot run the benchmark (raised before any data is read).
            ConfigError: ``resume`` names a run of another benchmark, params or model.
            StoreError: ``resume`` names no run, or a finished or failed one.
            DataError: The data is missing, altered or changed since the resumed run started.
            KeyboardInterrupt: Re-raised after the run is recorded as ``interrupted``.
        """
        prior = resume_info(self.store, resume) if resume is not None else None
        if prior is not None:
            prior.check(bench, model)
        prefer = prior.variant if prior is not None else self.options.variant
        variant = bench.choose_variant(model.capabilities, model=model.ref.spec, prefer=prefer)
        meter = EnergyMeter(self.options.energy) if self.options.energy is not None else None
        if meter is not None:
            meter.start()
        try:
            session = self._open(bench, variant, model, prior)
        except BaseException:
            if meter is not None:
                meter.stop()
            raise
        session.meter = meter
        self._score_all(session, model)
        return self._finish(session)

    # -- stages ------------------------------------------------------------------------------

    def _open(self, bench: Benchmark, variant: Variant, model: ModelClient, prior: ResumeInfo | None) -> _Session:
        started = time.perf_counter()
        seed = prior.seed if prior is not None else self.options.seed
        limit = prior.limit if prior is not None else self.options.limit
        chunk = (prior.chunk_size if prior is not None else self.options.chunk_size) or bench.chunk_size
        files = bench.data_files()
        root = resolve_files(
            files,
            data_dir=self.options.data_dir,
            cache_dir=self.options.cache_dir,
            offline=self.options.offline,
            progress=self.download_progress,
        )
        samples = bench.load(root, limit=limit, seed=seed)
        if not samples:
            raise DataError(f"benchmark {bench.name!r} loaded no samples from {root}; check the data and --limit")
        data = tuple(DataFile(source=f.url, sha256=f.sha256, size=(root / f.name).stat().st_size) for f in files)
        if prior is None:
            record = RunRecord.start(
                model=ModelInfo.from_ref(model.ref),
                benchmark=BenchmarkInfo(name=bench.name, version=bench.version),
                data=data,
                seeds={"sampling": seed, "bootstrap": seed},
                settings=_settings(bench, variant, limit, chunk, self.options.batch_size),
                tags=self.options.tags,
            )
            self.store.begin(record)
        else:
            record = self.store.get(prior.run_id)
            _check_same_data(record, samples)
        stages = dict(record.timings.stages)
        stages["load"] = stages.get("load", 0.0) + time.perf_counter() - started
        return _Session(bench, variant, record, samples, seed, chunk, started, stages)

    def _score_all(self, session: _Session, model: ModelClient) -> None:
        run_id = session.record.id
        done = self.store.completed_indices(run_id)
        session.scored_any = bool(done)
        emit(
            self.hooks,
            RunStarted(
                run_id=run_id,
                benchmark=session.bench.name,
                model=model.ref.spec,
                total=len(session.samples),
                settings=dict(session.record.settings),
                completed=len(done),
            ),
        )
        scoring = time.perf_counter()
        try:
            total, size = len(session.samples), session.chunk_size
            for start in range(0, total, size):
                pending = [i for i in range(start, min(start + size, total)) if i not in done]
                if pending:
                    self._score_chunk(session, model, pending)
        except BaseException as exc:
            self._add_stage(session, "score", scoring)
            self._end(session, _ended_by(exc), (), error=_describe(exc))
            raise
        self._add_stage(session, "score", scoring)

    def _score_chunk(self, session: _Session, model: ModelClient, indices: list[int]) -> None:
        chunk = [session.samples[i] for i in indices]
        try:
            results = [
                SampleResult.from_score(i, s, score)
                for i, s, score in zip(indices, chunk, _checked(session, model, chunk), strict=True)
            ]
        except DataError:
            results = [self._score_alone(session, model, i) for i in indices]
            if not session.scored_any and all(r.error is not None for r in results):
                raise DataError(
                    f"every sample of the first chunk ({len(results)}) failed, so the run stops; "
                    f"the first error: {results[0].error}"
                ) from None
        session.scored_any = True
        self.store.add_samples(session.record.id, results)
        for result in results:
            score = Score(result.sample_id, result.values, result.detail)
            emit(self.hooks, SampleScored(run_id=session.record.id, index=result.index, score=score))

    def _score_alone(self, session: _Session, model: ModelClient, index: int) -> SampleResult:
        sample = session.samples[index]
        try:
            [score] = _checked(session, model, [sample])
        except DataError as exc:
            return SampleResult.from_score(index, sample, Score(sample.id, {}), error=str(exc))
        return SampleResult.from_score(index, sample, score)

    def _finish(self, session: _Session) -> RunRecord:
        started = time.perf_counter()
        try:
            stored = self.store.get(session.record.id).samples
            ok = [s for s in stored if s.error is None]
            errors = len(stored) - len(ok)
            if stored and not ok:
                raise DataError(f"run {session.record.id}: every sample failed; the first: {stored[0].error}")
            metrics = list(session.bench.metrics(ok, variant=session.variant, seed=session.seed))
            if errors:
                metrics.append(MetricValue(SAMPLE_ERRORS_METRIC, float(errors), n=len(stored)))
        except BaseException as exc:
            self._add_stage(session, "metrics", started)
            self._end(session, _ended_by(exc), (), error=_describe(exc))
            raise
        self._add_stage(session, "metrics", started)
        self._end(session, "finished", metrics)
        return self.store.get(session.record.id)

    def _end(
        self, session: _Session, status: RunStatus, metrics: Sequence[MetricValue], error: str | None = None
    ) -> None:
        seconds = (session.record.timings.seconds or 0.0) + time.perf_counter() - session.started
        timings = Timings(started=session.record.timings.started, seconds=seconds, stages=session.stages)
        measured = session.meter.stop() if session.meter is not None else None
        self.energy_problem = session.meter.problem if session.meter is not None and measured is None else None
        energy = combine_energy(session.record.energy, measured)  # a resumed run adds to what it had
        self.store.finish(session.record.id, status=status, metrics=metrics, timings=timings, energy=energy)
        emit(self.hooks, RunFinished(session.record.id, status, tuple(metrics), seconds, error))

    @staticmethod
    def _add_stage(session: _Session, stage: str, since: float) -> None:
        session.stages[stage] = session.stages.get(stage, 0.0) + time.perf_counter() - since


def run_benchmark(
    bench: Benchmark,
    model: ModelClient,
    store: RunStore,
    options: RunOptions,
    *,
    hooks: Sequence[Hooks] = (),
    resume: str | None = None,
) -> RunRecord:
    """Run one benchmark on one model; the functional form of :meth:`Runner.run`."""
    return Runner(store, options, hooks=hooks).run(bench, model, resume=resume)


def _settings(bench: Benchmark, variant: Variant, limit: int | None, chunk: int, batch: int | None) -> dict[str, Any]:
    return {
        "variant": variant.name,
        "limit": limit,
        "params": bench.params.model_dump(mode="json"),
        "chunk_size": chunk,
        "batch_size": batch,
    }


def _checked(session: _Session, model: ModelClient, chunk: list[Sample]) -> list[Score]:
    """``bench.score`` on a chunk, checked to return one score per sample, in order."""
    scores = session.bench.score(model, chunk, session.variant)
    if len(scores) != len(chunk) or any(sc.sample_id != s.id for sc, s in zip(scores, chunk, strict=False)):
        raise ValueError(
            f"benchmark {session.bench.name!r}: score() must return one Score per sample, in order "
            f"(got {len(scores)} for {len(chunk)} samples, or ids out of order)"
        )
    return scores


def _check_same_data(record: RunRecord, samples: list[Sample]) -> None:
    """Refuse to resume when the samples the run stored are not the samples loaded now."""
    from ethos.records import hash_inputs

    for stored in record.samples:
        same = stored.index < len(samples) and stored.input_hash == hash_inputs(
            samples[stored.index].inputs, samples[stored.index].target
        )
        if not same:
            raise DataError(
                f"run {record.id}: sample {stored.index} ({stored.sample_id}) differs from the data loaded "
                "now, so the run cannot be resumed consistently; start a new run"
            )


def _ended_by(exc: BaseException) -> RunStatus:
    """``interrupted`` (resumable) for Ctrl-C and a server that went away, else ``failed``."""
    return "interrupted" if isinstance(exc, _RESUMABLE) else "failed"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return str(exc) if isinstance(exc, EthosError) else f"{type(exc).__name__}: {exc}"
