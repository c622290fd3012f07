"""Benchmark `unspin learn`: speed of trace + align + mine, and the learned lexicon's quality.

Set-up (issue 14): the Wikinews dev articles spun with the simulator (`unspin.bench.spinner.spin`)
and a built-in spinner dictionary (``--dictionary``: WordNet by default; ``realsize``, the
dictionary shaped like a real auto-spinner's) at the dev sets' line rate (`LINE_RATES` of
`benchmarks/build_devsets.py`: 0.6 for thesauri, 1.0 for realsize). The originals of the first ``--indexed`` spun pages go into
a fresh SQLite index, with the originals of the articles beyond ``--pages`` as distractors;
the other spun pages have no source in the index ("test pages").

Measured:

- speed: `unspin.learning.learn` over every spun page (index build excluded), pages/s in wall
  and CPU time (one process, one core);
- pages traced, and test pages wrongly traced (should be none);
- precision of the mining: share of the pairs mined from each traced page (distinct pairs a
  page) that are true substitutions of that page (`SpunDocument.substitutions`);
- quality, for 10, 25, 50, 100, 150 traced pages learned from: of the substituted sites of
  the test pages, the share whose spun form is in the lexicon (any original), in it with the
  right original, and whose most frequent original is right (case-insensitive).

- with ``--restore-pages N``: the first N test pages restored with each lexicon of the curve
  (n-gram engine, `unseen_exclusions` left out), exact sites and untouched words changed,
  and the same pages' clean originals restored too (pages and words changed).

    nice python benchmarks/bench_learn.py [--dictionary realsize] [--restore-pages 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from build_devsets import DEFAULT_WIKINEWS, LINE_RATES, article_original  # noqa: E402

from unspin.bench.runner import unseen_exclusions  # noqa: E402
from unspin.bench.spinner import SpunDocument, spin  # noqa: E402
from unspin.learning import learn  # noqa: E402
from unspin.resources.dictionary import load_spinner_dictionary  # noqa: E402
from unspin.resources.lexicon import Lexicon  # noqa: E402
from unspin.tracing.index import SourceIndex  # noqa: E402

CURVE = (10, 25, 50, 100, 150)


def spun_pages(records: list[dict], dictionary_name: str, seed: int) -> list[SpunDocument]:
    dictionary = load_spinner_dictionary(dictionary_name)
    return [
        spin(
            article_original(record),
            dictionary,
            seed=f"{seed}:{record['id']}:{dictionary_name}",
            rate=LINE_RATES.get(dictionary_name, 1.0),
            id=f"{record['id']}#{dictionary_name}",
            source_id=str(record["id"]),
        )
        for record in records
    ]


def quality(lexicon: Lexicon, test_pages: list[SpunDocument]) -> dict[str, float]:
    """Shares of the test pages' substituted sites the lexicon covers / gets right."""
    originals: dict[str, dict[str, int]] = {}
    for spun, counts in lexicon.pairs.items():
        bucket = originals.setdefault(spun.lower(), {})
        for original, count in counts.items():
            bucket[original.lower()] = bucket.get(original.lower(), 0) + count
    sites = known = listed = best = 0
    for page in test_pages:
        for substitution in page.substitutions:
            sites += 1
            candidates = originals.get(" ".join(substitution.spun.lower().split()))
            if not candidates:
                continue
            known += 1
            truth = " ".join(substitution.original.lower().split())
            listed += truth in candidates
            top = min(candidates, key=lambda original: (-candidates[original], original))
            best += top == truth
    return {
        "sites": sites,
        "spun_form_known": round(known / sites, 4) if sites else 0.0,
        "right_original_listed": round(listed / sites, 4) if sites else 0.0,
        "most_frequent_right": round(best / sites, 4) if sites else 0.0,
    }


