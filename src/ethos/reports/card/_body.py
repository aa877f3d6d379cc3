"""The card's Markdown body: Mitchell et al.'s nine sections, measured parts from the runs, the rest as TODOs.

Model details, intended use and training data are the card authors' to write; factors, metrics,
evaluation data, quantitative analyses, the measured part of the ethical considerations, caveats
and environmental impact are filled from the run records. Nothing is recomputed: every number is
a recorded metric, interval, count or energy figure.
"""

from __future__ import annotations

from ethos import __version__
from ethos.records import MetricRecord
from ethos.reports import CI_NOTE, metric_note
from ethos.reports._notes import ci_label
from ethos.reports.card._front import audit_emissions, model_index_name
from ethos.reports.card._inputs import ModelCardInputs, data_revision, headline_metrics
from ethos.reports.card._markdown import answer_or_todo, bullet_answers, fmt_ci, fmt_num, table
from ethos.reports.card._readings import reading

__all__ = ["card_body"]

MAX_GROUP_ROWS = 60
"""Disaggregated rows shown per run; the rest are counted, and stay in the run record."""
_SHORT = 12
_NOTED = 8  # metrics explained per benchmark


def card_body(inputs: ModelCardInputs) -> str:
    """The Markdown body of the card (everything after the YAML front matter)."""
    parts = [
        _title(inputs),
        _details(inputs),
        _section(inputs, "intended_use", "Intended use"),
        _factors(inputs),
        _metrics(inputs),
        _evaluation_data(inputs),
        _section(inputs, "training_data", "Training data"),
        _quantitative(inputs),
        _ethics(inputs),
        _caveats(inputs),
        _environment(inputs),
        _runs(inputs),
    ]
    return "\n\n".join("\n".join(p).rstrip() for p in parts) + "\n"


def _section(inputs: ModelCardInputs, key: str, title: str) -> list[str]:
    section = inputs.answers.questionnaire.section(key)
    return [f"## {title}", "", *bullet_answers(inputs.answers, section)]


def _title(inputs: ModelCardInputs) -> list[str]:
    return [
        f"# Model card: {model_index_name(inputs)}",
        "",
        f"_Written by Ethos {__version__} from {len(inputs.runs)} run record(s) (listed under Runs). Every "
        "number below is copied from those records; each question marked TODO is for a person to answer._",
    ]


def _details(inputs: ModelCardInputs) -> list[str]:
    model = inputs.runs[0].model if inputs.runs else None
    out = ["## Model details", "", f"- **Model:** `{inputs.model}`"]
    if model is not None:
        out.append(f"- **Provider and name:** {model.provider}, `{model.name}`")
        out.append(f"- **Weights digest:** `{model.digest}`" if model.digest else "- **Weights digest:** not recorded")
        if model.revision:
            out.append(f"- **Revision:** `{model.revision}`")
    licence = inputs.answers.text("metadata", "license")
    out += [f"- **Licence:** {licence}"] if licence else ["", answer_or_todo(inputs.answers, "metadata", "license"), ""]
    section = inputs.answers.questionnaire.section("model_details")
    return [*out, *bullet_answers(inputs.answers, section)]


def _factors(inputs: ModelCardInputs) -> list[str]:
    groups: dict[str, set[str]] = {}
    for run in inputs.runs:
        for m in run.metrics:
            for key, value in m.group.items():
                groups.setdefault(key, set()).add(value)
    out = ["## Factors", ""]
    if groups:
        listed = "; ".join(f"`{k}` ({', '.join(sorted(v))})" for k, v in sorted(groups.items()))
        out += [f"Measured results are broken down by: {listed}. See Quantitative analyses.", ""]
    else:
        out += ["No run recorded results broken down by group.", ""]
    return out + bullet_answers(inputs.answers, inputs.answers.questionnaire.section("factors"))


