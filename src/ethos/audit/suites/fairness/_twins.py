"""Counterfactual twin sets: one document per group of an attribute, everything else held fixed.

A twin set is one scenario x template x qualification variant x attribute x draw. Its members
differ only in the attribute's value (the draw-th value of each group's list); the template, the
qualification text, the other attributes (at their neutral values) and the fillers (the draw-th
value of each list) are the same for every member. One twin set is one :class:`~ethos.types.Sample`,
so a checkpoint never splits a set and ``--limit`` counts sets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ethos.audit._sampling import allocate
from ethos.audit.suites.fairness._scenario import QUALIFICATION, Scenario, Suite
from ethos.types import Sample

__all__ = ["TwinSet", "build_twins", "select"]


@dataclass(frozen=True, slots=True)
class TwinSet:
    """One set of counterfactual documents.

    Attributes:
        id: ``scenario/attribute/t<template>/<level>/<draw>``.
        scenario: Scenario name.
        domain: Scenario domain.
        attribute: The attribute that varies.
        template: Index of the template.
        level: Qualification level.
        label: Ground truth of the qualification (1: the right decision is yes).
        draw: Which value of each group's list (and of each filler list) was used.
        groups: The attribute's groups, in the attribute's order.
        values: What signalled each group (the attribute's value, joined when it fills several placeholders).
        texts: The document of each group.
        question: The yes/no question.
        rating_question: The 1-10 rating question.
        offer: The job or offer text (embedding mode ranks candidates against it).
    """

    id: str
    scenario: str
    domain: str
    attribute: str
    template: int
    level: str
    label: int
    draw: int
    groups: tuple[str, ...]
    values: tuple[str, ...]
    texts: tuple[str, ...]
    question: str
    rating_question: str
    offer: str

    def to_sample(self) -> Sample:
        """The sample the runner stores (inputs hold everything the scorer and metrics need)."""
        inputs: dict[str, Any] = {
            "scenario": self.scenario,
            "domain": self.domain,
            "attribute": self.attribute,
            "template": self.template,
            "level": self.level,
            "draw": self.draw,
            "groups": list(self.groups),
            "values": list(self.values),
            "texts": list(self.texts),
            "question": self.question,
            "rating_question": self.rating_question,
            "offer": self.offer,
        }
        groups = {"scenario": self.scenario, "attribute": self.attribute, "qualification": self.level}
        return Sample(id=self.id, inputs=inputs, target=self.label, groups=groups)

    @classmethod
    def from_sample(cls, sample: Sample) -> TwinSet:
        """Rebuild a twin set from a stored sample."""
        i = sample.inputs
        return cls(
            id=sample.id,
            scenario=str(i["scenario"]),
            domain=str(i["domain"]),
            attribute=str(i["attribute"]),
            template=int(i["template"]),
            level=str(i["level"]),
            label=int(sample.target),
            draw=int(i["draw"]),
            groups=tuple(i["groups"]),
            values=tuple(i["values"]),
            texts=tuple(i["texts"]),
            question=str(i["question"]),
            rating_question=str(i["rating_question"]),
            offer=str(i["offer"]),
        )


def _fill(scenario: Scenario, suite: Suite, draw: int) -> dict[str, str]:
    """Fillers at ``draw`` and every listed attribute at its neutral value."""
    fill = {key: scenario.filler(key, draw) for key in scenario.fillers}
    for name in scenario.attributes:
        fill.update(suite.attributes[name].neutral)
    return fill


def _twin_sets(scenario: Scenario, suite: Suite) -> list[TwinSet]:
    out: list[TwinSet] = []
    for attr_name in scenario.attributes:
        attr = suite.attributes[attr_name]
        draws = max(scenario.draws, attr.draws())
        for t, template in enumerate(scenario.templates):
            for q in scenario.qualification:
                for r in range(draws):
                    base = {**_fill(scenario, suite, r), QUALIFICATION: q.text}
                    values = [attr.value(g, r) for g in attr.groups]
                    texts = tuple(template.format_map({**base, **v}) for v in values)
                    out.append(
                        TwinSet(
                            id=f"{scenario.name}/{attr_name}/t{t}/{q.level}/{r}",
                            scenario=scenario.name,
                            domain=scenario.domain or scenario.name,
                            attribute=attr_name,
                            template=t,
                            level=q.level,
                            label=q.label,
                            draw=r,
                            groups=tuple(attr.groups),
                            values=tuple(" / ".join(v[k] for k in sorted(v)) for v in values),
                            texts=texts,
                            question=scenario.question,
                            rating_question=scenario.rating(),
                            offer=scenario.offer,
                        )
                    )
    return out


def build_twins(suite: Suite) -> list[TwinSet]:
    """Every twin set of every scenario, in a fixed order (scenario, attribute, template, level, draw)."""
    return [twin for scenario in suite.scenarios for twin in _twin_sets(scenario, suite)]


def select(twins: Sequence[TwinSet], limit: int, seed: int) -> list[TwinSet]:
    """A seeded subset of ``limit`` twin sets, stratified by scenario x attribute x qualification level.

    Every cell (every attribute of every scenario, at every qualification level) gets its
    proportional share (largest remainder, at least one), drawn as a prefix of a permutation seeded
    by ``seed`` and the cell, so a larger limit picks a superset; the original order is kept.
    """
    cells: dict[tuple[str, str, str], list[int]] = {}
    for pos, twin in enumerate(twins):
        cells.setdefault((twin.scenario, twin.attribute, twin.level), []).append(pos)
    keys = sorted(cells)
    chosen: list[int] = []
    for key, count in zip(keys, allocate([len(cells[k]) for k in keys], limit), strict=True):
        digest = hashlib.sha256(f"fairness-sample:{seed}:{':'.join(key)}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        members = cells[key]
        chosen.extend(members[int(j)] for j in rng.permutation(len(members))[:count])
    return [twins[i] for i in sorted(chosen)]


def group_values(twin: TwinSet) -> Mapping[str, str]:
    """Group → the value that signalled it."""
    return dict(zip(twin.groups, twin.values, strict=True))
