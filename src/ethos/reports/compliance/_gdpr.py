"""GDPR records: Art. 30 (records of processing activities) and Art. 32 (security of processing).

One configuration file answers both: ``[organisation]``, one ``[[activity]]`` table per processing
activity, and ``[measures]``. Each item of Art. 30(1)(a)-(g) and Art. 32(1)(a)-(d), (2)-(4) is a row
or a bullet; unanswered ones are TODOs. Evidence comes from the run store: the latest audits of
the systems an activity uses, and for Art. 32(1)(d) ("regularly testing, assessing and evaluating")
every model's latest audits with their dates. The article items are paraphrased from secondary
sources (reference/governance.md §1.6); check them against EUR-Lex before filing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ethos import __version__
from ethos.records import RunRecord
from ethos.reports.card import Answer, Answers, BenchmarkNote, Question, Questionnaire, Section
from ethos.reports.card._markdown import TODO_MARK, bullet_answers, table, todo
from ethos.reports.card._questionnaire import display
from ethos.reports.compliance._evidence import audit_table

__all__ = ["GDPR_QUESTIONS", "GdprInputs", "render_gdpr"]

_Q = Question

GDPR_QUESTIONS = Questionnaire(
    "GDPR records configuration",
    (
        Section(
            "organisation",
            "Controller or processor",
            (
                _Q("role", "Does the organisation act as controller or as processor for these activities?"),
                _Q("name", "What is the organisation's name?"),
                _Q("contact", "What are its contact details?"),
                _Q("joint_controllers", "Which joint controllers are there, with contact details?"),
                _Q("representative", "Who is the representative in the EU (Art. 27), if any?"),
                _Q("dpo", "Who is the data protection officer, and how to reach them?"),
            ),
        ),
        Section(
            "activity",
            "Processing activities",
            (
                _Q("name", "What is the processing activity called?"),
                _Q("controller", "For a processor: on behalf of which controller (name, contact)?"),
                _Q("purpose", "For which purposes are the data processed?"),
                _Q("legal_basis", "On which legal basis (Art. 6, and Art. 9 for special categories)?"),
                _Q("data_subjects", "Which categories of data subjects?", "list"),
                _Q("data_categories", "Which categories of personal data?", "list"),
                _Q("recipients", "To which categories of recipients are the data disclosed?", "list"),
                _Q(
                    "transfers",
                    "Which transfers to third countries or international organisations, with which safeguards?",
                ),
                _Q("retention", "When are the data erased (time limits per category)?"),
                _Q("measures", "Which technical and organisational security measures apply (Art. 32(1))?"),
                _Q("systems", "Which models or systems take part (model specs as audit runs record them)?", "list"),
            ),
            repeated=True,
        ),
        Section(
            "measures",
            "Security measures",
            (
                _Q("pseudonymisation", "How are personal data pseudonymised (Art. 32(1)(a))?"),
                _Q("encryption", "How are personal data encrypted, at rest and in transit (Art. 32(1)(a))?"),
                _Q("confidentiality", "How are confidentiality and access control ensured (Art. 32(1)(b))?"),
                _Q("integrity", "How is the integrity of data and systems ensured (Art. 32(1)(b))?"),
                _Q("availability", "How are availability and resilience ensured (Art. 32(1)(b))?"),
                _Q("restore", "How is availability restored after an incident, and how fast (Art. 32(1)(c))?"),
                _Q("testing", "How and how often are the measures tested and evaluated (Art. 32(1)(d))?"),
                _Q("risk_assessment", "Which risks were assessed: destruction, loss, alteration, disclosure (32(2))?"),
                _Q("certification", "Which codes of conduct or certifications support the measures (32(3))?"),
                _Q("staff_instructions", "How is it ensured that staff process data only on instruction (32(4))?"),
            ),
        ),
    ),
)

# Art. 30(1)(b)-(g) as rows: (item, key of [[activity]])
_ART30_ROWS = (
    ("(b) purposes", "purpose"),
    ("legal basis", "legal_basis"),
    ("(c) categories of data subjects", "data_subjects"),
    ("(c) categories of personal data", "data_categories"),
    ("(d) categories of recipients", "recipients"),
    ("(e) transfers to third countries", "transfers"),
    ("(f) time limits for erasure", "retention"),
    ("(g) security measures", "measures"),
)


@dataclass(frozen=True, slots=True)
class GdprInputs:
    """What a GDPR record is rendered from: answers, and the latest runs of the models on file."""

    answers: Answers = field(default_factory=GDPR_QUESTIONS.empty)
    runs: Sequence[RunRecord] = ()
    notes: Mapping[str, BenchmarkNote] = field(default_factory=dict)
    date: str = ""


def render_gdpr(inputs: GdprInputs, article: Literal[30, 32]) -> str:
    """The Art. 30 record of processing activities, or the Art. 32 record of security measures, as Markdown."""
    if article == 30:  # noqa: PLR2004 - the article number
        parts = [
            _head(inputs, "Record of processing activities (GDPR Art. 30)"),
            _organisation(inputs.answers),
            *_activities(inputs),
        ]
    else:
        parts = [_head(inputs, "Security of processing (GDPR Art. 32)"), _organisation(inputs.answers), *_art32(inputs)]
    return "\n\n".join("\n".join(p).rstrip() for p in parts) + "\n"


def _head(inputs: GdprInputs, title: str) -> list[str]:
    org = inputs.answers.text("organisation", "name")
    return [
        f"# {title}" + (f": {org}" if org else ""),
        "",
        f"_Written by Ethos {__version__}{' on ' + inputs.date if inputs.date else ''} from the configuration "
        f"{inputs.answers.source} and the run store. Audit evidence is copied from run records; each item marked "
        "TODO is for a person to complete. Article items are paraphrased: check them against the official text._",
    ]


def _organisation(a: Answers) -> list[str]:
    section = a.questionnaire.section("organisation")
    return ["## (a) Controller or processor", "", *bullet_answers(a, section)]


def _activities(inputs: GdprInputs) -> list[list[str]]:
    a = inputs.answers
    entries = a.items("activity")
    if not entries:
        return [
            [
                "## Processing activities",
                "",
                todo("Which processing activities are there? Add one [[activity]] table per activity.", "[[activity]]"),
            ]
        ]
    measures_answered = any(a.get("measures", q.key) is not None for q in a.questionnaire.section("measures").questions)
    return [_activity(i, e, inputs, measures_answered) for i, e in enumerate(entries, start=1)]


def _activity(index: int, entry: Mapping[str, Answer], inputs: GdprInputs, measures_answered: bool) -> list[str]:
    title = display(entry.get("name")) or f"activity {index}"
    out = [f"## Activity {index}: {title}", ""]
    role = (inputs.answers.text("organisation", "role") or "").lower()
    rows: list[tuple[str, str]] = []
    if role == "processor" or "controller" in entry:
        rows.append(("controller (Art. 30(2)(a))", display(entry.get("controller")) or f"{TODO_MARK} on whose behalf?"))
    section = inputs.answers.questionnaire.section("activity")
    for item, key in _ART30_ROWS:
        value = display(entry.get(key))
        if value is None and key == "measures" and measures_answered:
            value = "see the Art. 32 record (`ethos report gdpr --article 32`)"
        question = section.question(key)
        rows.append((item, value or f"{TODO_MARK} {question.text if question else key}"))
    out += table(["Art. 30(1)", "entry"], rows)
    systems = entry.get("systems")
    if isinstance(systems, tuple):
        wanted = set(systems)
        runs = [r for r in inputs.runs if r.model.spec in wanted or r.model.name in wanted]
        out += ["", f"Systems: {', '.join(f'`{s}`' for s in systems)}. Their latest audits:", ""]
        out += audit_table(runs, inputs.notes)
    return out


def _art32(inputs: GdprInputs) -> list[list[str]]:
    a = inputs.answers
    section = a.questionnaire.section("measures")
    groups = (
        ("## (1)(a) Pseudonymisation and encryption", ("pseudonymisation", "encryption")),
        (
            "## (1)(b) Confidentiality, integrity, availability and resilience",
            ("confidentiality", "integrity", "availability"),
        ),
        ("## (1)(c) Restoring availability and access after an incident", ("restore",)),
        ("## (1)(d) Regular testing, assessment and evaluation", ("testing",)),
        (
            "## (2)-(4) Risk assessment, certification and staff instructions",
            ("risk_assessment", "certification", "staff_instructions"),
        ),
    )
    out = []
    for heading, keys in groups:
        skip = [q.key for q in section.questions if q.key not in keys]
        part = [heading, "", *bullet_answers(a, section, skip=skip)]
        if "testing" in keys:
            part += [
                "",
                "Evidence on file: the latest audit of each model and benchmark in the run store.",
                "",
                *audit_table(inputs.runs, inputs.notes),
            ]
        out.append(part)
    return out