def _metrics(inputs: ModelCardInputs) -> list[str]:
    out = ["## Metrics", ""]
    for run in inputs.runs:
        note = inputs.note(run)
        variant = run.settings.get("variant")
        how = note.variants.get(variant, "") if isinstance(variant, str) else ""
        line = f"- **{run.benchmark.name}** v{run.benchmark.version}"
        line += f": {note.summary}." if note.summary else "."
        if isinstance(variant, str):
            line += f" Variant `{variant}`" + (f": {how}." if how else ".")
        out.append(line)
        shown = [m.name for m in headline_metrics(run, note)]
        for name in list(dict.fromkeys(n for n in shown if not note.headline or n in note.headline))[:_NOTED]:
            meaning = metric_note(run.benchmark.name, name)
            ideal = f" Ideal: {meaning.ideal}." if meaning.ideal else ""
            source = f" ({meaning.reference})" if meaning.reference else ""
            out.append(f"  - `{name}`: {meaning.means}{ideal} *Does not mean:* {meaning.does_not_mean}{source}")
    out += ["", CI_NOTE, ""]
    return out + bullet_answers(inputs.answers, inputs.answers.questionnaire.section("metrics"))


def _evaluation_data(inputs: ModelCardInputs) -> list[str]:
    rows = []
    for run in inputs.runs:
        params = run.settings.get("params")
        split = params.get("split") if isinstance(params, dict) else None
        files = (
            "; ".join(
                f"{f.source} (sha256 {f.sha256[:_SHORT]}…, {f.size if f.size is not None else '?'} bytes)"
                for f in run.data
            )
            or "not recorded"
        )
        revision = data_revision(run)
        rows.append(
            (
                run.benchmark.name,
                run.benchmark.version,
                split or "",
                len(run.samples),
                revision[:_SHORT] + "…" if revision else "",
                files,
            )
        )
    out = ["## Evaluation data", ""]
    out += table(["benchmark", "version", "split", "samples", "data checksum", "files"], rows)
    return [*out, "", *bullet_answers(inputs.answers, inputs.answers.questionnaire.section("evaluation_data"))]


def _metric_row(m: MetricRecord) -> tuple[str, str, str, str]:
    return (m.name, fmt_num(m.value), fmt_ci(m), "" if m.n is None else str(m.n))


def _quantitative(inputs: ModelCardInputs) -> list[str]:
    out = ["## Quantitative analyses", "", "### Unitary results", ""]
    rows = [
        (run.benchmark.name, *_metric_row(m)) for run in inputs.runs for m in headline_metrics(run, inputs.note(run))
    ]
    ci = ci_label(inputs.runs)
    out += table(["benchmark", "metric", "value", ci, "n"], rows) if rows else ["No metrics recorded."]
    out += ["", "### Disaggregated results", ""]
    for run in inputs.runs:
        headline = set(inputs.note(run).headline)
        grouped = [m for m in run.metrics if m.group]
        # headline metrics per group when the run has them, else every disaggregated value (e.g. rates per group)
        grouped = [m for m in grouped if m.name in headline] or grouped
        if not grouped:
            continue
        out += [f"**{run.benchmark.name}** (run `{run.id}`):", ""]
        shown = grouped[:MAX_GROUP_ROWS]
        out += table(
            ["metric", "group", "value", ci, "n"],
            [(m.name, ", ".join(f"{k}={v}" for k, v in m.group.items()), *_metric_row(m)[1:]) for m in shown],
        )
        if len(grouped) > len(shown):
            out.append(f"\n_{len(grouped) - len(shown)} more rows are in run {run.id}: `ethos runs show {run.id}`._")
        out.append("")
    return out


