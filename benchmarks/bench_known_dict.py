"""Restoration with a known spinner dictionary (the "seen" protocol of issue 14).

For each dictionary (default: moby, wordnet, mythes and the rule-based spinner "rules"),
the first N Wikinews dev articles are spun with it at line rate 0.6, as
benchmarks/build_devsets.py does (same seeds), and restored by `SpinnerModel` with the
same dictionary. The clean originals are restored too (they should get no edit).

Measured, per dictionary:

- sites exact: share of the spinner's substitutions (`SpunDocument.substitutions`, the
  ground truth) that an edit restores exactly (same span, same original text);
- untouched changed: share of the spun text's words outside every substitution that an
  edit touches;
- clean edited: clean articles given at least one edit, and how many edits in all;
- ms per page: `SpinnerModel.analyse` CPU time per spun page (the dictionary index and
  the n-gram model loaded beforehand), and per 600 words; wall-clock time per page too
  (with the causal LM, whose math libraries may use more than one thread).

`--model default` (or a model name) lets the causal LM decide the n-gram decode's close
calls (`SpinnerModel.analyse(text, causal=...)`); `--model none` (the default here) is
the n-gram model alone. `--devset FILE.jsonl` adds a row for a dev set built elsewhere
(records of `SpunDocument.to_dict` with the dictionary file named by `--devset-dict`).

Usage: python benchmarks/bench_known_dict.py [--limit N] [--dicts moby,rules] [--model none]
       [--devset FILE --devset-dict DICT] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

# This checkout's package first (not another one installed in the environment).
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from build_devsets import DEFAULT_WIKINEWS, LINE_RATES, article_original, read_articles  # noqa: E402

from unspin.bench.spinner import SpunDocument, spin  # noqa: E402
from unspin.engine.spinner_model import SpinnerEdit, SpinnerModel  # noqa: E402
from unspin.resources.dictionary import load_spinner_dictionary  # noqa: E402
from unspin.resources.lm import CausalLM, NGramLM, load_causal_lm  # noqa: E402

DEFAULT_DICTS = ("moby", "wordnet", "mythes", "rules")
_WORD_TOKEN = re.compile(r"\w+(?:['’-]\w+)*")  # the words `substituted_word_fraction` counts


def score_page(document: SpunDocument, edits: list[SpinnerEdit]) -> dict[str, int]:
    """Sites restored exactly, sites, untouched words changed, untouched words."""
    by_span = {(edit.start, edit.end): edit.after for edit in edits}
    exact = sum(
        by_span.get((sub.spun_start, sub.spun_end)) == sub.original
        for sub in document.substitutions
    )
    spans = [(sub.spun_start, sub.spun_end) for sub in document.substitutions]
    untouched = changed = 0
    for match in _WORD_TOKEN.finditer(document.text):
        start, end = match.span()
        if any(a < end and start < b for a, b in spans):
            continue
        untouched += 1
        if any(edit.start < end and start < edit.end for edit in edits):
            changed += 1
    return {
        "exact": exact,
        "sites": len(document.substitutions),
        "changed": changed,
        "untouched": untouched,
    }


def bench_dictionary(
    name: str,
    originals: list[tuple[str, str]],
    ngram: NGramLM,
    seed: int,
    rate: float | None,
    causal: CausalLM | None = None,
    documents: list[SpunDocument] | None = None,
    model_options: dict | None = None,
) -> dict:
    """One row: spin the originals with dictionary ``name`` (or read ``documents``, spun
    elsewhere with it) and restore them, and the clean originals, with the same dictionary."""
    started = time.perf_counter()
    dictionary = load_spinner_dictionary(name)
    model = SpinnerModel(dictionary, ngram, **(model_options or {}))
    setup = time.perf_counter() - started
    totals = {"exact": 0, "sites": 0, "changed": 0, "untouched": 0}
    cpu = wall = 0.0
    words = 0
    missed_pages = 0
    clean_edited = clean_edits = 0
    line_rate = rate if rate is not None else LINE_RATES.get(name, 0.6)
    if documents is None:
        documents = [
            spin(text, dictionary, seed=f"{seed}:{id_}:{name}", rate=line_rate, id=f"{id_}#{name}")
            for id_, text in originals
        ]
    for document in documents:
        began, began_wall = time.process_time(), time.perf_counter()
        analysis = model.analyse(document.text, causal)
        cpu += time.process_time() - began
        wall += time.perf_counter() - began_wall
        words += len(_WORD_TOKEN.findall(document.text))
        page = score_page(document, analysis.edits)
        if document.substitutions and not analysis.edits:
            missed_pages += 1
        for key in totals:
            totals[key] += page[key]
        clean = model.restore(document.original, causal)
        clean_edited += bool(clean)
        clean_edits += len(clean)
    pages = len(documents)
    return {
        "dictionary": name,
        "lines": len(dictionary),
        "pages": pages,
        "sites": totals["sites"],
        "sites_exact": round(totals["exact"] / max(1, totals["sites"]), 4),
        "untouched_changed": round(totals["changed"] / max(1, totals["untouched"]), 5),
        "spun_pages_without_edits": missed_pages,
        "clean_pages_edited": clean_edited,
        "clean_edits": clean_edits,
        "ms_per_page": round(1000 * cpu / max(1, pages), 1),
        "ms_per_600_words": round(1000 * cpu / max(1, words) * 600, 1),
        "wall_ms_per_page": round(1000 * wall / max(1, pages), 1),
        "causal": None if causal is None else causal.name,
        "setup_seconds": round(setup, 1),
    }


def read_devset(path: Path, limit: int | None) -> list[SpunDocument]:
    """The first ``limit`` spun records of a dev-set JSONL file."""
    documents = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                documents.append(SpunDocument.from_dict(json.loads(line)))
            if limit and len(documents) >= limit:
                break
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wikinews", type=Path, default=DEFAULT_WIKINEWS)
    parser.add_argument("--limit", type=int, default=20, help="first N articles (0: all)")
    parser.add_argument("--dicts", default=",".join(DEFAULT_DICTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=None, help="line rate (default 0.6)")
    parser.add_argument("--model", default="none", help="causal LM for close calls (none)")
    parser.add_argument("--devset", type=Path, default=None, help="a spun JSONL set: one more row")
    parser.add_argument("--devset-dict", default=None, help="the dictionary file it was spun with")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        help="SpinnerModel keyword NAME=VALUE (a float), for measuring a setting",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    if not args.wikinews.is_file():
        print(f"bench_known_dict: no Wikinews file at {args.wikinews}", file=sys.stderr)
        return 2
    articles = read_articles(args.wikinews, args.limit or None)
    originals = [(str(article["id"]), article_original(article)) for article in articles]
    ngram = NGramLM()
    causal = None if args.model in ("", "none") else load_causal_lm(args.model)
    options = {}
    for item in args.option:
        key, _, value = item.partition("=")
        options[key.strip()] = float(value) if "." in value else int(value)
    rows = []
    print(
        f"{'dictionary':10} {'pages':>5} {'sites':>6} {'exact':>7} {'untouched':>9} "
        f"{'no-edit':>7} {'clean':>9} {'ms/page':>8} {'ms/600w':>8} {'wall ms':>8}"
    )
    jobs: list[tuple[str, str, list[SpunDocument] | None]] = [
        (name, name, None) for name in (part.strip() for part in args.dicts.split(",")) if name
    ]
    if args.devset is not None:
        if not args.devset_dict:
            parser.error("--devset needs --devset-dict (the dictionary it was spun with)")
        documents = read_devset(args.devset, args.limit or None)
        jobs.append((args.devset.stem, args.devset_dict, documents))
    for label, name, documents in jobs:
        row = bench_dictionary(
            name, originals, ngram, args.seed, args.rate, causal, documents, options
        )
        row["dictionary"] = label
        rows.append(row)
        print(
            f"{label:10} {row['pages']:>5} {row['sites']:>6} {row['sites_exact']:>7.2%} "
            f"{row['untouched_changed']:>9.3%} {row['spun_pages_without_edits']:>7} "
            f"{row['clean_pages_edited']:>3}/{row['clean_edits']:<5} {row['ms_per_page']:>8} "
            f"{row['ms_per_600_words']:>8} {row['wall_ms_per_page']:>8}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
