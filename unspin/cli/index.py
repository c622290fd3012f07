"""`unspin index add|stats`: build and inspect the index of originals that `trace` searches."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "index",
        help="build or inspect an index of original articles (for `unspin trace`)",
        description="Build or inspect an index of original articles (one SQLite file).",
    )
    actions = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="add originals (text, HTML, WARC, JSONL; same id replaces)",
        description=(
            "Add original articles to the index (created if missing). Each input is read like "
            "any unspin input; HTML is extracted first. JSONL records keep their title, url "
            "and date fields. A document whose id is already indexed replaces it. Every batch "
            "is one transaction: an interrupted run keeps every batch it committed."
        ),
    )
    add.add_argument("--db", required=True, help="index file (SQLite)")
    add.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or - for stdin")
    add.add_argument("--text-key", default="text", help="JSONL field with the text (default: text)")
    add.add_argument("--id-key", default="id", help="JSONL field with the id (default: id)")
    add.add_argument(
        "--batch-size", type=int, default=1000, help="documents per transaction (default: 1000)"
    )
    add.add_argument("--quiet", action="store_true", help="no summary on stderr")
    add.set_defaults(func=run)

    stats = actions.add_parser("stats", help="counts and sizes of an index")
    stats.add_argument("--db", required=True, help="index file (SQLite)")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from unspin.tracing.index import SourceIndexError

    try:
        if args.index_command == "add":
            return _run_add(args)
        return _run_stats(args)
    except SourceIndexError as exc:
        print(f"unspin index: {exc}", file=sys.stderr)
        return 2


def _run_stats(args: argparse.Namespace) -> int:
    from unspin.tracing.index import SourceIndex

    with SourceIndex(args.db, create=False) as index:
        stats = index.stats()
    if args.json:
        print(json.dumps(stats))
    else:
        width = max(map(len, stats))
        for key, value in stats.items():
            print(f"{key:<{width}}  {value}")
    return 0


def _run_add(args: argparse.Namespace) -> int:
    from unspin.tracing.index import SourceIndex

    if args.batch_size < 1:
        print("unspin index: --batch-size must be at least 1", file=sys.stderr)
        return 2
    failures = 0

    def documents() -> Iterator[dict[str, Any]]:
        nonlocal failures
        for item in _source_documents(args):
            if isinstance(item, str):
                failures += 1
                print(f"unspin index: {item}", file=sys.stderr)
            else:
                yield item

    with SourceIndex(args.db) as index:
        added = index.add(documents(), batch_size=args.batch_size)
        total = len(index)
    if not args.quiet:
        print(
            f"unspin index: added {added} document(s) to {args.db} ({total} indexed)",
            file=sys.stderr,
        )
    return 2 if failures else 0


def _source_documents(args: argparse.Namespace) -> Iterator[dict[str, Any] | str]:
    """Originals as dicts for SourceIndex.add, or a one-line error message per bad document.

    Every input goes through `extract` like a page given to `trace`, so both
    sides are cleaned the same way; a plain text comes back unchanged, and a
    JSONL record's title, url and date fields are kept.
    """
    from unspin.extraction import iter_articles

    for article, error, _container in iter_articles(
        args.inputs, text_key=args.text_key, id_key=args.id_key
    ):
        if article is None:
            where = f"{error.source} ({error.id})" if error.id else error.source
            yield f"{where}: {error.message}"
            continue
        meta = article.meta or {}
        if not article.text.strip():
            yield f"{article.source or article.id}: no article text"
            continue
        yield {
            "id": article.id,
            "title": article.title or str(meta.get("title") or ""),
            "text": article.text,
            "url": meta.get("url") or meta.get("target_uri"),
            "date": meta.get("date"),
        }
