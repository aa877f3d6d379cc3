"""Mondrian: every released table is k-anonymous (and l-diverse when asked), and truthful."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ethos.errors import DataError
from ethos.pii.tabular import Privacy, anonymize, load_hierarchies, read_table
from tests.conftest import shared_data
from tests.pii.tabular.independent import QUASI, assert_k_anonymous, assert_l_diverse, read, synthetic

ADULT_QUASI = ("sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation")


def covers(released: str, original: str) -> bool:
    """Whether a released numeric value ("[a-b]" or "v") contains the original number."""
    if released.startswith("["):
        low, high = released[1:-1].split("-")
        return float(low) <= float(original) <= float(high)
    return released == original


@pytest.mark.parametrize(("k", "l"), [(5, None), (100, None), (5, 2)])
def test_when_anonymizing_adult_then_the_output_is_k_anonymous_and_truthful(
    tmp_path: Path,
    k: int,
    l: int | None,  # noqa: E741
) -> None:
    folder = shared_data("adult")
    sensitive = ("salary-class",) if l else ()
    result = anonymize(
        read_table(folder / "adult.csv"), ADULT_QUASI, load_hierarchies(folder, ADULT_QUASI),
        Privacy(k=k, l=l, sensitive=sensitive), algorithm="mondrian",
    )  # fmt: skip
    result.write(tmp_path / "out.csv")
    released = read(tmp_path / "out.csv")
    original = read(folder / "adult.csv")
    assert len(released) == len(original) == result.records
    assert_k_anonymous(released, ADULT_QUASI, k)
    if l:
        assert_l_diverse(released, ADULT_QUASI, "salary-class", l, "distinct")
    assert result.k == int(released.groupby(list(ADULT_QUASI)).size().min())
    assert all(map(covers, released["age"], original["age"]))
    assert (released["salary-class"] == original["salary-class"]).all()  # not a quasi-identifier: untouched
    assert result.seconds < 10
    if k == 5 and l is None:  # local recoding keeps far more detail than the full-domain optimum (407,289 bits)
        assert result.information_loss.non_uniform_entropy < 407289


def test_when_mondrian_uses_hierarchies_then_categories_become_common_ancestors(tmp_path: Path) -> None:
    path = synthetic(tmp_path, rows=300)
    hierarchies = load_hierarchies(tmp_path, QUASI)
    result = anonymize(read_table(path), QUASI, hierarchies, Privacy(k=4), algorithm="mondrian")
    result.write(tmp_path / "out.csv")
    released = read(tmp_path / "out.csv")
    original = read(path)
    assert_k_anonymous(released, QUASI, 4)
    for name in ("sex", "job"):  # categorical: the released value is an ancestor (or the value) of the original
        ancestors = {row[0]: set(row) for row in hierarchies[name].rows}
        assert all(rel in ancestors[orig] for rel, orig in zip(released[name], original[name], strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("k", "l", "kind"), [(2, None, "distinct"), (7, None, "distinct"), (3, 2, "entropy")])
def test_when_partitioning_random_tables_without_hierarchies_then_every_class_satisfies_the_model(
    tmp_path: Path,
    seed: int,
    k: int,
    l: int | None,  # noqa: E741
    kind: str,
) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    frame = pd.DataFrame(
        {
            "height": rng.normal(170, 10, n).round(1).astype(str),
            "colour": rng.choice(["red", "green", "blue", "grey"], n),
            "visits": rng.integers(0, 30, n).astype(str),
            "diagnosis": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    quasi = ("height", "colour", "visits")
    sensitive = ("diagnosis",) if l else ()
    result = anonymize(
        read_table(tmp_path / "t.csv"), quasi, {}, Privacy(k=k, l=l, diversity=kind, sensitive=sensitive),
        algorithm="mondrian",
    )  # fmt: skip
    result.write(tmp_path / "out.csv")
    released = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert_k_anonymous(released, quasi, k)
    if l:
        assert_l_diverse(released, quasi, "diagnosis", l, kind)
    colours = released["colour"].str.strip("{}").str.split(", ")
    assert all(orig in allowed for orig, allowed in zip(frame["colour"], colours, strict=True))  # sets hold the value
    assert result.details["partitions"] > 1


def test_when_the_whole_table_fails_the_model_then_mondrian_refuses(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("x,s\n1,a\n2,a\n3,a\n")
    with pytest.raises(DataError, match=r"whole table \(3 records\) does not satisfy k=2, l=2"):
        anonymize(read_table(tmp_path / "t.csv"), ("x",), {}, Privacy(k=2, l=2, sensitive=("s",)), algorithm="mondrian")
