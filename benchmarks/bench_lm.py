"""Compare the language-model backends the engine can use, on this machine.

Each backend runs in its own subprocess so that load time and peak RSS are its own:

* ngram: pocketsphinx trigram lookups (en-us.lm.bin);
* llamacpp: SmolLM2-135M GGUF through llama-cpp-python, scoring sentence variants with the
  shared-prefix cache (what the engine does);
* transformers: the same GGUF de-quantised into a transformers model, scoring the same
  variants as one padded batch.

Usage: python benchmarks/bench_lm.py [--variants 24] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

SENTENCE = (
    "The Deputy Foreign Minister said the US positions came as no surprise to the government "
    "in Moscow, adding that talks would continue next week."
)
SWAPS = [
    ("said", "mentioned"),
    ("Foreign", "International"),
    ("came", "got here"),
    ("surprise", "shock"),
    ("government", "authorities"),
    ("adding", "including"),
    ("talks", "discussions"),
    ("continue", "proceed"),
]

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    backend, sentence, swaps, n = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    variants = [sentence.replace(a, b) for a, b in swaps]
    variants = (variants * (n // len(variants) + 1))[:n]
    out = {"backend": backend}
    t = time.perf_counter()
    if backend == "ngram":
        from unspin.resources.lm import NGramLM
        lm = NGramLM()
        out["load_s"] = time.perf_counter() - t
        words = sentence.lower().split()
        calls = 0
        t = time.perf_counter()
        for _ in range(200):
            lm._cache.clear()
            lm.window_logprob(words, 0, len(words) + 1)
            calls += len(words) + 1
        dt = time.perf_counter() - t
        out["lookups_per_s"] = calls / dt
        out["sentence_ms"] = 1000 * dt / 200
    else:
        from unspin.resources.lm import CausalLM, default_gguf_path
        if backend == "llamacpp":
            lm = CausalLM("default")
        else:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from unspin.resources import lm as lm_module
            torch.set_num_threads(1)
            path = default_gguf_path()
            backend_obj = lm_module._TransformersBackend.__new__(lm_module._TransformersBackend)
            backend_obj.torch = torch
            backend_obj.device = "cpu"
            backend_obj.tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            backend_obj.model = AutoModelForCausalLM.from_pretrained(
                path.parent, gguf_file=path.name
            ).eval()
            backend_obj.bos = backend_obj.tokenizer.bos_token_id
            lm = CausalLM.__new__(CausalLM)
            import threading
            lm._lock = threading.Lock()
            lm.backend = backend_obj
        out["load_s"] = time.perf_counter() - t
        lm.variant_gains(sentence, variants[:2])  # warm-up
        t = time.perf_counter()
        gains = lm.variant_gains(sentence, variants)
        dt = time.perf_counter() - t
        out["variants"] = len(variants)
        out["ms_per_variant"] = 1000 * dt / len(variants)
        out["gains"] = [round(g, 2) for g in gains[: len(swaps)]]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=24)
    parser.add_argument("--backends", default="ngram,llamacpp,transformers")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, backend, SENTENCE, json.dumps(SWAPS), str(args.variants)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0:
            results.append({"backend": backend, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
