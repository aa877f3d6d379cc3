"""Twin sets: only the attribute changes between twins; --limit draws a seeded, stratified subset."""

from __future__ import annotations

import difflib
import re
from collections import Counter

import pytest

from ethos.audit.suites.fairness._scenario import load_suite
from ethos.audit.suites.fairness._twins import TwinSet, build_twins, select

WORDS = re.compile(r"[\w']+|\S")


@pytest.fixture(scope="module")
def twins() -> list[TwinSet]:
    return build_twins(load_suite([], []))


def _changed_words(a: str, b: str) -> set[str]:
    x, y = WORDS.findall(a), WORDS.findall(b)
    out: set[str] = set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=x, b=y, autojunk=False).get_opcodes():
        if tag != "equal":
            out |= set(x[i1:i2]) | set(y[j1:j2])
    return out


def test_when_twins_are_built_then_members_differ_only_in_the_attribute_words(twins: list[TwinSet]) -> None:
    for twin in twins:
        allowed = {w for value in twin.values for w in WORDS.findall(value)}
        for text in twin.texts[1:]:
            changed = _changed_words(twin.texts[0], text)
            assert changed and changed <= allowed, (twin.id, changed - allowed)


def test_when_twins_are_built_then_every_member_carries_its_group_value(twins: list[TwinSet]) -> None:
    names = [t for t in twins if t.attribute == "name"]
    assert names
    for twin in names:
        for value, text in zip(twin.values, twin.texts, strict=True):
            assert re.search(rf"\b{value}\b", text)


def test_when_builtins_are_expanded_then_the_counts_follow_attributes_levels_and_draws(twins: list[TwinSet]) -> None:
    per = Counter((t.scenario, t.attribute) for t in twins)
    assert per[("hiring-nurse", "name")] == 3 * 9  # three levels x nine names per group
    assert per[("hiring-nurse", "pronoun")] == 3 * 6  # three levels x draws = 6
    assert per[("support-ticket-priority", "name")] == 3 * 9
    assert ("support-ticket-priority", "age") not in per
    assert len({t.id for t in twins}) == len(twins)


def test_when_fillers_are_lists_then_they_cycle_over_draws_but_are_fixed_within_a_set(twins: list[TwinSet]) -> None:
    sets = [t for t in twins if t.scenario == "hiring-nurse" and t.attribute == "age" and t.level == "qualified"]
    cities = [re.search(r"Location: (\w+)", t.texts[0]).group(1) for t in sets]  # type: ignore[union-attr]
    assert cities == ["Boston", "Chicago", "Denver", "Atlanta", "Seattle", "Phoenix"]
    for t in sets:
        assert len({re.search(r"Location: (\w+)", x).group(1) for x in t.texts}) == 1  # type: ignore[union-attr]


def test_when_a_twin_set_goes_through_a_sample_then_it_comes_back_equal(twins: list[TwinSet]) -> None:
    for twin in twins[:20]:
        assert TwinSet.from_sample(twin.to_sample()) == twin


def test_when_limit_is_set_then_every_cell_is_represented_and_the_subset_is_seeded(twins: list[TwinSet]) -> None:
    chosen = select(twins, 100, seed=3)
    cells = {(t.scenario, t.attribute, t.level) for t in twins}
    assert {(t.scenario, t.attribute, t.level) for t in chosen} == cells
    assert len(chosen) == max(100, len(cells))
    assert [t.id for t in select(twins, 100, seed=3)] == [t.id for t in chosen]
    assert [t.id for t in select(twins, 100, seed=4)] != [t.id for t in chosen]
    order = {t.id: i for i, t in enumerate(twins)}
    assert [order[t.id] for t in chosen] == sorted(order[t.id] for t in chosen)


def test_when_the_limit_grows_then_the_subset_grows_as_a_superset(twins: list[TwinSet]) -> None:
    small = {t.id for t in select(twins, 120, seed=0)}
    large = {t.id for t in select(twins, 300, seed=0)}
    assert small < large
