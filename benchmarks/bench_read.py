"""Benchmark reading limits in `unspin.extraction.inputs`: time linear in input size, memory bounded.

Three measurements, all on inputs generated into a temporary folder (nothing is downloaded):

* read time: `read_documents()` over one JSONL file holding a single line of 16, 64 or 256 MB
  (over the 10 MB per-document limit, so the line is read through and refused), plain and
  gzipped, and over files of the same sizes made of 1 MB records (every record accepted);
* peak RSS of `python -m unspin clean --json -` in a subprocess (`os.wait4`'s `ru_maxrss`,
  that child only, started from a small driver process) fed a 2 GiB JSONL line on standard input, generated on the fly, followed by a
  small record that must still come out;
* peak RSS and time for gzip bombs (2 GiB inflated): a single text document and a JSONL line,
  and the CLI's baseline RSS on a small input.

The text is random words (a 1 MB block repeated; gzip's 32 KB window cannot see the repeat, so
the compression ratio is that of prose, about 3:1), or one word repeated (gzip inflates each
64 KB read to many MB: the case that was quadratic), and one letter repeated in the bombs.

    nice python benchmarks/bench_read.py                      # 16/64/256 MB and the 2 GiB cases
    nice python benchmarks/bench_read.py --sizes 16 64 --no-rss
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000
GIB = 1 << 30
WORDS = [
    "the", "minister", "said", "on", "tuesday", "that", "talks", "with", "union", "had",
    "broken", "down", "after", "officials", "rejected", "a", "new", "offer", "of", "higher",
    "pay", "for", "nurses", "and", "teachers", "across", "region", "while", "hospitals",
    "warned", "delays", "police", "reported", "heavy", "traffic", "near", "capital",
]  # fmt: skip


def prose_block(size: int = MB, seed: int = 7) -> bytes:
    """`size` bytes of random words: realistic compression, cheap to repeat."""
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words).encode()[:size]


def write_single_line(path: Path, size: int, block: bytes, compressed: bool) -> None:
    """One JSONL record whose text is `size` bytes, then a small record."""
    opener = gzip.open if compressed else open
    with opener(path, "wb") as output:  # type: ignore[operator]
        output.write(b'{"id": "huge", "text": "')
        for _ in range(size // len(block)):
            output.write(block)
        output.write(b'"}\n{"id": "small", "text": "A small record after the huge one."}\n')


def write_records(path: Path, size: int, block: bytes, compressed: bool) -> None:
    """`size` bytes of JSONL made of records of about 1 MB each."""
    opener = gzip.open if compressed else open
    with opener(path, "wb") as output:  # type: ignore[operator]
        for number in range(size // len(block)):
            output.write(json.dumps({"id": f"r{number}", "text": block.decode()}).encode() + b"\n")


def time_reading(path: Path) -> tuple[float, int, int]:
    from unspin.extraction.inputs import Document, read_documents

    started = time.perf_counter()
    documents = errors = 0
    for item in read_documents([str(path)]):
        if isinstance(item, Document):
            documents += 1
        else:
            errors += 1
    return time.perf_counter() - started, documents, errors


def write_bomb(path: Path, size: int, prefix: bytes = b"", suffix: bytes = b"") -> None:
    """A single-member gzip of `size` bytes of one letter (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"a" * (1 << 20)
    with path.open("wb") as output:
        output.write(compressor.compress(prefix))
        for _ in range(size // len(chunk)):
            output.write(compressor.compress(chunk))
        output.write(compressor.compress(suffix))
        output.write(compressor.flush())


# Runs the CLI in a fresh small process: Linux counts the RSS of the process that forked
# (vfork) the CLI into the CLI's ru_maxrss, so it must not be this one, which has just held
# large files. The driver's own RSS (about 15 MB) is the floor of what it reports.
_DRIVER = r"""
import json, os, subprocess, sys, time
args, line_size, out_path = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
block = (b"the minister said on tuesday that talks had broken down " * 20_000)[: 1 << 20]
started = time.perf_counter()
with open(out_path, "wb") as out:
    process = subprocess.Popen(
        [sys.executable, "-m", "unspin", "clean", "--json", *args],
        stdin=subprocess.PIPE if line_size else subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.DEVNULL,
    )
    if line_size:
        try:
            process.stdin.write(b'{"id": "huge", "text": "')
            for _ in range(line_size // len(block)):
                process.stdin.write(block)
            process.stdin.write(b'"}\n{"id": "small", "text": "A small record after it."}\n')
            process.stdin.close()
        except BrokenPipeError:
            pass
    _, status, usage = os.wait4(process.pid, 0)
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "peak_rss_mb": usage.ru_maxrss / 1024,
    "exit": os.waitstatus_to_exitcode(status),
}))
"""


def run_cli(args: list[str], line_size: int = 0) -> dict:
    """`unspin clean --json ARGS` in a child; stdin fed with a `line_size` line made on the fly."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as output:
        driver = subprocess.run(
            [sys.executable, "-c", _DRIVER, json.dumps(args), str(line_size), output.name],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        run = json.loads(driver.stdout)
        run["stdout"] = Path(output.name).read_text(errors="replace")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 256], help="MB")
    parser.add_argument("--no-rss", action="store_true", help="skip the 2 GiB RSS runs")
    parser.add_argument("--no-records", action="store_true", help="skip the 1 MB-record files")
    options = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    block = prose_block()
    with tempfile.TemporaryDirectory(prefix="bench_read") as folder:
        tmp = Path(folder)
        print("| input | MB | plain | gzipped | result |")
        print("|---|---:|---:|---:|---|")
        repetitive = b"spun " * (MB // 5)  # about 300:1 in gzip: the quadratic case
        layouts = [
            ("one line, prose", write_single_line, block),
            ("one line, one word repeated", write_single_line, repetitive),
        ]
        if not options.no_records:
            layouts.append(("1 MB records, prose", write_records, block))
        for label, writer, text in layouts:
            for size in options.sizes:
                times = []
                for compressed in (False, True):
                    path = tmp / f"{size}.jsonl{'.gz' if compressed else ''}"
                    writer(path, size * MB, text, compressed)
                    seconds, documents, errors = time_reading(path)
                    times.append(seconds)
                    path.unlink()
                result = f"{documents} documents, {errors} refused"
                print(f"| {label} | {size} | {times[0]:.2f} s | {times[1]:.2f} s | {result} |")
        if options.no_rss:
            return
        print()
        print("| CLI input | peak RSS | time | exit | result |")
        print("|---|---:|---:|---:|---|")
        small = tmp / "small.txt"
        small.write_text("A small text document.")
        bomb = tmp / "bomb.txt.gz"
        write_bomb(bomb, 2 * GIB)
        bomb_jsonl = tmp / "bomb.jsonl.gz"
        write_bomb(
            bomb_jsonl,
            2 * GIB,
            prefix=b'{"id": "bomb", "text": "',
            suffix=b'"}\n{"id": "small", "text": "A small record after it."}\n',
        )
        cases = [
            ("small text file (baseline)", [str(small)], 0),
            ("2 GiB JSONL line on stdin, then a small record", ["-"], 2 * GIB),
            (f"gzip bomb, text ({bomb.stat().st_size / MB:.1f} MB -> 2 GiB)", [str(bomb)], 0),
            (
                f"gzip bomb, JSONL line ({bomb_jsonl.stat().st_size / MB:.1f} MB -> 2 GiB)",
                [str(bomb_jsonl)],
                0,
            ),
        ]
        for label, args, line_size in cases:
            run = run_cli(args, line_size=line_size)
            lines = [line for line in run["stdout"].splitlines() if line.strip()]
            results = []
            for line in lines:
                record = json.loads(line)
                results.append(f"{record['id']}: {'error' if 'error' in record else 'ok'}")
            print(
                f"| {label} | {run['peak_rss_mb']:.0f} MB | {run['seconds']:.1f} s | "
                f"{run['exit']} | {', '.join(results)} |"
            )


if __name__ == "__main__":
    main()
