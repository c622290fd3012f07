"""Detection speed: articles per second of `Engine.detect` on the dev sets, cold and warm.

For each dev set (benchmarks/data/dev/NAME.jsonl, the spun Wikinews articles), the first N
documents are detected twice by one engine (`--model none`: detection never loads the
causal LM, and `restore --model none` shares this path):

- cold: the first pass, with every per-phrase cache of the engine empty (a new crawl's
  first pages; the relation indexes and the n-gram model are loaded beforehand, and their
  load time is reported on its own as `engine_build_s`);
- warm: the same documents again (a long-running worker that has seen these words).

Reported per pass: articles/s, CPU seconds per 600 words (`time.process_time`, so other
processes on a shared machine do not count), and the process's peak RSS at the end.
`--baseline DIR` runs the same measurement on another checkout (e.g. a `git worktree` of an
older commit) in a child process right after this one, so the two are side by side in one
run; `--json` prints one JSON object instead of the table.

Usage: python benchmarks/bench_detect_speed.py [--sets wordnet] [--limit 40]
       [--baseline DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEV = HERE / "data" / "dev"


def read_texts(name: str, limit: int) -> list[str]:
    path = DEV / f"{name}.jsonl"
    if not path.is_file():
        sys.exit(
            f"no dev set {path}: build the dev sets first (python benchmarks/build_devsets.py)"
        )
    texts = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if len(texts) >= limit:
                break
            texts.append(json.loads(line)["text"])
    return texts


def timed_pass(engine, texts: list[str]) -> dict[str, float]:
    """One detect pass: wall and CPU seconds, articles/s, CPU ms per 600 words."""
    words = sum(len(text.split()) for text in texts)
    wall, cpu = time.perf_counter(), time.process_time()
    spun = 0
    for text in texts:
        spun += engine.detect(text).spun
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "articles": len(texts),
        "words_per_article": round(words / max(1, len(texts)), 1),
        "spun": spun,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "articles_per_cpu_s": round(len(texts) / cpu, 2) if cpu else 0.0,
        "cpu_ms_per_600_words": round(1000 * cpu * 600 / max(1, words), 1),
    }


def measure(sets: list[str], limit: int, root: Path = HERE.parent) -> dict:
    """Numbers of the checkout at `root`: engine build time, then a cold and a warm pass per
    set (the same documents, from this checkout's dev sets)."""
    sys.path.insert(0, str(root))  # that checkout's package, not an installed one
    from unspin.engine import Engine

    started = time.process_time()
    engine = Engine(model=None)
    result: dict = {
        "checkout": str(root),
        "package": str(Path(sys.modules["unspin"].__file__).parent),
        "engine_build_s": round(time.process_time() - started, 2),
        "sets": {},
    }
    for name in sets:
        texts = read_texts(name, limit)
        result["sets"][name] = {
            "cold": timed_pass(engine, texts),
            "warm": timed_pass(engine, texts),
        }
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def run_baseline(directory: Path, sets: list[str], limit: int) -> dict:
    """The same measurement of another checkout's package, in a child process of its own."""
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "import bench_detect_speed as b; "
        "print(json.dumps(b.measure(sys.argv[2].split(','), int(sys.argv[3]), Path(sys.argv[4]))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(HERE), ",".join(sets), str(limit), str(directory)],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    lines = [
        "| checkout | set | pass | articles/s (CPU) | CPU ms / 600 words | wall s | peak RSS MB |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for result in results:
        for name, passes in result["sets"].items():
            for kind, row in passes.items():
                lines.append(
                    f"| {result['checkout']} | {name} ({row['articles']} docs, "
                    f"{row['words_per_article']:.0f} words) | {kind} | "
                    f"{row['articles_per_cpu_s']} | {row['cpu_ms_per_600_words']} | "
                    f"{row['wall_s']} | {result['peak_rss_mb']} |"
                )
    builds = ", ".join(f"{r['checkout']}: {r['engine_build_s']} s" for r in results)
    lines.append(f"\nEngine build (CPU): {builds}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="wordnet", help="dev sets, comma-separated")
    parser.add_argument("--limit", type=int, default=40, help="documents per set")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure after this one")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    sets = [name.strip() for name in args.sets.split(",") if name.strip()]
    results = [measure(sets, args.limit)]
    if args.baseline is not None:
        results.append(run_baseline(args.baseline.resolve(), sets, args.limit))
    if args.json:
        print(json.dumps({"results": results}, indent=2))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
