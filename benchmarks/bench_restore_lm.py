"""Time `restore` with the default causal LM on dev articles, for one or more copies of the code.

Each configuration runs in its own subprocess, one after another, so that load time and peak
RSS are its own and the ratios come from one run on the same (shared) CPU.  A configuration
is a folder holding an `unspin` package (this checkout by default; e.g. an older commit
unpacked with `git archive COMMIT | tar -x -C /tmp/before`) and an LM backend.

Per configuration: LM load time; per document its words, wall and CPU seconds of `restore`,
the CPU seconds inside `CausalLM.variant_gains`, the edits and a hash of the restored text
(the same hash = the same output); the calls and variants scored; the process's peak RSS.

Usage: python benchmarks/bench_restore_lm.py [--code DIR ...] [--backend transformers,llamacpp]
           [--set wordnet] [--docs 0,9] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import hashlib, json, resource, sys, time
    code, set_path, docs = sys.argv[1], sys.argv[2], [int(d) for d in sys.argv[3].split(",")]
    sys.path.insert(0, code)
    import unspin
    assert unspin.__file__.startswith(code), unspin.__file__
    from unspin.engine.engine import Engine
    from unspin.resources import lm

    counts = {"calls": 0, "variants": 0, "lm_cpu_s": 0.0}
    gains = lm.CausalLM.variant_gains

    def timed_gains(self, base, variants, tail_tokens=4):
        counts["calls"] += 1
        counts["variants"] += len(variants)
        start = time.process_time()
        try:
            return gains(self, base, variants, tail_tokens)
        finally:
            counts["lm_cpu_s"] += time.process_time() - start

    lm.CausalLM.variant_gains = timed_gains
    with open(set_path, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    engine = Engine()
    start = time.perf_counter()
    engine.causal
    result = {"load_s": round(time.perf_counter() - start, 2), "docs": []}
    for index in docs:
        wall, cpu = time.perf_counter(), time.process_time()
        restored = engine.restore(texts[index])
        result["docs"].append({
            "doc": index,
            "words": len(texts[index].split()),
            "wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "edits": len(restored.edits),
            "md5": hashlib.md5(restored.text.encode("utf-8")).hexdigest()[:10],
        })
    counts["lm_cpu_s"] = round(counts["lm_cpu_s"], 2)
    result.update(counts)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(result))
    """
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", action="append", help="folder with an unspin package")
    parser.add_argument("--backend", default="transformers", help="comma-separated backends")
    parser.add_argument("--set", default="wordnet", help="dev set (benchmarks/data/dev/SET.jsonl)")
    parser.add_argument("--docs", default="0,9", help="document indices (0 and 9: ~650 words)")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    set_path = ROOT / "benchmarks" / "data" / "dev" / f"{args.set}.jsonl"
    if not set_path.is_file():
        sys.exit(f"no dev set at {set_path}: build it with `python benchmarks/build_devsets.py`")
    results = []
    for code in args.code or [str(ROOT)]:
        for backend in args.backend.split(","):
            env = {**os.environ, "UNSPIN_LM_BACKEND": backend}
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(code).resolve()), str(set_path), args.docs],
                capture_output=True,
                text=True,
                env=env,
                cwd="/",
            )
            if proc.returncode != 0:
                print(f"{code} {backend}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            row = {"code": code, "backend": backend, **json.loads(proc.stdout.splitlines()[-1])}
            results.append(row)
            print(json.dumps(row), flush=True)
    print(
        "\n| code | backend | load s | doc: words, restore wall s (CPU s), LM CPU s total |"
        " edits, md5 | peak RSS MB |\n|---|---|---|---|---|---|"
    )
    for row in results:
        docs = "; ".join(
            f"{d['doc']}: {d['words']} w, {d['wall_s']} ({d['cpu_s']})" for d in row["docs"]
        )
        outs = "; ".join(f"{d['edits']}, {d['md5']}" for d in row["docs"])
        print(
            f"| {row['code']} | {row['backend']} | {row['load_s']} | {docs}; LM {row['lm_cpu_s']} "
            f"| {outs} | {row['peak_rss_mb']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
