"""Compare the causal-LM backends for the default model (SmolLM2-135M GGUF), on this machine.

Each configuration runs in its own subprocess, one after another, so that load time and peak
RSS are its own and the ratios come from one run on the same (shared) CPU:

* ngram: pocketsphinx trigram lookups (en-us.lm.bin), for scale;
* llamacpp: the GGUF through llama-cpp-python (Q4_1 weights), 1 and 2 threads;
* transformers: the same GGUF de-quantised to float32 and run by torch, 1 and 2 threads.

Measured per configuration:

* load_s, peak_rss_mb;
* pass_ms_per_token: one full pass over an article of about `--article-tokens` tokens (a
  dev-corpus article when ../shared/data is present, else the bundled example page's text);
* gains_ms / gains_ms_per_variant: `CausalLM.variant_gains` on one realistic sentence with
  `--variants` variants sharing its prefix (what the engine asks for each spun sentence);
* full_ms_per_variant: the same variants each scored in full with `CausalLM.score`, the
  reference `variant_gains` must agree with (max_gain_diff, nats).

Usage: python benchmarks/bench_lm.py [--variants 12] [--article-tokens 800] [--repeat 2]
           [--configs ngram,llamacpp:1,llamacpp:2,transformers:1,transformers:2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "wikinews" / "articles.jsonl"

SENTENCE = (
    "The Deputy Foreign Minister said the US positions came as no surprise to the government "
    "in Moscow, adding that talks would continue next week."
)
# Spinner-style swaps over the whole sentence: each variant changes one site or two.
SWAPS = [
    ("said", "mentioned"),
    ("said", "stated"),
    ("Foreign", "International"),
    ("came", "got here"),
    ("came as no surprise", "arrived as no shock"),
    ("surprise", "shock"),
    ("surprise", "astonishment"),
    ("government", "authorities"),
    ("government", "administration"),
    ("adding", "including"),
    ("talks", "discussions"),
    ("continue", "proceed"),
    ("next week", "subsequent week"),
    ("Deputy Foreign Minister", "Vice International Minister"),
    ("talks would continue", "discussions would proceed"),
    ("positions", "stances"),
]


def article_text(words: int) -> str:
    """About `words` words of real news text (dev corpus if present, else the example page)."""
    if CORPUS.is_file():
        texts = []
        with CORPUS.open(encoding="utf-8") as handle:
            for line in handle:
                texts.append(json.loads(line)["text"])
                if sum(len(t.split()) for t in texts) >= words:
                    break
        text = "\n\n".join(texts)
    else:
        text = (ROOT / "examples" / "spun-page.original.txt").read_text(encoding="utf-8")
        text = " ".join([text] * (words // max(1, len(text.split())) + 1))
    return " ".join(text.split(" ")[:words])


CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, time
    config, sentence, swaps, n, article, repeat = (
        sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
        int(sys.argv[6]),
    )
    backend, _, threads = config.partition(":")
    threads = int(threads or 1)
    variants = [sentence.replace(a, b, 1) for a, b in swaps]
    variants = (variants * (n // len(variants) + 1))[:n]
    out = {"config": config}

    def best(fn):
        # Best of `repeat` wall times, and CPU time (all threads) of the process, since the
        # machine is shared: CPU time is what a 1-thread run costs whatever the load.
        walls, cpus = [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            value = fn()
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        return min(walls), min(cpus), value

    t = time.perf_counter()
    if backend == "ngram":
        from unspin.resources.lm import NGramLM
        lm = NGramLM()
        out["load_s"] = time.perf_counter() - t
        words = sentence.lower().split()
        def run():
            lm._cache.clear()
            lm.window_logprob(words, 0, len(words) + 1)
        dt, _cpu, _ = best(lambda: [run() for _ in range(200)])
        out["lookups_per_s"] = 200 * (len(words) + 1) / dt
        out["sentence_ms"] = 1000 * dt / 200
    else:
        from unspin.resources.lm import CausalLM
        lm = CausalLM("default", backend=backend, threads=threads)
        out["load_s"] = round(time.perf_counter() - t, 2)
        backend_obj = lm.backend
        def fresh_pass():
            # Forget the cached base so that the pass is really computed.
            for name in ("_base_text", "_base_ids"):
                if hasattr(backend_obj, name):
                    setattr(backend_obj, name, None)
            return lm.score(article)
        lm.variant_gains(sentence, variants[:2])  # warm-up
        fresh_pass()
        dt, cpu, scored = best(fresh_pass)
        out["article_tokens"] = len(scored.token_ids)
        out["pass_ms_per_token"] = round(1000 * dt / len(scored.token_ids), 3)
        out["pass_cpu_ms_per_token"] = round(1000 * cpu / len(scored.token_ids), 3)
        def gains():
            fresh_pass()  # the engine scores a new sentence each time: no cached base
            t, c = time.perf_counter(), time.process_time()
            value = lm.variant_gains(sentence, variants)
            return time.perf_counter() - t, time.process_time() - c, value
        runs = [gains() for _ in range(repeat)]
        batched = runs[0][2]
        out["variants"] = len(variants)
        out["gains_ms"] = round(1000 * min(r[0] for r in runs), 1)
        out["gains_cpu_ms"] = round(1000 * min(r[1] for r in runs), 1)
        out["gains_ms_per_variant"] = round(out["gains_ms"] / len(variants), 2)
        # Reference: every variant scored in full, gains over the same changed span.
        from unspin.resources.lm import _changed_span
        def full():
            base = lm.score(sentence)
            result = []
            for text in variants:
                scored = lm.score(text)
                span = _changed_span(base.token_ids, scored.token_ids, 4)
                result.append(
                    sum(scored.logprobs[span.start : span.stop])
                    - sum(base.logprobs[span.start : span.base_stop])
                )
            return result
        dt, cpu, reference = best(full)
        out["full_ms_per_variant"] = round(1000 * dt / len(variants), 2)
        out["full_cpu_ms_per_variant"] = round(1000 * cpu / len(variants), 2)
        out["max_gain_diff"] = max(abs(a - b) for a, b in zip(batched, reference))
        out["gains"] = [round(g, 2) for g in batched[: len(swaps)]]
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))
    """
)

DEFAULT_CONFIGS = "ngram,llamacpp:1,llamacpp:2,transformers:1,transformers:2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=12)
    parser.add_argument("--article-tokens", type=int, default=800)
    parser.add_argument("--repeat", type=int, default=2, help="best of N timings")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="backend[:threads],...")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    # ~0.8 words a token for news text with this tokenizer; the child reports the real count.
    article = article_text(int(args.article_tokens * 0.8))
    results = []
    for config in args.configs.split(","):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                config,
                SENTENCE,
                json.dumps(SWAPS),
                str(args.variants),
                article,
                str(args.repeat),
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            cwd=ROOT,
        )
        if proc.returncode != 0:
            results.append({"config": config, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
