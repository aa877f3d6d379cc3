from __future__ import annotations

import json
import math

import pytest

from ethos._cli._output import emit_json


def test_when_a_metric_is_undefined_then_json_output_says_null_and_stays_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit_json({"s_dis": math.nan, "values": [1.5, math.inf], "nested": ({"x": -math.inf},)})
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out) == {"s_dis": None, "values": [1.5, None], "nested": [{"x": None}]}


@pytest.mark.parametrize("which", ["console", "err_console"])
def test_when_data_holds_an_emoji_shortcode_then_it_is_printed_as_written(which: str) -> None:
    """A TLS fingerprint like ``18:AB:DD`` once came out as ``18🆎DD``."""
    from ethos._cli import _output

    target = getattr(_output, which)
    with target.capture() as captured:
        target.print("AE:49:18:F0:AB:DD :smile: :thumbs_up:", markup=False)
    assert captured.get().strip() == "AE:49:18:F0:AB:DD :smile: :thumbs_up:"
