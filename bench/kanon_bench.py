"""k-anonymity on Adult: Ethos's optimal search and Mondrian beside anonypy's Mondrian and pycanon's k check.

On ARX's Adult (30,162 records), times

* Ethos optimal full-domain search, all 9 columns as quasi-identifiers (ARX's unit-test setting):
  k=5 and k=100 with 0 % and 4 % suppression, with the non-uniform entropy of the optimum;
* Ethos Mondrian and anonypy's Mondrian (``anonypy.mondrian.Mondrian.partition`` + ``anonypy.anonymize``,
  i.e. ``Preserver.anonymize_k_anonymity``) at k=5 and k=100 on the 8 demographic columns, with
  salary-class as the sensitive column anonypy requires; k achieved, classes and discernibility
  (sum of squared class sizes) from each tool's partitions;
* the k of the raw table (8 quasi-identifiers) by ``ethos.pii.tabular.check_table`` and by pycanon's
  ``anonymity.k_anonymity``. pycanon pins old numpy/pandas, so it runs in its own virtualenv at
  ``~/.cache/ethos-bench/pycanon-venv`` (created with ``--with-pycanon``; used whenever it exists).

Times are wall seconds of the computation (files already read; Ethos's include encoding). Run::

    python bench/kanon_bench.py [--data-dir ../shared/data/adult] [--with-pycanon]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "adult"
PYCANON_VENV = Path.home() / ".cache" / "ethos-bench" / "pycanon-venv"
ALL9 = [
    "sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation", "salary-class",
]  # fmt: skip
QUASI8 = ALL9[:-1]
ARX = {  # ../shared/data/adult/SOURCE.md
    (5, 0.0): 407289.5388925293,
    (100, 0.0): 453196.8932458743,
    (5, 0.04): 255559.85455731067,
    (100, 0.04): 379417.3460570988,
}

PYCANON_SCRIPT = """
import json, sys, time
import pandas as pd
from pycanon import anonymity
df = pd.read_csv(sys.argv[1], sep=";", dtype=str, keep_default_na=False)
qi = sys.argv[2].split(",")
start = time.perf_counter()
k = anonymity.k_anonymity(df, qi)
print(json.dumps({"k": int(k), "seconds": time.perf_counter() - start}))
"""


def row(tool: str, task: str, seconds: float | None, k: Any, classes: Any, dm: Any, nue: Any) -> dict[str, Any]:
    return {"tool": tool, "task": task, "seconds": seconds, "k": k, "classes": classes, "dm": dm, "nue": nue}


def ethos_rows(data: Path) -> list[dict[str, Any]]:
    from ethos.pii.tabular import Privacy, anonymize, check_table, load_hierarchies, read_table

    table = read_table(data / "adult.csv")
    hierarchies = load_hierarchies(data, ALL9)
    rows = []
    for (k, suppress), reference in ARX.items():
        result = anonymize(table, ALL9, hierarchies, Privacy(k=k, suppress=suppress))
        loss = result.information_loss
        task = f"optimal k={k} supp={suppress:.0%}"
        levels = "".join(str(v) for v in result.transformation.values())  # type: ignore[union-attr]
        match = "=" if abs(loss.non_uniform_entropy - reference) < 1e-6 * reference else "!="
        rows.append(row("ethos", f"{task} [{levels}] {match}ARX", result.seconds, result.k,
                        _classes(result), loss.discernibility, loss.non_uniform_entropy))  # fmt: skip
    for k in (5, 100):
        privacy = Privacy(k=k)
        result = anonymize(table, QUASI8, hierarchies, privacy, algorithm="mondrian")
        loss = result.information_loss
        rows.append(row("ethos", f"mondrian k={k}", result.seconds, result.k, result.details["partitions"],
                        loss.discernibility, loss.non_uniform_entropy))  # fmt: skip
    start = time.perf_counter()
    report = check_table(table, QUASI8)
    rows.append(row("ethos", "check k (8 QIs)", time.perf_counter() - start, report.k, report.classes, None, None))
    return rows


def _classes(result: Any) -> int:
    released = {tuple(r[: len(ALL9)]) for r in result.rows}
    return len(released)


def anonypy_rows(data: Path) -> list[dict[str, Any]]:
    import pandas as pd
    from anonypy import anonypy as anonypy_api
    from anonypy import mondrian

    frame = pd.read_csv(data / "adult.csv", sep=";")
    for column in QUASI8 + ["salary-class"]:
        if column != "age":
            frame[column] = frame[column].astype("category")
    rows = []
    for k in (5, 100):
        start = time.perf_counter()
        model = mondrian.Mondrian(frame, QUASI8, "salary-class")
        partitions = model.partition(k)
        anonypy_api.anonymize(model.df, partitions, QUASI8, "salary-class")
        seconds = time.perf_counter() - start
        sizes = [len(p) for p in partitions]
        rows.append(row("anonypy", f"mondrian k={k}", seconds, min(sizes), len(sizes), sum(s * s for s in sizes), None))
    return rows


def pycanon_rows(data: Path, install: bool) -> list[dict[str, Any]]:
    python = PYCANON_VENV / "bin" / "python"
    if install and not python.exists():
        venv.create(PYCANON_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "pycanon"], check=True)
    if not python.exists():
        return [row("pycanon", "check k (8 QIs)", None, "skipped", None, None, None)]
    out = subprocess.run(
        [str(python), "-c", PYCANON_SCRIPT, str(data / "adult.csv"), ",".join(QUASI8)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        print(f"pycanon failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return [row("pycanon", "check k (8 QIs)", None, "skipped", None, None, None)]
    result = json.loads(out.stdout)
    return [row("pycanon", "check k (8 QIs)", result["seconds"], result["k"], None, None, None)]


def show(rows: list[dict[str, Any]]) -> None:
    def cell(value: Any, fmt: str) -> str:
        return "-" if value is None else (format(value, fmt) if isinstance(value, int | float) else str(value))

    print(f"| {'tool':8} | {'task':44} | {'seconds':>8} | {'k':>7} | {'classes':>7} | {'discernibility':>14} | "
          f"{'non-uniform entropy':>19} |")  # fmt: skip
    print(f"|{'-' * 10}|{'-' * 46}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 16}|{'-' * 21}|")
    for r in rows:
        cells = [cell(r["seconds"], ".3f"), cell(r["k"], "d"), cell(r["classes"], "d"), cell(r["dm"], ",.0f")]
        print(f"| {r['tool']:8} | {r['task']:44} | {cells[0]:>8} | {cells[1]:>7} | {cells[2]:>7} | {cells[3]:>14} | "
              f"{cell(r['nue'], ',.1f'):>19} |")  # fmt: skip


def ratios(rows: list[dict[str, Any]]) -> None:
    def seconds(tool: str, task: str) -> float | None:
        return next((r["seconds"] for r in rows if r["tool"] == tool and r["task"].startswith(task)), None)

    for task in ("mondrian k=5", "mondrian k=100", "check k"):
        ours, theirs = seconds("ethos", task), seconds("anonypy" if task.startswith("mondrian") else "pycanon", task)
        if ours and theirs:
            print(f"{task}: peer / ethos = {theirs / ours:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--with-pycanon", action="store_true", help="create pycanon's venv if it is missing")
    args = parser.parse_args()
    rows = ethos_rows(args.data_dir) + anonypy_rows(args.data_dir) + pycanon_rows(args.data_dir, args.with_pycanon)
    show(rows)
    ratios(rows)


if __name__ == "__main__":
    main()
