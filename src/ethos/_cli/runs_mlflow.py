"""``ethos runs export --mlflow URI``: each Ethos run becomes one MLflow run (optional extra ``ethos[mlflow]``).

What goes where:

- **params**: model (spec, provider, name, digest, revision), benchmark (name, version, variant),
  the benchmark's parameters (``params.<name>``), run settings (``settings.<name>``), seeds, the
  data files' checksums and the Ethos version. Values are JSON for anything but strings.
- **metrics**: every metric, with its group spelled into the key (``ss`` and ``ss/domain:gender``:
  MLflow keys allow only letters, digits and ``_ - . : / space``), its interval as
  ``<key>_ci_low`` / ``<key>_ci_high``, energy as ``energy.kwh``, ``energy.co2_g`` …, and
  ``ethos.samples`` / ``ethos.duration_s``. NaN (an undefined metric) stays NaN.
- **tags**: ``ethos.run_id`` (how a re-export finds its run), ``ethos.record_sha256``, status,
  energy method and tracker, environment.
- **artifacts**: the whole record as JSON (samples included) and, when ``ethos.reports`` can render
  HTML, the self-contained report.

Export is idempotent: a run whose ``ethos.run_id`` tag is already in the experiment is left alone
when its record is unchanged, and updated in place (new metric values, same params) when it is
not, e.g. an interrupted run that was resumed since. mlflow is imported inside :func:`export_runs`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ethos._util.deps import require
from ethos.errors import ConfigError, DataError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ethos.records import RunRecord

__all__ = ["Exported", "export_runs", "metric_key", "mlflow_metrics", "mlflow_params", "mlflow_tags"]

RUN_ID_TAG = "ethos.run_id"
SHA_TAG = "ethos.record_sha256"
_STATUS = {"finished": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "running": "RUNNING"}
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_\-. :/]+")
_MAX_KEY = 250  # MLflow's limit for metric, param and tag keys
_MAX_PARAM = 6000  # MLflow's limit for a param value
_MAX_TAG = 5000  # a conservative tag-value limit (MLflow allows more on SQL stores)

ReportWriter = Callable[["RunRecord", Path], "Path | None"]
"""Writes a run's HTML report into a folder and returns its path (``None``: no report)."""


@dataclass(frozen=True, slots=True)
class Exported:
    """What happened to one Ethos run.

    Attributes:
        run_id: The Ethos run id.
        mlflow_run_id: The MLflow run it lives in.
        action: ``created``, ``updated`` (the record changed since the last export) or ``unchanged``.
        metrics: How many metric values were logged (0 when unchanged).
        artifacts: Artifact file names logged (empty when unchanged).
    """

    run_id: str
    mlflow_run_id: str
    action: Literal["created", "updated", "unchanged"]
    metrics: int
    artifacts: tuple[str, ...]


def _clean(text: str) -> str:
    return _NOT_ALLOWED.sub("_", text).strip() or "_"


def metric_key(name: str, group: dict[str, str] | None = None) -> str:
    """MLflow key of a metric: ``ss`` overall, ``ss/domain:gender`` for a group; disallowed characters → ``_``."""
    parts = [_clean(name)] + [f"{_clean(k)}:{_clean(v)}" for k, v in sorted((group or {}).items())]
    return "/".join(parts)[:_MAX_KEY]


def _unique(key: str, taken: dict[str, Any]) -> str:
    """``key``, or ``key_2``, ``key_3`` … when two names cleaned to the same key."""
    out, n = key, 1
    while out in taken:
        n += 1
        out = f"{key[: _MAX_KEY - 8]}_{n}"
    return out


def mlflow_metrics(record: RunRecord) -> dict[str, float]:
    """Every number of ``record`` as MLflow metrics (see the module docstring for the keys)."""
    out: dict[str, float] = {}
    for m in record.metrics:
        key = _unique(metric_key(m.name, m.group), out)
        out[key] = m.value
        if m.ci_low is not None and m.ci_high is not None:
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = m.ci_low, m.ci_high
    out[_unique("ethos.samples", out)] = float(len(record.samples))
    if record.duration is not None:
        out[_unique("ethos.duration_s", out)] = record.duration
    energy = record.energy
    if energy is not None:
        parts = {
            "kwh": energy.kwh,
            "co2_g": energy.co2_g,
            "duration_s": energy.duration_s,
            "cpu_kwh": energy.cpu_kwh,
            "ram_kwh": energy.ram_kwh,
            "gpu_kwh": energy.gpu_kwh,
            "carbon_intensity": energy.carbon_intensity,
        }
        for name, value in parts.items():
            if value is not None:
                out[_unique(f"energy.{name}", out)] = value
    return out


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= _MAX_PARAM else text[: _MAX_PARAM - 1] + "…"


