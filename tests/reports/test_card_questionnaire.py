"""Questionnaires: answers validated with errors that name file, line and key; templates that round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethos.errors import ConfigError
from ethos.reports.card import CARD_QUESTIONS
from ethos.reports.compliance import GDPR_QUESTIONS, TRANSPARENCY_QUESTIONS
from ethos.reports.datasheet import DATASHEET_QUESTIONS

CASES = [
    (
        "misspelt_section",
        '[metadata]\nlicense = "mit"\n\n[intended_uses]\nprimary_users = "x"\n',
        "card.toml:4: unknown section 'intended_uses'. Did you mean 'intended_use'?",
    ),
    (
        "misspelt_key",
        '[intended_use]\nprimary_uses = "x"\n# a comment\nprimary_user = "y"\n',
        "card.toml:4: [intended_use]: unknown key 'primary_user'. Did you mean 'primary_users'?",
    ),
    (
        "number_for_text",
        '[model_details]\ndevelopers = "Ada"\nversion = 2\n',
        "card.toml:3: [model_details], key 'version': expected a string, got 2",
    ),
    (
        "text_for_number",
        '[environment]\n\ntraining_co2_g = "12 kg"\n',
        "card.toml:3: [environment], key 'training_co2_g': expected a number >= 0, got a string",
    ),
    (
        "negative_number",
        "[environment]\ntraining_co2_g = -1\n",
        "card.toml:2: [environment], key 'training_co2_g': expected a number >= 0, got -1",
    ),
    (
        "list_with_numbers",
        '[metadata]\nlanguage = ["en", 3]\n',
        "card.toml:2: [metadata], key 'language': expected a list of strings (or one string), got a list with",
    ),
    ("section_not_table", 'metadata = "x"\n', "card.toml:1: 'metadata' must be a table"),
    ("bad_toml", '[metadata]\nlicense = "unterminated\n', "card.toml: not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_when_answers_are_wrong_then_the_error_names_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CARD_QUESTIONS.parse(text, source="card.toml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_when_a_repeated_section_entry_has_a_bad_key_then_the_line_is_inside_that_entry() -> None:
    text = '[[activity]]\nname = "CRM"\n\n[[activity]]\nname = "Chat"\npurpos = "support"\n'
    with pytest.raises(ConfigError, match=r"^org.toml:6: \[\[activity\]\] entry 2: unknown key 'purpos'. Did you mean"):
        GDPR_QUESTIONS.parse(text, source="org.toml")


def test_when_a_repeated_section_is_written_as_a_table_then_the_error_says_to_use_double_brackets() -> None:
    with pytest.raises(ConfigError, match=r"org.toml:1: 'activity' is a list: write one \[\[activity\]\]"):
        GDPR_QUESTIONS.parse('[activity]\nname = "CRM"\n', source="org.toml")


def test_when_the_file_is_missing_then_the_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the model card questions file .*missing.toml"):
        CARD_QUESTIONS.load(tmp_path / "missing.toml")


def test_when_answers_are_blank_then_they_count_as_unanswered() -> None:
    answers = CARD_QUESTIONS.parse('[metadata]\nlicense = "  "\nlanguage = []\ntags = ["", "x"]\n', source="c")
    assert answers.get("metadata", "license") is None
    assert answers.get("metadata", "language") is None
    assert answers.get("metadata", "tags") == ("x",)


def test_when_lists_numbers_and_strings_are_answered_then_they_are_typed() -> None:
    answers = CARD_QUESTIONS.parse(
        '[metadata]\nlanguage = "en"\n[environment]\ntraining_co2_g = 12\n[intended_use]\nprimary_uses = " QA "\n',
        source="c",
    )
    assert answers.get("metadata", "language") == ("en",)
    assert answers.get("environment", "training_co2_g") == 12.0
    assert answers.text("intended_use", "primary_uses") == "QA"
    unanswered = {(s.key, q.key) for s, q in answers.unanswered()}
    assert ("metadata", "language") not in unanswered and ("metadata", "license") in unanswered


@pytest.mark.parametrize(
    "questionnaire",
    [CARD_QUESTIONS, DATASHEET_QUESTIONS, TRANSPARENCY_QUESTIONS, GDPR_QUESTIONS],
    ids=lambda q: q.name,
)
def test_when_the_template_is_parsed_then_it_is_valid_and_leaves_every_question_unanswered(questionnaire) -> None:  # type: ignore[no-untyped-def]
    answers = questionnaire.parse(questionnaire.template(), source="template.toml")
    plain = [q for s in questionnaire.sections if not s.repeated for q in s.questions]
    assert len(answers.unanswered()) == len(plain)
    for section in questionnaire.sections:
        for question in section.questions:
            assert f"# {question.text}" in questionnaire.template()
