"""`unspin learn`: learn a spinner's dictionary from traced pages (see `unspin.learning`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from unspin.cli.common import EXIT_ERROR, EXIT_OK, add_document_arguments


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "learn",
        help="learn a spinner's dictionary (spun -> original) from pages traced to their sources",
        description=(
            "Trace every page against an index built with `unspin index add`; for each page "
            "whose best source scores at least --min-score, align page and source word by word "
            "and count the substitutions (spun phrase -> original phrase, up to 4 words a side) "
            "and the words seen unchanged. Writes a lexicon (docs/engine.md, 'Learned "
            "lexicons') that `--dict` loads, or a pipe dictionary with --format pipe."
        ),
    )
    parser.add_argument("--db", required=True, help="index file built by `unspin index add`")
    add_document_arguments(parser)
    for action in parser._actions:  # the per-document wording does not fit a one-report command
        if action.dest == "json":
            action.help = "print the report as one JSON object"
    parser.add_argument(
        "-o", "--output", required=True, metavar="LEXICON", help="file to write the lexicon to"
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="add to the counts of the lexicon already in --output (a new crawl)",
    )
    parser.add_argument(
        "--min-score",
        type=float,
        default=None,
        metavar="X",
        help="minimum trace score of a page's source to learn from it (default: the trace "
        "threshold, see docs/tracing.md)",
    )
    parser.add_argument(
        "--format",
        choices=("lexicon", "pipe"),
        default="lexicon",
        help="lexicon: counts, mergeable with --update (default); pipe: a spinner "
        "dictionary `original|spun|spun` without counts",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unspin.cli.common import input_names
    from unspin.extraction import iter_articles
    from unspin.learning import learn
    from unspin.progress import Progress
    from unspin.resources.lexicon import Lexicon, LexiconError
    from unspin.tracing import DEFAULT_THRESHOLD
    from unspin.tracing.index import SourceIndex, SourceIndexError

    threshold = DEFAULT_THRESHOLD if args.min_score is None else args.min_score
    if not 0.0 <= threshold <= 1.0:
        print("unspin learn: --min-score must be between 0 and 1", file=sys.stderr)
        return EXIT_ERROR
    if args.update and args.format != "lexicon":
        print(
            "unspin learn: --update needs --format lexicon (a pipe file has no counts)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    output = Path(args.output)
    existing = None
    if args.update and output.exists():
        try:
            existing = Lexicon.read(output)
        except LexiconError as exc:
            print(f"unspin learn: {exc}", file=sys.stderr)
            return EXIT_ERROR
    try:
        index = SourceIndex(args.db, create=False)
    except SourceIndexError as exc:
        print(f"unspin learn: {exc}", file=sys.stderr)
        return EXIT_ERROR

    failed = 0
    bar = Progress.on_terminal("unspin learn")

    def articles() -> Any:
        nonlocal failed
        for article, error, _container in iter_articles(
            input_names(args),
            text_key=args.text_key,
            id_key=args.id_key,
            format=args.input_format,
        ):
            bar.add(1, errors=error is not None)
            if error is not None:
                failed += 1
                bar.write(f"unspin: {error.source}: {error.message}")
                continue
            yield article

    with index:
        try:
            report = learn(articles(), index, threshold=threshold, lexicon=existing)
        finally:
            bar.close()
    lexicon = report.lexicon
    lexicon.name = output.stem
    try:
        if args.format == "pipe":
            lexicon.to_spinner_dictionary().save(output, "pipe")
        else:
            lexicon.write(output)
    except (OSError, ValueError) as exc:
        print(f"unspin learn: cannot write {output}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    summary = {**report.to_dict(), "failed": failed, "output": str(output)}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"{report.pages_read} pages read, {report.pages_traced} traced: "
            f"{report.pairs_mined} substitutions mined; {report.distinct_spun_forms} distinct "
            f"spun forms in {output} ({lexicon.pages} traced pages in all)"
        )
    return EXIT_ERROR if failed else EXIT_OK
