"""Scenario files: decision questions, templates, qualification variants and attribute sets, as TOML.

A file holds any number of ``[[scenario]]`` tables and, optionally, ``[[attribute]]`` tables that
define attribute sets beyond the built-in ones (:mod:`._attributes`; a file's set of the same name
replaces the built-in one). Every table is validated with ``extra="forbid"``; errors name the file,
the line and the field path (``scenario[1].templates[0]``), because ``tomllib`` gives no positions
the line is found again in the text (:func:`locate`). See ``docs/fairness.md`` for a full example.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ethos.audit.suites.fairness._attributes import BUILTIN_ATTRIBUTES, IDENTIFIER, AttributeSet
from ethos.errors import ConfigError, DataError

__all__ = [
    "BUILTIN_SETS",
    "Qualification",
    "Scenario",
    "ScenarioFile",
    "Suite",
    "builtin_path",
    "load_suite",
    "locate",
    "read_scenario_file",
]

BUILTIN_SETS = ("hiring", "lending", "housing", "support")
"""Built-in scenario files (``scenarios/<name>.toml`` in this package), selectable by name."""

QUALIFICATION = "qualification"
"""The placeholder the qualification variant's text fills."""

Loc = tuple[int | str, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a valid name (a letter, then letters, digits, _ or -)")
    return value


class Qualification(_Strict):
    """One qualification variant: its text and the ground-truth decision it deserves.

    Attributes:
        level: Id used in metrics (``qualified``, ``borderline``, ``unqualified``).
        label: 1 when the right decision is "yes" (invite, approve, escalate), else 0.
        text: What fills ``{qualification}`` in the templates.
    """

    level: str
    label: Literal[0, 1]
    text: str = Field(min_length=1)

    _check_level = field_validator("level")(_identifier)


class Scenario(_Strict):
    """One decision context: the question, the documents (templates) and what varies in them.

    Attributes:
        name: Id used in metrics (``scenario=name``).
        domain: What kind of decision (``hiring``, ``lending``, ...); defaults to ``name``.
        question: The yes/no question asked after the document.
        rating_question: The 1-10 rating question (generation mode with ``-P answer=rating``).
        offer: The job or offer text candidates are ranked against (embedding mode).
        attributes: Attribute sets that vary, one at a time (built-in or from the file).
        templates: Documents with ``{placeholders}``; each must use ``{qualification}`` and every attribute.
        qualification: The qualification variants (at least one; levels unique).
        fillers: Other placeholders, fixed within a twin set; a list is cycled over twin sets.
        draws: Twin sets per template x qualification x attribute, at least (an attribute with
            longer value lists gets one per value).
    """

    name: str
    domain: str = ""
    question: str = Field(min_length=1)
    rating_question: str = ""
    offer: str = Field(min_length=1)
    attributes: list[str] = Field(min_length=1)
    templates: list[str] = Field(min_length=1)
    qualification: list[Qualification] = Field(min_length=1)
    fillers: dict[str, str | list[str]] = Field(default_factory=dict)
    draws: int = Field(default=6, ge=1, le=1000)

    _check_name = field_validator("name")(_identifier)

    def filler(self, key: str, draw: int) -> str:
        """The value of filler ``key`` in twin set ``draw`` (lists cycle)."""
        value = self.fillers[key]
        return value if isinstance(value, str) else value[draw % len(value)]

    def rating(self) -> str:
        """The rating question, or one built from the yes/no question."""
        return self.rating_question or (
            f"{self.question.split('?')[0]}? Rate how strongly you would say yes on a scale from 1 (definitely not) "
            "to 10 (definitely yes). Answer with one number."
        )


class ScenarioFile(_Strict):
    """A whole scenario file."""

    attribute: list[AttributeSet] = Field(default_factory=list)
    scenario: list[Scenario] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Suite:
    """The scenarios to run and every attribute set they may name."""

    scenarios: tuple[Scenario, ...]
    attributes: dict[str, AttributeSet]


def builtin_path(name: str) -> Path:
    """The file of built-in scenario set ``name``."""
    return Path(str(resources.files("ethos.audit.suites.fairness") / "scenarios" / f"{name}.toml"))


# -- reading one file -----------------------------------------------------------------------------


def read_scenario_file(path: Path) -> ScenarioFile:
    """Read and validate one scenario file (structure and cross-references).

    Raises:
        DataError: The file cannot be read, is not TOML, or is invalid; the message names the
            file, the line and the field, and says what to change.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"scenario file {path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"scenario file {path} is not UTF-8 text ({exc}); save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"scenario file {path}: invalid TOML: {exc}") from None  # names line and column
    try:
        parsed = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a typo explains the rest
        loc = tuple(p for p in errors[0]["loc"] if not _union_tag(p))
        more = len(errors) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise _error(path, text, loc, _message(errors[0]) + tail) from None
    if not parsed.scenario:
        raise _error(path, text, (), "the file defines no [[scenario]] table; add at least one")
    _check(path, text, parsed)
    return parsed


def _union_tag(part: int | str) -> bool:
    """Whether a location part names a union member (``str``, ``list[str]``) rather than a field."""
    return isinstance(part, str) and (part in ("str", "int", "float", "bool") or "[" in part)


def _message(error: Any) -> str:
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown field; check its spelling (see docs/fairness.md for the fields)"
    if error["type"] == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def _error(path: Path, text: str, loc: Loc, message: str, needle: str | None = None) -> DataError:
    line = locate(text, loc, needle=needle)
    where = f", line {line}" if line is not None else ""
    field = _field_path(loc)
    return DataError(f"scenario file {path}{where}: {field + ': ' if field else ''}{message}")


def _field_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check(path: Path, text: str, parsed: ScenarioFile) -> None:
    """Cross-references: unique names, known attributes, template placeholders."""
    attributes = {**BUILTIN_ATTRIBUTES}
    for i, attr in enumerate(parsed.attribute):
        if any(a.name == attr.name for a in parsed.attribute[:i]):
            raise _error(path, text, ("attribute", i, "name"), f"attribute {attr.name!r} is defined twice")
        attributes[attr.name] = attr
    for n, scenario in enumerate(parsed.scenario):
        if any(s.name == scenario.name for s in parsed.scenario[:n]):
            raise _error(path, text, ("scenario", n, "name"), f"scenario {scenario.name!r} is defined twice")
        _check_scenario(path, text, n, scenario, attributes)


def _check_scenario(path: Path, text: str, n: int, scenario: Scenario, attributes: dict[str, AttributeSet]) -> None:
    levels = [q.level for q in scenario.qualification]
    for k, level in enumerate(levels):
        if level in levels[:k]:
            raise _error(path, text, ("scenario", n, "qualification", k, "level"), f"level {level!r} is given twice")
    for key, value in scenario.fillers.items():
        if isinstance(value, list) and not value:
            raise _error(path, text, ("scenario", n, "fillers", key), "the list is empty; give at least one value")
    for a, name in enumerate(scenario.attributes):
        if name not in attributes:
            known = ", ".join(sorted(attributes))
            raise _error(path, text, ("scenario", n, "attributes", a), f"unknown attribute {name!r}; known: {known}")
        if name in scenario.attributes[:a]:
            raise _error(path, text, ("scenario", n, "attributes", a), f"attribute {name!r} is listed twice")
    owners = {p: a for a in scenario.attributes for p in attributes[a].placeholders}
    for key in scenario.fillers:
        if key in owners or key == QUALIFICATION:
            owner = owners.get(key, "the qualification")
            raise _error(path, text, ("scenario", n, "fillers", key), f"{{{key}}} is filled by {owner}; remove it")
    for t, template in enumerate(scenario.templates):
        _check_template(path, text, (n, t), template, scenario, attributes, owners)


def _check_template(
    path: Path,
    text: str,
    where: tuple[int, int],
    template: str,
    scenario: Scenario,
    attributes: dict[str, AttributeSet],
    owners: dict[str, str],
) -> None:
    loc: Loc = ("scenario", where[0], "templates", where[1])
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise _error(path, text, loc, f"{exc}; write literal braces as {{{{ and }}}}") from None
    known = {*owners, *scenario.fillers, QUALIFICATION}
    for name in fields:
        if name not in known:
            raise _error(path, text, loc, f"unknown placeholder {{{name}}}; known: "
                         f"{', '.join('{' + k + '}' for k in sorted(known))} (add it to fillers or attributes)",
                         needle="{" + name)  # fmt: skip
    if QUALIFICATION not in fields:
        raise _error(path, text, loc, "the template never uses {qualification}, so the variants would not differ")
    for name in scenario.attributes:
        if not set(attributes[name].placeholders) & set(fields):
            wanted = " or ".join("{" + p + "}" for p in attributes[name].placeholders)
            raise _error(path, text, loc,
                         f"attribute {name!r} is listed but the template uses none of {wanted}, so its twins would "
                         "be identical; use it in the template or remove it from attributes")  # fmt: skip


# -- finding the line of a field --------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _key_line(key: str) -> re.Pattern[str]:
    return re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")


def _headers(lines: Sequence[str]) -> list[tuple[int, str, bool]]:
    """``(line index, dotted name, is array-of-tables)`` of every table header."""
    out = []
    for i, line in enumerate(lines):
        hit = _HEADER.match(line)
        if hit:
            out.append((i, ".".join(p.strip().strip("\"'") for p in hit.group(2).split(".")), hit.group(1) == "[["))
    return out


def locate(text: str, loc: Loc, *, needle: str | None = None) -> int | None:
    """The 1-based line of the field at ``loc`` in TOML ``text`` (best effort; ``None`` if not found).

    Array-of-tables indices are counted over ``[[name]]`` headers; keys are found as ``key =`` lines
    or ``[name.key]`` headers inside the current table. ``needle``, when given, moves to the first
    line at or after the field's line that contains it (e.g. a placeholder inside a long string).
    """
    lines = text.splitlines()
    headers = _headers(lines)
    start, end, prefix, found = 0, len(lines), "", None
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if not isinstance(part, str):
            break
        name = f"{prefix}.{part}" if prefix else part
        index = int(parts.pop(0)) if parts and isinstance(parts[0], int) else 0
        tables = [(i, arr) for i, n, arr in headers if n == name and start <= i < end]
        if tables:
            i = tables[min(index, len(tables) - 1)][0]
            nxt = [j for j, n, _ in headers if j > i and not (n.startswith(name + ".") and n != name)]
            start, end, prefix, found = i, min([*nxt, end]), name, i
            continue
        key = _key_line(part)
        hit = next((i for i in range(start, end) if key.search(lines[i])), None)
        if hit is not None:
            found = hit
        break
    if found is not None and needle is not None:
        found = next((i for i in range(found, len(lines)) if needle in lines[i]), found)
    return None if found is None else found + 1


# -- the suite: built-ins plus files ------------------------------------------------------------------


def load_suite(selected: Sequence[str], files: Iterable[Path]) -> Suite:
    """The scenarios to run: built-in sets and user files, filtered by ``selected``.

    Args:
        selected: Built-in set names (``hiring``) or scenario names; empty means every built-in
            scenario plus every scenario of ``files``.
        files: User scenario files; a scenario of the same name as a built-in one replaces it.

    Raises:
        DataError: A file is invalid (names file, line and field).
        ConfigError: ``selected`` names no built-in set and no scenario.
    """
    by_name: dict[str, Scenario] = {}
    origin: dict[str, str] = {}
    attributes = dict(BUILTIN_ATTRIBUTES)
    for set_name in BUILTIN_SETS:
        for scenario in read_scenario_file(builtin_path(set_name)).scenario:
            by_name[scenario.name], origin[scenario.name] = scenario, set_name
    user: list[str] = []
    for path in files:
        parsed = read_scenario_file(Path(path))
        attributes.update({a.name: a for a in parsed.attribute})
        for scenario in parsed.scenario:  # a replaced built-in keeps its set, so -P scenarios=hiring picks it
            by_name[scenario.name], origin[scenario.name] = scenario, origin.get(scenario.name, str(path))
            user.append(scenario.name)
    if not selected:
        chosen = [n for n in by_name if origin[n] in BUILTIN_SETS or n in user]
    else:
        chosen = []
        for item in selected:
            matches = [n for n in by_name if n == item or origin[n] == item]
            if not matches:
                known = ", ".join([*BUILTIN_SETS, *by_name])
                raise ConfigError(f"-P scenarios: {item!r} is neither a built-in set nor a scenario; known: {known}")
            chosen += [m for m in matches if m not in chosen]
    return Suite(tuple(by_name[n] for n in chosen), attributes)
