"""Datasheets for data sets (Gebru et al.): a questionnaire plus measured statistics and provenance.

::

    from ethos.reports.datasheet import DATASHEET_QUESTIONS, DatasheetInputs, FileStats, render_datasheet

    text = render_datasheet(DatasheetInputs(DATASHEET_QUESTIONS.load(path), files=[FileStats(...)]))

Personal-data counts are computed by the caller (the CLI uses ``ethos.pii``) and passed in as
numbers; a datasheet never holds a personal-data value.
"""

from __future__ import annotations

from ethos.reports.datasheet._questions import DATASHEET_QUESTIONS
from ethos.reports.datasheet._render import DatasheetInputs, FileStats, OptoutReceipt, render_datasheet

__all__ = ["DATASHEET_QUESTIONS", "DatasheetInputs", "FileStats", "OptoutReceipt", "render_datasheet"]
