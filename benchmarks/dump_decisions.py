"""Dump every decision of the engine on the dev sets, to check that a change keeps outputs.

For each of the first N documents of each set: the page probability (6 decimals) and every
decision of `Engine.analyse` with and without restore (start, end, replacement, score to 4
decimals), with the set's own thesaurus left out (the unseen protocol). Run it in two
checkouts and compare the files byte for byte:

    python benchmarks/dump_decisions.py 25 /tmp/after.jsonl
    (cd ../before && python benchmarks/dump_decisions.py 25 /tmp/before.jsonl)
    cmp /tmp/before.jsonl /tmp/after.jsonl

`--dict FILE` loads a spinner dictionary as well (the spinner-model path).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # this checkout's unspin, not an installed one

from unspin.engine import Engine  # noqa: E402

DEV = REPO_ROOT / "benchmarks" / "data" / "dev"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", type=int, help="first N documents of each set")
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", default="wordnet,mythes,moby,clean")
    parser.add_argument("--dict", dest="dictionary", help="a spinner dictionary file to load")
    parser.add_argument("--dev", type=Path, default=DEV, help="the dev sets' folder")
    args = parser.parse_args()
    engines: dict[tuple[str, ...], Engine] = {}
    started = time.process_time()
    with args.out.open("w", encoding="utf-8") as out:
        for name in args.sets.split(","):
            exclude = (name,) if name != "clean" else ()
            if exclude not in engines:
                dictionaries = [args.dictionary] if args.dictionary else []
                engines[exclude] = Engine(
                    model=None, exclude=list(exclude), dictionaries=dictionaries
                )
            engine = engines[exclude]
            path = args.dev / f"{name}.jsonl"
            if not path.is_file():
                raise SystemExit(f"no dev set {path}: python benchmarks/build_devsets.py")
            with path.open(encoding="utf-8") as lines:
                for number, line in enumerate(lines):
                    if number >= args.documents:
                        break
                    record = json.loads(line)
                    restored = engine.analyse(record["text"])
                    detected = engine.analyse(record["text"], restore=False)
                    row = {
                        "set": name,
                        "id": record.get("id"),
                        "p": round(restored.probability, 6),
                        "restore": [
                            (d.start, d.end, d.after, round(d.score, 4)) for d in restored.decisions
                        ],
                        "detect": [
                            (d.start, d.end, d.after, round(d.score, 4)) for d in detected.decisions
                        ],
                    }
                    out.write(json.dumps(row) + "\n")
    print(f"CPU {time.process_time() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
