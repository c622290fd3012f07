"""Load test for `unspin serve` on loopback: many bounded clients, status codes, latency, RSS.

Starts `unspin serve` as a subprocess on 127.0.0.1 (a free port), runs `--clients` concurrent
clients for `--duration` seconds, each sending one request after another, and stops by itself.
The mix is mostly `--request` (/api/detect, or /api/restore) on real articles, some
/api/analyze, and a share of requests over the body cap (which must get 413). The server's limits mean that under overload the only
statuses by design are 2xx, 413 and 429; anything else (5xx, connection errors) is a failure
and makes the script exit 1.

Server RSS is sampled from /proc every 0.25 s to show that memory stays bounded.

    python benchmarks/load_test.py --clients 200 --duration 30 --model none
    python benchmarks/load_test.py --url http://127.0.0.1:8000   # an already running server

`--compare-workers 1,2` runs the same load once per setting of `unspin serve --workers` (a fresh
server each) and ends with a table of throughput (2xx responses a second) for each, relative to
the first: the old single-slot server against parallel workers, in one run.

    python benchmarks/load_test.py --compare-workers 1,2 --request restore --model none \
        --clients 4 --duration 30 --analyze-share 0 --oversize-share 0 --respect-retry-after

(Clients that back off on 429 keep the refusals from taking CPU from the work on a small
machine; the table's 2xx/s is the throughput.)

Only loopback addresses are accepted: this is not a tool to load someone else's server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
WIKINEWS = REPO.parent / "shared/data/wikinews/articles.jsonl"

FALLBACK_TEXT = (
    "The deputy International Minister mentioned the US positions got here as no shock to the "
    "delegation, which had anticipated a more durable line on the talks.\n\n"
    "Officers mentioned the assembly would proceed on Tuesday, and that the Secretary Common "
    "would attend the closing session within the capital."
)


def load_documents(path: Path | None, limit: int) -> list[str]:
    """Article texts to send: a JSONL file's `text` fields, else a built-in spun passage."""
    texts: list[str] = []
    if path is not None and path.is_file():
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                text = json.loads(line).get("text")
                if isinstance(text, str) and text.strip():
                    texts.append(text)
                if len(texts) >= limit:
                    break
    return texts or [FALLBACK_TEXT]


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def rss_kib(pid: int) -> int | None:
    """RSS of the server and of its worker processes (`--workers N` starts N of them)."""
    total = _own_rss_kib(pid)
    if total is None:
        return None
    for child in _children(pid):
        total += _own_rss_kib(child) or 0
    return total


