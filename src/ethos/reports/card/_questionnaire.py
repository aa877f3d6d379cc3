"""Questionnaires: the parts of a document only a person can write, asked as TOML and validated.

A :class:`Questionnaire` is a table of :class:`Section` s, each a table of :class:`Question` s. The
same table validates the answers file (unknown sections or keys, wrong types: errors naming the
file, line and key, with "did you mean"), lists what is still unanswered, and writes a blank
template with every question as a comment. Model cards, datasheets, transparency reports and the
GDPR records all use it, so every document marks an unanswered question the same way.

An answer is a string, a list of strings, a number or a boolean. An empty string or empty list
counts as unanswered, so a filled-in template with blanks left is still valid.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ethos.errors import ConfigError

__all__ = ["Answer", "Answers", "Question", "Questionnaire", "Section"]

Kind = Literal["text", "list", "number", "bool"]
Answer = str | tuple[str, ...] | float | bool
"""One answer: text, a list of texts, a number or a yes/no."""

_KIND_WORDS: dict[str, str] = {
    "text": "a string",
    "list": "a list of strings (or one string)",
    "number": "a number >= 0",
    "bool": "true or false",
}


@dataclass(frozen=True, slots=True)
class Question:
    """One question.

    Attributes:
        key: The TOML key that answers it, e.g. ``primary_users``.
        text: The question as a person reads it.
        kind: ``text``, ``list`` (of strings), ``number`` (>= 0) or ``bool``.
    """

    key: str
    text: str
    kind: Kind = "text"


@dataclass(frozen=True, slots=True)
class Section:
    """A TOML table of questions (``[key]``), or an array of tables (``[[key]]``) when ``repeated``.

    Attributes:
        key: The table name.
        title: The section's heading in the document.
        questions: Its questions, in document order.
        repeated: Whether the section is a list of entries (e.g. processing activities).
    """

    key: str
    title: str
    questions: tuple[Question, ...]
    repeated: bool = False

    def question(self, key: str) -> Question | None:
        """The question answered by ``key``, or ``None``."""
        return next((q for q in self.questions if q.key == key), None)


@dataclass(frozen=True, slots=True)
class Answers:
    """Validated answers to a questionnaire.

    Attributes:
        questionnaire: What was asked.
        source: The file the answers came from (or ``"no answers"``).
        values: ``{section: {key: answer}}`` for plain sections; only answered keys.
        entries: ``{section: (entry, ...)}`` for repeated sections, each ``{key: answer}``.
    """

    questionnaire: Questionnaire
    source: str = "no answers"
    values: Mapping[str, Mapping[str, Answer]] = field(default_factory=dict)
    entries: Mapping[str, tuple[Mapping[str, Answer], ...]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Answer | None:
        """The answer to ``section.key``, or ``None`` when it is unanswered."""
        return self.values.get(section, {}).get(key)

    def text(self, section: str, key: str) -> str | None:
        """The answer as display text (lists joined with commas), or ``None``."""
        return display(self.get(section, key))

    def items(self, section: str) -> tuple[Mapping[str, Answer], ...]:
        """The entries of a repeated section."""
        return self.entries.get(section, ())

    def unanswered(self) -> list[tuple[Section, Question]]:
        """Every plain-section question without an answer, in questionnaire order."""
        return [
            (s, q)
            for s in self.questionnaire.sections
            if not s.repeated
            for q in s.questions
            if self.get(s.key, q.key) is None
        ]


def display(value: Answer | None) -> str | None:
    """An answer as one line of text: lists joined with ``, ``, numbers without a trailing ``.0``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, float):
        return f"{value:g}"
    return value


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A named table of sections; parses answer files and writes templates."""

    name: str
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        """The section named ``key`` (a programming error when unknown)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def empty(self) -> Answers:
        """Answers with nothing answered."""
        return Answers(self)

    def load(self, path: Path) -> Answers:
        """Read and validate an answers file.

        Raises:
            ConfigError: The file is unreadable or not TOML, or an answer is misplaced or of the
                wrong type; the message names the file, line and key.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(f"cannot read the {self.name} file {path}: {reason}") from None
        return self.parse(text, source=str(path))

    def parse(self, text: str, *, source: str) -> Answers:
        """Validate answers given as TOML text; raises like :meth:`load`."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML ({exc}); see the template for the layout") from None
        lines = _LineFinder(text)
        values: dict[str, dict[str, Answer]] = {}
        entries: dict[str, tuple[dict[str, Answer], ...]] = {}
        for key, raw in data.items():
            section = self._known_section(key, source, lines)
            if section.repeated:
                entries[key] = self._entries(section, raw, source, lines)
            else:
                if not isinstance(raw, dict):
                    line = lines.key_line(None, 0, key)
                    raise ConfigError(f"{source}:{line}: {key!r} must be a table: write [{key}] on its own line")
                values[key] = _answers(section, raw, source, lines, 0)
        return Answers(self, source, values, entries)

    def _known_section(self, key: str, source: str, lines: _LineFinder) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        known = [s.key for s in self.sections]
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        line = lines.header_line(key, 0) or lines.key_line(None, 0, key) or 1
        raise ConfigError(f"{source}:{line}: unknown section {key!r}.{hint} Sections: {', '.join(known)}")

    def _entries(self, section: Section, raw: object, source: str, lines: _LineFinder) -> tuple[dict[str, Answer], ...]:
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            line = lines.header_line(section.key, 0) or lines.key_line(None, 0, section.key) or 1
            raise ConfigError(
                f"{source}:{line}: {section.key!r} is a list: write one [[{section.key}]] table per entry"
            )
        return tuple(_answers(section, item, source, lines, index) for index, item in enumerate(raw))

    def template(self) -> str:
        """A blank answers file: every section and key, each question as a comment above it."""
        out = [f"# {self.name}: answer what you can; blanks stay marked TODO in the document.", ""]
        for s in self.sections:
            out.append(f"[[{s.key}]]" if s.repeated else f"[{s.key}]")
            for q in s.questions:
                out.append(f"# {q.text}")
                # blank text and lists count as unanswered; numbers and booleans have no blank, so stay commented
                out.append(_BLANKS[q.kind].format(key=q.key))
            out.append("")
        return "\n".join(out)


