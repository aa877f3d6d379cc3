"""The bootstrap's count engine computes fairlearn's numbers (its intervals are only as good as this)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fm

from ethos.audit.fairness import prepare
from ethos.audit.fairness._counts import applicable, count_cells, headline_values, rates
from tests.audit.fairness.test_assess import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_when_counting_all_rows_then_every_headline_equals_fairlearns(case: Case) -> None:
    y_pred, y_true, scores, sensitive = case.build()
    data = prepare(y_pred, sensitive, y_true=y_true, scores=scores)
    assert data.y_true is not None
    cells = data.y_pred.astype(np.intp) + 2 * data.y_true.astype(np.intp)
    counts, sums = count_cells(data.codes, cells, len(data.keys), data.scores)
    values = headline_values(rates(counts, sums), applicable(has_truth=True, has_scores=True))
    sf = pd.DataFrame(sensitive)
    mean = fm.MetricFrame(metrics=fm.mean_prediction, y_true=scores, y_pred=scores, sensitive_features=sf)
    expected = {
        "demographic_parity_difference": fm.demographic_parity_difference(y_true, y_pred, sensitive_features=sf),
        "demographic_parity_ratio": fm.demographic_parity_ratio(y_true, y_pred, sensitive_features=sf),
        "equalized_odds_difference": fm.equalized_odds_difference(y_true, y_pred, sensitive_features=sf),
        "equal_opportunity_difference": fm.equal_opportunity_difference(y_true, y_pred, sensitive_features=sf),
        "mean_score_gap": mean.difference(method="between_groups"),
    }
    assert set(values) == set(expected)
    for name, value in expected.items():
        assert values[name][0] == pytest.approx(value, abs=1e-12), name


def test_when_resampling_in_a_batch_then_each_row_of_counts_is_its_own_resample() -> None:
    codes = np.array([0, 0, 1, 1], dtype=np.intp)
    cells = np.array([[3, 0, 1, 1], [3, 3, 2, 0]], dtype=np.intp)  # two resamples of 4 rows
    counts, _ = count_cells(codes, cells, 2)
    assert counts[0].tolist() == [[1, 0, 0, 1], [0, 2, 0, 0]]
    assert counts[1].tolist() == [[0, 0, 0, 2], [1, 0, 1, 0]]
