"""Markdown pieces shared by the model card, datasheet and compliance records.

Every unanswered question becomes the same quoted line, :data:`TODO_MARK` followed by the
question and where to answer it, so a person (or a CI check counting :data:`TODO_MARK`) finds
them all. Numbers are printed as the records hold them, to four significant digits; nothing here
computes a metric.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ethos.records import MetricRecord
from ethos.reports.card._questionnaire import Answers, Question, Section

__all__ = [
    "TODO_MARK",
    "answer_or_todo",
    "bullet_answers",
    "cell",
    "count_todos",
    "fmt_ci",
    "fmt_num",
    "table",
    "todo",
]

TODO_MARK = "**TODO (person):**"
"""Starts every question left for a person; count it to measure how complete a document is."""


def todo(question: str, where: str) -> str:
    """A quoted TODO line: the question and the questionnaire key that answers it."""
    return f"> {TODO_MARK} {question} _(answer `{where}` in the questions file)_"


def count_todos(markdown: str) -> int:
    """How many TODO questions a document still has."""
    return markdown.count(TODO_MARK)


def answer_or_todo(answers: Answers, section: str, key: str) -> str:
    """The answer as a paragraph, or the TODO line for its question."""
    value = answers.text(section, key)
    if value is not None:
        return value
    question = answers.questionnaire.section(section).question(key)
    text = question.text if question else key
    return todo(text, f"{section}.{key}")


def bullet_answers(answers: Answers, section: Section, *, skip: Iterable[str] = ()) -> list[str]:
    """One bullet per answered question of ``section`` (``**Question** answer``); a TODO quote per unanswered one."""
    skipped = set(skip)
    out: list[str] = []
    for q in section.questions:
        if q.key in skipped:
            continue
        out.extend(_bullet(answers, section, q))
    # collapse the blank lines that adjacent TODO quotes leave between them
    return [line for i, line in enumerate(out) if line or (i > 0 and out[i - 1])]


def _bullet(answers: Answers, section: Section, q: Question) -> list[str]:
    value = answers.text(section.key, q.key)
    if value is not None:
        return [f"- **{q.text}** {value}"]
    # a quote of its own (blank lines around it), so it cannot merge into a neighbouring list item
    return ["", todo(q.text, f"{section.key}.{q.key}"), ""]


def fmt_num(value: float | None) -> str:
    """Four significant digits; ``n/a`` for a missing or undefined (NaN) value."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.4g}"


def fmt_ci(metric: MetricRecord) -> str:
    """``[low, high]`` when the record has an interval, else an empty string."""
    if metric.ci_low is None or metric.ci_high is None:
        return ""
    return f"[{fmt_num(metric.ci_low)}, {fmt_num(metric.ci_high)}]"


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell: no pipes or line breaks."""
    return " ".join(str(value).split()).replace("|", "\\|")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table, one line per row (cells escaped with :func:`cell`)."""
    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)
    return out