def restored(
    lexicon: Lexicon | None, pages: list[SpunDocument], dictionary: str, settings: list[str]
) -> dict[str, float | None]:
    """Sites restored exactly and untouched tokens changed when the n-gram engine, without
    the spinning thesaurus (`unseen_exclusions`), restores `pages` with `lexicon` loaded
    as a --dict; and how many of the same pages' clean originals it changes."""
    from unspin.bench.metrics import RestorationCounts, Site, score_restoration
    from unspin.engine import Engine, EngineConfig

    with tempfile.TemporaryDirectory() as tmp:
        dictionaries = []
        if lexicon is not None:
            path = Path(tmp) / "learned.lexicon.tsv"
            lexicon.write(path)
            dictionaries.append(path)
        config = EngineConfig().with_settings(settings)
        engine = Engine(
            model=None,
            exclude=unseen_exclusions(dictionary),
            dictionaries=dictionaries,
            config=config,
        )
        total = clean = RestorationCounts()
        for page in pages:
            sites = [Site.from_dict(vars(s)) for s in page.substitutions]
            edits = engine.restore(page.text).edits
            total = total + score_restoration(page.text, page.original, sites, edits)
            edits = engine.restore(page.original).edits
            clean = clean + score_restoration(page.original, page.original, [], edits)
    return {
        "restored_exactly": round(total.exact_share or 0.0, 4),
        "untouched_changed": round(total.untouched_changed_share or 0.0, 4),
        "clean_pages_changed": clean.changed_documents,
        "clean_words_changed": round(clean.untouched_changed_share or 0.0, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wikinews", type=Path, default=DEFAULT_WIKINEWS)
    parser.add_argument("--dictionary", default="wordnet")
    parser.add_argument("--pages", type=int, default=294, help="articles spun (default: all)")
    parser.add_argument(
        "--indexed", type=int, default=150, help="spun pages whose source is indexed"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--restore-pages",
        type=int,
        default=0,
        metavar="N",
        help="also restore the first N test pages with each lexicon of the curve (the n-gram "
        "engine without the spinning thesaurus, the lexicon as --dict) and score them",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an engine setting for --restore-pages (a field of EngineConfig; repeatable)",
    )
    args = parser.parse_args(argv)

    with args.wikinews.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    started = time.perf_counter()
    pages = spun_pages(records[: args.pages], args.dictionary, args.seed)
    spin_seconds = time.perf_counter() - started
    traced_pages, test_pages = pages[: args.indexed], pages[args.indexed :]
    distractors = records[args.pages :]

    results: dict = {
        "dictionary": args.dictionary,
        "pages": len(pages),
        "indexed_sources": len(traced_pages),
        "distractors": len(distractors),
        "test_pages": len(test_pages),
        "substituted_sites_per_page": round(
            sum(len(page.substitutions) for page in pages) / max(1, len(pages)), 1
        ),
        "spin_seconds": round(spin_seconds, 1),
    }
    with tempfile.TemporaryDirectory() as tmp:
        index_path = Path(tmp) / "sources.db"
        started = time.perf_counter()
        with SourceIndex(index_path) as index:
            index.add(
                [{"id": page.source_id, "text": page.original} for page in traced_pages]
                + [{"id": str(r["id"]), "text": article_original(r)} for r in distractors]
            )
        results["index_build_seconds"] = round(time.perf_counter() - started, 2)

        with SourceIndex(index_path, create=False) as index:
            # Speed: the whole crawl in one learn() call, as `unspin learn` runs it.
            wall, cpu = time.perf_counter(), time.process_time()
            report = learn([page.text for page in pages], index)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            results.update(
                {
                    "pages_read": report.pages_read,
                    "pages_traced": report.pages_traced,
                    "pairs_mined": report.pairs_mined,
                    "distinct_spun_forms": report.distinct_spun_forms,
                    "learn_seconds": round(wall, 2),
                    "pages_per_second_wall": round(len(pages) / wall, 1),
                    "pages_per_second_cpu": round(len(pages) / cpu, 1),
                }
            )
            wrongly = sum(learn([page.text], index).pages_traced for page in test_pages)
            results["test_pages_traced"] = wrongly

            # Quality: lexicons of the first k traced pages; precision of each page's pairs.
            per_page: list[Lexicon] = []
            mined = true_mined = 0
            for page in traced_pages:
                lexicon = learn([page.text], index).lexicon
                per_page.append(lexicon)
                truth = {
                    (" ".join(s.spun.lower().split()), " ".join(s.original.lower().split()))
                    for s in page.substitutions
                }
                pairs = {
                    (spun.lower(), original.lower())
                    for spun, originals in lexicon.pairs.items()
                    for original in originals
                }
                mined += len(pairs)
                true_mined += len(pairs & truth)
            results["mined_pair_precision"] = round(true_mined / mined, 4) if mined else 0.0
    # The same tables built from the true substitutions of the same pages: the ceiling a
    # perfect aligner would reach, which separates mining losses from the dictionary's breadth.
    oracle: list[Lexicon] = []
    for page in traced_pages:
        truth = Lexicon(pages=1)
        for substitution in page.substitutions:
            truth.add_pair(substitution.spun.lower(), substitution.original.lower())
        oracle.append(truth)
    curve = []
    for size in CURVE:
        size = min(size, len(per_page))
        lexicon, ceiling = Lexicon(), Lexicon()
        for page_lexicon, true_lexicon in zip(per_page[:size], oracle[:size], strict=True):
            lexicon.merge(page_lexicon)
            ceiling.merge(true_lexicon)
        true_quality = quality(ceiling, test_pages)
        curve.append(
            {
                "traced_pages": lexicon.pages,
                **quality(lexicon, test_pages),
                "oracle_right_original_listed": true_quality["right_original_listed"],
                "oracle_most_frequent_right": true_quality["most_frequent_right"],
            }
        )
        if args.restore_pages:
            curve[-1].update(
                restored(lexicon, test_pages[: args.restore_pages], args.dictionary, args.settings)
            )
        if size == len(per_page):
            break
    results["curve"] = curve
    if args.restore_pages:
        # The same pages without any lexicon: the unseen protocol's engine alone.
        results["restored_without_lexicon"] = restored(
            None, test_pages[: args.restore_pages], args.dictionary, args.settings
        )
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
