"""Information-loss metrics on tiny tables small enough to compute by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ethos.pii.tabular import Privacy, anonymize, load_hierarchies, read_table


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Six records; A: a a a b c c with a,b -> ab -> *, c -> c -> *; B: m f m m f f with m,f -> *."""
    (tmp_path / "t.csv").write_text("A;B\na;m\na;f\na;m\nb;m\nc;f\nc;f\n")
    (tmp_path / "t_hierarchy_A.csv").write_text("a;ab;*\nb;ab;*\nc;c;*\n")
    (tmp_path / "t_hierarchy_B.csv").write_text("m;*\nf;*\n")
    return tmp_path


def test_when_one_record_is_suppressed_then_the_metrics_match_the_hand_computation(tiny: Path) -> None:
    # Losses: (0,0) 0 but 2 records in classes < 2 (over the limit of 1); (1,0) 3*log2(4/3) + log2(4/1) with
    # one suppressed record (ab,f) -> the optimum. Classes kept: (ab,m) 3, (c,f) 2; suppressed: (ab,f) 1.
    result = anonymize(
        read_table(tiny / "t.csv"), ("A", "B"), load_hierarchies(tiny, ("A", "B")), Privacy(k=2, suppress=0.2)
    )
    assert result.transformation == {"A": 1, "B": 0}
    assert result.suppressed == 1
    assert result.k == 2
    loss = result.information_loss
    assert loss.non_uniform_entropy == pytest.approx(3 * math.log2(4 / 3) + 2, abs=1e-12)
    assert loss.discernibility == 3**2 + 2**2 + 6 * 1  # suppressed class pays records * size, as in ARX
    # NCP: 'ab' covers 2 of 3 leaves -> 0.5 for three records, 'c' -> 0; the suppressed record pays 1 per attribute.
    assert loss.ncp == pytest.approx((3 * 0.5 + 2 * 1) / (6 * 2), abs=1e-12)
    assert loss.generalization_intensity == pytest.approx((1 / 2 + 0 / 1) / 2, abs=1e-12)
    assert [row for row in result.rows] == [["ab", "m"], ["ab", "m"], ["ab", "m"], ["c", "f"], ["c", "f"]]


def test_when_nothing_may_be_suppressed_then_the_next_node_up_is_chosen(tiny: Path) -> None:
    # (1,0) leaves (ab,f) alone; (0,1) has 6 bits of loss but (a,*) 3, (b,*) 1 fails; (2,0) 8.755 bits: (*,m) 3,
    # (*,f) 3 -> optimum.
    result = anonymize(read_table(tiny / "t.csv"), ("A", "B"), load_hierarchies(tiny, ("A", "B")), Privacy(k=2))
    assert result.transformation == {"A": 2, "B": 0}
    expected = 3 * math.log2(6 / 3) + math.log2(6 / 1) + 2 * math.log2(6 / 2)
    assert result.information_loss.non_uniform_entropy == pytest.approx(expected, abs=1e-12)
    assert result.information_loss.discernibility == 3**2 + 3**2
    assert result.information_loss.ncp == pytest.approx(0.5, abs=1e-12)  # A fully generalised, B untouched


def test_when_mondrian_splits_four_numbers_then_ranges_and_losses_match_the_hand_computation(tmp_path: Path) -> None:
    (tmp_path / "n.csv").write_text("x,y\n1,a\n2,b\n3,c\n4,d\n")
    result = anonymize(read_table(tmp_path / "n.csv"), ("x",), {}, Privacy(k=2), algorithm="mondrian")
    assert [row[0] for row in result.rows] == ["[1-2]", "[1-2]", "[3-4]", "[3-4]"]
    assert result.transformation is None
    assert result.details == {"partitions": 2}
    assert result.information_loss.non_uniform_entropy == pytest.approx(4.0, abs=1e-12)  # 4 x log2(2 / 1)
    assert result.information_loss.discernibility == 2**2 + 2**2
    assert result.information_loss.ncp == pytest.approx(1 / 3, abs=1e-12)  # range 1 of 3
    assert result.information_loss.generalization_intensity is None
