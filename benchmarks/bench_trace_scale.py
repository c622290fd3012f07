"""Scale benchmark for source tracing: build a large index, then trace spun copies.

Index = originals (wikinews minus a held-out fold) + N deterministic distractors
(`benchmarks/distractors.py`, drawn from the indexed originals only). Measures:

- build speed (documents/s, fingerprinting + SQLite writes; generating the
  distractors is timed separately and excluded),
- index size per document (whole file, and fingerprint = postings + sketches),
- trace latency p50/p99 (full `trace`, passages included) and top-1 accuracy
  on spun copies of the indexed originals,
- false matches: clean held-out originals (in neither the index nor the
  distractor pool) that get any match at the default threshold,
- optionally (--compare-lsh) candidate recall and latency of MinHash LSH
  (datasketch) over the same anchor sets, the alternative we rejected.

Spun copies come from `benchmarks/data/dev/*.jsonl` when present (field
`source_id`, `text`), else from a MyThes thesaurus spinner built in here that
replaces a third of all words with a synonym of any sense.

    python benchmarks/bench_trace_scale.py --distractors 100000 --holdout 40
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from distractors import DEFAULT_CORPUS, generate, load_corpus  # noqa: E402

from unspin.tracing import DEFAULT_THRESHOLD, trace  # noqa: E402
from unspin.tracing.fingerprint import anchor_hashes  # noqa: E402
from unspin.tracing.index import SourceIndex  # noqa: E402

SWEEP = (0.4, 0.45, 0.5, 0.55)
REUSE_SHARE = 0.05
NEWS_LENGTH = 15_000  # characters; 95 % of the Wikinews articles are at most this long
MYTHES = Path("/usr/share/mythes/th_en_US_v2.dat")
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def load_mythes(path: Path = MYTHES) -> dict[str, list[str]]:
    """word -> synonyms (all senses, '(generic term)' notes dropped)."""
    synonyms: dict[str, list[str]] = {}
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    position = 0
    while position < len(lines):
        head, _, count = lines[position].partition("|")
        senses = int(count or 0)
        words: list[str] = []
        for line in lines[position + 1 : position + 1 + senses]:
            for entry in line.split("|")[1:]:
                entry = re.sub(r"\s*\(.*?\)", "", entry).strip()
                if entry and entry.lower() != head and entry.isascii():
                    words.append(entry)
        if words and " " not in head:
            synonyms[head] = words
        position += 1 + senses
    return synonyms


def thesaurus_spin(
    text: str, thesaurus: dict[str, list[str]], rng: random.Random, fraction: float = 1 / 3
) -> str:
    """Replace `fraction` of all words with a thesaurus synonym, keeping an initial capital."""
    words = list(_WORD.finditer(text))
    eligible = [m for m in words if m.group().lower() in thesaurus]
    if not eligible:
        return text
    chosen = {
        m.start() for m in rng.sample(eligible, min(len(eligible), round(len(words) * fraction)))
    }
    out, last = [], 0
    for m in words:
        if m.start() in chosen:
            word = m.group()
            synonym = rng.choice(thesaurus[word.lower()])
            if word[0].isupper():
                synonym = synonym[0].upper() + synonym[1:]
            out.append(text[last : m.start()])
            out.append(synonym)
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def query_sets(originals: list[dict], seed: int) -> dict[str, list[tuple[str, str]]]:
    """Named sets of (source_id, page text): each dev set (`benchmarks/data/dev/*.jsonl`,
    by its `dictionary`, "copy" for unspun copies) and the built-in MyThes spinner."""
    wanted = {a["id"] for a in originals}
    sets: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(glob.glob(str(REPO_ROOT / "benchmarks/data/dev/*.jsonl"))):
        with open(name, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record.get("source_id") in wanted:
                    label = record.get("dictionary") or "copy"
                    sets.setdefault(label, []).append((record["source_id"], record["text"]))
    if MYTHES.exists():
        thesaurus = load_mythes()
        rng = random.Random(seed)
        sets["mythes-third"] = [
            (a["id"], thesaurus_spin(f"{a['title']}\n\n{a['text']}", thesaurus, rng))
            for a in originals
        ]
    return sets


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distractors", type=int, default=100_000)
    parser.add_argument(
        "--holdout", type=int, default=40, help="originals left out (false-match test)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--db", help="index path (default: a temporary file)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--reuse", action="store_true", help="--db already holds this index: only run queries"
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--compare-lsh", action="store_true")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)

    corpus = load_corpus(args.corpus)
    rng = random.Random(args.seed)
    held_out_ids = (
        set(rng.sample([a["id"] for a in corpus], args.holdout)) if args.holdout else set()
    )
    indexed = [a for a in corpus if a["id"] not in held_out_ids]
    held_out = [a for a in corpus if a["id"] in held_out_ids]

    workdir = tempfile.TemporaryDirectory(prefix="unspin-trace-bench-")
    db_path = Path(args.db) if args.db else Path(workdir.name) / "index.db"
    if db_path.exists() and not args.reuse:
        sys.exit(f"{db_path} exists; give a new path (or --reuse it)")

    results: dict = {
        "distractors": args.distractors,
        "indexed_originals": len(indexed),
        "held_out": len(held_out),
        "threshold": args.threshold,
    }
    with SourceIndex(db_path) as index:
        if not args.reuse:
            build(args, index, indexed, results)
        query_benchmarks(args, index, indexed, held_out, results)
        if args.compare_lsh:
            pairs = [
                pair
                for name, group in query_sets(indexed, args.seed).items()
                if name != "copy"
                for pair in group
            ]
            results["lsh"] = compare_lsh(index, pairs)
            print(json.dumps(results["lsh"]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def build(args: argparse.Namespace, index: SourceIndex, indexed: list[dict], results: dict) -> None:
    """Index the originals and the distractors; time it without the distractor generation."""
    generation_seconds = 0.0
    generation_cpu_seconds = 0.0

    def documents():
        nonlocal generation_seconds, generation_cpu_seconds
        yield from indexed
        stream = generate(args.distractors, seed=args.seed, pool=indexed)
        while True:
            started = time.perf_counter()
            cpu_started = time.process_time()
            try:
                document = next(stream)
            except StopIteration:
                return
            finally:
                generation_seconds += time.perf_counter() - started
                generation_cpu_seconds += time.process_time() - cpu_started
            yield document

    started = time.perf_counter()
    cpu_started = time.process_time()
    added = index.add(documents(), batch_size=args.batch_size)
    elapsed = time.perf_counter() - started - generation_seconds
    cpu_elapsed = time.process_time() - cpu_started - generation_cpu_seconds
    stats = index.stats()
    results.update(
        documents=added,
        build_seconds=round(elapsed, 1),
        build_docs_per_second=round(added / elapsed, 1),
        build_docs_per_cpu_second=round(added / cpu_elapsed, 1),
        distractor_generation_seconds=round(generation_seconds, 1),
        file_bytes_per_document=stats["bytes_per_document"],
        fingerprint_bytes_per_document=stats.get("fingerprint_bytes_per_document"),
        compressed_text_bytes_per_document=round(stats["compressed_text_bytes"] / added, 1),
    )
    print(json.dumps(results), flush=True)


def query_benchmarks(
    args: argparse.Namespace,
    index: SourceIndex,
    indexed: list[dict],
    held_out: list[dict],
    results: dict,
) -> dict:
    """Top-1 per query set, latency over all spun queries, false matches on held-out pages."""
    latencies, cpu_latencies, true_scores, misses = [], [], [], []
    news_cpu_latencies: list[float] = []
    results["top1"] = {}
    for name, pairs in query_sets(indexed, args.seed).items():
        correct = 0
        for source_id, text in pairs:
            started = time.perf_counter()
            cpu_started = time.process_time()
            result = trace(text, index, threshold=args.threshold)
            if name != "copy":
                latencies.append(time.perf_counter() - started)
                cpu_latencies.append(time.process_time() - cpu_started)
                if len(text) <= NEWS_LENGTH:
                    news_cpu_latencies.append(cpu_latencies[-1])
            if result.matches and result.matches[0].source_id == source_id:
                correct += 1
                if name != "copy":
                    true_scores.append(result.matches[0].score)
            else:
                misses.append(
                    (name, source_id, [(m.source_id, m.score) for m in result.matches[:2]])
                )
        results["top1"][name] = {"queries": len(pairs), "top1": round(correct / len(pairs), 4)}
    results.update(
        spun_queries=len(latencies),
        latency_ms_p50=round(1000 * percentile(latencies, 0.5), 2),
        latency_ms_p99=round(1000 * percentile(latencies, 0.99), 2),
        latency_ms_max=round(1000 * max(latencies), 2),
        cpu_latency_ms_p50=round(1000 * percentile(cpu_latencies, 0.5), 2),
        cpu_latency_ms_p99=round(1000 * percentile(cpu_latencies, 0.99), 2),
        news_length_queries=len(news_cpu_latencies),
        news_length_cpu_latency_ms_p99=round(1000 * percentile(news_cpu_latencies, 0.99), 2),
        true_score_min=min(true_scores) if true_scores else None,
        true_score_p05=round(percentile(true_scores, 0.05), 4) if true_scores else None,
        misses=misses[:10],
        # Share of spun copies whose true source scores under each threshold: the cost
        # of a stricter threshold in top-1 (for choosing DEFAULT_THRESHOLD).
        true_scores_under={
            str(t): round(sum(s < t for s in true_scores) / max(len(true_scores), 1), 4)
            for t in SWEEP
        },
    )
    false_scores, false_matches, unrelated_scores = [], [], []
    reused = verbatim_reuse(held_out, indexed)
    for article in held_out:
        result = trace(f"{article['title']}\n\n{article['text']}", index, threshold=0.0)
        false_scores.append(result.matches[0].score if result.matches else 0.0)
        if result.matches and result.matches[0].score >= args.threshold:
            best = result.matches[0]
            false_matches.append((article["id"], best.source_id, best.score, reused[article["id"]]))
        if reused[article["id"]][1] < REUSE_SHARE:
            unrelated_scores.append(false_scores[-1])
    if held_out:
        results.update(
            false_match_rate=round(
                sum(s >= args.threshold for s in false_scores) / len(held_out), 4
            ),
            unrelated_score_max=max(false_scores),
            unrelated_score_p95=round(percentile(false_scores, 0.95), 4),
            false_matches=false_matches,
            # Held-out pages sharing < REUSE_SHARE of their 8-word shingles verbatim
            # with every indexed original: the truly unrelated ones.
            unrelated_pages=len(unrelated_scores),
            unrelated_false_match_rate_at={
                str(t): round(sum(s >= t for s in unrelated_scores) / len(unrelated_scores), 4)
                for t in SWEEP
            },
            false_match_rate_at={
                str(t): round(sum(s >= t for s in false_scores) / len(held_out), 4) for t in SWEEP
            },
        )
    print(json.dumps(results), flush=True)
    return results


def _shingles(text: str, size: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def verbatim_reuse(pages: list[dict], originals: list[dict]) -> dict[str, tuple[str, float]]:
    """For each page, the original sharing the largest share of its 8-word shingles."""
    original_shingles = [(a["id"], _shingles(a["text"])) for a in originals]
    out = {}
    for page in pages:
        mine = _shingles(page["text"]) or {()}
        best = max(original_shingles, key=lambda item: len(mine & item[1]))
        out[page["id"]] = (best[0], round(len(mine & best[1]) / len(mine), 3))
    return out


def compare_lsh(index: SourceIndex, pairs: list[tuple[str, str]]) -> dict:
    """Candidate recall/latency: MinHash LSH (datasketch) vs the inverted anchor postings."""
    from datasketch import MinHash, MinHashLSH

    out: dict = {}
    for threshold in (0.3, 0.5):
        lsh = MinHashLSH(threshold=threshold, num_perm=64)
        started = time.perf_counter()
        rows = index._db.execute("SELECT rowid, id, title, body FROM docs").fetchall()
        import zlib

        for _rowid, source_id, title, body in rows:
            text = (
                f"{title}\n\n{zlib.decompress(body).decode()}"
                if title
                else zlib.decompress(body).decode()
            )
            minhash = MinHash(num_perm=64)
            hashes = anchor_hashes(text)
            if hashes:
                minhash.update_batch([h.to_bytes(4, "big", signed=True) for h in hashes])
            lsh.insert(source_id, minhash)
        build = time.perf_counter() - started
        found, sizes, latencies = 0, [], []
        for source_id, text in pairs:
            started = time.perf_counter()
            minhash = MinHash(num_perm=64)
            minhash.update_batch([h.to_bytes(4, "big", signed=True) for h in anchor_hashes(text)])
            candidates = lsh.query(minhash)
            latencies.append(time.perf_counter() - started)
            sizes.append(len(candidates))
            found += source_id in candidates
        out[f"threshold_{threshold}"] = {
            "candidate_recall": round(found / len(pairs), 4),
            "candidates_median": statistics.median(sizes),
            "query_ms_p99": round(1000 * percentile(latencies, 0.99), 2),
            "build_docs_per_second": round(len(rows) / build, 1),
        }
        del lsh
    started_all = []
    found = 0
    for source_id, text in pairs:
        started = time.perf_counter()
        pool, _, _ = index.candidates(anchor_hashes(text), limit=50)
        started_all.append(time.perf_counter() - started)
        ids = {c.source_id for c in index.sketches(r for r, _ in pool)}
        found += source_id in ids
    out["inverted_top50"] = {
        "candidate_recall": round(found / len(pairs), 4),
        "query_ms_p99": round(1000 * percentile(started_all, 0.99), 2),
    }
    return out


if __name__ == "__main__":
    sys.exit(main())