def _ethics(inputs: ModelCardInputs) -> list[str]:
    out = ["## Ethical considerations", "", "### Measured bias and fairness", ""]
    measured = [r for r in inputs.runs if inputs.in_suite(r, "bias", "fairness")]
    for run in measured:
        note = inputs.note(run)
        metrics = headline_metrics(run, note)
        chosen = [m for m in metrics if m.name in note.headline] or metrics
        for m in chosen:
            ci = f" {fmt_ci(m)}" if fmt_ci(m) else ""
            n = f", n = {m.n}" if m.n is not None else ""
            read = reading(m) or "no reading on file; see the benchmark's documentation."
            out.append(f"- **{run.benchmark.name} `{m.name}`** = {fmt_num(m.value)}{ci}{n}: {read}")
    if not measured:
        out.append(
            f"> No bias or fairness run of this model is on file. Run `ethos audit run --model {inputs.model} "
            "--suite bias` (and `--suite fairness`) and write the card again."
        )
    out += ["", "### Considerations", ""]
    return out + bullet_answers(inputs.answers, inputs.answers.questionnaire.section("ethical_considerations"))


def _caveats(inputs: ModelCardInputs) -> list[str]:
    out = ["## Caveats and recommendations", ""]
    for run in inputs.runs:
        limit = run.settings.get("limit")
        if isinstance(limit, int):
            out.append(
                f"- {run.benchmark.name} ran on a subset of {limit} samples; intervals are wider than on the full set."
            )
        failed = sum(1 for s in run.samples if s.error is not None)
        if failed:
            out.append(
                f"- {failed} of {len(run.samples)} {run.benchmark.name} samples could not be scored (see run {run.id})."
            )
    out += [
        "- A benchmark measures one kind of bias in one language and setting; a score near its ideal does not show "
        "that the model is free of bias, and a score away from it does not say how a deployment will behave.",
        "- Intervals describe sampling uncertainty over the benchmark's items only, not uncertainty in the "
        "benchmark itself.",
        "",
    ]
    return out + bullet_answers(inputs.answers, inputs.answers.questionnaire.section("caveats"))


def _environment(inputs: ModelCardInputs) -> list[str]:
    out = ["## Environmental impact", ""]
    rows = []
    notes: list[str] = []
    for run in inputs.runs:
        e = run.energy
        if e is None:
            rows.append((run.benchmark.name, run.id, "not measured", "not measured", "", ""))
            continue
        parts = [f"{n} {m}" for n, m in (("CPU", e.cpu_method), ("RAM", e.ram_method), ("GPU", e.gpu_method)) if m]
        how = e.method + (f" ({', '.join(parts)})" if parts else "")
        grid = "" if e.carbon_intensity is None else f"{e.carbon_intensity:.4g} g/kWh"
        grid += f" ({e.country_iso_code})" if e.country_iso_code else ""
        co2 = "not known" if e.co2_g is None else f"{e.co2_g:.6g}"
        rows.append((run.benchmark.name, run.id, f"{e.kwh:.6g}", co2, how, grid))
        notes += [f"- {run.benchmark.name}: {note}" for note in e.notes]
    out += table(["benchmark", "run", "energy (kWh)", "CO2-eq (g)", "method", "carbon intensity"], rows)
    if notes:
        out += ["", "Notes recorded with the measurements:", "", *dict.fromkeys(notes)]
    audits = audit_emissions(inputs.runs)
    total = f"{audits[0]:.6g} g CO2-eq in total" if audits else "not measured"
    out += ["", f"Evaluation (these audits): {total}.", ""]
    section = inputs.answers.questionnaire.section("environment")
    return out + bullet_answers(inputs.answers, section)


def _runs(inputs: ModelCardInputs) -> list[str]:
    rows = [
        (
            f"`{r.id}`",
            r.benchmark.name,
            r.benchmark.version,
            r.finished_at.date().isoformat() if r.finished_at else "",
            r.ethos_version,
            (r.environment.git_revision or "")[:_SHORT],
        )
        for r in inputs.runs
    ]
    return ["## Runs", "", *table(["run", "benchmark", "version", "finished", "ethos", "git"], rows)]
