"""The run record, schema version 1: one self-describing, immutable account of one run.

A record says what ran (model with weight digest, benchmark with version, data with checksums,
seeds, settings), on what (:class:`Environment`), what came out (per-sample results and metrics
with confidence intervals) and what it cost (timings, energy). Records are stored by
:class:`ethos.records.RunStore` and read back with :meth:`RunRecord.from_json`, which refuses
records written by a newer Ethos instead of misreading them.

Compatibility rule: schema 1 only ever gains *optional* fields; renaming, removing or changing
the meaning of a field means schema 2, and readers of schema 1 refuse it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, JsonValue, ValidationError, model_validator

from ethos import __version__
from ethos._util.hashing import file_sha256
from ethos.errors import DataError, SchemaVersionError
from ethos.records._base import RUN_ID_PATTERN, RecordModel, UtcDatetime, new_run_id, utc_now
from ethos.records._energy import Energy
from ethos.records._environment import Environment
from ethos.types import MetricValue, ModelRef, Sample, Score

__all__ = [
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "BenchmarkInfo",
    "DataFile",
    "Energy",
    "MetricRecord",
    "ModelInfo",
    "RunRecord",
    "RunStatus",
    "SampleResult",
    "Timings",
    "hash_inputs",
]

SCHEMA_VERSION = 1
"""The record schema this Ethos writes and the newest it can read."""

RunStatus = Literal["running", "finished", "failed", "interrupted"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)


class ModelInfo(RecordModel):
    """Which model ran, precisely enough to reproduce the run (the stored twin of ``ModelRef``)."""

    spec: str
    """The spec string the user gave, e.g. ``hf:./tiny-gpt2``."""
    provider: str
    """Provider name, e.g. ``hf``."""
    name: str
    """Provider-specific model name or path."""
    digest: str | None = None
    """``sha256:…`` over the local weight files, or the digest a server reports; ``None`` if unknown."""
    revision: str | None = None
    """Hub revision or server version, when known."""

    @model_validator(mode="before")
    @classmethod
    def _accept_model_ref(cls, value: Any) -> Any:
        return _ref_fields(value) if isinstance(value, ModelRef) else value

    @classmethod
    def from_ref(cls, ref: ModelRef) -> ModelInfo:
        """Convert the shared :class:`~ethos.types.ModelRef`."""
        return cls(**_ref_fields(ref))

    def to_ref(self) -> ModelRef:
        """Convert back to the shared :class:`~ethos.types.ModelRef`."""
        return ModelRef(self.spec, self.provider, self.name, self.digest, self.revision)


def _ref_fields(ref: ModelRef) -> dict[str, Any]:
    return {
        "spec": ref.spec,
        "provider": ref.provider,
        "name": ref.name,
        "digest": ref.digest,
        "revision": ref.revision,
    }


class BenchmarkInfo(RecordModel):
    """Which benchmark ran, and which version of its data, prompts and scoring."""

    name: str
    """Registered benchmark name, e.g. ``stereoset``."""
    version: str
    """Benchmark version; it changes whenever results would not be comparable."""


class DataFile(RecordModel):
    """One data file a run read, with its checksum."""

    source: str
    """Where the file came from: a URL or a local path."""
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """Hex SHA-256 of the file's bytes."""
    size: int | None = Field(default=None, ge=0)
    """Size in bytes, when known."""

    @classmethod
    def from_path(cls, path: Path, source: str | None = None) -> DataFile:
        """Checksum a local file; ``source`` (default: the path) records where it came from."""
        return cls(source=source or str(path), sha256=file_sha256(path), size=path.stat().st_size)


def hash_inputs(inputs: Mapping[str, Any], target: Any = None) -> str:
    """Hex SHA-256 over a sample's inputs and target as canonical JSON (sorted keys).

    A changed prompt, option or gold label changes the hash, so a resumed run or a comparison can
    tell that two results came from different data.
    """
    canonical = json.dumps(
        {"inputs": inputs, "target": target},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class SampleResult(RecordModel):
    """The result of one benchmark sample."""

    index: int = Field(ge=0)
    """Position of the sample in the benchmark's order; unique within a run."""
    sample_id: str
    """The benchmark's stable id for the sample."""
    input_hash: str
    """:func:`hash_inputs` of the sample's inputs and target."""
    values: dict[str, float] = {}
    """Named scores of this sample, e.g. ``{"stereotype": 1.0}``."""
    groups: dict[str, str] = {}
    """Group keys of the sample, e.g. ``{"bias_type": "gender"}``, for disaggregated metrics."""
    detail: dict[str, JsonValue] = {}
    """Free-form JSON detail: the model's output, log-probabilities, matched tokens."""
    error: str | None = None
    """Why the sample could not be scored; ``None`` when it was."""

    @classmethod
    def from_score(cls, index: int, sample: Sample, score: Score, error: str | None = None) -> SampleResult:
        """Build the stored result of ``sample`` from its :class:`~ethos.types.Score`."""
        return cls(
            index=index,
            sample_id=sample.id,
            input_hash=hash_inputs(sample.inputs, sample.target),
            values=dict(score.values),
            groups=dict(sample.groups),
            detail=dict(score.detail),
            error=error,
        )


class MetricRecord(RecordModel):
    """An aggregate number with its uncertainty (the stored twin of ``MetricValue``)."""

    name: str
    """Metric name, e.g. ``ss`` or ``accuracy``."""
    value: float
    """The point estimate (``NaN`` when undefined, e.g. for an empty group)."""
    ci_low: float | None = None
    """Lower bound of the confidence interval, when computed."""
    ci_high: float | None = None
    """Upper bound of the confidence interval, when computed."""
    n: int | None = Field(default=None, ge=0)
    """Number of samples behind the value."""
    group: dict[str, str] = {}
    """``{key: value}`` when the metric is disaggregated; empty for the overall value."""

    @model_validator(mode="before")
    @classmethod
    def _accept_metric_value(cls, value: Any) -> Any:
        return _metric_fields(value) if isinstance(value, MetricValue) else value

    @model_validator(mode="after")
    def _check_interval(self) -> MetricRecord:
        if self.ci_low is not None and self.ci_high is not None and self.ci_low > self.ci_high:
            raise ValueError(f"metric {self.name!r}: ci_low {self.ci_low} is above ci_high {self.ci_high}")
        return self

    @classmethod
    def from_value(cls, value: MetricValue) -> MetricRecord:
        """Convert the shared :class:`~ethos.types.MetricValue`."""
        return cls(**_metric_fields(value))

    def to_value(self) -> MetricValue:
        """Convert back to the shared :class:`~ethos.types.MetricValue`."""
        return MetricValue(self.name, self.value, self.ci_low, self.ci_high, self.n, dict(self.group))


def _metric_fields(value: MetricValue) -> dict[str, Any]:
    return {
        "name": value.name,
        "value": value.value,
        "ci_low": value.ci_low,
        "ci_high": value.ci_high,
        "n": value.n,
        "group": dict(value.group),
    }


class Timings(RecordModel):
    """When a run started and ended, and where the time went."""

    started: UtcDatetime
    """When work began (UTC)."""
    finished: UtcDatetime | None = None
    """When work ended (UTC); ``None`` while running."""
    seconds: float | None = Field(default=None, ge=0)
    """Wall-clock seconds of work (may be less than finished − started after a resume)."""
    stages: dict[str, float] = {}
    """Seconds per stage, e.g. ``{"load": 2.1, "score": 40.3}``."""

    @model_validator(mode="after")
    def _check_order(self) -> Timings:
        if self.finished is not None and self.finished < self.started:
            raise ValueError("timings: finished is before started")
        return self


class RunRecord(RecordModel):
    """One run of one benchmark on one model: everything needed to trust, compare and redo it."""

    schema_version: Literal[1] = 1
    """Version of this schema; readers refuse versions newer than they know."""
    id: str = Field(default_factory=new_run_id, pattern=RUN_ID_PATTERN)
    """Unique, time-sortable id (a 26-character ULID when Ethos makes it)."""
    created_at: UtcDatetime = Field(default_factory=utc_now)
    """When the record was created (UTC)."""
    finished_at: UtcDatetime | None = None
    """When the run ended in any way (UTC); ``None`` while it is running."""
    status: RunStatus = "running"
    """``running``, ``finished``, ``failed`` or ``interrupted`` (resumable)."""
    ethos_version: str = __version__
    """Version of Ethos that made the run."""
    model: ModelInfo
    """The model that ran."""
    benchmark: BenchmarkInfo
    """The benchmark that ran."""
    data: tuple[DataFile, ...] = ()
    """Data files read, with checksums."""
    seeds: dict[str, int] = {}
    """Every seed used, by purpose, e.g. ``{"sampling": 1234, "bootstrap": 0}``."""
    settings: dict[str, JsonValue] = {}
    """Settings that shaped the run (batch size, dtype, prompt template …), as JSON."""
    samples: tuple[SampleResult, ...] = ()
    """Per-sample results, in index order."""
    metrics: tuple[MetricRecord, ...] = ()
    """Aggregate metrics, overall and per group."""
    timings: Timings
    """When the run started and ended, and seconds per stage."""
    environment: Environment
    """Interpreter, platform, hardware, package versions and git revision."""
    energy: Energy | None = None
    """Energy used, when measured or estimated, with the method (see :mod:`ethos.records._energy`)."""
    tags: tuple[str, ...] = ()
    """Free labels for finding runs, e.g. ``("nightly", "pr-123")``."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_newer_schema(cls, value: Any) -> Any:
        # Checked before field validation so that a newer record is reported as newer, not as a
        # pile of confusing field errors.
        if isinstance(value, Mapping):
            _check_version(value.get("schema_version"), value.get("id"))
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> RunRecord:
        if self.status == "running" and self.finished_at is not None:
            raise ValueError("a running run has no finished_at")
        if self.status != "running" and self.finished_at is None:
            raise ValueError(f"a {self.status} run needs finished_at")
        if self.finished_at is not None and self.finished_at < self.created_at:
            raise ValueError("finished_at is before created_at")
        indices = [s.index for s in self.samples]
        if len(set(indices)) != len(indices):
            raise ValueError("sample indices must be unique within a run")
        return self

    @classmethod
    def start(
        cls,
        model: ModelInfo | ModelRef,
        benchmark: BenchmarkInfo,
        **fields: Any,
    ) -> RunRecord:
        """A new running record: fresh id, ``created_at`` and timings now, environment captured.

        Args:
            model: The model that will run.
            benchmark: The benchmark that will run.
            **fields: Any other :class:`RunRecord` field (``data``, ``seeds``, ``settings``, ``tags`` …).
        """
        now = utc_now()
        info = model if isinstance(model, ModelInfo) else ModelInfo.from_ref(model)
        fields.setdefault("environment", Environment.capture())
        fields.setdefault("timings", Timings(started=now))
        return cls(id=new_run_id(now), created_at=now, model=info, benchmark=benchmark, **fields)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "run record") -> RunRecord:
        """Read a record from JSON.

        Args:
            text: The JSON text.
            source: What to name in error messages (a file name, a database and run id).

        Raises:
            SchemaVersionError: The record was written by a newer Ethos.
            DataError: The text is not JSON or not a valid record.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DataError(f"{source}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise DataError(f"{source}: a run record must be a JSON object, not {type(data).__name__}")
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "run record") -> RunRecord:
        """Validate a record given as a mapping; raises like :meth:`from_json`."""
        _check_version(data.get("schema_version"), data.get("id"), source)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "record"
            more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
            raise DataError(f"{source}: invalid run record at {where}: {first['msg']}{more}") from None

    @property
    def duration(self) -> float | None:
        """Seconds of work: ``timings.seconds``, else finished − started, else ``None``."""
        if self.timings.seconds is not None:
            return self.timings.seconds
        if self.timings.finished is None:
            return None
        return (self.timings.finished - self.timings.started).total_seconds()

    def overall_metrics(self) -> tuple[MetricRecord, ...]:
        """The metrics that are not disaggregated by group."""
        return tuple(m for m in self.metrics if not m.group)


def _check_version(version: Any, run_id: Any, source: str | None = None) -> None:
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        name = source or (f"run {run_id}" if run_id else "run record")
        raise SchemaVersionError(
            f"{name} has schema version {version}, written by a newer Ethos (this Ethos {__version__} "
            f"reads up to version {SCHEMA_VERSION}); upgrade Ethos to read it"
        )
