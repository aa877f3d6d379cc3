"""Datasheets: Gebru et al.'s sections, measured statistics as given, opt-out receipts, TODOs for the rest."""

from __future__ import annotations

from ethos.reports.card import TODO_MARK, count_todos
from ethos.reports.datasheet import DATASHEET_QUESTIONS, DatasheetInputs, FileStats, OptoutReceipt, render_datasheet

SECTIONS = [
    "## Motivation",
    "## Composition",
    "## Collection process",
    "## Preprocessing, cleaning and labelling",
    "## Uses",
    "## Distribution",
    "## Maintenance",
]
CHATS = FileStats(
    "chats.jsonl",
    "d" * 64,
    2048,
    "jsonl",
    120,
    {"EMAIL_ADDRESS": 7, "PHONE_NUMBER": 2},
    {"messages.content": {"EMAIL_ADDRESS": 5, "PHONE_NUMBER": 2}, "user.email": {"EMAIL_ADDRESS": 2}},
    ("every string value scanned",),
)
RAW = FileStats("raw.bin", "e" * 64, 10)


def test_when_nothing_is_answered_then_all_seven_sections_appear_in_order_with_todos() -> None:
    text = render_datasheet(DatasheetInputs())
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    asked = sum(len(s.questions) for s in DATASHEET_QUESTIONS.sections if s.key != "dataset")
    assert count_todos(text) == asked
    assert "No data file was given" in text and "No opt-out receipt was given" in text


def test_when_files_are_measured_then_counts_per_entity_and_field_are_tabled() -> None:
    text = render_datasheet(DatasheetInputs(files=[CHATS, RAW]))
    assert "| chats.jsonl | jsonl | 120 | 2048 | dddddddddddddddd… |" in text
    assert "| file | EMAIL_ADDRESS | PHONE_NUMBER |" in text
    assert "| chats.jsonl | 7 | 2 |" in text
    assert "| chats.jsonl | messages.content | EMAIL_ADDRESS | 5 |" in text
    assert "| chats.jsonl | user.email | EMAIL_ADDRESS | 2 |" in text
    assert "Not scanned: raw.bin." in text
    assert f"`chats.jsonl`: `{'d' * 64}` (2048 bytes)" in text
    assert "- chats.jsonl: every string value scanned" in text


def test_when_a_scanned_file_has_no_findings_then_the_datasheet_says_so() -> None:
    clean = FileStats("clean.txt", "f" * 64, 5, "text", 1, {}, {})
    assert "No personal data was detected in the scanned files." in render_datasheet(DatasheetInputs(files=[clean]))


def test_when_a_receipt_is_given_then_its_removals_and_matching_file_are_listed() -> None:
    receipt = OptoutReceipt(
        "clean.csv.receipt.json", "users.csv", "clean.csv", "2026-03-01T10:00:00Z", 3, "rows", 10, 7, "d" * 64,
        "chats.jsonl",
    )  # fmt: skip
    text = render_datasheet(DatasheetInputs(files=[CHATS], receipts=[receipt]))
    assert (
        "| 2026-03-01T10:00:00Z | users.csv | clean.csv | 3 rows | 10 → 7 | chats.jsonl | clean.csv.receipt.json |"
        in text
    )


def test_when_answered_then_answers_replace_todos_and_name_the_sheet() -> None:
    answers = DATASHEET_QUESTIONS.parse(
        '[dataset]\nname = "Support chats"\nversion = "2026-03"\n'
        '[distribution]\nlicense = "CC-BY-4.0"\nsource = "https://example.org/chats"\n',
        source="datasheet.toml",
    )
    text = render_datasheet(DatasheetInputs(answers))
    assert "\n# Datasheet: Support chats (version 2026-03)\n" in text
    assert "Under which licence or terms of use is it distributed?** CC-BY-4.0" in text
    assert f"{TODO_MARK} Under which licence" not in text
    assert f"{TODO_MARK} Who maintains the data set?" in text


def test_when_rendered_then_hugging_face_reads_its_dataset_card_metadata() -> None:
    from huggingface_hub import DatasetCard

    answers = DATASHEET_QUESTIONS.parse(
        '[dataset]\nname = "Support chats"\nlanguage = ["en", "de"]\n[distribution]\nlicense = "cc-by-4.0"\n',
        source="datasheet.toml",
    )
    big = FileStats("more.csv", "a" * 64, 10, "csv", 9_950, {}, {})
    card = DatasetCard(render_datasheet(DatasheetInputs(answers, files=[CHATS, big])))  # offline parse
    assert card.data.to_dict() == {
        "pretty_name": "Support chats",
        "license": "cc-by-4.0",
        "language": ["en", "de"],
        "size_categories": ["10K<n<100K"],  # 120 + 9,950 records
        "tags": ["ethos", "datasheet"],
    }
    unscanned = DatasetCard(render_datasheet(DatasheetInputs(files=[RAW])))
    assert "size_categories" not in unscanned.data.to_dict()  # a file without a record count: size unknown
