"""A small run database for the dashboard tests: two models, two benchmarks, versions over time.

``hf:./tiny-gpt2`` has three stereoset runs whose weight digests differ (three versions; the
latest breaks the ``ss <= 0.6`` rule) and two crows_pairs runs (the latest regressed by 0.05,
more than the 0.01 allowed). ``ollama:llama3:8b`` has one stereoset run (passes) and one failed
run. Values are chosen by hand so that a test can say which rule fails where.
"""

from __future__ import annotations

from pathlib import Path

from ethos.records import MetricRecord, ModelInfo, RunRecord, RunStore
from tests.helpers.records import make_record

TINY = "hf:./tiny-gpt2"
LLAMA = "ollama:llama3:8b"

RULES = """\
[[rule]]
name = "stereoset ss at most 0.6"
benchmark = "stereoset"
metric = "ss"
max = 0.6

[[rule]]
name = "crows_pairs no regression"
benchmark = "crows_pairs"
metric = "metric_score"
higher_is_better = false
max_regression = 0.01
"""
FAILED_RULE = "stereoset ss at most 0.6"
REGRESSION_RULE = "crows_pairs no regression"


def _model(spec: str, version: int) -> ModelInfo:
    provider, _, name = spec.partition(":")
    return ModelInfo(spec=spec, provider=provider, name=name, digest="sha256:" + f"{version:02x}" * 32)


def _metrics(name: str, value: float, low: float, high: float, groups: dict[str, float]) -> list[MetricRecord]:
    out = [MetricRecord(name=name, value=value, ci_low=low, ci_high=high, n=40)]
    for label, group_value in groups.items():
        out.append(
            MetricRecord(name=name, value=group_value, ci_low=None, ci_high=None, n=20, group={"bias_type": label})
        )
    return out


def dashboard_records() -> list[RunRecord]:
    """The records, oldest first."""
    return [
        make_record(
            "01JA00000000000000000000S1",
            minutes=0,
            model=TINY,
            metrics=_metrics("ss", 0.55, 0.5, 0.6, {"gender": 0.5, "race": 0.6}),
        ),
        make_record(
            "01JA00000000000000000000C1",
            minutes=1,
            model=TINY,
            benchmark="crows_pairs",
            metrics=_metrics("metric_score", 0.52, 0.45, 0.59, {"gender": 0.48}),
        ),
        make_record(
            "01JA00000000000000000000S2",
            minutes=10,
            model=TINY,
            metrics=_metrics("ss", 0.58, 0.53, 0.63, {"gender": 0.56, "race": 0.6}),
        ),
        make_record(
            "01JA00000000000000000000S3",
            minutes=20,
            model=TINY,
            metrics=_metrics("ss", 0.6523456, 0.61, 0.69, {"gender": 0.7, "race": 0.6046}),
        ),
        make_record(
            "01JA00000000000000000000C2",
            minutes=21,
            model=TINY,
            benchmark="crows_pairs",
            metrics=_metrics("metric_score", 0.57, 0.5, 0.64, {"gender": 0.55}),
        ),
        make_record(
            "01JA00000000000000000000L1",
            minutes=30,
            model=LLAMA,
            metrics=_metrics("ss", 0.51, 0.47, 0.55, {"gender": 0.52, "race": float("nan")}),
        ),
        make_record("01JA00000000000000000000L2", minutes=40, model=LLAMA, status="failed", metrics=[]),
    ]


def build_database(path: Path) -> list[RunRecord]:
    """Write :func:`dashboard_records` (with per-version digests) into a new database at ``path``."""
    records = []
    for i, record in enumerate(dashboard_records()):
        versioned = record.model_copy(update={"model": _model(record.model.spec, i)})
        records.append(versioned)
    with RunStore(path) as store:
        for record in records:
            store.save(record)
    return records
