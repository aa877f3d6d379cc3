"""Query parsing and the checks made before any data is read."""

from __future__ import annotations

import math

import pytest

from ethos.errors import ConfigError
from ethos.pii.dp import Bounds, Query, ReleaseSpec, parse_bounds, parse_categories, parse_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("count", Query("count")),
        ("sum:age", Query("sum", "age")),
        ("mean:monthly income", Query("mean", "monthly income")),
        ("histogram:city", Query("histogram", "city")),
        ("quantile:age:0.5", Query("quantile", "age", 0.5)),
        ("quantile:a:b:0.9", Query("quantile", "a:b", 0.9)),
    ],
)
def test_when_a_query_is_well_formed_then_it_parses_and_prints_back(text: str, expected: Query) -> None:
    assert parse_query(text) == expected
    assert str(parse_query(text)) == text


@pytest.mark.parametrize(
    "text", ["", "avg:age", "sum", "count:x", "quantile:age", "quantile:age:1.5", "quantile:age:x"]
)
def test_when_a_query_is_malformed_then_config_error_names_it(text: str) -> None:
    with pytest.raises(ConfigError, match="--query"):
        parse_query(text)


def test_when_bounds_are_given_then_they_parse_per_column() -> None:
    assert parse_bounds(["age=0,120", " income = -5.5,1e6"]) == {"age": Bounds(0, 120), "income": Bounds(-5.5, 1e6)}


@pytest.mark.parametrize(
    ("item", "needle"),
    [
        ("age", "COL=LOW,HIGH"),
        ("age=1", "COL=LOW,HIGH"),
        ("age=a,b", "must be numbers"),
        ("age=0,inf", "finite"),
        ("age=5,5", "LOW must be below HIGH"),
        ("age=9,1", "LOW must be below HIGH"),
    ],
)
def test_when_bounds_are_invalid_then_config_error_says_why(item: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_bounds([item])


def test_when_categories_repeat_then_duplicates_are_dropped_in_order() -> None:
    assert parse_categories(["city=b, a,b,,c"]) == {"city": ("b", "a", "c")}
    with pytest.raises(ConfigError, match="at least one category"):
        parse_categories(["city=,"])


@pytest.mark.parametrize("kind", ["sum", "mean", "quantile"])
def test_when_a_bounded_query_has_no_bounds_then_the_error_asks_for_them_and_says_why(kind: str) -> None:
    query = parse_query(f"{kind}:age" + (":0.5" if kind == "quantile" else ""))
    with pytest.raises(ConfigError) as info:
        ReleaseSpec.build([query], epsilon=1.0)
    message = str(info.value)
    assert f"query {query} needs clamping bounds" in message
    assert "--bounds age=LOW,HIGH" in message
    assert "sensitivity" in message


def test_when_a_histogram_has_no_categories_then_the_error_asks_for_them() -> None:
    with pytest.raises(ConfigError, match=r"--categories city=a,b,c"):
        ReleaseSpec.build([parse_query("histogram:city")], epsilon=1.0)


def test_when_epsilon_is_split_then_shares_follow_the_weights_and_add_up() -> None:
    queries = [parse_query("count"), parse_query("sum:age")]
    even = ReleaseSpec.build(queries, epsilon=1.0, bounds={"age": Bounds(0, 100)})
    assert even.epsilons == (0.5, 0.5)
    weighted = ReleaseSpec.build(queries, epsilon=1.0, bounds={"age": Bounds(0, 100)}, split=[1, 3])
    assert weighted.epsilons == (0.25, 0.75)
    assert math.isclose(sum(weighted.epsilons), weighted.epsilon)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"epsilon": 0.0}, "--epsilon"),
        ({"epsilon": math.nan}, "--epsilon"),
        ({"epsilon": 1.0, "split": [1.0, 2.0]}, "one weight per --query"),
        ({"epsilon": 1.0, "split": [-1.0]}, "positive"),
        ({"epsilon": 1.0, "size": 0}, "--size"),
    ],
)
def test_when_release_flags_are_invalid_then_config_error(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        ReleaseSpec.build([parse_query("count")], **kwargs)  # type: ignore[arg-type]
