"""Run the unspin CLI with engine constants overridden, to measure one setting at a time.

Usage:
    python benchmarks/with_constants.py NAME=VALUE[,NAME=VALUE...] bench --dict wordnet ...

Each NAME is a module-level constant of `unspin.engine` (MAX_CANDIDATES_PER_SPAN,
SPUN_GATE, ...); VALUE is converted to the constant's own type.  The rest of the command
line goes to `unspin` unchanged.  docs/benchmarks.md says which runs used it.
"""

from __future__ import annotations

import sys

import unspin.engine as engine
from unspin.cli import main


def override(settings: str) -> None:
    for item in filter(None, settings.split(",")):
        name, _, value = item.partition("=")
        if not hasattr(engine, name) or not name.isupper():
            raise SystemExit(f"unspin.engine has no constant {name!r}")
        setattr(engine, name, type(getattr(engine, name))(value))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    override(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
