"""One-line readings: the recorded value and interval against the metric's ideal, never recomputed."""

from __future__ import annotations

import pytest

from ethos.records import MetricRecord
from ethos.reports.card import reading

CASES = [
    ("ss_above", MetricRecord(name="ss", value=62.0, ci_low=60.0, ci_high=64.0), "prefers stereotypical over"),
    ("ss_below", MetricRecord(name="ss", value=40.0, ci_low=37.0, ci_high=43.0), "prefers anti-stereotypical"),
    ("ss_includes", MetricRecord(name="ss", value=51.0, ci_low=47.0, ci_high=55.0), "the interval includes 50"),
    ("ss_no_ci", MetricRecord(name="ss", value=51.0), "no interval was recorded"),
    ("bbq_amb_above", MetricRecord(name="s_amb", value=8.0, ci_low=3.0, ci_high=12.0), "lean towards the social"),
    ("bbq_dis_below", MetricRecord(name="s_dis", value=-9.0, ci_low=-14.0, ci_high=-4.0), "lean against the social"),
    ("bbq_includes_0", MetricRecord(name="s_dis", value=1.0, ci_low=-2.0, ci_high=4.0), "the interval includes 0"),
    ("seat_large", MetricRecord(name="mean_abs_effect_size", value=0.9), "|d| = 0.9 is large"),
    ("seat_small", MetricRecord(name="effect_size", value=-0.3), "|d| = 0.3 is small"),
    ("seat_negligible", MetricRecord(name="effect_size", value=0.1), "is negligible"),
    ("parity_gap", MetricRecord(name="demographic_parity_difference", value=0.2, ci_low=0.1, ci_high=0.3),
     "differ by more than sampling noise"),
    ("parity_ratio", MetricRecord(name="demographic_parity_ratio", value=0.7), "below 0.8 fails the four-fifths"),
    ("flip_rate", MetricRecord(name="flip_rate", value=0.04), "changed with the demographic cue alone; ideal 0"),
    ("flagged", MetricRecord(name="flagged", value=1.0), "beyond chance (Holm-corrected)"),
    ("not_flagged", MetricRecord(name="flagged", value=0.0), "no pair of groups differs beyond chance"),
    ("undefined", MetricRecord(name="ss", value=float("nan"), n=0), "undefined (no samples behind it)."),
    ("unknown_metric", MetricRecord(name="perplexity", value=12.0), ""),
]  # fmt: skip


@pytest.mark.parametrize(("metric", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_when_a_metric_is_read_then_the_line_matches_its_value_interval_and_ideal(
    metric: MetricRecord, expected: str
) -> None:
    line = reading(metric)
    assert expected in line if expected else line == ""
