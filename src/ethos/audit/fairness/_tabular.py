"""Tabular mode: assess a predictions file from a classic model, and keep the result as a run record.

The file is a CSV (the separator is sniffed among ``, ; TAB |`` unless given) with one row per
decision: the model's decision, optionally the true outcome and a score, and one or more
sensitive columns. Every problem is a :class:`~ethos.errors.DataError` naming the file, the
column and the lines (line 1 is the header), with what to do about it.
"""

from __future__ import annotations

import csv
import difflib
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ethos._util.deps import require
from ethos.audit.fairness._assess import assess
from ethos.audit.fairness._bootstrap import Progress
from ethos.audit.fairness._report import FairnessReport
from ethos.errors import DataError
from ethos.records import BenchmarkInfo, DataFile, ModelInfo, RunRecord, RunStore, Timings

__all__ = [
    "TABULAR_BENCHMARK",
    "TABULAR_HEADLINE",
    "TABULAR_SUMMARY",
    "TABULAR_VERSION",
    "Columns",
    "TabularAssessment",
    "assess_file",
    "save_record",
]

TABULAR_BENCHMARK = "fairness-tabular"
TABULAR_SUMMARY = "Fairness of a classic model's decisions from a predictions file (fairlearn)"
TABULAR_HEADLINE = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "four_fifths_rule_passed",
)
"""The metrics a ``fairness-tabular`` run leads with, as registered benchmarks declare ``headline``."""
"""Benchmark name of tabular fairness runs in the run store."""
TABULAR_VERSION = "1"
"""Changes whenever tabular results would not be comparable with earlier ones."""

_SEPARATORS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
_PREVIEW = 5
_TRUE = frozenset({"1", "1.0", "true"})
_FALSE = frozenset({"0", "0.0", "false"})


@dataclass(frozen=True, slots=True)
class Columns:
    """Which columns of the file hold what.

    Attributes:
        y_pred: The model's decision.
        sensitive: One or more sensitive columns (several are crossed into intersectional groups).
        y_true: The true outcome, for the odds metrics.
        score: A numeric score, for each group's mean score.
        positive_label: The value meaning the positive outcome in the columns that contain it; a 0/1
            or true/false column without it (and every column when it is ``None``) counts 1 / true
            as positive.
    """

    y_pred: str
    sensitive: tuple[str, ...]
    y_true: str | None = None
    score: str | None = None
    positive_label: str | None = None


@dataclass(frozen=True, slots=True)
class TabularAssessment:
    """The report on one predictions file, with what is needed to record it.

    Attributes:
        path: The file.
        columns: The columns used.
        sep: The separator that was used (given or sniffed).
        report: The fairness report.
        data: The file's checksum.
        seconds: Wall-clock seconds of the assessment.
    """

    path: Path
    columns: Columns
    sep: str
    report: FairnessReport
    data: DataFile
    seconds: float


def assess_file(  # noqa: PLR0913 - the file, its columns, then the statistics settings
    path: Path,
    columns: Columns,
    *,
    sep: str | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    confidence: float = 0.95,
    progress: Progress | None = None,
) -> TabularAssessment:
    """Read ``path`` and assess the decisions in it by group.

    Raises:
        DataError: The file is unreadable, a column is unknown, a value is missing or not binary,
            a sensitive column has one group.
    """
    start = time.perf_counter()
    frame, used_sep = _read(path, sep)
    wanted = [columns.y_pred, *columns.sensitive, *(c for c in (columns.y_true, columns.score) if c)]
    for column in wanted:
        _check_column(path, frame, column)
    _check_missing(path, frame, wanted)
    y_pred = _binary(path, frame, columns.y_pred, columns.positive_label)
    y_true = None if columns.y_true is None else _binary(path, frame, columns.y_true, columns.positive_label)
    _check_label(path, frame, columns)
    scores = None if columns.score is None else _scores(path, frame, columns.score)
    sensitive = {c: frame[c].str.strip().to_numpy(dtype=object) for c in columns.sensitive}
    try:
        report = assess(
            y_pred,
            sensitive,
            y_true=y_true,
            scores=scores,
            seed=seed,
            n_boot=n_boot,
            confidence=confidence,
            positive_label=1,
            progress=progress,
        )
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    report = _with_label(report, columns.positive_label)
    return TabularAssessment(path, columns, used_sep, report, DataFile.from_path(path), time.perf_counter() - start)


def _with_label(report: FairnessReport, label: str | None) -> FairnessReport:
    return replace(report, positive_label=label if label is not None else "1")


