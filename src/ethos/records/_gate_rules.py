"""Gate rules files: TOML with one ``[[rule]]`` table per rule, validated with line-precise errors.

See :mod:`ethos.records._gates` for what the rules mean and how they are evaluated.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ethos.errors import ConfigError
from ethos.records._compare import group_label

__all__ = ["GateRule", "GateRules", "load_rules", "parse_rules"]


class GateRule(BaseModel):
    """One rule of a rules file: which metric of which benchmark, and the checks it must pass."""

    # strict: TOML has real types, so `max = true` or `min = "0.5"` is a mistake, not a number
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True, allow_inf_nan=False
    )

    name: str | None = None
    """A label for reports; default ``BENCHMARK METRIC [GROUP]``."""
    benchmark: str = Field(min_length=1)
    """The benchmark whose run the rule reads."""
    metric: str = Field(min_length=1)
    """The metric name, as the run records it."""
    group: dict[str, str] = {}
    """The disaggregated value to read, e.g. ``{domain = "gender"}``; empty: the overall value."""
    min: float | None = None
    """The value must be at least this (MLflow ``threshold`` for higher-is-better metrics)."""
    max: float | None = None
    """The value must be at most this (MLflow ``threshold`` for lower-is-better metrics)."""
    higher_is_better: bool = True
    """Direction of the metric for regression checks (MLflow ``greater_is_better``)."""
    max_regression: float | None = None
    """Largest allowed absolute change for the worse against the baseline (MLflow ``−min_absolute_change``)."""
    max_relative_regression: float | None = None
    """Largest allowed change for the worse as a fraction of ``|baseline|`` (MLflow ``−min_relative_change``)."""
    min_n: int | None = Field(default=None, ge=1)
    """The value must rest on at least this many samples."""

    @model_validator(mode="after")
    def _check_thresholds(self) -> GateRule:
        limits = (self.min, self.max, self.max_regression, self.max_relative_regression)
        if all(v is None for v in limits):
            raise ValueError("a rule needs at least one of min, max, max_regression, max_relative_regression")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    @property
    def label(self) -> str:
        """The rule's name, or ``BENCHMARK METRIC`` with its group."""
        if self.name:
            return self.name
        group = f" [{group_label(self.group)}]" if self.group else ""
        return f"{self.benchmark} {self.metric}{group}"

    @property
    def needs_baseline(self) -> bool:
        """Whether the rule compares against a baseline run."""
        return self.max_regression is not None or self.max_relative_regression is not None


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: list[GateRule] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class GateRules:
    """The rules of one rules file, with where each rule starts (for messages and annotations)."""

    rules: tuple[GateRule, ...]
    """The rules, in file order."""
    source: str = "gate rules"
    """The file they came from."""
    lines: tuple[int | None, ...] = ()
    """Line of each rule's ``[[rule]]`` header, when known."""

    def line(self, index: int) -> int | None:
        """The line where rule ``index`` (0-based) starts, when known."""
        return self.lines[index] if index < len(self.lines) else None


def load_rules(path: Path) -> GateRules:
    """Read and validate a rules file.

    Raises:
        ConfigError: The file is unreadable, not TOML, or a rule is invalid; the message names
            the file, line, rule number and name, and field.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read the gate rules file {path}: {reason}") from None
    return parse_rules(text, source=str(path))


def parse_rules(text: str, *, source: str = "gate rules") -> GateRules:
    """Validate rules given as TOML text; raises like :func:`load_rules`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    headers = [text.count("\n", 0, m.start()) + 1 for m in _HEADER.finditer(text)]
    try:
        parsed = _RulesFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, data, text, headers, source)) from None
    lines: tuple[int | None, ...] = tuple(headers) if len(headers) == len(parsed.rule) else ()
    return GateRules(rules=tuple(parsed.rule), source=source, lines=lines)


_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*rule[ \t]*\]\]", re.MULTILINE)


def _explain(exc: ValidationError, data: Mapping[str, Any], text: str, headers: list[int], source: str) -> str:
    # An unknown key (a misspelt [[rule]]) explains the errors it causes, so it is reported first.
    first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = first["loc"]
    message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    if not loc or loc[0] != "rule":
        key = str(loc[0]) if loc else ""
        line = (_key_line(text, key, 0, len(text)) if key else 0) or 1
        hint = "; rules are [[rule]] tables" if first["type"] == "extra_forbidden" else ""
        return f"{source}:{line}: {key or 'file'}: {message}{hint}{more}"
    if len(loc) < 2 or not isinstance(loc[1], int):
        return f"{source}:1: rule: {message} (write one [[rule]] table per rule){more}"
    index = loc[1]
    rules = data.get("rule")
    raw = rules[index] if isinstance(rules, list) and index < len(rules) else {}
    name = raw.get("name") if isinstance(raw, Mapping) else None
    label = f"rule {index + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
    start = headers[index] if index < len(headers) else 1
    field = str(loc[2]) if len(loc) > 2 else ""
    line = start
    if field and index < len(headers):
        begin = _offset_of_line(text, start)
        end = _offset_of_line(text, headers[index + 1]) if index + 1 < len(headers) else len(text)
        line = _key_line(text, field, begin, end) or start
    where = f", field {field!r}" if field else ""
    return f"{source}:{line}: {label}{where}: {message}{more}"


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    return offset


def _key_line(text: str, key: str, begin: int, end: int) -> int:
    name = rf"[\"']?{re.escape(key)}[\"']?"
    pattern = re.compile(rf"^[ \t]*(?:{name}[ \t]*=|\[\[?[ \t]*{name}[ \t]*\]\]?)", re.MULTILINE)
    match = pattern.search(text, begin, end)
    return text.count("\n", 0, match.start()) + 1 if match else 0
