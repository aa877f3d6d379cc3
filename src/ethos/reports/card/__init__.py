"""Model cards in the Hugging Face format, filled from run records; and the questionnaire machinery.

::

    from ethos.records import RunStore
    from ethos.reports.card import CARD_QUESTIONS, ModelCardInputs, render_model_card, select_runs

    with RunStore.open(settings.db_path) as store:
        runs = select_runs(store, "hf:./gpt2-ft")
    card = render_model_card(ModelCardInputs("hf:./gpt2-ft", runs, answers=CARD_QUESTIONS.load(path)))

The card is a README.md: YAML metadata (``model-index`` from the runs, ``co2_eq_emissions`` in
grams) and Mitchell et al.'s sections, with measured parts filled and the rest marked
:data:`TODO_MARK`. :mod:`ethos.reports.datasheet` and :mod:`ethos.reports.compliance` reuse the
:class:`Questionnaire` and the Markdown helpers.
"""

from __future__ import annotations

from ethos.reports.card._body import card_body
from ethos.reports.card._front import front_matter
from ethos.reports.card._inputs import BenchmarkNote, ModelCardInputs, data_revision, headline_metrics, select_runs
from ethos.reports.card._markdown import TODO_MARK, count_todos
from ethos.reports.card._questionnaire import Answer, Answers, Question, Questionnaire, Section
from ethos.reports.card._questions import CARD_QUESTIONS
from ethos.reports.card._readings import reading
from ethos.reports.card._yaml import dump_yaml

__all__ = [
    "CARD_QUESTIONS",
    "TODO_MARK",
    "Answer",
    "Answers",
    "BenchmarkNote",
    "ModelCardInputs",
    "Question",
    "Questionnaire",
    "Section",
    "count_todos",
    "data_revision",
    "dump_yaml",
    "front_matter",
    "headline_metrics",
    "reading",
    "render_model_card",
    "select_runs",
]


def render_model_card(inputs: ModelCardInputs) -> str:
    """The whole card: ``---``-fenced YAML metadata, then the Markdown body."""
    return f"---\n{dump_yaml(front_matter(inputs))}---\n\n{card_body(inputs)}"