def _answers(
    section: Section, raw: Mapping[str, object], source: str, lines: _LineFinder, index: int
) -> dict[str, Answer]:
    out: dict[str, Answer] = {}
    where = f"[[{section.key}]] entry {index + 1}" if section.repeated else f"[{section.key}]"
    for key, value in raw.items():
        question = section.question(key)
        line = lines.key_line(section.key, index, key) or lines.header_line(section.key, index) or 1
        if question is None:
            known = [q.key for q in section.questions]
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{source}:{line}: {where}: unknown key {key!r}.{hint} Keys: {', '.join(known)}")
        answer = _coerce(question.kind, value)
        if answer is _BAD:
            raise ConfigError(
                f"{source}:{line}: {where}, key {key!r}: expected {_KIND_WORDS[question.kind]}, got {_describe(value)}"
            )
        if answer is not None:
            out[key] = answer  # type: ignore[assignment]  # _BAD is excluded above
    return out


_BAD = object()
_BLANKS: dict[str, str] = {
    "text": '{key} = ""',
    "list": "{key} = []",
    "number": "# {key} = 0",
    "bool": "# {key} = false",
}


def _coerce(kind: Kind, value: object) -> Answer | None | object:
    if kind == "text":
        return (value.strip() or None) if isinstance(value, str) else _BAD
    if kind == "list":
        if isinstance(value, str):
            return (value.strip(),) if value.strip() else None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            kept = tuple(v.strip() for v in value if v.strip())
            return kept or None
        return _BAD
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            return float(value)
        return _BAD
    return value if isinstance(value, bool) else _BAD


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list" + ("" if all(isinstance(v, str) for v in value) else " with non-strings")
    if isinstance(value, str):
        return "a string"
    return repr(value)


_HEADER = re.compile(r"^[ \t]*\[(\[?)[ \t]*([A-Za-z0-9_\"'.-]+?)[ \t]*\]\]?[ \t]*(?:#.*)?$", re.MULTILINE)


class _LineFinder:
    """Where tables and keys are in the TOML text, for error messages (1-based lines; 0 = not found)."""

    def __init__(self, text: str) -> None:
        self.text = text
        # (name, start offset, end offset) of every table header's body, in file order
        self.tables: list[tuple[str, int, int]] = []
        matches = list(_HEADER.finditer(text))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            self.tables.append((m.group(2).strip("\"'"), m.start(), end))
        self.top_end = matches[0].start() if matches else len(text)

    def _line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def _table(self, name: str, index: int) -> tuple[int, int] | None:
        found = [(start, end) for table, start, end in self.tables if table == name]
        return found[index] if index < len(found) else None

    def header_line(self, name: str, index: int) -> int:
        """The line of the ``index``-th header of table ``name``."""
        span = self._table(name, index)
        return self._line(span[0]) if span else 0

    def key_line(self, table: str | None, index: int, key: str) -> int:
        """The line of ``key =`` inside a table (``None``: before the first header)."""
        span = (0, self.top_end) if table is None else self._table(table, index)
        if span is None:
            return 0
        name = rf"[\"']?{re.escape(key)}[\"']?"
        match = re.compile(rf"^[ \t]*{name}[ \t]*=", re.MULTILINE).search(self.text, span[0], span[1])
        return self._line(match.start()) if match else 0
