"""Benchmark `unspin batch`: detect throughput with 1 vs 2 local workers, Ray vs local, RSS.

All configurations run in one process, one after the other, on the same input, so their ratios
are comparable even on a noisy machine (the load average is recorded with each run).

    python benchmarks/bench_batch.py --docs 60 --ray --out benchmarks/out/batch.json

With ``--learn``: the learn pass of ``unspin batch --learn`` instead (Wikinews articles spun
with the WordNet spinner dictionary, the sources of half of them indexed with the rest of the
corpus as distractors, as benchmarks/bench_learn.py builds them): its pages/s with 1 and 2
local workers against ``unspin.learning.learn`` in this process, on the same pages, and whether
the batch lexicon equals learn()'s (it must: same map code, same merge rule).

    python benchmarks/bench_batch.py --learn --docs 60 --out benchmarks/out/batch-learn.json

Reported per configuration: wall-clock documents/s, steady documents/s (after every worker has
built its engine — the number that matters for a long crawl), start-up seconds, peak RSS of each
worker. The input is the development corpus (wikinews, 294 articles), repeated with new ids when
--docs asks for more.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from unspin.batch import BatchJob, run_batch

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared/data/wikinews/articles.jsonl"


def write_input(source: Path, count: int, target: Path) -> int:
    articles = [json.loads(line) for line in source.open(encoding="utf-8") if line.strip()]
    words = 0
    with target.open("w", encoding="utf-8") as out:
        for i in range(count):
            article = articles[i % len(articles)]
            text = f"{article['title']}\n\n{article['text']}"
            words += len(text.split())
            out.write(json.dumps({"id": f"{article['id']}#{i}", "text": text}) + "\n")
    return words // max(count, 1)


def _spin(seconds: float) -> int:
    """Count loop iterations for `seconds` of wall time: how much CPU this process gets."""
    import time

    end = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < end:
        count += 1
    return count


def machine_ceiling(seconds: float = 3.0) -> float:
    """What 2 processes get over 1 on this machine right now (pure-Python busy loops).

    The 1 -> 2 worker speed-up of any engine cannot exceed this; on a machine shared with other
    programs it is far below 2.
    """
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        one = sum(pool.map(_spin, [seconds]))
        two = sum(pool.map(_spin, [seconds, seconds]))
    return round(two / one, 3)


def run_config(name: str, job: BatchJob, *, workers: int, engine: str, address: str | None) -> dict:
    load_before = os.getloadavg()[0]
    summary = run_batch(
        job, workers=workers, engine=engine, address=address, progress=False, restart=True
    )
    result = {
        "config": name,
        "workers": workers,
        "engine": engine,
        **summary.to_dict(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    print(
        f"{name:>10}: {summary.documents} docs, wall {summary.seconds:.1f} s "
        f"({summary.documents_per_second:.2f} docs/s), start-up {summary.startup_seconds:.1f} s, "
        f"steady {summary.steady_documents_per_second:.2f} docs/s, "
        f"{summary.documents_per_cpu_second:.2f} docs/CPU-s, "
        f"RSS/worker {summary.worker_peak_rss_mb} MB, load {load_before:.1f}",
        file=sys.stderr,
    )
    return result


def bench_learn_pass(args: argparse.Namespace) -> dict:
    """The learn pass of `batch --learn` (1 and 2 workers) against learn() in one process."""
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_learn import article_original, spun_pages

    from unspin.learning import learn
    from unspin.resources.lexicon import Lexicon
    from unspin.tracing.index import SourceIndex

    records = [json.loads(line) for line in args.data.open(encoding="utf-8") if line.strip()]
    pages = spun_pages(records[: args.docs], "wordnet", 0)
    indexed = pages[: args.docs // 2]
    report: dict = {"mode": "learn", "docs": len(pages), "indexed_sources": len(indexed)}
    with tempfile.TemporaryDirectory(prefix="unspin-bench-batch-learn-") as tmp:
        db = Path(tmp) / "sources.db"
        with SourceIndex(db) as index:
            index.add(
                [{"id": page.source_id, "text": page.original} for page in indexed]
                + [{"id": str(r["id"]), "text": article_original(r)} for r in records[args.docs :]]
            )
        data = Path(tmp) / "pages.jsonl"
        with data.open("w", encoding="utf-8") as out:
            for page in pages:
                out.write(json.dumps({"id": page.id, "text": page.text}) + "\n")
        runs = []
        for workers in (1, 2):
            job = BatchJob(
                inputs=(str(data),),
                output=Path(tmp) / f"out-{workers}.jsonl",
                tasks=("restore",),
                db=db,
                shard_size=args.shard_size,
                engine_options={"model": None, "lexical": ["wordnet"]},
                learn=True,
                time_limit=600,
            )
            load = os.getloadavg()[0]
            summary = run_batch(job, workers=workers, progress=False, restart=True)
            runs.append(
                {
                    "workers": workers,
                    "learn_pages": summary.learn_pages,
                    "pages_traced": summary.pages_traced,
                    "pairs_learned": summary.pairs_learned,
                    "learn_seconds": summary.learn_seconds,
                    "learn_pages_per_second": round(summary.learn_pages / summary.learn_seconds, 1),
                    "load_before": round(load, 2),
                }
            )
            print(f"batch --learn x{workers}: {runs[-1]}", file=sys.stderr)
        texts = [
            json.loads(line)["text"] for line in (Path(tmp) / "out-1.jsonl").open(encoding="utf-8")
        ]
        with SourceIndex(db, create=False) as index:
            started = time.perf_counter()
            alone = learn(texts, index)
            seconds = time.perf_counter() - started
        batch_lexicon = Lexicon.read(Path(tmp) / "out-1.jsonl.lexicon.tsv")
        report.update(
            {
                "batch": runs,
                "learn_in_process": {
                    "pages_traced": alone.pages_traced,
                    "pairs_mined": alone.pairs_mined,
                    "seconds": round(seconds, 2),
                    "pages_per_second": round(len(texts) / seconds, 1),
                },
                "lexicon_equal_to_learn": batch_lexicon.dumps() == alone.lexicon.dumps(),
            }
        )
    print(json.dumps(report), file=sys.stderr)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--docs", type=int, default=60, help="documents per configuration")
    parser.add_argument("--task", default="detect", help="task to time (default: detect)")
    parser.add_argument("--model", default="default", help="'default', a model id/path, or 'none'")
    parser.add_argument("--lexical", help="comma-separated built-in resources (default: all)")
    parser.add_argument("--shard-size", type=int, default=5)
    parser.add_argument("--ray", action="store_true", help="also run the Ray engine (2 actors)")
    parser.add_argument("--address", help="Ray cluster address (default: local Ray)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat all configurations, interleaved (load drifts)"
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--learn", action="store_true", help="time the learn pass of --learn instead"
    )
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"bench_batch: {args.data}: development corpus not found", file=sys.stderr)
        return 2
    if args.learn:
        learn_report = bench_learn_pass(args)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(learn_report, indent=1), encoding="utf-8")
        return 0 if learn_report["lexicon_equal_to_learn"] else 1

    engine_options: dict = {"model": None if args.model.lower() == "none" else args.model}
    if args.lexical:
        engine_options["lexical"] = [n.strip() for n in args.lexical.split(",") if n.strip()]
    results = []
    ceilings = [machine_ceiling()]
    print(f"machine ceiling for 2 vs 1 processes (busy loops): {ceilings[0]}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="unspin-bench-batch-") as tmp:
        data = Path(tmp) / "pages.jsonl"
        words = write_input(args.data, args.docs, data)
        print(f"{args.docs} documents, {words} words on average", file=sys.stderr)
        configs = [("local x1", 1, "local"), ("local x2", 2, "local")]
        if args.ray:
            configs.append(("ray x2", 2, "ray"))
        for round_no, (name, workers, engine) in (
            (r, c) for r in range(args.rounds) for c in configs
        ):
            job = BatchJob(
                inputs=(str(data),),
                output=Path(tmp) / f"out-{engine}-{workers}.jsonl",
                tasks=(args.task,),
                shard_size=args.shard_size,
                engine_options=engine_options,
                time_limit=600,
            )
            result = run_config(name, job, workers=workers, engine=engine, address=args.address)
            results.append({**result, "round": round_no})

    ceilings.append(machine_ceiling())
    print(f"machine ceiling for 2 vs 1 processes, at the end: {ceilings[1]}", file=sys.stderr)
    by_name = {}  # per configuration: totals over rounds, so rates are documents / total time
    for r in results:
        total = by_name.setdefault(
            r["config"], {"documents": 0, "seconds": 0.0, "busy": 0.0, "cpu": 0.0}
        )
        total["documents"] += r["documents"]
        total["seconds"] += r["seconds"]
        total["busy"] += r["seconds"] - r["startup_seconds"]
        total["cpu"] += r["worker_cpu_seconds"]
    for total in by_name.values():
        total["documents_per_second"] = total["documents"] / total["seconds"]
        total["steady_documents_per_second"] = total["documents"] / total["busy"]
        total["documents_per_cpu_second"] = total["documents"] / total["cpu"] if total["cpu"] else 0
    ratios = {}
    one, two = by_name["local x1"], by_name["local x2"]
    for key in ("documents_per_second", "steady_documents_per_second", "documents_per_cpu_second"):
        if one[key]:
            ratios[f"local 2/1 workers ({key})"] = round(two[key] / one[key], 3)
        if "ray x2" in by_name and two[key]:
            ratios[f"ray/local, 2 workers ({key})"] = round(by_name["ray x2"][key] / two[key], 3)
    for label, value in ratios.items():
        print(f"{label}: {value}", file=sys.stderr)
    report = {
        "docs": args.docs,
        "words_per_doc": words,
        "task": args.task,
        "engine_options": engine_options,
        "cpus": os.cpu_count(),
        "results": results,
        "totals": by_name,
        "machine_ceiling_2_vs_1": ceilings,
        "ratios": ratios,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report["ratios"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
