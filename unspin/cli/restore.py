"""`unspin restore`: the article with its original wording restored."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unspin.cli._engine_args import add_engine_arguments, build_engine
from unspin.cli.common import EXIT_ERROR, add_document_arguments, run_pipeline


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "restore",
        help="restore the original wording of spun articles",
        description=(
            "Print each article with substituted phrases put back (tense, number and capitals "
            "kept). --json adds the edits (start, end, before, after, confidence, evidence) "
            "as character offsets into the cleaned text; applying them gives the restored text."
        ),
    )
    add_document_arguments(parser)
    parser.add_argument(
        "--show-edits",
        action="store_true",
        help="plain output: print the cleaned text with each edit marked [spun → original]",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="an index of originals (`unspin index add`): a page whose source is found gets "
        "the source's wording in the passages copied from it (evidence 'source'), the "
        "engine's restoration elsewhere",
    )
    add_engine_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = build_engine(args)
    if engine is None:
        return EXIT_ERROR

    def plain(record: Any) -> str:
        from unspin.engine.language import ENGLISH

        restoration = record.restoration
        if restoration.language not in (None, ENGLISH) and not restoration.edits:
            print(
                f"unspin restore: {record.id}: the text is in {restoration.language!r}, not "
                "English: left as it is",
                file=sys.stderr,
            )
        return restoration.marked() if args.show_edits else restoration.text

    if not args.db:
        return run_pipeline(args, ("restore",), plain, engine=engine)
    from unspin.tracing.index import SourceIndex, SourceIndexError

    try:
        index = SourceIndex(args.db, create=False)
    except SourceIndexError as exc:
        print(f"unspin restore: {exc}", file=sys.stderr)
        return EXIT_ERROR
    with index:
        return run_pipeline(args, ("restore",), plain, engine=engine, index=index)
