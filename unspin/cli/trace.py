"""`unspin trace`: which indexed originals a page copies, and which passages."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from unspin.cli.common import add_document_arguments, run_pipeline

if TYPE_CHECKING:
    from unspin.pipeline import Record


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "trace",
        help="find the originals a page was copied (and spun) from, passage by passage",
        description=(
            "Trace each page to the originals in an index built with `unspin index add`. "
            "Prints ranked candidate sources with a score in [0, 1] and the copied passages "
            "(character offsets into the page's extracted text and into the source's title, "
            "blank line, body). Exit code 1 when any page has a match."
        ),
    )
    parser.add_argument("--db", required=True, help="index file built by `unspin index add`")
    add_document_arguments(parser)
    parser.add_argument(
        "--top-k", type=int, default=5, metavar="K", help="at most K sources a page (default: 5)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="S",
        help="minimum score of a match (default: the tuned value, see docs/tracing.md)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from unspin.tracing import DEFAULT_THRESHOLD
    from unspin.tracing.index import SourceIndex, SourceIndexError

    if args.top_k < 1:
        print("unspin trace: --top-k must be at least 1", file=sys.stderr)
        return 2
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if not 0.0 <= threshold <= 1.0:
        print("unspin trace: --threshold must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        index = SourceIndex(args.db, create=False)
    except SourceIndexError as exc:
        print(f"unspin trace: {exc}", file=sys.stderr)
        return 2
    with index:
        return run_pipeline(
            args,
            ("trace",),
            _plain,
            findings=lambda record: bool(record.trace and record.trace.matches),
            index=index,
            top_k=args.top_k,
            threshold=threshold,
        )


def _plain(record: Record) -> str:
    """A readable report: each source with its score, then the copied passages side by side."""
    text = record.text or ""
    result = record.trace
    name = record.id or record.source or "<input>"
    if not result.matches:
        return f"{name}: no source found"
    lines = [f"{name}: {len(result.matches)} source(s)"]
    for rank, match in enumerate(result.matches, start=1):
        where = f" <{match.url}>" if match.url else ""
        lines.append(f"{rank}. {match.source_id}  score {match.score:.3f}  {match.title}{where}")
        for passage in match.passages:
            page_part = _snippet(text[passage.page_start : passage.page_end])
            lines.append(
                f"   page {passage.page_start}-{passage.page_end} ~ source "
                f"{passage.source_start}-{passage.source_end} (similarity "
                f"{passage.similarity:.2f}): {page_part}"
            )
    return "\n".join(lines)


def _snippet(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