def mlflow_params(record: RunRecord) -> dict[str, str]:
    """What ran, with what settings: model, benchmark, variant, parameters, settings, seeds, data."""
    model, settings = record.model, dict(record.settings)
    raw: dict[str, Any] = {
        "model.spec": model.spec,
        "model.provider": model.provider,
        "model.name": model.name,
        "model.digest": model.digest,
        "model.revision": model.revision,
        "benchmark.name": record.benchmark.name,
        "benchmark.version": record.benchmark.version,
        "benchmark.variant": settings.pop("variant", None),
        "ethos.version": record.ethos_version,
        "ethos.schema_version": record.schema_version,
    }
    params = settings.pop("params", None)
    if isinstance(params, dict):
        raw.update({f"params.{k}": v for k, v in params.items()})
    raw.update({f"settings.{k}": v for k, v in settings.items()})
    raw.update({f"seed.{k}": v for k, v in record.seeds.items()})
    for i, data in enumerate(record.data):
        raw[f"data.{i}.source"], raw[f"data.{i}.sha256"] = data.source, data.sha256
    return {_clean(k)[:_MAX_KEY]: _value(v) for k, v in raw.items() if v is not None}


def mlflow_tags(record: RunRecord, sha256: str) -> dict[str, str]:
    """Tags: the Ethos run id and record hash (for re-export), status, labels, energy method, environment."""
    env, energy = record.environment, record.energy
    tags = {
        RUN_ID_TAG: record.id,
        SHA_TAG: sha256,
        "ethos.status": record.status,
        "ethos.tags": ", ".join(record.tags),
        "env.python": env.python,
        "env.platform": env.platform,
        "env.git_revision": env.git_revision or "",
        "env.gpu": env.gpu or "",
        "mlflow.note.content": (
            f"Ethos run {record.id}: {record.benchmark.name} v{record.benchmark.version} on {record.model.spec} "
            f"({record.status}). Metrics with a group carry it in the key (name/key:value)."
        ),
    }
    if energy is not None:
        tags |= {
            "energy.method": energy.method,
            "energy.cpu_method": energy.cpu_method or "",
            "energy.ram_method": energy.ram_method or "",
            "energy.gpu_method": energy.gpu_method or "",
            "energy.tracker": energy.tracker or "",
            "energy.country": energy.country_iso_code or "",
        }
    return {k: v[:_MAX_TAG] for k, v in tags.items() if v}


def record_sha256(record: RunRecord) -> str:
    """SHA-256 of the record's JSON: a re-export with the same hash has nothing new to say."""
    return hashlib.sha256(record.model_dump_json().encode("utf-8")).hexdigest()


def _ms(record: RunRecord) -> tuple[int, int | None]:
    start = int(record.created_at.timestamp() * 1000)
    end = None if record.finished_at is None else int(record.finished_at.timestamp() * 1000)
    return start, end


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow logs its database migrations at INFO on stderr; the CLI prints its own summary."""
    log = logging.getLogger("mlflow")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def html_report(record: RunRecord, folder: Path) -> Path | None:
    """The run's HTML report, examples masked with ``ethos.pii``; ``None`` without ``ethos[reports]``."""
    from ethos.errors import MissingDependencyError

    try:
        from ethos._cli.report_run import pii_masker
        from ethos.reports import ReportOptions, render
    except ImportError:
        return None
    try:
        return render([record], folder / "report.html", options=ReportOptions(kind="run", mask=pii_masker()))
    except MissingDependencyError:
        return None


def export_runs(
    records: Sequence[RunRecord],
    uri: str,
    *,
    experiment: str = "ethos",
    report: ReportWriter | None = html_report,
    on_exported: Callable[[Exported], None] | None = None,
) -> list[Exported]:
    """Log ``records`` to the MLflow tracking server or store at ``uri``, one MLflow run each.

    Args:
        records: The runs to export.
        uri: An MLflow tracking URI: ``sqlite:///path/mlflow.db``, ``http://host:5000``, ``file:…``
            (MLflow ≥ 3.13 wants ``MLFLOW_ALLOW_FILE_STORE=true`` for file stores).
        experiment: The experiment, created when missing (for ``sqlite:`` URIs its artifacts go
            to ``mlartifacts/`` beside the database, not into the working directory).
        report: Writes a run's HTML report to attach; ``None`` attaches the JSON record only.
        on_exported: Called after each run (for a progress bar).

    Raises:
        MissingDependencyError: mlflow is not installed (``pip install 'ethos[mlflow]'``).
        ConfigError: The URI is empty, or MLflow refuses the URI or the experiment.
        DataError: MLflow refuses a run's data (e.g. a param changed since the last export).
    """
    if not uri.strip():  # MLflow would fall back to ./mlflow.db and ./mlruns in the working directory
        raise ConfigError("--mlflow got an empty tracking URI; give one, e.g. sqlite:///mlflow.db or http://host:5000")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # MLflow ≥ 3.2 reports usage by default
    require("mlflow", extra="mlflow", purpose="ethos runs export --mlflow")
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    refused: tuple[type[Exception], ...] = (MlflowException, OSError, *_store_errors())
    with _quiet_mlflow():
        try:
            client = MlflowClient(tracking_uri=uri)
            experiment_id = _experiment(client, experiment, uri)
        except refused as exc:
            raise ConfigError(f"MLflow at {uri}: {_first_line(exc)}") from None
        out = []
        for record in records:
            try:
                out.append(_export_one(client, experiment_id, record, report))
            except MlflowException as exc:
                raise DataError(f"MLflow at {uri}, run {record.id}: {_first_line(exc)}") from None
            if on_exported is not None:
                on_exported(out[-1])
        return out


