"""``check_table``: k, l and prosecutor risk of a table as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethos.errors import ConfigError, DataError
from ethos.pii.tabular import check_table, read_table
from tests.conftest import shared_data


def test_when_checking_a_small_table_then_every_measure_matches_the_hand_count(tmp_path: Path) -> None:
    # Classes over (zip, sex): (1,M) x3 with flu/flu/cold, (1,F) x2 with flu/cold, (2,M) x1 with flu.
    (tmp_path / "t.csv").write_text("zip,sex,disease\n1,M,flu\n1,M,flu\n1,F,flu\n1,M,cold\n2,M,flu\n1,F,cold\n")
    report = check_table(read_table(tmp_path / "t.csv"), ["zip", "sex"], ["disease"], risk_threshold=3)
    assert (report.records, report.classes, report.k, report.l) == (6, 3, 1, 1)
    assert report.entropy_l == pytest.approx(1.0)  # the singleton class has entropy 0
    assert report.records_at_risk == 3  # (1,F) and (2,M) are smaller than 3
    assert report.share_at_risk == pytest.approx(0.5)
    assert report.unique_records == 1
    assert report.prosecutor_max == 1.0
    assert report.prosecutor_average == pytest.approx(3 / 6)
    assert list(report.as_dict())[:3] == ["k", "l", "records"]


def test_when_checking_raw_adult_then_its_published_class_counts_are_found() -> None:
    folder = shared_data("adult")
    quasi = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"]
    report = check_table(read_table(folder / "adult.csv"), quasi)
    # ../shared/data/adult/SOURCE.md: 18,109 equivalence classes, 14,021 unique records, k = 1
    assert (report.classes, report.unique_records, report.k, report.l) == (18109, 14021, 1, None)


def test_when_a_column_is_both_quasi_and_sensitive_then_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="a: a column cannot be both --quasi and --sensitive"):
        check_table(read_table(tmp_path / "t.csv"), ["a"], ["a"])


def test_when_the_table_has_no_records_then_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="t.csv: the table has no records"):
        check_table(read_table(tmp_path / "t.csv"), ["a"])
