"""Build the development sets: Wikinews articles spun with several built-in dictionaries.

Writes, under benchmarks/data/dev/ (git-ignored; rebuild any time):

- ``<dictionary>.jsonl`` for each dictionary (default: every installed one of moby,
  wordnet, mythes, pps): one `SpunDocument.to_dict()` a line, id
  ``wikinews/0000#moby``, source_id ``wikinews/0000``;
- ``clean.jsonl``: the untouched originals as negatives (dictionary null, text ==
  original, no substitutions);
- ``pps_heldout.jsonl``: paper-mill "abstracts" of five short scientific sentences, each
  sentence containing the correct phrase of one held-out PPS pair (a deterministic 20% of
  pairs, see `unspin.resources.lexical.pps_split`), spun with the held-out pairs only;
- ``summary.json``: documents, substitutions and substituted-word share per set.

The original of an article is its title, a blank line and its paragraphs (what
``unspin clean`` prints), with runs of spaces collapsed as ``clean`` does.

Thesaurus dictionaries are applied with a line rate of 0.6 (each matching line is
used with probability 0.6, every occurrence alike) so that about a quarter of the words
of news text are substituted, the range auto-spinners produce; the PPS dictionary is
applied in full since news contains few of its phrases.

``realsize.jsonl`` is spun with `unspin.resources.dictionary.realsize_spinner_dictionary`:
12,000 lines with the shape of a real auto-spinner dictionary (the most probable English
words and phrases under the shipped pocketsphinx trigram model, 2-4 alternatives each that
two of the WordNet, MyThes and Moby dictionaries agree on). Real auto-spinners of the
WordPress family apply every line, so it is spun at line rate 1.0; its narrow vocabulary
then substitutes about 32% of the words (measured on the first 40 articles), inside the
15-35% range, where the thesaurus sets need 0.6 to get there. It is the set on which a
learned dictionary can be measured against the issue's real-dictionary coverage (the
thesaurus sets' vocabularies are far broader than any real spinner's).

Usage: python benchmarks/build_devsets.py [--limit N] [--seed S] [--dicts moby,pps] [--out DIR]
       python benchmarks/build_devsets.py --dicts realsize --spun-only   # that file alone
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from unspin.bench.spinner import SpunDocument, spin
from unspin.resources import available_lexical
from unspin.resources.dictionary import load_spinner_dictionary

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WIKINEWS = REPO_ROOT.parent / "shared" / "data" / "wikinews" / "articles.jsonl"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "data" / "dev"

# Probability that a matching dictionary line is applied, per dictionary.
LINE_RATES = {"moby": 0.6, "wordnet": 0.6, "mythes": 0.6, "pps": 1.0, "realsize": 1.0}

# Held-out PPS phrases per paper-mill abstract (`heldout_documents`).
ABSTRACT_PHRASES = 5

# Sentences for the held-out PPS pairs; "{p}" is the correct phrase.
SCIENTIFIC_TEMPLATES = (
    "In this paper, we propose a novel method based on {p} to improve the accuracy of the results.",
    "Recent advances in {p} have attracted considerable attention from researchers.",
    "The results of our trials show that the approach using {p} outperforms the baselines on three datasets.",
    "{p} plays an important role in many practical applications.",
    "We review the existing literature on {p} and identify several open challenges.",
    "A comparative study of {p} was carried out using real-world data collected over two years.",
    "The proposed framework integrates {p} with a lightweight optimisation strategy.",
    "Our analysis indicates that {p} remains an active area of research.",
    "To evaluate {p}, we conducted extensive simulations under different network conditions.",
    "The limitations of {p} are discussed in Section 5, together with directions for future work.",
)


def article_original(record: dict) -> str:
    """Title, blank line, paragraphs, with whitespace runs collapsed like `unspin clean`."""
    paragraphs = [
        "\n".join(" ".join(line.split()) for line in part.strip().splitlines())
        for part in str(record.get("text", "")).split("\n\n")
        if part.strip()
    ]
    title = " ".join(str(record.get("title", "")).split())
    return "\n\n".join([title, *paragraphs] if title else paragraphs)


def read_articles(path: Path, limit: int | None) -> list[dict]:
    articles = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                articles.append(json.loads(line))
                if limit is not None and len(articles) >= limit:
                    break
    return articles


def heldout_documents(
    seed: int, sentences_per_pair: int, phrases_per_abstract: int = ABSTRACT_PHRASES
) -> list[SpunDocument]:
    """Paper-mill "abstracts" of scientific sentences, each sentence holding the correct
    phrase of one held-out PPS pair, the whole abstract spun with the held-out pairs only.

    Every held-out phrase appears in `sentences_per_pair` abstracts (each time in another
    template sentence and among other phrases).  An abstract, not a lone sentence, is the
    unit because paper mills spin whole texts: a single sentence with one tortured phrase
    is too little for any page-level verdict, and unspin edits only pages it judges spun.
    """
    from unspin.resources.lexical import pps_split

    dictionary = load_spinner_dictionary("pps-heldout")
    documents = []
    correct_phrases = list(dict.fromkeys(correct for correct, _ in pps_split()[1]))
    for variant in range(sentences_per_pair):
        order = list(correct_phrases)
        random.Random(f"{seed}:order:{variant}").shuffle(order)
        for start in range(0, len(order), phrases_per_abstract):
            number = start // phrases_per_abstract
            phrases = order[start : start + phrases_per_abstract]
            templates = random.Random(f"{seed}:abstract:{variant}:{number}").sample(
                SCIENTIFIC_TEMPLATES, len(phrases)
            )
            sentences = []
            for correct, template in zip(phrases, templates, strict=True):
                sentence = template.format(p=correct)
                sentences.append(sentence[:1].upper() + sentence[1:])
            document = spin(
                " ".join(sentences),
                dictionary,
                seed=f"{seed}:abstract:{variant}:{number}",
                id=f"pps_heldout/{variant}-{number:03d}",
                source_id=f"pps_heldout/{variant}-{number:03d}",
            )
            if document.substitutions:
                documents.append(document)
    return documents


def write_jsonl(path: Path, documents: list[SpunDocument]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for document in documents:
            out.write(json.dumps(document.to_dict(), ensure_ascii=False) + "\n")


def summarise(documents: list[SpunDocument], seconds: float, cpu_seconds: float = 0.0) -> dict:
    fractions = [document.substituted_word_fraction() for document in documents]
    return {
        "documents": len(documents),
        "documents_with_substitutions": sum(bool(d.substitutions) for d in documents),
        "substitutions": sum(len(d.substitutions) for d in documents),
        "substituted_word_share": round(sum(fractions) / len(fractions), 4) if fractions else 0.0,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
    }


def default_sets() -> list[str]:
    """Every installed built-in, and realsize where its three thesauri are installed."""
    from unspin.resources.dictionary import REALSIZE, REALSIZE_SOURCES

    names = available_lexical()
    if all(name in names for name in REALSIZE_SOURCES):
        names.append(REALSIZE)
    return names


def spin_set(
    name: str, originals: list[tuple[str, str]], out: Path, seed: int
) -> tuple[list[SpunDocument], dict]:
    """Spin every original with dictionary ``name``, write ``<name>.jsonl``; its summary row."""
    started = time.perf_counter()
    dictionary = load_spinner_dictionary(name)
    loaded = time.perf_counter()
    loaded_cpu = time.process_time()
    documents = [
        spin(
            text,
            dictionary,
            seed=f"{seed}:{id_}:{name}",
            rate=LINE_RATES.get(name, 1.0),
            id=f"{id_}#{name}",
            source_id=id_,
        )
        for id_, text in originals
    ]
    write_jsonl(out / f"{name}.jsonl", documents)
    row = summarise(documents, time.perf_counter() - loaded, time.process_time() - loaded_cpu)
    row["dictionary_lines"] = len(dictionary)
    row["dictionary_load_seconds"] = round(loaded - started, 1)
    return documents, row


def build(
    wikinews: Path,
    out: Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    dictionaries: list[str] | None = None,
    heldout_sentences: int = 3,
    spun_only: bool = False,
) -> dict:
    """Build every dev set under ``out``; returns the summary also written to summary.json.

    With ``spun_only`` only the ``<dictionary>.jsonl`` files are written (clean.jsonl,
    pps_heldout.jsonl and summary.json are left as they are) and their rows returned.
    """
    articles = read_articles(wikinews, limit)
    out.mkdir(parents=True, exist_ok=True)
    names = dictionaries or default_sets()
    originals = [(str(article["id"]), article_original(article)) for article in articles]
    if spun_only:
        return {name: spin_set(name, originals, out, seed)[1] for name in names}
    clean = [
        SpunDocument(id=id_, source_id=id_, dictionary=None, original=text, text=text)
        for id_, text in originals
    ]
    write_jsonl(out / "clean.jsonl", clean)
    summary: dict = {"clean": summarise(clean, 0.0)}
    for name in names:
        summary[name] = spin_set(name, originals, out, seed)[1]
    started = time.perf_counter()
    heldout = heldout_documents(seed, heldout_sentences)
    write_jsonl(out / "pps_heldout.jsonl", heldout)
    summary["pps_heldout"] = summarise(heldout, time.perf_counter() - started)
    summary_path = out / "summary.json"
    if dictionaries and summary_path.is_file():
        # Rebuilding some sets only: keep the rows of the others.
        summary = {**json.loads(summary_path.read_text(encoding="utf-8")), **summary}
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wikinews", type=Path, default=DEFAULT_WIKINEWS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--limit", type=int, default=None, help="first N articles only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dicts",
        default=None,
        help="comma-separated dictionaries (default: all installed, and realsize)",
    )
    parser.add_argument("--heldout-sentences", type=int, default=3)
    parser.add_argument(
        "--spun-only",
        action="store_true",
        help="write only the --dicts sets' files (not clean, pps_heldout or summary.json)",
    )
    args = parser.parse_args(argv)
    if not args.wikinews.is_file():
        print(f"build_devsets: no Wikinews file at {args.wikinews}", file=sys.stderr)
        return 2
    dictionaries = [name.strip() for name in args.dicts.split(",")] if args.dicts else None
    summary = build(
        args.wikinews,
        args.out,
        limit=args.limit,
        seed=args.seed,
        dictionaries=dictionaries,
        heldout_sentences=args.heldout_sentences,
        spun_only=args.spun_only,
    )
    print(f"{'set':12} {'docs':>5} {'with subs':>9} {'subs':>7} {'word share':>10}")
    for name, row in summary.items():
        print(
            f"{name:12} {row['documents']:>5} {row['documents_with_substitutions']:>9} "
            f"{row['substitutions']:>7} {row['substituted_word_share']:>10.3f}"
        )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
