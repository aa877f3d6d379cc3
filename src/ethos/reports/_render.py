"""The renderer registry: a format name (``html``, ``md``) → a renderer of run records to text.

A renderer has one required method, :meth:`Renderer.render_text`; :func:`render` picks one by
name and writes its output atomically (a temp file beside the target, then a rename), so a failed
render never leaves a partial report. Plugins add formats with ``@renderer("name")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from ethos._util.atomic import atomic_write_text
from ethos.errors import ConfigError
from ethos.registry import Registry

if TYPE_CHECKING:
    from ethos.records import RunRecord

__all__ = ["ReportOptions", "Renderer", "render", "render_text", "renderer", "renderer_registry"]

ReportKind = Literal["run", "history"]


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What a report includes; the defaults suit a report for people."""

    kind: ReportKind | None = None
    """``run`` (one run in detail) or ``history`` (trends over runs); default: ``run`` for one run."""
    plots: bool = True
    """Draw plots (HTML only; needs Plotly's bundled plotly.min.js, about 4.8 MB inlined)."""
    examples: int = 5
    """How many worst examples to show per run (0: none)."""
    mask: Callable[[str], str] | None = None
    """Masks personal data in sample text; without it, text is left out (never shown unmasked)."""
    title: str | None = None
    """Report title (default: from the runs)."""

    def kind_for(self, runs: Sequence[RunRecord]) -> ReportKind:
        """The report kind for ``runs``.

        Raises:
            ConfigError: No runs, or several runs for a ``run`` report.
        """
        if not runs:
            raise ConfigError("no runs to report on; check the run id, --model and --benchmark (`ethos runs list`)")
        kind = self.kind or ("run" if len(runs) == 1 else "history")
        if kind == "run" and len(runs) != 1:
            raise ConfigError(f"a run report shows exactly one run, not {len(runs)}; use a history report")
        return kind


class Renderer(Protocol):
    """Turns run records into one document."""

    suffix: str
    """The file suffix of its output, e.g. ``.html``."""

    def render_text(self, runs: Sequence[RunRecord], options: ReportOptions) -> str:
        """The document for ``runs``; raises :class:`~ethos.errors.EthosError` subclasses on bad input."""
        ...


renderer_registry: Registry[Callable[[], Renderer]] = Registry(
    "renderer", builtins=("ethos.reports.html", "ethos.reports.markdown")
)
"""Renderers by format name: ``html`` and ``md`` built in."""

renderer = renderer_registry.register
"""Decorator registering a renderer factory (a class works) under a format name."""


def render_text(runs: Sequence[RunRecord], *, format: str = "html", options: ReportOptions | None = None) -> str:  # noqa: A002
    """Render ``runs`` with the renderer registered as ``format``.

    Raises:
        UnknownNameError: No renderer has that name (the message lists them).
        ConfigError: No runs, or several for a ``run`` report.
        MissingDependencyError: The renderer needs an extra (HTML: ``ethos[reports]``).
    """
    return renderer_registry.get(format)().render_text(runs, options or ReportOptions())


def render(
    runs: Sequence[RunRecord],
    out: Path,
    *,
    format: str = "html",  # noqa: A002 - the user-facing word
    options: ReportOptions | None = None,
) -> Path:
    """Render ``runs`` and write the document to ``out`` atomically; returns ``out``.

    Raises:
        Like :func:`render_text`; nothing is written when rendering fails.
    """
    text = render_text(runs, format=format, options=options)
    atomic_write_text(Path(out), text)
    return Path(out)
