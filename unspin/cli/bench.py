"""`unspin bench`: run the pipeline on the development sets and write JSON, Markdown and HTML."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

DEFAULT_SETS = Path("benchmarks/data/dev")
DEFAULT_OUT = Path("benchmarks/out/bench")


def _tasks(value: str) -> tuple[str, ...]:
    tasks = tuple(t.strip() for t in value.split(",") if t.strip())
    known = ("detect", "restore", "trace")
    unknown = [t for t in tasks if t not in known]
    if unknown or not tasks:
        raise argparse.ArgumentTypeError(
            f"unknown task(s) {', '.join(unknown) or '(none)'}; choose from {','.join(known)}"
        )
    return tasks


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "bench",
        help="score detection, restoration and tracing on the development sets",
        description=(
            "Run unspin and the baselines (doing nothing; exact lookup of known tortured "
            "phrases) on the development sets and write bench.json, bench.md and bench.html. "
            "'unseen' results restore without the dictionary that spun the set (the number "
            "that counts); 'seen' results also load it."
        ),
    )
    parser.add_argument(
        "--sets",
        type=Path,
        default=DEFAULT_SETS,
        metavar="DIR",
        help=f"dev-set directory with <dictionary>.jsonl and clean.jsonl (default {DEFAULT_SETS})",
    )
    parser.add_argument(
        "--dict",
        dest="dictionaries",
        action="append",
        metavar="NAME",
        help="spun set to score (repeatable; default: every set in --sets)",
    )
    parser.add_argument(
        "--limit", type=_positive, metavar="N", help="first N documents of every set"
    )
    parser.add_argument(
        "--protocol",
        choices=("unseen", "seen", "both"),
        default="unseen",
        help="unseen: restore without the spinning dictionary (default); seen: with it",
    )
    parser.add_argument(
        "--baselines",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="include the no-op and tortured-phrase-lookup baselines (default on)",
    )
    parser.add_argument(
        "--engine",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the unspin engine (--no-engine: baselines only)",
    )
    parser.add_argument(
        "--tasks",
        type=_tasks,
        default=("detect", "restore", "trace"),
        metavar="LIST",
        help="comma-separated stages to score: detect,restore,trace (default all)",
    )
    parser.add_argument(
        "--model",
        default="default",
        help="language model for the engine: 'default', a Hugging Face id or path, or 'none'",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one engine setting (a field of unspin.engine.EngineConfig, e.g. "
        "spun_gate=0.5; repeatable) to measure it",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"where to write bench.json, bench.md, bench.html (default {DEFAULT_OUT})",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from unspin.bench.report import write_reports
    from unspin.bench.runner import BenchConfig, BenchError, run_bench

    sets_dir = args.sets
    if sets_dir == DEFAULT_SETS and not sets_dir.is_dir():
        # Run from elsewhere than the checkout root: look beside the installed (editable) package.
        beside_package = Path(__file__).resolve().parents[2] / DEFAULT_SETS
        if beside_package.is_dir():
            sets_dir = beside_package
    protocols = ("unseen", "seen") if args.protocol == "both" else (args.protocol,)
    from unspin.engine import EngineConfig

    try:
        engine_config = EngineConfig().with_settings(args.settings)
    except ValueError as exc:
        print(f"unspin bench: {exc}", file=sys.stderr)
        return 2
    config = BenchConfig(
        sets_dir=sets_dir,
        out_dir=args.out,
        dictionaries=args.dictionaries,
        limit=args.limit,
        protocols=protocols,
        tasks=tuple(args.tasks),
        baselines=args.baselines,
        engine=args.engine,
        model=None if str(args.model).lower() == "none" else args.model,
        engine_config=engine_config,
        command=shlex.join(["unspin", *sys.argv[1:]]) if sys.argv[1:2] == ["bench"] else None,
    )
    try:
        data = run_bench(config)
        paths = write_reports(data, args.out)
    except BenchError as exc:
        print(f"unspin bench: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"unspin bench: {exc}", file=sys.stderr)
        return 2
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    documents = args.out / "documents.jsonl"
    if documents.is_file():
        print(f"per document: {documents}")
    if data["notes"]:
        # The reports are written, but part of what was asked for is missing or failed.
        print(
            f"unspin bench: finished with {len(data['notes'])} problem(s); see Notes in the report",
            file=sys.stderr,
        )
        return 1
    return 0
