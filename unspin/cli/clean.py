"""`unspin clean`: the article of each page -- title and body paragraphs, junk removed."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from unspin.cli.common import add_document_arguments, run_pipeline

if TYPE_CHECKING:
    from unspin.pipeline import Record


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "clean",
        help="extract the article: title and paragraphs, without scripts, widgets and trailers",
        description=(
            "Extract the article from HTML pages, WARC records, JSONL fields or scraped text "
            "dumps: the title, a blank line, the paragraphs. Leaked tracking code, share, cookie "
            "and newsletter widgets, comment forms, credit lines ('Source link' and spun forms "
            "such as 'Supply hyperlink') and repeated titles are removed, spintax is repaired; "
            "--json lists every removal."
        ),
    )
    add_document_arguments(parser)
    parser.set_defaults(func=run)


def _plain(record: Record) -> str:
    return record.text or ""


def run(args: argparse.Namespace) -> int:
    return run_pipeline(args, ("clean",), _plain)
