"""`unspin detect`: is each document spun, and which phrases were substituted."""

from __future__ import annotations

import argparse
from typing import Any

from unspin.cli._engine_args import add_engine_arguments, build_engine
from unspin.cli.common import EXIT_ERROR, add_document_arguments, run_pipeline


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="detect spinning: a calibrated score and the substituted phrases",
        description=(
            "For each document: a verdict, a calibrated probability that it was spun, and the "
            "phrases that look substituted, each with its likely original and evidence. "
            "Offsets are into the cleaned text (what `unspin clean` prints). "
            "Exit status: 0 none spun, 1 some spun, 2 errors."
        ),
    )
    add_document_arguments(parser)
    add_engine_arguments(parser)
    parser.set_defaults(func=run)


def _plain(doc_id: str, detection: Any) -> str:
    from unspin.engine.language import ENGLISH  # here: `unspin --help` need not load the engine

    verdict = "SPUN" if detection.spun else "clean"
    lines = [f"{doc_id}: {verdict} (score {detection.score:.2f}, {len(detection.spans)} phrases)"]
    if detection.language not in (None, ENGLISH) and not detection.spans:
        lines[0] += f", not analysed: the text is in {detection.language!r}, not English"
    if detection.family:
        lines[0] += f", family {detection.family} ({detection.family_share:.0%} of the phrases)"
    for span in detection.spans:
        lines.append(
            f"  [{span.start}:{span.end}] {span.text!r} -> {span.suggestion!r} "
            f"({span.confidence:.2f})"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    engine = build_engine(args)
    if engine is None:
        return EXIT_ERROR

    return run_pipeline(
        args,
        ("detect",),
        lambda record: _plain(str(record.id), record.detection),
        findings=lambda record: bool(record.detection and record.detection.spun),
        engine=engine,
    )
