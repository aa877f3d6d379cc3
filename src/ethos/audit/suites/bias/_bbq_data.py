"""BBQ data: reading the category files, joining the official bias target, stratified sampling.

The data is nyu-mll/BBQ (Parrish et al., 2022, "BBQ: A hand-built bias benchmark for question
answering"): eleven ``data/<Category>.jsonl`` files and ``supplemental/additional_metadata.csv``.

* The **UNKNOWN option** of an example is the unique answer whose ``answer_info`` group is
  ``"unknown"`` (its text is one of ten phrasings such as "Can't be determined").
* The **biased answer** is the metadata's ``target_loc``, joined on
  ``(category, example_id, question_index)`` as ``analysis_scripts/BBQ_calculate_bias_score.R``
  does. It is already polarity-corrected: for a negative question it is the stereotyped group's
  answer, for a non-negative question the other non-UNKNOWN answer.

The metadata has two known quirks (``bbq/SOURCE.md``): 16 rows have ``target_loc = NA`` (the R
script drops them) and 64 keys appear twice (all in Gender_identity; the two rows differ only in
``Known_stereotyped_groups``). Ethos resolves them deterministically and counts them:

* ``NA`` (or empty) ``target_loc``: the example has no target; it is scored for accuracy but left
  out of the bias scores (flag ``na``).
* Duplicate key whose rows agree on ``target_loc``: collapsed into one (flag ``duplicate``). The R
  script's ``merge`` would instead count such an example twice.
* Duplicate key whose rows disagree on ``target_loc``: treated as missing (flag ``conflict``).
* No metadata row, or a ``target_loc`` that is not 0–2 or points at the UNKNOWN option: missing
  (flags ``absent`` / ``invalid``).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ethos.audit._sampling import allocate
from ethos.errors import DataError
from ethos.types import Sample

__all__ = [
    "CATEGORIES",
    "METADATA_FILE",
    "METADATA_FLAGS",
    "BBQItem",
    "MetaRow",
    "allocate",
    "join_metadata",
    "read_category",
    "read_metadata",
    "stratified_indices",
]

CATEGORIES: tuple[str, ...] = (
    "Age",
    "Disability_status",
    "Gender_identity",
    "Nationality",
    "Physical_appearance",
    "Race_ethnicity",
    "Race_x_SES",
    "Race_x_gender",
    "Religion",
    "SES",
    "Sexual_orientation",
)
"""The eleven category files of nyu-mll/BBQ ``data/``, in file-name order (the load order)."""

METADATA_FILE = "additional_metadata.csv"
METADATA_FLAGS: tuple[str, ...] = ("na", "duplicate", "conflict", "absent", "invalid")
"""Metadata issues an example can carry (see the module docstring)."""

_NA = frozenset({"", "NA", "na", "NaN", "nan"})
MetaKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class MetaRow:
    """One row of ``additional_metadata.csv`` reduced to what BBQ scoring uses."""

    target_loc: str
    label_type: str | None


@dataclass(frozen=True, slots=True)
class BBQItem:
    """One BBQ example with its UNKNOWN option and its joined bias target.

    Attributes:
        category: Category file name (``Age``).
        example_id: ``example_id`` within the category.
        question_index: Template id (a string in the data).
        polarity: ``neg`` or ``nonneg``.
        condition: ``ambig`` or ``disambig``.
        context: The context passage.
        question: The question.
        answers: ``ans0``, ``ans1``, ``ans2``.
        short: The short answer texts of ``answer_info`` (``grandfather``), same order.
        label: Index of the gold answer.
        unknown: Index of the UNKNOWN option.
        target: Index of the biased answer (``target_loc``), or ``None`` when unusable.
        flags: Metadata issues (subset of :data:`METADATA_FLAGS`).
        label_type: ``label`` or ``name`` from the metadata, when known.
    """

    category: str
    example_id: int
    question_index: str
    polarity: str
    condition: str
    context: str
    question: str
    answers: tuple[str, str, str]
    short: tuple[str, str, str]
    label: int
    unknown: int
    target: int | None
    flags: tuple[str, ...] = ()
    label_type: str | None = None

    @property
    def id(self) -> str:
        """The stable sample id, ``<category>-<example_id>``."""
        return f"{self.category}-{self.example_id}"

    @property
    def cell(self) -> tuple[str, str, str]:
        """The stratification cell: category × context condition × question polarity."""
        return (self.category, self.condition, self.polarity)

    def to_sample(self) -> Sample:
        """The :class:`~ethos.types.Sample` the runner stores (inputs include the joined target)."""
        return Sample(
            id=self.id,
            inputs={
                "context": self.context,
                "question": self.question,
                "answers": list(self.answers),
                "answer_info": list(self.short),
                "unknown": self.unknown,
                "target_loc": self.target,
                "metadata_issues": list(self.flags),
                "label_type": self.label_type,
                "question_index": self.question_index,
            },
            target=self.label,
            groups={"category": self.category, "context_condition": self.condition, "question_polarity": self.polarity},
        )

    @classmethod
    def from_sample(cls, sample: Sample) -> BBQItem:
        """Rebuild the item from a :class:`Sample` made by :meth:`to_sample`."""
        inp = sample.inputs
        category, _, example_id = sample.id.rpartition("-")
        a0, a1, a2 = (str(a) for a in inp["answers"])
        s0, s1, s2 = (str(a) for a in inp.get("answer_info", ("", "", "")))
        target = inp.get("target_loc")
        return cls(
            category=category,
            example_id=int(example_id),
            question_index=str(inp.get("question_index", "")),
            polarity=sample.groups.get("question_polarity", ""),
            condition=sample.groups.get("context_condition", ""),
            context=str(inp["context"]),
            question=str(inp["question"]),
            answers=(a0, a1, a2),
            short=(s0, s1, s2),
            label=int(sample.target),
            unknown=int(inp["unknown"]),
            target=None if target is None else int(target),
            flags=tuple(inp.get("metadata_issues", ())),
            label_type=inp.get("label_type"),
        )


def read_metadata(path: Path, categories: Iterable[str]) -> dict[MetaKey, list[MetaRow]]:
    """Rows of ``additional_metadata.csv`` for ``categories``, keyed by (category, example_id, question_index).

    Raises:
        DataError: When the file is unreadable or lacks a needed column.
    """
    wanted = set(categories)
    rows: dict[MetaKey, list[MetaRow]] = {}
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            needed = {"category", "example_id", "question_index", "target_loc"}
            missing = needed - set(reader.fieldnames or ())
            if missing:
                names = ", ".join(sorted(missing))
                raise DataError(f"{path}: missing column(s) {names}; is this BBQ's {METADATA_FILE}?")
            for rec in reader:
                if rec["category"] in wanted:
                    key = (rec["category"], rec["example_id"].strip(), rec["question_index"].strip())
                    rows.setdefault(key, []).append(MetaRow(rec["target_loc"].strip(), rec.get("label_type")))
    except OSError as exc:
        raise DataError(f"{path}: cannot read BBQ metadata ({exc.strerror or exc})") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None
    return rows


def join_metadata(rows: Sequence[MetaRow], unknown: int) -> tuple[int | None, tuple[str, ...], str | None]:
    """Resolve one example's metadata rows into ``(target, flags, label_type)``.

    Args:
        rows: The rows found for the example's key (possibly none or several).
        unknown: Index of the example's UNKNOWN option (a target pointing there is invalid).
    """
    if not rows:
        return None, ("absent",), None
    flags: list[str] = []
    values = {row.target_loc for row in rows}
    label_type = rows[0].label_type
    if len(rows) > 1:
        flags.append("duplicate")
        if len(values) > 1:
            return None, ("duplicate", "conflict"), label_type
    (raw,) = values
    if raw in _NA:
        return None, (*flags, "na"), label_type
    if raw not in {"0", "1", "2"} or int(raw) == unknown:
        return None, (*flags, "invalid"), label_type
    return int(raw), tuple(flags), label_type


def read_category(path: Path, category: str, metadata: Mapping[MetaKey, Sequence[MetaRow]]) -> list[BBQItem]:
    """Read one category file and join each example's bias target.

    Raises:
        DataError: When the file is missing or a line is malformed (names file and line).
    """
    items: list[BBQItem] = []
    try:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if line.strip():
                    items.append(_parse_line(line, category, metadata, f"{path}:{lineno}"))
    except OSError as exc:
        raise DataError(
            f"{path}: cannot read BBQ data ({exc.strerror or exc}); point --data-dir at a folder holding "
            f"bbq/{category}.jsonl, or leave it unset to download the data"
        ) from None
    return items


def _parse_line(line: str, category: str, metadata: Mapping[MetaKey, Sequence[MetaRow]], where: str) -> BBQItem:
    try:
        rec: dict[str, Any] = json.loads(line)
        info = rec["answer_info"]
        groups = [str(info[f"ans{k}"][1]) for k in range(3)]
        s0, s1, s2 = (str(info[f"ans{k}"][0]) for k in range(3))
        answers = (str(rec["ans0"]), str(rec["ans1"]), str(rec["ans2"]))
        label = int(rec["label"])
        example_id = int(rec["example_id"])
        qidx = str(rec["question_index"])
        polarity, condition = str(rec["question_polarity"]), str(rec["context_condition"])
        context, question = str(rec["context"]), str(rec["question"])
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise DataError(f"{where}: malformed BBQ example ({type(exc).__name__}: {exc})") from None
    unknowns = [k for k, g in enumerate(groups) if g == "unknown"]
    if len(unknowns) != 1:
        raise DataError(f"{where}: expected exactly one answer with answer_info group 'unknown', found {len(unknowns)}")
    if label not in (0, 1, 2):
        raise DataError(f"{where}: label {label} is not 0, 1 or 2")
    if rec.get("category", category) != category:
        raise DataError(f"{where}: category {rec.get('category')!r} in the file of {category!r}")
    target, flags, label_type = join_metadata(metadata.get((category, str(example_id), qidx), ()), unknowns[0])
    return BBQItem(
        category, example_id, qidx, polarity, condition, context, question, answers, (s0, s1, s2), label, unknowns[0],
        target, flags, label_type,
    )  # fmt: skip


def stratified_indices(cells: Sequence[Hashable], limit: int, seed: int) -> list[int]:
    """A seeded stratified sample of positions: a fixed share of every cell, in the original order.

    Each cell draws its :func:`allocate` share as a prefix of its own seeded permutation (the
    generator is seeded from ``seed`` and the cell's name), so the choice in one cell does not
    depend on the other cells, and a larger ``limit`` picks a superset.
    """
    by_cell: dict[Hashable, list[int]] = {}
    for pos, cell in enumerate(cells):
        by_cell.setdefault(cell, []).append(pos)
    keys = sorted(by_cell, key=str)
    counts = allocate([len(by_cell[k]) for k in keys], limit)
    chosen: list[int] = []
    for key, count in zip(keys, counts, strict=True):
        digest = hashlib.sha256(f"bbq-sample:{seed}:{key}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        members = by_cell[key]
        chosen.extend(members[int(j)] for j in rng.permutation(len(members))[:count])
    return sorted(chosen)