def _read(path: Path, sep: str | None) -> tuple[Any, str]:
    pd = require("pandas", extra="fairness", purpose="reading a predictions file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if sep is not None and len(sep) != 1:
        raise DataError(f"{path}: --sep must be one character, got {sep!r}")
    used = sep if sep is not None else _sniff(path)
    try:
        with warnings.catch_warnings():
            # index_col=False: an extra field in the first row must not turn column 1 into an index.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, sep=used, dtype=str, keep_default_na=True, skipinitialspace=True, index_col=False)
    except pd.errors.ParserWarning:
        raise DataError(_long_row(path, used)) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; it needs a header line and one row per decision") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({str(exc).strip()})") from None
    if len(frame) == 0:
        raise DataError(f"{path}: the file has a header but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, used


def _long_row(path: Path, sep: str) -> str:
    """The message for a row with more fields than the header (pandas only warns about it)."""
    with path.open("r", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=sep)
        width = len(next(reader, []))
        for row in reader:
            if len(row) > width:
                return (
                    f"{path}: line {reader.line_num} has {len(row)} fields but the header has {width}; "
                    "fix that row (or quote a value that contains the separator)"
                )
    return f"{path}: a row has more fields than the header; fix that row"


def _sniff(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        sample = fh.read(_SNIFF_BYTES)
    try:
        return csv.Sniffer().sniff(sample, delimiters=_SEPARATORS).delimiter
    except csv.Error:
        return ","


def _check_column(path: Path, frame: Any, column: str) -> None:
    names = [str(c) for c in frame.columns]
    if column in names:
        return
    close = difflib.get_close_matches(column, names, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise DataError(f"{path}: no column {column!r}.{hint} The file's columns are: {', '.join(names)}")


def _lines(indices: Sequence[int]) -> str:
    shown = ", ".join(str(int(i) + 2) for i in indices[:_PREVIEW])  # line 1 is the header
    more = len(indices) - _PREVIEW
    return shown + (f" (and {more} more)" if more > 0 else "")


def _check_missing(path: Path, frame: Any, columns: Sequence[str]) -> None:
    for column in dict.fromkeys(columns):
        empty = np.flatnonzero(frame[column].isna().to_numpy()).tolist()
        if empty:
            raise DataError(
                f"{path}: column {column!r} has no value at line {_lines(empty)} (an empty cell or a missing-value "
                "marker such as NA, NaN, null or None); fill or drop those rows"
            )


def _binary(path: Path, frame: Any, column: str, label: str | None) -> npt.NDArray[np.int8]:
    values = np.asarray([str(v).strip() for v in frame[column].to_numpy(dtype=object)], dtype=object)
    distinct = sorted(set(values.tolist()))
    shown = ", ".join(repr(v) for v in distinct[:_PREVIEW]) + (" …" if len(distinct) > _PREVIEW else "")
    if len(distinct) > 2:  # noqa: PLR2004 - binary means two
        raise DataError(
            f"{path}: column {column!r} is not binary: it has {len(distinct)} distinct values ({shown}); "
            "a decision needs two values (threshold or map it first; a score can go in --score)"
        )
    lowered = {v.lower() for v in distinct}
    if label is None or (lowered <= _TRUE | _FALSE and not any(_same(v, label) for v in distinct)):
        # No label, or a 0/1 (true/false) column that lacks it: 1 / true is the positive outcome.
        if not lowered <= _TRUE | _FALSE:
            raise DataError(
                f"{path}: column {column!r} has the values {shown}, not 0/1; say which one is the positive "
                f"outcome with --positive-label (e.g. --positive-label {distinct[-1]})"
            )
        return np.fromiter((v.lower() in _TRUE for v in values), dtype=bool, count=len(values)).astype(np.int8)
    positive = [v for v in distinct if _same(v, label)]
    if len(distinct) == 2 and not positive:  # noqa: PLR2004
        raise DataError(
            f"{path}: column {column!r} has the values {shown}, neither of which is --positive-label {label!r}; "
            "pass the value that means the positive outcome"
        )
    return np.fromiter((_same(v, label) for v in values), dtype=bool, count=len(values)).astype(np.int8)


def _check_label(path: Path, frame: Any, columns: Columns) -> None:
    """A word given as the positive label must occur in a decision column (else it is a typo)."""
    label = columns.positive_label
    if label is None or label.strip().lower() in _TRUE | _FALSE:
        return
    named = [c for c in (columns.y_pred, columns.y_true) if c is not None]
    if any(_same(str(v).strip(), label) for c in named for v in frame[c].unique()):
        return
    where = f"is not in column {named[0]!r}"
    if len(named) > 1:
        where = f"is in neither column {named[0]!r} nor {named[1]!r}"
    raise DataError(
        f"{path}: --positive-label {label!r} {where}; give a value that occurs there, or leave it out "
        "for 0/1 or true/false columns"
    )


def _same(value: str, label: str) -> bool:
    if value == label:
        return True
    try:
        return float(value) == float(label)
    except ValueError:
        return value.lower() == label.lower() and value.lower() in _TRUE | _FALSE


def _scores(path: Path, frame: Any, column: str) -> npt.NDArray[np.float64]:
    pd = require("pandas", extra="fairness", purpose="reading a predictions file")
    numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(numbers)).tolist()
    if bad:
        example = frame[column].iloc[bad[0]]
        raise DataError(
            f"{path}: column {column!r} must hold numbers, but line {_lines(bad)} does not (e.g. {example!r})"
        )
    out: npt.NDArray[np.float64] = numbers
    return out


def save_record(store: RunStore, assessment: TabularAssessment, *, model_name: str | None = None) -> RunRecord:
    """Store the assessment as a finished run of ``fairness-tabular`` and return the stored record.

    Args:
        store: The run store.
        assessment: What :func:`assess_file` returned.
        model_name: The model's name in the record; the file name by default.
    """
    report, columns = assessment.report, assessment.columns
    name = model_name or assessment.path.name
    record = RunRecord.start(
        model=ModelInfo(spec=name, provider="file", name=name),
        benchmark=BenchmarkInfo(name=TABULAR_BENCHMARK, version=TABULAR_VERSION),
        data=(assessment.data,),
        seeds={"bootstrap": report.seed},
        settings={
            "y_pred": columns.y_pred,
            "y_true": columns.y_true,
            "sensitive": list(columns.sensitive),
            "score": columns.score,
            "positive_label": columns.positive_label,
            "sep": assessment.sep,
            "rows": report.n,
            "n_boot": report.n_boot,
            "confidence": report.confidence,
            "ci_method": report.ci_method,
        },
    )
    store.begin(record)
    timings = Timings(started=record.timings.started, seconds=assessment.seconds)
    store.finish(record.id, status="finished", metrics=report.metric_values(), timings=timings)
    return store.get(record.id)
