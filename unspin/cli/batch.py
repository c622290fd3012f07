"""`unspin batch`: run tasks over many files, sharded and resumable, on local workers or Ray.

Heavy imports (the engine, Ray, pyarrow) happen inside `run` so `unspin --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from unspin.cli._engine_args import add_engine_arguments, check_dictionaries

TASK_NAMES = ("clean", "detect", "restore", "trace")


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "batch",
        help="run tasks over many files: sharded, resumable, parallel (local or Ray)",
        description=(
            "Run clean/detect/restore/trace over JSONL(.gz), Parquet, WARC(.gz), HTML or text files "
            "(or folders of them). Work is split into shards of records; re-running the same command "
            "after an interruption skips finished shards and gives exactly the output of an "
            "uninterrupted run. Exit code 0 when every document was processed, 2 when some were "
            "recorded with an error (the output is still complete) or the job could not run."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="output: OUT.jsonl, OUT.jsonl.gz, OUT.parquet, or a folder with --format attributes",
    )
    parser.add_argument(
        "--tasks",
        default="clean,detect",
        help="comma-separated tasks from clean,detect,restore,trace (default: clean,detect)",
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "parquet", "attributes"),
        help="output format (default: parquet for *.parquet, else JSONL); "
        "'attributes' writes dolma documents/ and attributes/unspin/ files into OUTPUT",
    )
    parser.add_argument("--db", help="index of originals for the trace task and --learn")
    parser.add_argument(
        "--learn",
        action="store_true",
        help="first learn the spinner's lexicon from every page that traces to a source in --db, "
        "then restore every page (traced or not) with it; needs --db and the restore task; "
        "the lexicon is written to OUTPUT.lexicon.tsv",
    )
    parser.add_argument(
        "--learn-min-score",
        type=float,
        metavar="X",
        help="minimum trace score of a page's source to learn from it (default: the trace "
        "threshold, as `unspin learn --min-score`)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=_available_cpus(),
        help="worker processes (or Ray actors), each with its own engine (default: CPUs available)",
    )
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    parser.add_argument(
        "--shard-size", type=int, default=1000, help="records per shard (default: 1000)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="seconds per document before it is recorded as an error (default: 60; 0 = none)",
    )
    parser.add_argument(
        "--max-worker-memory",
        type=float,
        metavar="MB",
        help="replace a local worker between documents once its peak RSS passes MB",
    )
    parser.add_argument(
        "--text-key", default="text", help="JSONL/Parquet text field (default: text)"
    )
    parser.add_argument("--id-key", default="id", help="JSONL/Parquet id field (default: id)")
    # The engine options of `unspin detect` / `unspin restore`, with the same names.
    add_engine_arguments(parser)
    parser.add_argument(
        "--task-function",
        action="append",
        default=[],
        metavar="NAME=MODULE:FUNC",
        help="an extra task: FUNC(article) -> JSON-able value, stored under NAME (repeatable)",
    )
    parser.add_argument(
        "--work-dir", help="shard folder (default: OUTPUT.shards beside the output)"
    )
    parser.add_argument(
        "--restart", action="store_true", help="discard shards of an earlier run and start over"
    )
    parser.add_argument(
        "--keep-shards",
        action="store_true",
        help="keep the shard folder after the output is written",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--summary-json", action="store_true", help="print the final summary as JSON on stdout"
    )
    parser.set_defaults(func=run)
    return parser


def _parse_task_functions(specs: list[str]) -> dict[str, str]:
    functions = {}
    for spec in specs:
        name, sep, target = spec.partition("=")
        if not sep or not name or ":" not in target:
            raise ValueError(f"--task-function {spec!r} must look like NAME=MODULE:FUNC")
        functions[name.strip()] = target.strip()
    return functions


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # Unwind normally so workers are stopped; finished shards are kept for the re-run.
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace) -> int:
    import signal
    from pathlib import Path

    from unspin.batch import BatchError, BatchJob, default_format, run_batch

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        functions = _parse_task_functions(args.task_function)
        tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
        engine_options: dict = {}
        if {"detect", "restore"} & set(tasks):
            engine_options = {"model": None if args.model.lower() == "none" else args.model}
            # Only options that were given: they are part of the job's fingerprint.
            for option in ("lexical", "exclude", "dictionaries"):
                if getattr(args, option):
                    engine_options[option] = list(getattr(args, option))
            if args.device:
                engine_options["device"] = args.device
            # A malformed --dict line: refused with --strict, else skipped and said once here
            # (the workers load the files tolerantly and quietly).
            check_dictionaries(args.dictionaries, strict=args.strict)
        job = BatchJob(
            inputs=tuple(args.inputs),
            output=Path(args.output),
            tasks=tasks,
            format=args.format or default_format(args.output),
            db=Path(args.db) if args.db else None,
            shard_size=args.shard_size,
            time_limit=args.time_limit or None,
            text_key=args.text_key,
            id_key=args.id_key,
            engine_options=engine_options,
            task_functions=functions,
            work_dir=Path(args.work_dir) if args.work_dir else None,
            learn=args.learn,
            learn_threshold=args.learn_min_score,
        )
        summary = run_batch(
            job,
            workers=args.workers,
            engine=args.engine,
            address=args.address,
            progress=not args.no_progress,
            restart=args.restart,
            keep_shards=args.keep_shards,
            max_worker_rss_mb=args.max_worker_memory,
        )
    except (BatchError, ValueError, OSError) as exc:
        print(f"unspin batch: {exc}", file=sys.stderr)
        return 2
    print(f"unspin batch: {summary.describe()}", file=sys.stderr)
    if args.summary_json:
        print(json.dumps(summary.to_dict()))
    return 2 if summary.errors else 0
