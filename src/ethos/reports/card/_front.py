"""The card's YAML metadata: Hugging Face keys, ``model-index`` from the runs, ``co2_eq_emissions`` in grams.

``model-index`` follows hub-docs ``modelcard.md``: one result per run, with the task, the dataset
(benchmark name and version, split, and the data checksum as ``revision``) and every finite overall
metric, headline ones first, marked ``verified: false`` (self-reported) with the run id, interval
and sample count in ``args``. ``co2_eq_emissions`` follows ``docs/hub/model-cards-co2.md``: grams.
"""

from __future__ import annotations

import math
from typing import Any

from ethos.records import RunRecord
from ethos.reports.card._inputs import ModelCardInputs, data_revision, headline_metrics

__all__ = ["audit_emissions", "front_matter", "model_index_name"]

_LIST_KEYS = ("language", "base_model", "datasets")


def model_index_name(inputs: ModelCardInputs) -> str:
    """The name results are filed under: the answered model name, else the model spec."""
    return inputs.answers.text("metadata", "model_name") or inputs.model


def front_matter(inputs: ModelCardInputs) -> dict[str, Any]:
    """The metadata mapping, keys in the order the Hub documents them; unknown keys are left out."""
    answers = inputs.answers
    meta: dict[str, Any] = {}
    for key in ("license", "library_name", "pipeline_tag"):
        value = answers.text("metadata", key)
        if value is not None:
            meta[key] = value
    for key in _LIST_KEYS:
        listed = answers.get("metadata", key)
        if isinstance(listed, tuple):
            meta[key] = list(listed) if key != "base_model" or len(listed) > 1 else listed[0]
    tags = ["ethos", "model-card", *sorted({run.benchmark.name for run in inputs.runs})]
    extra = answers.get("metadata", "tags")
    meta["tags"] = list(dict.fromkeys([*tags, *(extra if isinstance(extra, tuple) else ())]))
    co2 = _co2(inputs)
    if co2:
        meta["co2_eq_emissions"] = co2
    meta["model-index"] = [{"name": model_index_name(inputs), "results": [_result(inputs, r) for r in inputs.runs]}]
    return meta


def _result(inputs: ModelCardInputs, run: RunRecord) -> dict[str, Any]:
    note = inputs.note(run)
    kind = "bias" if inputs.in_suite(run, "bias") else "fairness" if inputs.in_suite(run, "fairness") else None
    task: dict[str, Any] = {
        "type": f"{kind}-evaluation" if kind else "evaluation",
        "name": note.summary or run.benchmark.name,
    }
    dataset: dict[str, Any] = {
        "type": f"ethos/{run.benchmark.name}",
        "name": f"{run.benchmark.name} v{run.benchmark.version}",
    }
    params = run.settings.get("params")
    if isinstance(params, dict) and isinstance(params.get("split"), str):
        dataset["split"] = params["split"]
    revision = data_revision(run)
    if revision:
        dataset["revision"] = revision
    metrics = []
    for m in headline_metrics(run, note):
        if not math.isfinite(m.value):
            continue  # an undefined value has no place in a leaderboard entry; the body says it is undefined
        args: dict[str, Any] = {"run_id": run.id}
        if m.ci_low is not None and m.ci_high is not None and math.isfinite(m.ci_low) and math.isfinite(m.ci_high):
            args |= {"ci_low": m.ci_low, "ci_high": m.ci_high}
        if m.n is not None:
            args["n"] = m.n
        metrics.append(
            {
                "type": m.name,
                "name": f"{run.benchmark.name} {m.name}",
                "value": m.value,
                "verified": False,
                "args": args,
            }
        )
    result: dict[str, Any] = {"task": task, "dataset": dataset, "metrics": metrics}
    url = inputs.answers.text("metadata", "results_url")
    if url:
        result["source"] = {"name": f"Ethos run {run.id}", "url": url}
    return result


def audit_emissions(runs: tuple[RunRecord, ...]) -> tuple[float, list[str]] | None:
    """Grams of CO2-eq over the runs that recorded them, and the measurement methods; ``None`` if none did."""
    measured = [r.energy for r in runs if r.energy is not None and r.energy.co2_g is not None]
    if not measured:
        return None
    grams = sum(e.co2_g for e in measured if e is not None and e.co2_g is not None)
    methods = sorted({e.method for e in measured if e is not None})
    return grams, methods


def _co2(inputs: ModelCardInputs) -> dict[str, Any]:
    answers = inputs.answers
    trained = answers.get("environment", "training_co2_g")
    out: dict[str, Any] = {}
    if isinstance(trained, float):
        out["emissions"] = trained
        out["source"] = answers.text("environment", "training_co2_source") or "reported by the card's authors"
        training_type = answers.text("environment", "training_type")
        if training_type:
            out["training_type"] = training_type
    else:
        audits = audit_emissions(inputs.runs)
        if audits is None:
            return {}
        out["emissions"] = round(audits[0], 6)
        out["source"] = _audit_source(inputs.runs, audits[1])
        out["training_type"] = "evaluation"
    # the audits' location and hardware describe audit emissions only, never a training figure
    audited = not isinstance(trained, float)
    location = answers.text("environment", "geographical_location") or (
        _energy_attr(inputs.runs, "country") if audited else None
    )
    if location:
        out["geographical_location"] = location
    hardware = answers.text("environment", "hardware_used") or (_hardware(inputs.runs) if audited else None)
    if hardware:
        out["hardware_used"] = hardware
    return out


def _audit_source(runs: tuple[RunRecord, ...], methods: list[str]) -> str:
    measured = [r.energy for r in runs if r.energy is not None and r.energy.co2_g is not None]
    trackers = sorted({e.tracker for e in measured if e is not None and e.tracker})
    by = f" by {', '.join(trackers)}" if trackers else ""
    return (
        f"Ethos audit runs, evaluation only: {len(measured)} of {len(runs)} runs measured{by} "
        f"(method: {', '.join(methods)})"
    )


def _energy_attr(runs: tuple[RunRecord, ...], what: str) -> str | None:
    values: list[str] = []
    for run in runs:
        e = run.energy
        if e is None or e.co2_g is None:
            continue
        found = e.country_iso_code if what == "country" else " + ".join(m for m in (e.gpu_model, e.cpu_model) if m)
        if found:
            values.append(found)
    return "; ".join(dict.fromkeys(values)) or None


def _hardware(runs: tuple[RunRecord, ...]) -> str | None:
    tracked = _energy_attr(runs, "hardware")
    if tracked:
        return tracked
    seen = []
    for run in runs:
        env = run.environment
        cpus = f"{env.cpu_count} CPU cores" if env.cpu_count else "CPU"
        seen.append(f"{env.gpu} + {cpus}" if env.gpu else f"{env.machine} {cpus}")
    return "; ".join(dict.fromkeys(seen)) or None
