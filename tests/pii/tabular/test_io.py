"""Reading tables and ARX hierarchies: separators, and errors that name the file, line, column and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethos.errors import ConfigError, DataError
from ethos.pii.tabular import (
    Privacy,
    anonymize,
    check_table,
    detect_separator,
    find_hierarchy_files,
    load_hierarchies,
    read_hierarchy,
    read_table,
)
from tests.pii.tabular.independent import QUASI, synthetic


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_when_the_separator_is_not_given_then_it_is_detected(tmp_path: Path, sep: str) -> None:
    path = synthetic(tmp_path, rows=30, sep=sep)
    table = read_table(path)
    assert table.separator == sep
    assert table.columns == ("id", "zip", "age", "sex", "job", "disease")
    assert len(table) == 30


def test_when_a_header_has_one_separator_only_then_detection_still_works() -> None:
    assert detect_separator("a;b\n", "x.csv") == ";"
    with pytest.raises(DataError, match="x.csv: cannot detect the column separator.*pass --sep"):
        detect_separator("single\nvalue\n", "x.csv")


def test_when_a_row_has_too_many_fields_then_the_error_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a;b\n1;2\n3;4;5\n")
    with pytest.raises(DataError, match=r"t.csv line 3: 3 fields, but the header has 2"):
        read_table(tmp_path / "t.csv", ";")


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "the file is empty"), ("a,a\n1,2\n", "names column 'a' twice")],
)
def test_when_a_table_is_malformed_then_the_error_says_why(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "t.csv").write_text(content)
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / "t.csv", ",")


def test_when_the_file_is_missing_then_the_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope.csv: no such file"):
        read_table(tmp_path / "nope.csv")


def test_when_a_value_is_missing_from_its_hierarchy_then_attribute_value_line_and_first_row_are_named(
    tmp_path: Path,
) -> None:
    path = synthetic(tmp_path, rows=20)
    lines = path.read_text().splitlines()
    fields = lines[5].split(";")
    fields[4] = "pilot"
    lines[5] = ";".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        DataError,
        match=r"patients.csv line 6: value 'pilot' of column 'job' is not in its hierarchy "
        r"\(first row: 'nurse;health;\*'\)",
    ):
        anonymize(read_table(path), QUASI, load_hierarchies(tmp_path, QUASI), Privacy(k=2))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a;x;*\nb;x\n", r"h.csv line 2: 2 levels, but line 1 has 3"),
        ("a;x;*\na;y;*\n", r"h.csv line 2: value 'a' is already on line 1"),
        ("a;x;*\nb;x;top\n", r"h.csv line 2: 'x' \(level 1\) generalises to 'top', but to '\*' on line 1"),
        ("\n", r"h.csv for 'q' is empty"),
    ],
)
def test_when_a_hierarchy_is_malformed_then_the_error_names_its_line(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "h.csv").write_text(content)
    with pytest.raises(DataError, match=message):
        read_hierarchy(tmp_path / "h.csv", "q")


def test_when_hierarchies_are_named_either_way_then_both_are_found(tmp_path: Path) -> None:
    (tmp_path / "adult_hierarchy_age.csv").write_text("1;*\n")
    (tmp_path / "sex.csv").write_text("M;*\n")
    found = find_hierarchy_files(tmp_path, ["age", "sex", "race"])
    assert found == {"age": tmp_path / "adult_hierarchy_age.csv", "sex": tmp_path / "sex.csv"}
    (tmp_path / "age.csv").write_text("1;*\n")
    with pytest.raises(ConfigError, match=r"several hierarchies for 'age' \(adult_hierarchy_age.csv, age.csv\)"):
        find_hierarchy_files(tmp_path, ["age"])


def test_when_a_hierarchy_file_is_missing_then_the_attribute_and_the_naming_rule_are_given(tmp_path: Path) -> None:
    synthetic(tmp_path, rows=10)
    (tmp_path / "patients_hierarchy_job.csv").unlink()
    with pytest.raises(ConfigError, match=r"no hierarchy for 'job'; add <dataset>_hierarchy_<attribute>.csv"):
        load_hierarchies(tmp_path, QUASI)
    assert set(load_hierarchies(tmp_path, QUASI, required=())) == {"zip", "age", "sex"}


def test_when_a_column_is_misspelt_then_the_error_suggests_the_right_one(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=10)
    with pytest.raises(ConfigError, match=r"--quasi: .*has no column 'zpi'\. Did you mean 'zip'\? Columns: id, zip"):
        check_table(read_table(path), ["zpi", "age"])
    with pytest.raises(ConfigError, match=r"--sensitive: .*has no column 'diseas'\. Did you mean 'disease'"):
        anonymize(read_table(path), QUASI, load_hierarchies(tmp_path, QUASI), Privacy(k=2, l=2, sensitive=("diseas",)))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(k=0), r"--k 0: k must be at least 1"),
        (dict(k=2, l=2), r"--l needs --sensitive"),
        (dict(k=2, suppress=1.0), r"--suppress 1.0: give a share in \[0, 1\)"),
        (dict(k=2, l=0, sensitive=("s",)), r"--l 0: l must be at least 1"),
    ],
)
def test_when_privacy_settings_are_impossible_then_the_flag_is_named(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Privacy(**settings)


def test_when_a_cell_holds_a_unicode_line_separator_then_the_row_stays_whole(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("age,note\n30,a\u2028b\n31,c\x85d\n", encoding="utf-8")
    table = read_table(path)
    assert [list(row) for row in table.rows] == [["30", "a\u2028b"], ["31", "c\x85d"]]
