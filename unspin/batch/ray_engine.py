"""The Ray engine of `unspin batch`: the same shards, processed by a Ray Data actor pool.

Why it looks like this:

* The driver plans the shards (it counts each unfinished input file's records once) and hands
  Ray Data one row per *unfinished* shard: ``(file, shard number, first record, end record)``.
* ``map_batches`` with a callable class and ``ActorPoolStrategy(size=N)`` gives an actor pool:
  each actor builds its processor (`unspin.batch.processor`: Engine, language model, index)
  once in ``__init__`` and then processes shard after shard. Nothing is loaded per batch.
* An actor reads its shard's records itself (inputs must be at the same path on every node:
  a shared filesystem, as usual for a cluster) and returns the shard's JSON lines. The *driver*
  writes each shard file atomically as results stream in, so the output folder need not be shared
  and resuming works exactly as with the local engine: both engines make identical shards.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unspin.batch.job import (
    BatchError,
    BatchJob,
    BatchSummary,
    WorkDir,
    dump_record,
    read_records,
)
from unspin.batch.processor import ProcessorSpec, cpu_seconds, peak_rss_mb
from unspin.progress import Progress

__all__ = ["ShardWorker", "plan_shards", "ray_session", "run_ray"]


class ShardWorker:
    """One Ray actor: builds the processor once, then turns shard descriptions into JSON lines."""

    def __init__(self, job: BatchJob, processor: ProcessorSpec) -> None:
        self.job = job
        self.processor = processor.build()
        self.ready_at = time.time()
        self.cpu_at_ready = cpu_seconds()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {
            "file_index": [],
            "shard_no": [],
            "payload": [],
            "documents": [],
            "errors": [],
            "pid": [],
            "rss_mb": [],
            "ready_at": [],
            "work_cpu": [],
        }
        for path, file_index, shard_no, start, stop in zip(
            batch["path"],
            batch["file_index"],
            batch["shard_no"],
            batch["start"],
            batch["stop"],
            strict=True,
        ):
            records = [
                self.processor.process(item)
                for item in itertools.islice(
                    read_records(Path(str(path)), self.job), int(start), int(stop)
                )
            ]
            out["file_index"].append(int(file_index))
            out["shard_no"].append(int(shard_no))
            out["payload"].append("".join(dump_record(r) + "\n" for r in records))
            out["documents"].append(len(records))
            out["errors"].append(sum(r.get("error") is not None for r in records))
            out["pid"].append(os.getpid())
            out["rss_mb"].append(peak_rss_mb())
            out["ready_at"].append(self.ready_at)
            out["work_cpu"].append(cpu_seconds() - self.cpu_at_ready)
        return out


def plan_shards(
    job: BatchJob, work: WorkDir, summary: BatchSummary
) -> tuple[list[dict[str, Any]], dict[int, tuple[int, int]]]:
    """Unfinished shards as rows for Ray Data, and (shards, records) of every unfinished file."""
    pending: list[dict[str, Any]] = []
    unfinished: dict[int, tuple[int, int]] = {}
    for file_index, path in enumerate(work.files):
        if work.skip_if_done(file_index, summary):
            continue
        records = sum(1 for _ in read_records(path, job))
        shards = -(-records // job.shard_size)
        unfinished[file_index] = (shards, records)
        for shard_no in range(shards):
            start = shard_no * job.shard_size
            stop = min(records, start + job.shard_size)
            if work.has_shard(file_index, shard_no):
                summary.shards_skipped += 1
                summary.skipped_documents += stop - start
                continue
            pending.append(
                {
                    "path": str(path),
                    "file_index": file_index,
                    "shard_no": shard_no,
                    "start": start,
                    "stop": stop,
                }
            )
    return pending, unfinished


@contextlib.contextmanager
def ray_session(address: str | None, workers: int) -> Iterator[Any]:
    """Ray, connected: to the cluster at `address`, else a local instance with `workers` CPUs.

    A session already open (a caller's, or an outer `ray_session` around both passes of
    --learn) is used as is and left open; one started here is shut down on leaving.
    """
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise BatchError("--engine ray needs Ray Data: pip install 'unspin[batch]'") from exc
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            logging_level="WARNING",
            log_to_driver=False,
        )
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()


def run_ray(
    job: BatchJob,
    work: WorkDir,
    *,
    workers: int,
    address: str | None,
    progress: bool,
    summary: BatchSummary,
    processor: ProcessorSpec | None = None,
    description: str = "unspin batch (ray)",
) -> None:
    """Process every unfinished shard of `work` on Ray (a cluster at `address`, else a local
    instance). ``processor`` says what each actor builds (default: the job's
    `DocumentProcessor`)."""
    processor = processor if processor is not None else ProcessorSpec.for_job(job)
    pending, unfinished = plan_shards(job, work, summary)
    written = dict.fromkeys(unfinished, 0)
    for file_index, (shards, _records) in unfinished.items():
        written[file_index] = sum(work.has_shard(file_index, n) for n in range(shards))

    def finish_file_if_done(file_index: int) -> None:
        shards, records = unfinished[file_index]
        if written[file_index] == shards:
            work.mark_file_done(file_index, shards, records)

    for file_index in unfinished:
        finish_file_if_done(file_index)
    if not pending:
        return

    with ray_session(address, workers) as ray:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # ours counts documents and errors
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        bar = Progress(progress, description)
        rss_by_worker: dict[int, float] = {}
        cpu_by_worker: dict[int, float] = {}
        try:
            dataset = ray.data.from_items(pending, override_num_blocks=len(pending))
            actors = max(1, min(workers, len(pending)))
            results = dataset.map_batches(
                ShardWorker,
                fn_constructor_kwargs={"job": job, "processor": processor},
                batch_size=1,
                num_cpus=1,
                compute=ray.data.ActorPoolStrategy(size=actors),  # `concurrency=N` before Ray 2.51
            )
            for row in results.iter_rows():
                file_index, shard_no = int(row["file_index"]), int(row["shard_no"])
                work.write_shard_payload(file_index, shard_no, row["payload"].encode("utf-8"))
                summary.shards_done += 1
                summary.documents += int(row["documents"])
                summary.errors += int(row["errors"])
                pid = int(row["pid"])
                rss_by_worker[pid] = max(rss_by_worker.get(pid, 0.0), float(row["rss_mb"]))
                cpu_by_worker[pid] = max(cpu_by_worker.get(pid, 0.0), float(row["work_cpu"]))
                summary.startup_seconds = max(
                    summary.startup_seconds, float(row["ready_at"]) - summary.started_at
                )
                bar.add(int(row["documents"]), int(row["errors"]))
                written[file_index] += 1
                finish_file_if_done(file_index)
        finally:
            bar.close()
            summary.worker_peak_rss_mb = [round(v, 1) for v in rss_by_worker.values()]
            summary.worker_cpu_seconds = round(sum(cpu_by_worker.values()), 3)
