"""``ethos report run`` and ``ethos report history``: self-contained HTML or Markdown from stored runs.

The report is written atomically to ``-o FILE`` (default: ``ethos-report-<run>.html`` or
``ethos-history-<model>.html`` in the working directory); the format comes from ``--format`` or
the file's suffix. Sample text in the 'worst examples' is masked with ``ethos.pii`` when
``ethos[pii]`` is installed, and left out otherwise.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ethos._cli._common import HOME_OPTION, JSON_OPTION, settings_from_flags
from ethos._cli._output import console, emit_json, err
from ethos.errors import ConfigError

if TYPE_CHECKING:
    from ethos.records import RunRecord

__all__ = ["history", "pii_masker", "run"]

_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}
_SHORT_ID = 12

OUTPUT_OPTION = typer.Option(None, "--output", "-o", help="Write the report here (atomically).")
FORMAT_OPTION = typer.Option(None, "--format", "-f", help="html or md [default: from the --output suffix, else html].")
NO_PLOTS_OPTION = typer.Option(False, "--no-plots", help="Leave out the plots (and the ~4.8 MB of inlined plotly.js).")
EXAMPLES_OPTION = typer.Option(5, "--examples", min=0, help="Show this many worst examples (0: none).")
TITLE_OPTION = typer.Option(None, "--title", help="Report title [default: from the runs].")


def run(  # noqa: PLR0913 - one parameter per command-line option
    run_id: str = typer.Argument(..., help="Run id, or any unique prefix of it (see `ethos runs list`)."),
    output: Path | None = OUTPUT_OPTION,
    fmt: str | None = FORMAT_OPTION,
    no_plots: bool = NO_PLOTS_OPTION,
    examples: int = EXAMPLES_OPTION,
    title: str | None = TITLE_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a report of one run: header, headline metrics with CIs, per-group plots, worst examples."""
    from ethos.records import RunStore

    format_name = _format(fmt, output)
    with RunStore(settings_from_flags(home).db_path, create=False) as store:
        record = store.get(run_id)
    target = output or Path(f"ethos-report-{record.id[:_SHORT_ID]}.{_suffix(format_name)}")
    _write([record], target, format_name, "run", no_plots=no_plots, examples=examples, title=title, as_json=as_json)


def history(  # noqa: PLR0913 - one parameter per command-line option
    model: str = typer.Option(..., "--model", "-m", help="The model spec (or name), as `ethos runs list` shows it."),
    benchmark: str | None = typer.Option(None, "--benchmark", "-b", help="Only runs of this benchmark."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many runs, the newest."),
    output: Path | None = OUTPUT_OPTION,
    fmt: str | None = FORMAT_OPTION,
    no_plots: bool = NO_PLOTS_OPTION,
    title: str | None = TITLE_OPTION,
    home: Path | None = HOME_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a report of a model's finished runs over time: a trend per benchmark and metric, with CIs."""
    from ethos.records import RunStore

    format_name = _format(fmt, output)
    with RunStore(settings_from_flags(home).db_path, create=False) as store:
        found = store.query(model=model, benchmark=benchmark, status="finished", limit=limit)
        if not found:
            what = f"model {model!r}" + (f" and benchmark {benchmark!r}" if benchmark else "")
            raise ConfigError(f"no finished runs of {what} in {store.path}; see `ethos runs list`")
        # Headers and metrics only: a history trends metrics, and samples cost seconds per big run.
        records = [store.get(s.id, samples=False) for s in found]
    target = output or Path(f"ethos-history-{_slug(model)}.{_suffix(format_name)}")
    _write(records, target, format_name, "history", no_plots=no_plots, examples=0, title=title, as_json=as_json)




def _format(fmt: str | None, output: Path | None) -> str:
    if fmt is not None:
        name = fmt.lower().removeprefix(".")
        name = "md" if name in ("markdown", "md") else name
        if name not in ("html", "md"):
            raise ConfigError(f"--format {fmt!r} is not a report format; choose html or md")
        return name
    if output is not None and output.suffix:
        found = _FORMATS.get(output.suffix.lower())
        if found is None:
            raise ConfigError(
                f"cannot tell the report format from {output.name!r}: name it .html or .md, or pass --format html|md"
            )
        return found
    return "html"


def _suffix(format_name: str) -> str:
    return "md" if format_name == "md" else "html"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "model"


def _write(  # noqa: PLR0913 - the options of both commands
    records: list[RunRecord],
    target: Path,
    format_name: str,
    kind: str,
    *,
    no_plots: bool,
    examples: int,
    title: str | None,
    as_json: bool,
) -> None:
    from ethos.reports import ReportOptions, render, worst_examples

    mask = pii_masker() if examples > 0 else None
    if examples > 0 and mask is None and any(worst_examples(r, examples, None).note for r in records):
        err("note: sample text is left out of the examples: install 'ethos[pii]' to show it masked")
    options = ReportOptions(
        kind="run" if kind == "run" else "history",
        plots=not no_plots and format_name == "html",
        examples=examples,
        mask=mask,
        title=title,
    )
    path = render(records, target, format=format_name, options=options)
    summary: dict[str, Any] = {
        "path": str(path),
        "format": format_name,
        "kind": kind,
        "runs": [r.id for r in records],
        "bytes": path.stat().st_size,
        "plots": options.plots,
        "text_masked": mask is not None,
    }
    if as_json:
        emit_json(summary)
    else:
        console.print(f"wrote {kind} report of {len(records)} run(s) to {path} ({summary['bytes']:,} bytes)")


def pii_masker() -> Callable[[str], str] | None:
    """A masker built on ``ethos.pii`` (placeholders such as ``<PERSON_1>``), or ``None`` without ``ethos[pii]``.

    The spaCy pipeline is ``ETHOS_PII_SPACY_MODEL`` when set; it is loaded on the first call only.
    """
    from ethos.pii.detect import AnalyzerConfig

    spacy_model = os.environ.get("ETHOS_PII_SPACY_MODEL") or AnalyzerConfig().spacy_model
    needed = ["phonenumbers", "spacy"] + ([spacy_model] if spacy_model and spacy_model.isidentifier() else [])
    if any(importlib.util.find_spec(name) is None for name in needed):
        return None
    config = AnalyzerConfig(spacy_model=spacy_model)

    @functools.lru_cache(maxsize=1024)
    def mask(text: str) -> str:
        from ethos.pii import cached_analyzer
        from ethos.pii.anonymize import Anonymizer

        spans = cached_analyzer(config).scan([text])[0]
        return str(Anonymizer().rewrite(text, spans))

    return mask