def _store_errors() -> tuple[type[Exception], ...]:
    """SQLAlchemy's errors, which MLflow's SQL stores let through (e.g. a file that is not a database)."""
    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:  # mlflow-skinny without SQLAlchemy: no SQL store either
        return ()
    return (SQLAlchemyError,)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _experiment(client: Any, name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return str(client.create_experiment(name, artifact_location=_artifact_location(uri)))
    if found.lifecycle_stage != "active":
        raise ConfigError(f"MLflow experiment {name!r} at {uri} is deleted; restore it or pass another --experiment")
    return str(found.experiment_id)


def _artifact_location(uri: str) -> str | None:
    """``mlartifacts/`` beside a SQLite database; MLflow's own default elsewhere."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri.removeprefix("sqlite:///")).expanduser().resolve()
    return (db.parent / "mlartifacts").as_uri()


def _export_one(client: Any, experiment_id: str, record: RunRecord, report: ReportWriter | None) -> Exported:
    from mlflow.entities import Metric, Param, RunTag

    sha = record_sha256(record)
    query = f"tags.`{RUN_ID_TAG}` = '{record.id}'"  # run ids hold only [0-9A-Za-z_.-]
    [existing] = client.search_runs([experiment_id], filter_string=query, max_results=1) or [None]
    if existing is not None and existing.data.tags.get(SHA_TAG) == sha:
        return Exported(record.id, existing.info.run_id, "unchanged", 0, ())
    params = mlflow_params(record)
    if existing is None:
        start, _ = _ms(record)
        name = f"{record.benchmark.name} {record.model.spec}"[:250]
        run_id = client.create_run(experiment_id, start_time=start, run_name=name).info.run_id
    else:
        run_id = existing.info.run_id
        params = _new_params(existing.data.params, params, record.id)
    start, end = _ms(record)
    stamp = end if end is not None else start
    metrics = mlflow_metrics(record)
    _log_batches(
        client,
        run_id,
        [Metric(k, v, stamp, 0) for k, v in metrics.items()],
        [Param(k, v) for k, v in params.items()],
        [RunTag(k, v) for k, v in mlflow_tags(record, sha).items()],
    )
    artifacts = _log_artifacts(client, run_id, record, report)
    if record.status != "running":
        client.set_terminated(run_id, status=_STATUS[record.status], end_time=end)
    action: Literal["created", "updated"] = "created" if existing is None else "updated"
    return Exported(record.id, run_id, action, len(metrics), artifacts)


def _log_batches(client: Any, run_id: str, metrics: list[Any], params: list[Any], tags: list[Any]) -> None:
    """``log_batch`` within MLflow's limits per call: 1,000 metrics, 100 params, 100 tags."""
    for i in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[i : i + 1000])
    for i in range(0, max(len(params), len(tags)), 100):
        client.log_batch(run_id, params=params[i : i + 100], tags=tags[i : i + 100])


def _new_params(logged: dict[str, str], params: dict[str, str], run_id: str) -> dict[str, str]:
    """The params not logged yet; MLflow params are write-once, so a changed one is an error."""
    changed = sorted(k for k, v in params.items() if k in logged and logged[k] != v)
    if changed:
        raise DataError(
            f"run {run_id}: params {', '.join(changed)} differ from the MLflow run exported earlier; "
            "delete that MLflow run (or export to another --experiment) and export again"
        )
    return {k: v for k, v in params.items() if k not in logged}


def _log_artifacts(client: Any, run_id: str, record: RunRecord, report: ReportWriter | None) -> tuple[str, ...]:
    with tempfile.TemporaryDirectory(prefix="ethos-mlflow-") as tmp:
        folder = Path(tmp)
        files = [folder / f"ethos-run-{record.id}.json"]
        files[0].write_text(
            json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        html = report(record, folder) if report is not None else None
        if html is not None:
            files.append(html)
        for path in files:
            client.log_artifact(run_id, str(path))
        return tuple(p.name for p in files)
