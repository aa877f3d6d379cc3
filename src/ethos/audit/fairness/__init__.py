"""Decision fairness: disaggregated metrics (fairlearn), bootstrap intervals and paired twin tests.

A *disaggregated metric* is a metric computed separately for each group of a sensitive feature;
a fairness measure summarises how far the groups are apart (a difference or a ratio). Ethos uses
fairlearn's definitions and fairlearn itself for the point estimates::

    from ethos.audit.fairness import assess, flip_rate, paired_test

    report = assess(y_pred, {"sex": sex, "race": race}, y_true=y_true, seed=0)
    report.by_group["F|black"].selection_rate
    report.demographic_parity_ratio.value, report.demographic_parity_ratio.ci_low
    report.four_fifths_rule_passed          # ratio >= 0.8 (EEOC 29 CFR 1607.4(D)), a screening heuristic
    report.to_json()                        # strict-JSON-ready dict; report.metric_values() for run records

    flip_rate(decisions_female, decisions_male)            # twins whose decision flips
    paired_test(score_female, score_male, method="permutation", seed=0).p_value

Headline attributes are :class:`Estimate` values (``value``, ``ci_low``, ``ci_high``, ``method``,
``note``); an attribute is ``None`` when the metric does not apply (odds metrics without
``y_true``, score gap without scores), and ``Estimate.value`` is ``None`` when it applies but is
undefined on the data (e.g. a group with no positive labels has no TPR; ``note`` says so).
Tabular mode (``ethos fairness assess``) reads a predictions CSV with :func:`assess_file` and
stores the result as a ``fairness-tabular`` run with :func:`save_record`.

fairlearn, pandas and scipy are imported on first use (``pip install 'ethos[fairness]'``).
"""

from ethos.audit.fairness._assess import assess
from ethos.audit.fairness._bootstrap import METHOD as CI_METHOD
from ethos.audit.fairness._paired import PairedTest, flip_rate, flip_rate_estimate, paired_test
from ethos.audit.fairness._report import FOUR_FIFTHS, Estimate, FairnessReport, GroupMetrics
from ethos.audit.fairness._tabular import (
    TABULAR_BENCHMARK,
    TABULAR_HEADLINE,
    TABULAR_SUMMARY,
    TABULAR_VERSION,
    Columns,
    TabularAssessment,
    assess_file,
    save_record,
)
from ethos.audit.fairness._validate import GROUP_SEPARATOR, SINGLE_COLUMN, prepare

__all__ = [
    "CI_METHOD",
    "FOUR_FIFTHS",
    "GROUP_SEPARATOR",
    "SINGLE_COLUMN",
    "TABULAR_BENCHMARK",
    "TABULAR_HEADLINE",
    "TABULAR_SUMMARY",
    "TABULAR_VERSION",
    "Columns",
    "Estimate",
    "FairnessReport",
    "GroupMetrics",
    "PairedTest",
    "TabularAssessment",
    "assess",
    "assess_file",
    "flip_rate",
    "flip_rate_estimate",
    "paired_test",
    "prepare",
    "save_record",
]
