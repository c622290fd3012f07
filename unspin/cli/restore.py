"""`unspin restore`: the article with its original wording restored."""

from __future__ import annotations

import argparse
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
    add_engine_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = build_engine(args)
    if engine is None:
        return EXIT_ERROR

    def plain(record: Any) -> str:
        restoration = record.restoration
        return restoration.marked() if args.show_edits else restoration.text

    return run_pipeline(args, ("restore",), plain, engine=engine)
