"""Dashboard page latency over a large run database.

Builds a database of ``--models`` × ``--runs`` runs (each with 2 overall and 10 per-group
metrics, 3 samples) across three benchmarks, then times each page through Starlette's TestClient
(in-process: the time is Ethos's — SQLite reads, record validation, gate evaluation, Jinja — not
the network's), with and without a gate rules file. Prints median and max of ``--repeat`` requests.

    python bench/dashboard_bench.py [--models 20] [--runs 250] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402
from tests.helpers.records import make_record  # noqa: E402

from ethos.records import MetricRecord, ModelInfo, RunStore, parse_rules  # noqa: E402
from ethos.reports.dashboard import create_app  # noqa: E402

BENCHMARKS = ("stereoset", "crows_pairs", "bbq")
RULES = "".join(
    f'[[rule]]\nbenchmark = "{b}"\nmetric = "score"\nmax = 0.6\n\n[[rule]]\nbenchmark = "{b}"\nmetric = "score"\n'
    "max_regression = 0.01\nhigher_is_better = false\n\n"
    for b in BENCHMARKS
)


def build(path: Path, models: int, runs: int) -> int:
    count = 0
    with RunStore(path) as store:
        for m in range(models):
            spec = f"hf:./model-{m:03d}"
            for r in range(runs):
                value = 0.5 + ((m * 7 + r * 13) % 20) / 100
                metrics = [MetricRecord(name="score", value=value, ci_low=value - 0.03, ci_high=value + 0.03, n=400)]
                metrics.append(MetricRecord(name="accuracy", value=1 - value, n=400))
                metrics += [MetricRecord(name="score", value=value, n=40, group={"domain": f"d{g}"}) for g in range(10)]
                record = make_record(
                    f"01JB{m:03d}{r:05d}{'0' * 14}",
                    minutes=r,
                    model=spec,
                    benchmark=BENCHMARKS[r % 3],
                    metrics=metrics,
                )
                info = ModelInfo(spec=spec, provider="hf", name=spec[3:], digest="sha256:" + f"{r % 256:02x}" * 32)
                store.save(record.model_copy(update={"model": info, "created_at": record.created_at + timedelta()}))
                count += 1
    return count


def timed(client: TestClient, url: str, repeat: int) -> tuple[float, float, int]:
    times = []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        size = len(response.content)
    return statistics.median(times), max(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--runs", type=int, default=250, help="runs per model")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ethos.db"
        start = time.perf_counter()
        total = build(db, args.models, args.runs)
        print(f"built {total} runs in {time.perf_counter() - start:.1f} s ({db.stat().st_size / 1e6:.1f} MB)")
        last = f"01JB000{args.runs - 1:05d}{'0' * 14}"
        pages = [
            ("index", "/"),
            ("index, one model", "/?model=hf:./model-000"),
            ("run", f"/runs/{last}"),
            ("model (trends)", "/model?spec=hf:./model-000"),
        ]
        print(f"{'page':<18} {'rules':<6} {'median ms':>10} {'max ms':>8} {'KB':>7}")
        for with_rules in (False, True):
            rules = parse_rules(RULES) if with_rules else None
            with TestClient(create_app(db, rules=rules), base_url="http://127.0.0.1") as client:
                for name, url in pages:
                    median, worst, size = timed(client, url, args.repeat)
                    flag = "yes" if with_rules else "no"
                    print(f"{name:<18} {flag:<6} {median * 1e3:>10.1f} {worst * 1e3:>8.1f} {size / 1e3:>7.1f}")


if __name__ == "__main__":
    main()
