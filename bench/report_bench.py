"""Time and size of HTML and Markdown reports, for a large run and a long history.

The run has ``--samples`` per-sample results and ``--groups`` groups for each of 11 metrics
(CrowS-Pairs-like: 1,508 pairs, 9 bias types); the history has ``--history`` runs of one model.
Reports are rendered in-process (``render_text``, then the atomic write of ``render``); the time
is Ethos's (record → view → Jinja/Markdown), not the store's. Prints median and max of
``--repeat`` renders and the file size. No masker: examples hold no text.

    python bench/report_bench.py [--samples 1508] [--groups 9] [--history 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.records import make_record  # noqa: E402

from ethos.records import MetricRecord, RunRecord, SampleResult  # noqa: E402
from ethos.reports import ReportOptions, render  # noqa: E402

METRICS = [f"metric_{i}" for i in range(11)]


def big_run(samples: int, groups: int) -> RunRecord:
    metrics = []
    for i, name in enumerate(METRICS):
        value = 40 + i
        metrics.append(MetricRecord(name=name, value=value, ci_low=value - 3, ci_high=value + 3, n=samples))
        metrics += [
            MetricRecord(name=name, value=value + g, ci_low=value + g - 9, ci_high=value + g + 9, n=samples // groups,
                         group={"bias_type": f"type-{g}"})
            for g in range(groups)
        ]  # fmt: skip
    results = [
        SampleResult(
            index=i,
            sample_id=str(i),
            input_hash=f"{i:064x}",
            values={"score_more": -200.0 - (i * 37 % 101), "score_less": -210.0 + (i * 11 % 53), "hit": float(i % 2)},
            groups={"bias_type": f"type-{i % groups}"},
            detail={"variant": "causal-ll", "tokens_more": 30 + i % 17},
        )  # fmt: skip
        for i in range(samples)
    ]
    return make_record("01JC0000000000000000000000", samples=results, metrics=metrics)


def history_runs(count: int) -> list[RunRecord]:
    runs = []
    for r in range(count):
        metrics = [MetricRecord(name=n, value=50 + (r * 7 + i) % 9, ci_low=45.0, ci_high=60.0, n=1508)
                   for i, n in enumerate(METRICS)]  # fmt: skip
        runs.append(make_record(f"01JC{r:05d}{'0' * 17}", minutes=r, n_samples=0, metrics=metrics))
    return runs


def timed(runs: list[RunRecord], out: Path, fmt: str, options: ReportOptions, repeat: int) -> tuple[float, float, int]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render(runs, out, format=fmt, options=options)
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times), out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1508)
    parser.add_argument("--groups", type=int, default=9)
    parser.add_argument("--history", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run, history = big_run(args.samples, args.groups), history_runs(args.history)
    cases = [
        ("run, html + plots", [run], "html", ReportOptions()),
        ("run, html --no-plots", [run], "html", ReportOptions(plots=False)),
        ("run, markdown", [run], "md", ReportOptions()),
        (f"history of {args.history}, html + plots", history, "html", ReportOptions(kind="history")),
        (f"history of {args.history}, markdown", history, "md", ReportOptions(kind="history")),
    ]
    shape = f"{args.samples} samples, {len(METRICS)} metrics × {args.groups} groups"
    print(f"| report ({shape}) | median s | max s | bytes |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, runs, fmt, options in cases:
            median, worst, size = timed(runs, Path(tmp) / f"r.{fmt}", fmt, options, args.repeat)
            print(f"| {name} | {median:.3f} | {worst:.3f} | {size:,} |")


if __name__ == "__main__":
    main()
