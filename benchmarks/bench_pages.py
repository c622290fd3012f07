"""`unspin detect` on real web pages against trafilatura's extraction of the same pages.

Issue 15's yardstick: the 181 HTML pages of the public article-extraction benchmark
(https://github.com/scrapinghub/article-extraction-benchmark, MIT; not copied here). Get them with

    git clone https://github.com/scrapinghub/article-extraction-benchmark /tmp/aeb
    python benchmarks/bench_pages.py --pages /tmp/aeb/html

Two measurements, both in this one run so that their ratio holds on a noisy machine:

* whole process: `python -m unspin detect --json PAGES` against a Python process that imports
  trafilatura and extracts every page (start-up, model loading and reading included);
* per page, in this process, interleaved page by page: trafilatura.extract() with its defaults,
  unspin.extract(), and unspin.detect() on the extracted article (engine loaded beforehand).

The pages are ordinary news and blog articles, none of them spun, so the verdicts are also a
false-positive count on real pages; 20 of them are not in English (`languages`), which
unspin reports and does not analyse.  `--dump FILE` writes every verdict and span, to check that
a speed change keeps them (`--compare FILE`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

TRAFILATURA_PROCESS = """
import gzip, sys, trafilatura
for path in sys.argv[1:]:
    data = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
    trafilatura.extract(data)
"""


def page_paths(folder: Path, limit: int | None) -> list[Path]:
    paths = sorted(p for p in folder.iterdir() if p.name.endswith((".html", ".html.gz", ".htm")))
    return paths[:limit] if limit else paths


def read_page(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def run_timed(command: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system of the child) of one command, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # unspin detect exits 1 when a page is judged spun
        raise SystemExit(f"{command[:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def whole_process(paths: list[Path], model: str) -> dict:
    files = [str(p) for p in paths]
    t_wall, t_cpu, _ = run_timed([sys.executable, "-c", TRAFILATURA_PROCESS, *files])
    command = [sys.executable, "-m", "unspin", "detect", "--json", "--model", model, *files]
    u_wall, u_cpu, stdout = run_timed(command)
    verdicts = {}
    languages: Counter[str] = Counter()
    for line in stdout.splitlines():
        record = json.loads(line)
        detection = record.get("detection") or {}
        spans = [[s["start"], s["end"], s["suggestion"]] for s in detection.get("spans", [])]
        verdicts[Path(record["source"]).name] = {"spun": detection.get("spun"), "spans": spans}
        languages[str(detection.get("language"))] += 1
    return {
        "trafilatura_wall_s": round(t_wall, 2),
        "trafilatura_cpu_s": round(t_cpu, 2),
        "unspin_wall_s": round(u_wall, 2),
        "unspin_cpu_s": round(u_cpu, 2),
        "ratio_wall": round(u_wall / t_wall, 1),
        "ratio_cpu": round(u_cpu / t_cpu, 1),
        "languages": dict(languages.most_common()),
        "verdicts": verdicts,
    }


def per_page(paths: list[Path], model: str) -> dict:
    import trafilatura

    from unspin import detect, extract
    from unspin.engine import Engine

    engine = Engine(model=None if model == "none" else model)
    pages = [read_page(p) for p in paths]
    detect(extract(pages[0]).text, engine=engine)  # load lazily built resources once
    trafilatura_s, extract_s, detect_s, words = [], [], [], []
    for page in pages:
        start = time.process_time()
        trafilatura.extract(page)
        trafilatura_s.append(time.process_time() - start)
        start = time.process_time()
        article = extract(page)
        extract_s.append(time.process_time() - start)
        start = time.process_time()
        detect(article.text, engine=engine)
        detect_s.append(time.process_time() - start)
        words.append(len(article.text.split()))
    total = sum(trafilatura_s)
    return {
        "pages": len(pages),
        "median_words": statistics.median(words),
        "trafilatura_ms_per_page": round(1000 * total / len(pages), 1),
        "unspin_extract_ms_per_page": round(1000 * sum(extract_s) / len(pages), 1),
        "unspin_detect_ms_per_page": round(1000 * sum(detect_s) / len(pages), 1),
        "detect_ms_per_600_words": round(1000 * sum(detect_s) / sum(words) * 600, 1),
        "ratio_extract_plus_detect": round((sum(extract_s) + sum(detect_s)) / total, 1),
    }


def compare(verdicts: dict, path: Path) -> dict:
    """Pages whose verdict or spans differ from an earlier `--dump`, and their languages."""
    before = json.loads(path.read_text())["whole_process"]["verdicts"]
    changed = sorted(name for name in before if before[name] != verdicts.get(name))
    return {"pages_compared": len(before), "pages_changed": len(changed), "changed": changed[:30]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, required=True, help="folder of .html(.gz) pages")
    parser.add_argument("--limit", type=int, help="only the first N pages (by name)")
    parser.add_argument("--model", default="none", help="detect's --model (default: none)")
    parser.add_argument("--dump", type=Path, help="write the result, verdicts included, here")
    parser.add_argument("--compare", type=Path, help="a --dump of an earlier run to compare")
    args = parser.parse_args()
    if not args.pages.is_dir():
        raise SystemExit(f"no such folder: {args.pages} (see this script's docstring)")
    paths = page_paths(args.pages, args.limit)
    if not paths:
        raise SystemExit(f"no .html or .html.gz pages in {args.pages}")
    result = {
        "load_average": os.getloadavg()[0],
        "whole_process": whole_process(paths, args.model),
        "per_page": per_page(paths, args.model),
    }
    verdicts = result["whole_process"]["verdicts"]
    result["judged_spun"] = sum(1 for v in verdicts.values() if v["spun"])
    if args.compare:
        result["compare"] = compare(verdicts, args.compare)
    if args.dump:
        args.dump.write_text(json.dumps(result, indent=1))
    shown = {k: v for k, v in result["whole_process"].items() if k != "verdicts"}
    print(json.dumps({**result, "whole_process": shown}, indent=1))


if __name__ == "__main__":
    main()
