"""The Markdown renderer: the HTML report's content as tables, numbers equal to the records', and
record text that cannot break a table or slip HTML into a Markdown viewer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ethos.records import MetricRecord, RunRecord
from ethos.reports import ReportOptions, render, render_text
from ethos.reports.markdown import md_escape
from tests.helpers.records import make_record, make_sample
from tests.reports._html_parse import shown

HOSTILE = "a|b <script>alert(1)</script>\n| x | *y* [z](http://evil.example)"


def md_of(runs: list[RunRecord], **options: object) -> str:
    return render_text(runs, format="md", options=ReportOptions(**options))  # type: ignore[arg-type]


def unescape(cell: str) -> str:
    """A table cell as a reader sees it (Markdown backslash escapes and the three HTML entities undone)."""
    text = re.sub(r"\\(.)", r"\1", cell)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def tables(text: str) -> list[list[list[str]]]:
    """Every table: a list of rows (header first, the alignment row dropped), each a list of raw cells."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("| "):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(re.fullmatch(r"-{3}:?", c) for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def metric_record() -> RunRecord:
    metrics = [
        MetricRecord(name="ss", value=61.23456789, ci_low=55.5, ci_high=66.75, n=120),
        MetricRecord(name="icat", value=float("nan"), n=0),
        MetricRecord(name="ss", value=0.000123456, ci_low=0.0001, ci_high=0.0002, n=4, group={"bias_type": "race"}),
    ]
    return make_record("01JA00000000000000000000M1", metrics=metrics)


def test_when_a_run_is_rendered_then_each_metric_row_equals_the_record() -> None:
    record = metric_record()
    rows = [r for t in tables(md_of([record])) if t[0][0] == "Metric" for r in t[1:]]
    assert len(rows) == len(record.metrics)
    for m in record.metrics:
        group = [] if not m.group else [", ".join(f"{k}={v}" for k, v in m.group.items())]
        expected = [m.name, *group, shown(m.value), shown(m.ci_low), shown(m.ci_high), str(m.n)]
        assert expected in [[unescape(c) for c in r] for r in rows]


def test_when_a_run_is_rendered_then_header_notes_and_provenance_are_there() -> None:
    text = md_of([metric_record()])
    for heading in ("## Run", "## Headline metrics", "## Per-group metrics", "## Worst examples", "## Provenance"):
        assert heading in text
    assert "Stereotype score" in text and "Does not mean" in text and "sha256:" + "ab" * 32 in text


def test_when_record_text_is_hostile_then_every_table_row_keeps_its_cells_and_no_html_gets_through() -> None:
    samples = [make_sample(i, value=float(i)) for i in range(3)]
    samples[2] = samples[2].model_copy(update={"detail": {"output": HOSTILE}})
    record = make_record(
        "01JA00000000000000000000M2",
        model=f"hf:{HOSTILE}",
        settings={"variant": HOSTILE},
        samples=samples,
        metrics=[MetricRecord(name=HOSTILE, value=1.0, n=2, group={"k": HOSTILE})],
    )
    text = md_of([record], mask=lambda t: t)
    assert "<script" not in text and not re.search(r"(?<!\\)\]\(http", text)  # no raw HTML, no live link
    for table in tables(text):
        assert len({len(row) for row in table}) == 1, table  # no cell was split or merged
    cells = [unescape(c) for t in tables(text) for r in t for c in r]
    assert " ".join(HOSTILE.split()) in cells  # shown as text, on one line


def test_when_runs_make_a_history_then_the_trend_tables_hold_each_runs_value_oldest_first() -> None:
    runs = [
        make_record(f"01JA0000000000000000000M{i}", minutes=i, metrics=[MetricRecord(name="ss", value=v, n=3)])
        for i, v in enumerate((0.7, 0.65, 0.61))
    ]
    text = md_of(list(reversed(runs)))
    [trend] = [t for t in tables(text) if t[0][:3] == ["Created (UTC)", "Run", "Series"]]
    assert [r[1] for r in trend[1:]] == [r.id[:12] for r in runs]
    assert [r[3] for r in trend[1:]] == [shown(v) for v in (0.7, 0.65, 0.61)]
    assert "### stereoset · ss" in text


def test_when_written_then_the_file_is_the_rendered_text(tmp_path: Path) -> None:
    record = metric_record()
    out = render([record], tmp_path / "sub" / "r.md", format="md")
    assert out.read_text(encoding="utf-8") == md_of([record])


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("line one\nline two", "line one line two"),
        ("snake_case *bold*", "snake\\_case \\*bold\\*"),
        ("[link](x)", "\\[link\\](x)"),
    ],
)
def test_when_text_is_escaped_for_a_cell_then_markdown_and_html_are_shown_literally(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped
