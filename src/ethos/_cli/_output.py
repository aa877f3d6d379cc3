"""Printing for the CLI: rich tables for people, JSON for machines, one-line errors."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = ["console", "emit_json", "err", "print_table", "table"]

_UNBOUNDED = 10_000  # columns: "as wide as the table wants"

# emoji=False: rich would turn ":ab:" in data (a TLS fingerprint, a model tag) into an emoji.
console = Console(highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def err(message: str) -> None:
    """Print one error line on stderr."""
    # Messages carry text like "pip install 'ethos[hf]'": escape it so rich does not read it as markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


def emit_json(obj: Any) -> None:
    """Write ``obj`` as strict JSON on stdout (no colour, no wrapping), for machines.

    NaN and infinities (an undefined metric) become ``null``: strict parsers reject ``NaN``.
    """
    sys.stdout.write(json.dumps(_finite(obj), indent=2, default=str, ensure_ascii=False, allow_nan=False) + "\n")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], target: Console | None = None
) -> None:
    """Print a rich table (on stdout, or on ``target``, e.g. the stderr console)."""
    # Cells are Text, not markup: model output and paths may contain "[...]".
    t = Table(title=None if title is None else Text(title), title_justify="left", header_style="bold")
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*(Text("" if v is None else str(v)) for v in row))
    print_table(t, target)


def print_table(t: Table, target: Console | None = None) -> None:
    """Print a table: fitted to a terminal, at its natural width when piped or redirected.

    Nobody resizes a file or a CI log, and a squeezed table there turns numbers into "0.4…".
    """
    out = target or console
    if out.is_terminal:
        out.print(t)
    else:
        natural = Measurement.get(out, out.options.update_width(_UNBOUNDED), t).maximum
        wide = Console(file=out.file, width=max(natural, out.width), highlight=False)
        wide.print(t)
