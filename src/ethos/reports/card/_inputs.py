"""What a model card is made from: the model's runs, notes about their benchmarks, and the answers.

Benchmark notes (summary, suites, headline metrics, variant descriptions) live with the benchmarks
in ``ethos.audit``, which ``reports`` may not import; the CLI reads them from the benchmark registry
and passes them in as :class:`BenchmarkNote` s. A benchmark without a note still appears: with its
recorded name and every overall metric.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from ethos.errors import StoreError
from ethos.records import MetricRecord, RunRecord, RunStore
from ethos.reports.card._questionnaire import Answers
from ethos.reports.card._questions import CARD_QUESTIONS

__all__ = ["BenchmarkNote", "ModelCardInputs", "data_revision", "headline_metrics", "select_runs"]


@dataclass(frozen=True, slots=True)
class BenchmarkNote:
    """What Ethos knows about a benchmark beyond its run records.

    Attributes:
        name: The benchmark name, as runs record it.
        summary: One line on what it measures.
        suites: Suites it belongs to (``bias``, ``fairness`` ...).
        headline: Its headline metrics, most important first.
        variants: ``{variant name: what it computes}``.
    """

    name: str
    summary: str = ""
    suites: tuple[str, ...] = ()
    headline: tuple[str, ...] = ()
    variants: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelCardInputs:
    """Everything a card is rendered from.

    Attributes:
        model: The model spec the card describes (e.g. ``hf:./gpt2-ft``).
        runs: The runs whose numbers the card reports, one per benchmark as a rule.
        notes: Benchmark notes by name (see :class:`BenchmarkNote`).
        answers: Answers to :data:`CARD_QUESTIONS` (default: none, so every question is a TODO).
    """

    model: str
    runs: tuple[RunRecord, ...]
    notes: Mapping[str, BenchmarkNote] = field(default_factory=dict)
    answers: Answers = field(default_factory=CARD_QUESTIONS.empty)

    def note(self, run: RunRecord) -> BenchmarkNote:
        """The note of the run's benchmark, or a bare one."""
        return self.notes.get(run.benchmark.name) or BenchmarkNote(run.benchmark.name)

    def in_suite(self, run: RunRecord, *suites: str) -> bool:
        """Whether the run's benchmark belongs to one of ``suites``."""
        return any(s in self.note(run).suites for s in suites)


def headline_metrics(run: RunRecord, note: BenchmarkNote) -> list[MetricRecord]:
    """The run's overall metrics, headline ones first (in headline order), then the rest as recorded."""
    overall = list(run.overall_metrics())
    order = {name: i for i, name in enumerate(note.headline)}
    first = sorted((m for m in overall if m.name in order), key=lambda m: order[m.name])
    return first + [m for m in overall if m.name not in order]


def data_revision(run: RunRecord) -> str | None:
    """The run's data checksum: the file's SHA-256, or a SHA-256 over every file's when there are several."""
    if not run.data:
        return None
    if len(run.data) == 1:
        return run.data[0].sha256
    joined = "\n".join(sorted(f"{f.sha256} {f.source}" for f in run.data))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def select_runs(store: RunStore, model: str, run_ids: tuple[str, ...] = ()) -> tuple[RunRecord, ...]:
    """The runs a card reports: the given ones, else the latest finished run of each benchmark of ``model``.

    Raises:
        StoreError: A given run is missing, belongs to another model or is unfinished, or the model
            has no finished run at all.
    """
    if run_ids:
        runs = tuple(store.get(run_id) for run_id in run_ids)
        for run in runs:
            if model not in (run.model.spec, run.model.name):
                raise StoreError(f"run {run.id} is of model {run.model.spec!r}, not {model!r}; leave it out")
            if run.status != "finished":
                raise StoreError(f"run {run.id} is {run.status}; a card reports finished runs only")
        return runs
    latest: dict[str, str] = {}
    for summary in store.query(model=model, status="finished"):  # newest first
        latest.setdefault(summary.benchmark, summary.id)
    if not latest:
        raise StoreError(
            f"model {model!r} has no finished runs in {store.path}; run `ethos audit run --model {model} ...` "
            "first, or check the spec with `ethos runs list`"
        )
    return tuple(store.get(latest[name]) for name in sorted(latest))
