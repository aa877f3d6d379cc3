"""Tabular de-identification: k-anonymity and l-diversity, and a risk check of a table as it is.

Two algorithms: optimal full-domain generalisation (ARX's optima under non-uniform entropy) and
Mondrian partitioning.

Imports numpy: the CLI imports this package inside its ``ethos table`` commands only.

::

    table = read_table(Path("adult.csv"))                      # separator detected
    hierarchies = load_hierarchies(Path("hierarchies/"), quasi)  # ARX CSV hierarchies
    result = anonymize(table, quasi, hierarchies, Privacy(k=5, suppress=0.04))
    result.transformation, result.information_loss.non_uniform_entropy
    result.write(Path("adult.anon.csv"))
"""

from __future__ import annotations

from ethos.pii.tabular._anonymize import Algorithm, Anonymization, SuppressedRows, anonymize
from ethos.pii.tabular._criteria import Diversity, Privacy
from ethos.pii.tabular._hierarchy import Hierarchy, find_hierarchy_files, load_hierarchies, read_hierarchy
from ethos.pii.tabular._lattice import MAX_NODES, Progress
from ethos.pii.tabular._metrics import InformationLoss
from ethos.pii.tabular._risk import RiskReport, check_table
from ethos.pii.tabular._table import Table, detect_separator, read_table, resolve_columns, write_table

__all__ = [
    "MAX_NODES",
    "Algorithm",
    "Anonymization",
    "Diversity",
    "Hierarchy",
    "InformationLoss",
    "Privacy",
    "Progress",
    "RiskReport",
    "SuppressedRows",
    "Table",
    "anonymize",
    "check_table",
    "detect_separator",
    "find_hierarchy_files",
    "load_hierarchies",
    "read_hierarchy",
    "read_table",
    "resolve_columns",
    "write_table",
]
