"""Text, JSONL and CSV through ``process_file``: what is changed, what is kept byte for byte, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ethos.errors import ConfigError, DataError
from ethos.pii.detect import AnalyzerConfig
from ethos.pii.files import FileOptions, RedactJob, ScanJob, mask_for_display, process_file

PATTERNS = AnalyzerConfig(spacy_model=None)
JOB = RedactJob(PATTERNS)


def redact(src: Path, **options: object) -> tuple[str, dict[str, object]]:
    out = src.with_name("out" + src.suffix)
    summary = process_file(src, JOB, output=out, options=FileOptions(**options))  # type: ignore[arg-type]
    return out.read_bytes().decode("utf-8"), summary.to_json()


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_when_a_text_file_is_redacted_then_only_pii_changes_and_line_endings_stay(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes("\ufeffmail a@example.org\r\nno pii here\r\nb@example.org and a@example.org".encode())
    out, summary = redact(src)
    assert out == "\ufeffmail <EMAIL_ADDRESS_1>\r\nno pii here\r\n<EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_2>"
    assert summary["records"] == {"read": 3, "changed": 2, "skipped": 0}
    assert summary["fields"] == {"text": {"EMAIL_ADDRESS": 3}}


def test_when_whole_mode_is_used_then_the_file_is_one_document(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("a@example.org\nb@example.org\na@example.org\n")
    out, summary = redact(src, format="whole")
    assert out == "<EMAIL_ADDRESS_1>\n<EMAIL_ADDRESS_2>\n<EMAIL_ADDRESS_1>\n"
    assert summary["records"]["read"] == 1  # type: ignore[index]


def test_when_jsonl_fields_are_chosen_then_only_they_change_and_other_lines_are_kept(tmp_path: Path) -> None:
    src = tmp_path / "chat.jsonl"
    lines = [
        '{"id":1,"messages":[{"role":"user","content":"I am a@example.org"},{"role":"bot","content":"ok"}],'
        '"meta":{"from":"b@example.org"}}',
        "",
        '{"id": 2, "messages": [], "score": 1e5}',
        '{"id":3,"messages":[{"content":["x@example.org", 7]}],"meta":{"from":5}}',
    ]
    src.write_text("\n".join(lines) + "\n")
    out, summary = redact(src, fields=("messages.content", "meta.from"))
    got = out.split("\n")
    assert json.loads(got[0]) == {
        "id": 1,
        "messages": [{"role": "user", "content": "I am <EMAIL_ADDRESS_1>"}, {"role": "bot", "content": "ok"}],
        "meta": {"from": "<EMAIL_ADDRESS_2>"},
    }
    assert got[1:3] == lines[1:3]  # blank line and unchanged record: byte for byte
    assert json.loads(got[3]) == {"id": 3, "messages": [{"content": ["<EMAIL_ADDRESS_1>", 7]}], "meta": {"from": 5}}
    assert summary["fields"] == {"messages.content": {"EMAIL_ADDRESS": 2}, "meta.from": {"EMAIL_ADDRESS": 1}}


def test_when_no_jsonl_field_is_given_then_every_string_is_scanned(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"a": {"b": ["x@example.org"]}, "n": 3, "ok": True}) + "\n")
    out, summary = redact(src)
    assert json.loads(out) == {"a": {"b": ["<EMAIL_ADDRESS_1>"]}, "n": 3, "ok": True}
    assert summary["fields"] == {"a.b": {"EMAIL_ADDRESS": 1}}


def test_when_a_jsonl_line_is_a_bare_string_then_it_is_scanned_too(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('"mail a@example.org"\n["b@example.org", 4]\n')
    out, summary = redact(src)
    assert [json.loads(line) for line in out.splitlines()] == ["mail <EMAIL_ADDRESS_1>", ["<EMAIL_ADDRESS_1>", 4]]
    assert summary["fields"] == {"(value)": {"EMAIL_ADDRESS": 2}}


def test_when_a_jsonl_field_does_not_exist_then_the_error_lists_the_fields(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a@example.org", "user": {"mail": "b@example.org"}}\n')
    with pytest.raises(DataError, match="'txt'.*fields there: text, user.mail") as info:
        redact(src, fields=("txt",))
    assert "example.org" not in str(info.value)
    assert files_in(tmp_path) == ["in.jsonl"]


def test_when_a_csv_has_its_own_dialect_then_it_is_kept(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_bytes(b"id;contact;comment\n1;a@example.org;\"says; hi\"\n2;none;\"b@example.org\"\n")
    out, summary = redact(src, columns=("contact",))
    assert out == "id;contact;comment\n1;<EMAIL_ADDRESS_1>;\"says; hi\"\n2;none;\"b@example.org\"\n"
    assert summary["fields"] == {"contact": {"EMAIL_ADDRESS": 1}}


def test_when_csv_columns_are_not_given_then_pii_columns_are_detected(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_text("id,customer_name,reach,notes,code\r\n1,Ann,a@example.org,,X1\r\n2,Bob,+44 20 7946 0958,x,X2\r\n")
    out, summary = redact(src)
    # customer_name: no pattern finds bare names, but the header says every cell is a PERSON
    assert out.splitlines()[1:] == ["1,<PERSON_1>,<EMAIL_ADDRESS_1>,,X1", "2,<PERSON_1>,<PHONE_NUMBER_1>,x,X2"]
    notes = " ".join(summary["notes"])  # type: ignore[arg-type]
    assert "'customer_name': its header names personal data" in notes
    assert "'customer_name': every cell is replaced whole as PERSON" in notes
    assert "'reach': personal data found in 2 of 2 sampled rows" in notes
    assert "'notes': its header names personal data" in notes  # free text: scanned, not replaced whole
    assert "'code'" not in notes and "'id'" not in notes
    assert summary["fields"] == {
        "customer_name": {"PERSON": 2},
        "reach": {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1},
    }


@pytest.mark.parametrize(
    ("header", "entity"),
    [
        ("E-Mail", "EMAIL_ADDRESS"),
        ("last_name", "PERSON"),
        ("DateOfBirth", "DATE_TIME"),
        ("Phone Number", "PHONE_NUMBER"),
    ],
)
def test_when_a_chosen_column_header_names_an_entity_then_whole_cells_are_replaced(
    tmp_path: Path, header: str, entity: str
) -> None:
    src = tmp_path / "t.csv"
    src.write_text(f"id,{header}\n1, some value \n2,\n")
    out, _ = redact(src, columns=(header,))
    assert out.splitlines()[1:] == [f"1, <{entity}_1> ", "2,"]


def test_when_entities_or_an_allow_list_are_set_then_header_columns_follow_them(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("name,email\nAna Lopez,support@example.org\nBob Stone,b@example.org\n")
    only_email = RedactJob(AnalyzerConfig(spacy_model=None, entities=("EMAIL",), allow_list=("support@example.org",)))
    process_file(src, only_email, output=tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "name,email",
        "Ana Lopez,support@example.org",
        "Bob Stone,<EMAIL_ADDRESS_1>",
    ]


def test_when_a_csv_column_does_not_exist_then_the_error_lists_the_columns(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_text("id,email\n1,a@example.org\n")
    with pytest.raises(DataError, match="no column 'mail'; columns: id, email"):
        redact(src, columns=("mail",))
    assert files_in(tmp_path) == ["people.csv"]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("in.jsonl", b'{"t": "a@example.org"}\n{"t": "secret@example.org\n{"t": "b"}\n', "line 2: not valid JSON"),
        ("in.txt", b"ok a@example.org\nbad \xff\xfe byte\nok\n", r"line 2: not valid utf-8 \(byte offset 21;"),
        ("in.csv", b'id,email\n1,a@example.org\n2,"x@example.org"z\n', "line 3: not valid CSV"),
        ("in.csv", b"id,email\n1,a@example.org\n2,x,Lopez, c@example.org\n", "line 3: row has 4 cells, the header 2"),
        ("in.jsonl", b'{"t": "a@example.org"}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n", "line 2: JSON nested"),
    ],
    ids=["json", "encoding", "csv", "csv-row-longer-than-header", "json-too-deep"],
)
def test_when_a_record_is_malformed_then_it_stops_with_its_line_or_is_skipped(
    tmp_path: Path, name: str, content: bytes, fragment: str
) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    with pytest.raises(DataError, match=fragment) as info:
        redact(src, chunk_size=1)
    assert "example.org" not in str(info.value) and "--skip-bad" in str(info.value)
    assert files_in(tmp_path) == [name]  # no partial output, no temp file
    out, summary = redact(src, skip_bad=True)
    assert summary["records"]["skipped"] == 1  # type: ignore[index]
    assert summary["bad_records"][0]["line"] == int(fragment.split()[1].rstrip(":;"))  # type: ignore[index]
    assert "a@example.org" not in out and "<EMAIL_ADDRESS_1>" in out
    assert "example.org" not in out.replace("a@example.org", "")  # the bad record is left out, not copied


@pytest.mark.parametrize("make", [lambda p: None, lambda p: p.mkdir()], ids=["missing", "directory"])
def test_when_the_input_cannot_be_read_then_the_error_names_it(tmp_path: Path, make: object) -> None:
    src = tmp_path / "in.txt"
    make(src)  # type: ignore[operator]
    with pytest.raises(DataError, match=f"cannot read {src}"):
        process_file(src, ScanJob(PATTERNS))


def test_when_in_place_is_asked_then_the_input_is_replaced_atomically(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("mail a@example.org\n")
    os.chmod(src, 0o640)
    before = src.stat().st_ino
    process_file(src, JOB, options=FileOptions(in_place=True))
    assert src.read_text() == "mail <EMAIL_ADDRESS_1>\n"
    assert src.stat().st_ino != before  # a new file renamed over the old one, never a rewrite in place
    assert oct(src.stat().st_mode & 0o777) == oct(0o640)
    assert files_in(tmp_path) == ["in.txt"]


def test_when_in_place_is_given_a_symlink_then_the_file_it_points_to_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("mail a@example.org\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    process_file(link, JOB, options=FileOptions(in_place=True))
    assert link.is_symlink()
    assert real.read_text() == "mail <EMAIL_ADDRESS_1>\n"


def test_when_in_place_fails_then_the_input_is_untouched(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    original = b'{"t": "a@example.org"}\n{oops\n'
    src.write_bytes(original)
    with pytest.raises(DataError, match="line 2"):
        process_file(src, JOB, options=FileOptions(in_place=True, chunk_size=1))
    assert src.read_bytes() == original
    assert files_in(tmp_path) == ["in.jsonl"]


def test_when_the_encoding_is_unknown_then_a_config_error_comes_before_any_output(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("a@example.org\n")
    with pytest.raises(ConfigError, match="unknown encoding 'nope'"):
        process_file(src, JOB, output=tmp_path / "out.txt", options=FileOptions(encoding="nope"))
    assert files_in(tmp_path) == ["in.txt"]


def test_when_the_output_cannot_be_written_then_a_data_error_names_it(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("a@example.org\n")
    (tmp_path / "file").write_text("")
    with pytest.raises(DataError, match="cannot write .*file/out.txt"):
        process_file(src, JOB, output=tmp_path / "file" / "out.txt")
    assert files_in(tmp_path) == ["file", "in.txt"]


def test_when_the_output_is_the_input_then_it_is_refused_without_in_place(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("x\n")
    with pytest.raises(ConfigError, match="--in-place"):
        process_file(src, JOB, output=tmp_path / "." / "in.txt")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [({"fields": ("a",)}, "--fields applies to JSONL"), ({"columns": ("a",)}, "--columns applies to CSV")],
)
def test_when_options_do_not_fit_the_format_then_they_are_refused(
    tmp_path: Path, options: dict[str, object], fragment: str
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("x\n")
    with pytest.raises(ConfigError, match=fragment):
        process_file(src, JOB, output=tmp_path / "o.txt", options=FileOptions(**options))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("jane.doe@example.org", "****.***@*******.***"),
        ("+1 415-555-0100", "+* ***-***-****"),
        ("x" * 50, "*" * 40 + "…"),
    ],
)
def test_when_a_value_is_shown_then_only_its_shape_is(value: str, shown: str) -> None:
    assert mask_for_display(value) == shown


def test_when_json_keys_are_data_then_the_per_field_counts_stay_bounded(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"by_user": {f"u{i}": "x@example.org"}}) + "\n" for i in range(1_200)))
    _, summary = redact(src)
    fields = summary["fields"]
    assert len(fields) == 1_001  # type: ignore[arg-type]
    assert fields["(other fields)"] == {"EMAIL_ADDRESS": 200}  # type: ignore[index]
