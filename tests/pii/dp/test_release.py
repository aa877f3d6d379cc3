"""Releases through OpenDP: reproducible with a seed, the right noise scale, honest errors."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from ethos.errors import DataError
from ethos.pii.dp import (
    OTHER_CATEGORY,
    Bounds,
    ReleaseSpec,
    _opendp,
    draw,
    parse_query,
    quantile_candidates,
    read_csv,
    release,
)

AGES = [23, 35, 47, 51, 62, 29, 33, 41, 58, 70, 19, 44]
CITIES = ["Oslo", "Lima", "Oslo", "Pune", "Lima", "Oslo", "Kyiv", "Oslo", "Lima", "Pune", "Oslo", "Lima"]


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    rows = [f"{age};{city};{age * 1000 + 0.5}" for age, city in zip(AGES, CITIES, strict=True)]
    path.write_text("age;city;income\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _spec(*queries: str, epsilon: float = 1.0, size: int | None = None) -> ReleaseSpec:
    return ReleaseSpec.build(
        [parse_query(q) for q in queries],
        epsilon=epsilon,
        bounds={"age": Bounds(0, 100), "income": Bounds(0, 200_000)},
        categories={"city": ("Oslo", "Lima", "Pune")},
        size=size,
    )


ALL = ("count", "sum:age", "mean:age", "histogram:city", "quantile:age:0.5")


def test_when_the_same_seed_is_used_then_the_release_is_identical(people: Path) -> None:
    frame = read_csv(people)
    first = release(_spec(*ALL), frame, source=people, seed=42)
    again = release(_spec(*ALL), frame, source=people, seed=42)
    other = release(_spec(*ALL), frame, source=people, seed=43)
    assert first == again
    assert [v.value for v in first.values] != [v.value for v in other.values]
    assert first.noise_source == "seeded-numpy-pcg64"
    assert release(_spec("count"), frame, source=people).noise_source == "opendp-csprng"


def test_when_releasing_every_kind_then_each_value_names_its_query_epsilon_and_mechanism(people: Path) -> None:
    result = release(_spec(*ALL, epsilon=1.0), read_csv(people), source=people, seed=1)
    by_query = {(v.query, v.label): v for v in result.values}
    assert [label for (q, label) in by_query if q == "histogram:city"] == ["Oslo", "Lima", "Pune", OTHER_CATEGORY]
    assert by_query[("count", None)].mechanism == "discrete Laplace"
    assert by_query[("sum:age", None)].mechanism == "Laplace"
    assert by_query[("quantile:age:0.5", None)].mechanism == "exponential (report noisy min)"
    assert by_query[("quantile:age:0.5", None)].value in quantile_candidates(Bounds(0, 100))
    assert result.epsilon == 1.0 and result.delta == 0.0
    charged = {v.query: v.epsilon for v in result.values}
    assert all(eps <= 0.2 * (1 + 1e-9) for eps in charged.values())  # OpenDP's map never exceeds the share
    assert math.fsum(charged.values()) <= result.epsilon * (1 + 1e-9)


def test_when_the_noise_interval_is_reported_then_it_is_opendps_95_percent_accuracy(people: Path) -> None:
    value = release(_spec("count", epsilon=0.5), read_csv(people), source=people, seed=3).values[0]
    assert value.scale == pytest.approx(2.0)
    half = (value.ci_high - value.ci_low) / 2  # type: ignore[operator]
    # P(|discrete Laplace(2)| > k) = 2 e^{-(k+1)/2} / (1 + e^{-1/2}); the 95% half-width is the k where it hits 0.05
    assert half == pytest.approx(_opendp.opendp().discrete_laplacian_scale_to_accuracy(2.0, 0.05))
    assert 5.0 < half < 7.0


def test_when_drawing_many_seeded_sums_then_mean_and_spread_match_the_laplace_scale() -> None:
    noisy = _opendp.total(Bounds(0, 100), epsilon=1.0)
    rng = np.random.default_rng(7)
    data = [float(a) for a in AGES]
    draws = [draw(noisy, data, rng) for _ in range(4000)]
    true_sum = float(sum(AGES))
    std = noisy.scale * math.sqrt(2)  # Laplace(b) has standard deviation b·√2
    assert statistics.fmean(draws) == pytest.approx(true_sum, abs=4 * std / math.sqrt(len(draws)))
    assert statistics.stdev(draws) == pytest.approx(std, rel=0.06)


def test_when_drawing_many_seeded_counts_then_they_are_integers_with_discrete_laplace_spread() -> None:
    noisy = _opendp.count_rows(epsilon=0.5)
    rng = np.random.default_rng(11)
    draws = [draw(noisy, [0.0] * 500, rng) for _ in range(4000)]
    assert all(isinstance(d, int) for d in draws)
    q = math.exp(-1 / noisy.scale)
    variance = 2 * q / (1 - q) ** 2  # variance of the discrete Laplace (two-sided geometric)
    assert statistics.fmean(draws) == pytest.approx(500, abs=4 * math.sqrt(variance / len(draws)))
    assert statistics.variance(draws) == pytest.approx(variance, rel=0.1)


def test_when_seeded_and_opendp_noise_are_compared_then_their_spreads_agree() -> None:
    # OpenDP's side is unseeded: the 6-standard-error tolerance makes a false failure ~1e-9 likely.
    noisy = _opendp.total(Bounds(0, 100), epsilon=1.0)
    data = [float(a) for a in AGES]
    rng = np.random.default_rng(5)
    seeded = [draw(noisy, data, rng) for _ in range(3000)]
    native = [draw(noisy, data, None) for _ in range(3000)]
    expected = noisy.scale * math.sqrt(2)
    for sample in (seeded, native):
        assert statistics.stdev(sample) == pytest.approx(expected, rel=6 * 0.035)


def test_when_the_quantile_noise_is_small_then_the_seeded_median_is_the_true_median() -> None:
    noisy = _opendp.quantile(Bounds(0, 100), 0.5, epsilon=1.0)
    data = [float(v) for v in range(1, 100)] * 30  # median 50, many rows so scores are sharp
    rng = np.random.default_rng(0)
    picks = [draw(noisy, data, rng) for _ in range(200)]
    assert statistics.median(picks) == 50.0
    assert sum(abs(p - 50.0) <= 2 for p in picks) / len(picks) > 0.9


def test_when_the_size_is_public_then_the_mean_uses_opendps_sized_mean(people: Path) -> None:
    value = release(_spec("mean:age", size=len(AGES)), read_csv(people), source=people, seed=2).values[0]
    assert value.mechanism == "Laplace"
    assert value.ci_low is not None and value.ci_low < value.value < value.ci_high  # type: ignore[operator]


def test_when_the_mean_is_released_without_a_size_then_it_is_a_clamped_ratio_with_an_interval(people: Path) -> None:
    value = release(_spec("mean:age", epsilon=50.0), read_csv(people), source=people, seed=2).values[0]
    assert value.mechanism == "Laplace sum / discrete Laplace count"
    assert 0 <= value.ci_low <= value.value <= value.ci_high <= 100  # type: ignore[operator]
    assert value.value == pytest.approx(statistics.fmean(AGES), abs=3)


def test_when_a_numeric_column_holds_text_then_data_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("age,city\n30,Oslo\n,Lima\nforty,Pune\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        release(_spec("sum:age"), read_csv(path), source=path, seed=1)
    assert f"{path}, line 4, column 'age': 'forty' is not a number" in str(info.value)


def test_when_a_column_is_missing_then_data_error_lists_the_columns(people: Path) -> None:
    spec = ReleaseSpec.build([parse_query("sum:height")], epsilon=1.0, bounds={"height": Bounds(0, 3)})
    with pytest.raises(DataError, match=r"no column 'height'; the columns are: age, city, income"):
        release(spec, read_csv(people), source=people, seed=1)


def test_when_the_separator_is_a_semicolon_then_it_is_sniffed(people: Path) -> None:
    assert list(read_csv(people).columns) == ["age", "city", "income"]
    assert list(read_csv(people, sep=",").columns) == ["age;city;income"]


@pytest.mark.parametrize(("body", "line", "fields"), [("23,Oslo\n41\n", 3, 1), ("23,Oslo\n41,Lima,9\n", 3, 3)])
def test_when_a_row_has_the_wrong_number_of_fields_then_one_line_data_error_names_it(
    tmp_path: Path, body: str, line: int, fields: int
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("age,city\n" + body, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_csv(path)
    message = str(caught.value)
    assert f"ragged.csv, line {line}: {fields} fields, but the header has 2" in message
    assert "\n" not in message


def test_when_blank_lines_precede_a_bad_cell_then_its_real_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text('age,note\n30,a\n\n31,"two\nlines"\nforty,b\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"gaps\.csv, line 6, column 'age': 'forty' is not a number"):
        release(_spec("sum:age"), read_csv(path), source=path, seed=1)
