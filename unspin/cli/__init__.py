"""The `unspin` command: a thin layer over the Python API.

Each sub-command lives in its own module under `unspin.cli` and exposes
`add_parser(subparsers)`; the parser's `func` default is called with the parsed
arguments and returns the exit code (0 success, 1 findings, 2 usage or document
errors). Command modules import heavy libraries inside their run function so
that `unspin --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from unspin import __version__

# Order is the order shown by `unspin --help`: the pipeline first, then tools.
COMMANDS = (
    "clean",
    "detect",
    "restore",
    "trace",
    "index",
    "learn",
    "batch",
    "serve",
    "spin",
    "bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unspin",
        description="Undo article spinning: extract -> detect -> restore -> trace.",
    )
    parser.add_argument("--version", action="version", version=f"unspin {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"unspin.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"unspin.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("unspin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output closed early (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