def _own_rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (worker processes and the resource tracker)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = Path(f"/proc/{parent}/task").iterdir()
            kids = [
                int(child) for task in tasks for child in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        found.extend(kids)
        pending.extend(kids)
    return found


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    command = [
        sys.executable,
        "-m",
        "unspin",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--model",
        args.model,
        "--workers",
        str(args.workers),
        "--timeout",
        str(args.timeout),
        "--max-body",
        str(args.max_body),
        "--keep-alive",
        str(args.keep_alive),
        "--log-level",
        "warning",
    ]
    if args.db:
        command += ["--db", args.db]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stderr is not None
    deadline = time.monotonic() + args.startup_timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            if process.poll() is not None:
                raise SystemExit(f"load_test: the server exited with {process.returncode}")
            continue
        sys.stderr.write(line)
        found = re.search(r"serving on (http://\S+?)/? ", line)
        if found:
            # Keep reading the server's log, or a full pipe would block the server.
            threading.Thread(
                target=_collect_log, args=(process.stderr,), daemon=True, name="server-log"
            ).start()
            return process, found.group(1).rstrip("/")
    process.kill()
    raise SystemExit("load_test: the server did not start in time")


SERVER_LOG: list[str] = []


def _collect_log(stream: Any) -> None:
    for line in stream:
        SERVER_LOG.append(line.rstrip("\n"))


async def sample_rss(pid: int, stop: asyncio.Event, samples: list[tuple[float, int]]) -> None:
    start = time.monotonic()
    while not stop.is_set():
        value = rss_kib(pid)
        if value is not None:
            samples.append((round(time.monotonic() - start, 2), value))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


def _server_timing(header: str) -> float | None:
    found = re.search(r"app;dur=([0-9.]+)", header)
    return float(found.group(1)) if found else None


async def client_loop(
    client: httpx.AsyncClient,
    texts: list[str],
    deadline: float,
    oversize: bytes,
    mix: dict[str, float],
    rng: random.Random,
    results: list[tuple[str, int | str, float]],
    backoff: bool,
    server_times: list[tuple[str, float]],
) -> None:
    kinds, weights = zip(*mix.items(), strict=True)
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            if kind == "oversize":
                response = await client.post(
                    "/api/detect", content=oversize, headers={"content-type": "application/json"}
                )
            else:
                endpoint = f"/api/{kind}"
                response = await client.post(endpoint, json={"text": rng.choice(texts)})
            status: int | str = response.status_code
            server_ms = _server_timing(response.headers.get("server-timing", ""))
        except httpx.HTTPError as error:
            status = type(error).__name__
            server_ms = None
        results.append((kind, status, time.perf_counter() - started))
        if server_ms is not None:
            server_times.append((str(status), server_ms))
        if backoff and status == 429:
            # A polite client waits as told (Retry-After), jittered so clients do not align.
            retry_after = float(response.headers.get("retry-after", "1"))
            await asyncio.sleep(
                min(retry_after, max(0.0, deadline - time.monotonic())) * rng.uniform(0.5, 1.5)
            )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[position]


async def run_load(args: argparse.Namespace, url: str, pid: int | None) -> dict:
    texts = load_documents(Path(args.input) if args.input else None, args.documents)
    oversize = json.dumps({"text": "x" * (args.max_body + 1)}).encode()
    mix = {args.request: 1 - args.analyze_share - args.oversize_share}
    mix["analyze"] = args.analyze_share
    mix["oversize"] = args.oversize_share
    results: list[tuple[str, int | str, float]] = []
    server_times: list[tuple[str, float]] = []
    rss: list[tuple[float, int]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, stop, rss)) if pid else None
    # Idle connections expire on the client well before the server's keep-alive timeout
    # (--keep-alive); otherwise a request can go out on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=args.clients, max_keepalive_connections=args.clients, keepalive_expiry=2.0
    )
    timeout = httpx.Timeout(args.timeout + 30)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:
        health = (await client.get("/health")).json()
        started = time.monotonic()
        deadline = started + args.duration
        await asyncio.gather(
            *(
                client_loop(
                    client,
                    texts,
                    deadline,
                    oversize,
                    mix,
                    random.Random(seed),
                    results,
                    args.respect_retry_after,
                    server_times,
                )
                for seed in range(args.clients)
            )
        )
        elapsed = time.monotonic() - started
    stop.set()
    if sampler:
        await sampler

    statuses = Counter(str(status) for _, status, _ in results)
    ok = [
        latency for _, status, latency in results if isinstance(status, int) and 200 <= status < 300
    ]
    by_design = {"413", "429"}
    unexpected = {
        status: count
        for status, count in statuses.items()
        if not (status.isdigit() and (200 <= int(status) < 300 or status in by_design))
    }
    all_latencies = [latency for _, _, latency in results]
    rss_values = [value for _, value in rss]
    return {
        "url": url,
        "request": args.request,
        "workers": health.get("max_concurrent"),
        "clients": args.clients,
        "keep_alive_s": args.keep_alive,
        "respect_retry_after": args.respect_retry_after,
        "duration_s": round(elapsed, 2),
        "server": health,
        "model": args.model,
        "documents": len(texts),
        "requests": len(results),
        "requests_per_s": round(len(results) / elapsed, 1) if elapsed else None,
        "ok_per_s": round(len(ok) / elapsed, 2) if elapsed else None,
        "statuses": dict(sorted(statuses.items())),
        "statuses_by_request": {
            kind: dict(sorted(Counter(str(st) for k, st, _ in results if k == kind).items()))
            for kind in mix
        },
        "unexpected": unexpected,
        "latency_ms_by_status": {
            status: {
                "p50": round(percentile(values, 0.5) * 1000, 1),
                "p99": round(percentile(values, 0.99) * 1000, 1),
            }
            for status in sorted(statuses)
            for values in [[lat for _, st, lat in results if str(st) == status]]
        },
        "server_time_ms_by_status": {
            status: {
                "p50": round(percentile(values, 0.5), 1),
                "p99": round(percentile(values, 0.99), 1),
            }
            for status in sorted({st for st, _ in server_times})
            for values in [[ms for st, ms in server_times if st == status]]
        },
        "latency_ms": {
            "all_p50": round(percentile(all_latencies, 0.5) * 1000, 1),
            "all_p99": round(percentile(all_latencies, 0.99) * 1000, 1),
            "ok_p50": round(percentile(ok, 0.5) * 1000, 1),
            "ok_p99": round(percentile(ok, 0.99) * 1000, 1),
            "ok_mean": round(statistics.fmean(ok) * 1000, 1) if ok else None,
        },
        "server_rss_mib": {
            "start": round(rss_values[0] / 1024, 1) if rss_values else None,
            "max": round(max(rss_values) / 1024, 1) if rss_values else None,
            "end": round(rss_values[-1] / 1024, 1) if rss_values else None,
            "samples": len(rss_values),
        },
        "rss_timeline_mib": [(t, round(v / 1024, 1)) for t, v in rss[:: max(1, len(rss) // 40)]],
    }


def markdown(report: dict) -> str:
    """One table row: client-measured and server-side (Server-Timing) p50 / p99 per status."""
    client = report["latency_ms_by_status"]
    server = report["server_time_ms_by_status"]
    memory = report["server_rss_mib"]

    def cell(status: str) -> str:
        seen, spent = client.get(status), server.get(status)
        if not seen:
            return "–"
        text = f"{seen['p50']:.0f} / {seen['p99']:.0f}"
        if spent:
            text += f" (server {spent['p50']:.1f} / {spent['p99']:.1f})"
        return text

    header = (
        "| model | workers | clients | backs off on 429 | duration | requests/s | statuses "
        "| 200 p50 / p99 ms | 429 p50 / p99 ms | 413 p50 / p99 ms | server RSS start → max → end |"
    )
    row = (
        f"| {report['model']} | {report['workers']} | {report['clients']} "
        f"| {'yes' if report['respect_retry_after'] else 'no'} "
        f"| {report['duration_s']} s | {report['requests_per_s']} | "
        + ", ".join(f"{k}: {v}" for k, v in report["statuses"].items())
        + f" | {cell('200')} | {cell('429')} | {cell('413')} "
        f"| {memory['start']} → {memory['max']} → {memory['end']} MiB |"
    )
    return "\n".join([header, "|---" * 11 + "|", row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--url", help="an already running server on loopback (else one is started)")
    parser.add_argument("--pid", type=int, help="its process id, to sample RSS (with --url)")
    parser.add_argument("--model", default="none", help="engine model for the started server")
    parser.add_argument("--db", help="source index for the started server")
    parser.add_argument(
        "--workers",
        "--max-concurrent",
        dest="workers",
        type=int,
        default=1,
        help="`unspin serve --workers` of the started server (default 1, the old single slot)",
    )
    parser.add_argument(
        "--compare-workers",
        metavar="N,M,...",
        help="run the load once per --workers value (a fresh server each) and compare throughput",
    )
    parser.add_argument(
        "--request",
        choices=("detect", "restore"),
        default="detect",
        help="the endpoint most requests go to (default detect)",
    )
    parser.add_argument("--keep-alive", type=float, default=15.0, help="server keep-alive seconds")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--max-body", type=int, default=2 * 1024 * 1024)
    parser.add_argument("--input", default=str(WIKINEWS), help="JSONL with a text field")
    parser.add_argument("--documents", type=int, default=50, help="how many texts to cycle through")
    parser.add_argument("--analyze-share", type=float, default=0.1)
    parser.add_argument("--oversize-share", type=float, default=0.05)
    parser.add_argument(
        "--respect-retry-after",
        action="store_true",
        help="clients wait Retry-After (jittered) after a 429 instead of retrying at once",
    )
    parser.add_argument("--startup-timeout", type=float, default=300.0)
    parser.add_argument("--json", dest="json_out", help="write the full report here")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        parser.error("--clients and --duration must be positive")
    if args.analyze_share + args.oversize_share >= 1:
        parser.error("--analyze-share + --oversize-share must stay under 1")

    if args.compare_workers:
        if args.url:
            parser.error("--compare-workers starts its own servers; drop --url")
        try:
            settings = [int(part) for part in args.compare_workers.split(",") if part.strip()]
        except ValueError:
            parser.error("--compare-workers takes numbers, e.g. 1,2")
        if not settings or min(settings) < 1:
            parser.error("--compare-workers takes positive numbers, e.g. 1,2")
        reports = []
        for workers in settings:
            args.workers = workers
            SERVER_LOG.clear()
            reports.append(run_once(args, parser))
        print(comparison(reports))
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(reports, indent=2) + "\n")
        return 1 if any(report["unexpected"] for report in reports) else 0
    report = run_once(args, parser)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["unexpected"] else 0


def run_once(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """One load run against a started (or the given) server; prints its report."""
    process = None
    if args.url:
        if not is_loopback(args.url):
            parser.error("--url must be a loopback address (127.0.0.1, ::1, localhost)")
        url, pid = args.url.rstrip("/"), args.pid
    else:
        process, url = start_server(args)
        pid = process.pid
    try:
        report = asyncio.run(run_load(args, url, pid))
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    report["server_log_tail"] = SERVER_LOG[-50:]
    print(json.dumps({k: v for k, v in report.items() if k != "rss_timeline_mib"}, indent=2))
    print()
    print(markdown(report))
    print()
    if report["unexpected"]:
        print(f"load_test: unexpected statuses: {report['unexpected']}", file=sys.stderr)
    return report


def comparison(reports: list[dict]) -> str:
    """Throughput of each --workers setting, and its ratio to the first (measured in one run)."""
    header = (
        "| workers | request | clients | duration | 2xx/s | ratio | statuses | 200 p50 / p99 ms |"
    )
    rows = [header, "|---" * 8 + "|"]
    base = reports[0]["ok_per_s"] or 0.0
    for report in reports:
        ok = report["ok_per_s"] or 0.0
        ratio = f"{ok / base:.2f}×" if base else "–"
        latency = report["latency_ms_by_status"].get("200")
        rows.append(
            f"| {report['workers']} | {report['request']} | {report['clients']} "
            f"| {report['duration_s']} s | {ok} | {ratio} | "
            + ", ".join(f"{k}: {v}" for k, v in report["statuses"].items())
            + (f" | {latency['p50']:.0f} / {latency['p99']:.0f} |" if latency else " | – |")
        )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
