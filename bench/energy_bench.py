"""What energy measurement costs an audit, and what it reports on this machine.

Run on demand: ``python bench/energy_bench.py [--data-dir ../shared/data/bias] [--runs 2]``.

1. The meter alone, in fresh interpreters: the first start (CodeCarbon probes the hardware once
   per process), a later start in the same process, and a stop.
2. A real audit (``encoder:minilm`` on two SEAT tests) through the CLI, in fresh processes, with
   ``--energy`` and ``--no-energy``: the median wall time of each and the energy it recorded.

Absolute energy figures depend on the machine and on what else runs on it; on a container without
RAPL they are estimates (see docs/energy.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_METER = """
import json, time
from ethos.audit import EnergyMeter
t = time.perf_counter(); first = EnergyMeter(); first.start(); cold = time.perf_counter() - t
sum(range(2_000_000))
t = time.perf_counter(); first.stop(); stop1 = time.perf_counter() - t
t = time.perf_counter(); second = EnergyMeter(); second.start(); warm = time.perf_counter() - t
t = time.perf_counter(); second.stop(); stop2 = time.perf_counter() - t
print(json.dumps({"cold_start": cold, "first_stop": stop1, "warm_start": warm, "warm_stop": stop2}))
"""


def _meter(runs: int) -> dict[str, float]:
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _METER], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout))
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def _audit(data_dir: Path, flag: str, home: Path) -> tuple[float, dict[str, object] | None]:
    cmd = [
        sys.executable, "-m", "ethos._cli.main", "audit", "run", "--model", "encoder:minilm", "-b", "seat",
        "--data-dir", str(data_dir), "-P", "seat.tests=sent-weat6,sent-weat7", "-P", "seat.n_samples=2000",
        flag, "--json",
    ]  # fmt: skip
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "ETHOS_HOME": str(home)})
    took = time.perf_counter() - start
    [run] = json.loads(out.stdout)
    return took, run["energy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/bias")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    meter = _meter(args.runs)
    print("| meter step (fresh process, median) | seconds |\n|---|---|")
    for name, value in meter.items():
        print(f"| {name.replace('_', ' ')} | {value:.3f} |")

    with tempfile.TemporaryDirectory() as tmp:
        times: dict[str, list[float]] = {"--energy": [], "--no-energy": []}
        energy = None
        for _ in range(args.runs):
            for flag in times:
                took, measured = _audit(args.data_dir, flag, Path(tmp))
                times[flag].append(took)
                energy = measured or energy
    print("\n| `ethos audit run` seat (2 tests), fresh process | median wall s |\n|---|---|")
    for flag, values in times.items():
        print(f"| {flag} | {statistics.median(values):.2f} |")
    if energy:
        keys = ("kwh", "co2_g", "duration_s", "method", "cpu_method", "ram_method", "carbon_intensity")
        print("\n| recorded energy (last run) | value |\n|---|---|")
        for key in keys:
            print(f"| {key} | {energy.get(key)} |")


if __name__ == "__main__":
    main()
