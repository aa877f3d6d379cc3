"""What is done to each chunk (scan, redact, restore), in this process or in worker processes.

A *job* is a small picklable description; ``job.start()`` builds the :class:`Worker` that does
the work (loading the analyzer once). With ``workers > 1`` each process of a
``ProcessPoolExecutor`` builds its own worker once, in its initializer, and chunks are sent to
it as lists of strings.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from ethos.errors import ConfigError, DataError, EthosError
from ethos.pii.anonymize import Anonymizer, OperatorConfig, PiiKey, TokenCipher
from ethos.pii.detect import Analyzer, AnalyzerConfig
from ethos.types import Explanation, Span

__all__ = ["Batch", "Executor", "Outcome", "RedactJob", "RestoreJob", "ScanJob", "Worker"]


@dataclass(slots=True)
class Batch:
    """The slot texts of a chunk's records, and for each slot the entity it wholly is (or ``None``: scan it)."""

    texts: list[list[str]]
    whole: list[list[str | None]] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result for one record: its new slot texts (``None`` when unchanged or only scanned) and spans.

    ``error`` says why the record could not be done (the caller names the file and line).
    """

    texts: list[str] | None
    spans: list[list[Span]]
    error: str | None = None


class Worker(Protocol):
    """Does a job's work on batches of texts."""

    def notes(self, _: object = None) -> tuple[str, ...]:
        """Remarks about what the worker can and cannot do (e.g. no NER pipeline)."""
        ...

    def scan(self, texts: list[str]) -> list[list[Span]]:
        """Findings per text."""
        ...

    def run(self, batch: Batch) -> list[Outcome]:
        """The outcome for each record of the batch."""
        ...


class _AnalyzerWorker:
    def __init__(self, config: AnalyzerConfig) -> None:
        self.analyzer = Analyzer(config).load()

    def notes(self, _: object = None) -> tuple[str, ...]:
        return tuple(self.analyzer.notes)

    def scan(self, texts: list[str]) -> list[list[Span]]:
        return self.analyzer.scan(texts)

    def run(self, batch: Batch) -> list[Outcome]:
        whole = batch.whole or [[None] * len(rec) for rec in batch.texts]
        wanted, allow = self.analyzer.config.entities, frozenset(self.analyzer.config.allow_list)
        if wanted is not None or allow:  # a header's entity follows --entities and --allow like a finding
            whole = [
                [w if w is None or ((wanted is None or w in wanted) and t.strip() not in allow) else None
                 for t, w in zip(rec, ws, strict=True)]
                for rec, ws in zip(batch.texts, whole, strict=True)
            ]
        pairs = list(zip(batch.texts, whole, strict=True))
        found = iter(self.scan([t for rec, ws in pairs for t, w in zip(rec, ws, strict=True) if w is None]))
        return [
            Outcome(None, [next(found) if w is None else _whole(t, w) for t, w in zip(rec, ws, strict=True)])
            for rec, ws in pairs
        ]


class _RedactWorker(_AnalyzerWorker):
    def __init__(self, job: RedactJob) -> None:
        self.engine = Anonymizer(job.operators, key=job.key)  # validate operators before loading models
        super().__init__(job.analyzer)

    def run(self, batch: Batch) -> list[Outcome]:
        found = super().run(batch)
        out = []
        for rec, outcome in zip(batch.texts, found, strict=True):
            if any(outcome.spans):
                new = [r.text for r in self.engine.rewrite_record(rec, outcome.spans)]
                out.append(Outcome(new, outcome.spans))
            else:
                out.append(outcome)
        return out


class _RestoreWorker:
    def __init__(self, key: PiiKey) -> None:
        self.cipher = TokenCipher(key)

    def notes(self, _: object = None) -> tuple[str, ...]:
        return ()

    def scan(self, texts: list[str]) -> list[list[Span]]:
        return [[] for _ in texts]

    def run(self, batch: Batch) -> list[Outcome]:
        out = []
        for rec in batch.texts:
            try:
                new = [self.cipher.restore(t) for t in rec]
            except DataError as exc:  # the message names no value; the line is added where it is known
                out.append(Outcome(None, [[] for _ in rec], str(exc)))
                continue
            out.append(Outcome(new if new != rec else None, [[] for _ in rec]))
        return out


_HEADER = Explanation(recognizer="column_header", note="the column's header names this entity type")


def _whole(text: str, entity: str) -> list[Span]:
    """The whole value (without surrounding spaces) as one span, or none when it is blank."""
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    return [Span(start, end, entity, 1.0, _HEADER)] if end > start else []


@dataclass(frozen=True)
class ScanJob:
    """Find PII; change nothing."""

    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)

    def start(self) -> Worker:
        """Load the analyzer."""
        return _AnalyzerWorker(self.analyzer)


@dataclass(frozen=True)
class RedactJob:
    """Find PII and replace it with the operators (``{ENTITY or "DEFAULT": OperatorConfig}``)."""

    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    operators: Mapping[str, OperatorConfig] = field(default_factory=dict)
    key: PiiKey | None = None

    def start(self) -> Worker:
        """Build the operators (refusing bad ones), then load the analyzer."""
        return _RedactWorker(self)


@dataclass(frozen=True)
class RestoreJob:
    """Decrypt ``encrypt`` tokens with the key."""

    key: PiiKey

    def start(self) -> Worker:
        """Prepare the cipher."""
        return _RestoreWorker(self.key)


Job = ScanJob | RedactJob | RestoreJob

_WORKER: Worker | None = None  # one per worker process, set by its initializer
_START_ERROR: EthosError | None = None


def _portable(exc: EthosError) -> EthosError:
    """An equivalent error that survives pickling (subclasses with extra constructor arguments do not)."""
    if type(exc) in (EthosError, ConfigError, DataError):
        return exc
    return ConfigError(str(exc)) if isinstance(exc, ConfigError) else EthosError(str(exc))


def _init_worker(job: Job) -> None:
    global _WORKER, _START_ERROR
    try:
        _WORKER = job.start()
    except EthosError as exc:  # re-raised on the first call, in the parent, as one line
        _START_ERROR = _portable(exc)


def _call(method: str, arg: Any) -> Any:
    if _START_ERROR is not None:
        raise _START_ERROR
    try:
        return getattr(_WORKER, method)(arg)
    except EthosError as exc:
        raise _portable(exc) from None


class Executor:
    """Runs a job's worker here (``workers <= 1``) or in a pool of processes, one worker each.

    Args:
        job: What to do.
        workers: Worker processes; 1 works in this process.
    """

    def __init__(self, job: Job, workers: int = 1) -> None:
        """Start the worker (or the pool: each process loads its own worker once)."""
        self.workers = max(1, workers)
        self._local: Worker | None = None
        self._pool: ProcessPoolExecutor | None = None
        if self.workers == 1:
            self._local = job.start()
        else:
            ctx = multiprocessing.get_context("spawn")  # fork would copy locks held by threads (progress bars)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker, initargs=(job,))

    def submit(self, method: str, arg: Any) -> Future[Any]:
        """Call ``worker.method(arg)``; the result comes through the future."""
        if self._pool is not None:
            return self._pool.submit(_call, method, arg)
        fut: Future[Any] = Future()
        try:
            fut.set_result(getattr(self._local, method)(arg))
        except Exception as exc:  # delivered through the future, like the pool does
            fut.set_exception(exc)
        return fut

    def close(self) -> None:
        """Stop the pool (pending chunks are cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
