"""The local engine of `unspin batch`: worker processes fed over pipes, with a watchdog.

Why its own worker processes (``multiprocessing``, spawn) rather than ``ProcessPoolExecutor``:
a pathological document must be able to cost one worker, not the pool. Each worker builds its
processor once (at start), enforces the per-document limit with ``SIGALRM``, and the parent
kills and replaces a worker that overruns the limit in C code where the alarm cannot reach it.
The document is recorded with its error; the run goes on. The parent writes each shard once
all its records are back (`unspin.batch.job.WorkDir`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from unspin.batch.job import BatchError, BatchJob, BatchSummary, WorkDir, read_records
from unspin.batch.processor import ProcessorSpec, cpu_seconds, error_record, peak_rss_mb
from unspin.progress import Progress
from unspin.text import one_line

__all__ = ["LocalPool", "run_local"]


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the parent dies (even by SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker ends when its pipe closes
        pass


def _worker_main(conn: Connection, processor: ProcessorSpec) -> None:
    """Worker loop: build the processor once, then answer one result message per document."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _die_with_parent()
    # One worker = one CPU: math libraries must not each start a thread per core (N workers
    # would then fight over N x cores threads). Ray does the same for its actors.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    try:
        worker = processor.build()
    except BaseException as exc:  # tell the parent why, once, instead of dying silently
        conn.send(("fatal", one_line(exc)))
        return
    conn.send(("ready", os.getpid(), peak_rss_mb(), cpu_seconds()))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            break
        if message is None:
            break
        for key, item in message:
            record = worker.process(item)
            conn.send(("result", key, record, peak_rss_mb(), cpu_seconds()))
    worker.close()


@dataclass
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    queue: deque = field(default_factory=deque)  # (key, item) sent and not yet answered
    head_since: float = 0.0  # when the document at the head of `queue` started
    peak_rss_mb: float = 0.0
    processed: int = 0
    cpu_at_ready: float = 0.0
    cpu_now: float = 0.0

    @property
    def work_cpu_seconds(self) -> float:
        """CPU spent on documents (engine start-up excluded)."""
        return max(0.0, self.cpu_now - self.cpu_at_ready)


class LocalPool:
    """Worker processes fed small chunks of documents over pipes, with a hang/crash watchdog."""

    def __init__(
        self,
        workers: int,
        processor: ProcessorSpec,
        *,
        time_limit: float | None,
        chunk_size: int = 4,
        grace: float = 5.0,
        on_ready: Callable[[], None] | None = None,
        max_worker_rss_mb: float | None = None,
    ) -> None:
        self.max_worker_rss_mb = max_worker_rss_mb
        self.recycled = 0
        self.retired_cpu = 0.0
        self.on_ready = on_ready
        self.context = multiprocessing.get_context("spawn")
        self.processor = processor
        self.time_limit = time_limit
        self.chunk_size = chunk_size
        self.grace = grace
        self.workers: list[_Worker] = []
        self.retry: deque = deque()  # (key, item) to send again after a worker was replaced
        self.replaced = 0
        self.retired_rss: list[float] = []
        for _ in range(workers):
            self.workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        parent_conn, child_conn = self.context.Pipe()
        process = self.context.Process(
            target=_worker_main, args=(child_conn, self.processor), daemon=True
        )
        process.start()
        child_conn.close()
        return _Worker(process=process, conn=parent_conn)

    @property
    def in_flight(self) -> int:
        return sum(len(w.queue) for w in self.workers) + len(self.retry)

    def idle_capacity(self) -> list[_Worker]:
        """Ready workers that can take another chunk (keep at most two chunks queued each)."""
        return [
            w
            for w in self.workers
            if w.ready and len(w.queue) < 2 * self.chunk_size and not self._over_memory(w)
        ]

    def _over_memory(self, worker: _Worker) -> bool:
        """Past the memory limit: send it nothing more; it is replaced once its queue is done."""
        return bool(
            self.max_worker_rss_mb
            and worker.processed
            and worker.peak_rss_mb > self.max_worker_rss_mb
        )

    def send(self, worker: _Worker, chunk: list[tuple[Any, Any]]) -> None:
        if not worker.queue:
            worker.head_since = time.monotonic()
        worker.queue.extend(chunk)
        worker.conn.send(chunk)

    def poll(self, timeout: float) -> list[tuple[Any, dict]]:
        """Wait for results; returns (key, record) pairs. Replaces hung or dead workers."""
        results: list[tuple[Any, dict]] = []
        conns = {w.conn: w for w in self.workers}
        for conn in wait(list(conns), timeout=timeout):
            worker = conns[conn]
            try:
                while conn.poll():
                    results.extend(self._handle(worker, conn.recv()))
            except (EOFError, OSError):
                results.extend(self._replace(worker, "worker process died"))
        self._recycle_big_workers()
        now = time.monotonic()
        for worker in list(self.workers):
            if not worker.process.is_alive() and worker in self.workers:
                code = worker.process.exitcode
                results.extend(self._replace(worker, f"worker process died (exit code {code})"))
            elif (
                worker.queue
                and self.time_limit
                and now - worker.head_since > self.time_limit + self.grace
            ):
                results.extend(
                    self._replace(
                        worker, f"time limit of {self.time_limit:g} s exceeded (worker killed)"
                    )
                )
        return results

    def _handle(self, worker: _Worker, message: tuple) -> list[tuple[Any, dict]]:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            worker.peak_rss_mb = message[2]
            worker.cpu_at_ready = worker.cpu_now = message[3]
            if self.on_ready is not None and not self.replaced:
                self.on_ready()
            return []
        if kind == "fatal":
            raise BatchError(f"a worker could not start: {message[1]}")
        _, key, record, rss, cpu = message
        worker.peak_rss_mb = max(worker.peak_rss_mb, rss)
        worker.cpu_now = cpu
        worker.processed += 1
        queued_key, _ = worker.queue.popleft()
        if queued_key != key:  # cannot happen with one pipe per worker; never mis-file a result
            raise BatchError("internal error: a worker answered out of order")
        worker.head_since = time.monotonic()
        return [(key, record)]

    def _recycle_big_workers(self) -> None:
        """Retire an idle worker whose peak RSS passed the limit; a fresh one takes its place.

        Peak RSS never falls, so a worker that grew (a huge page, a leak in a library) is
        replaced between documents: memory per worker stays bounded by about the limit.
        """
        if not self.max_worker_rss_mb:
            return
        for worker in list(self.workers):
            if worker.ready and not worker.queue and self._over_memory(worker):
                self.workers.remove(worker)
                with contextlib.suppress(Exception):
                    worker.conn.send(None)
                worker.process.join(timeout=10)
                if worker.process.is_alive():
                    worker.process.kill()
                    worker.process.join()
                worker.conn.close()
                self.retired_rss.append(worker.peak_rss_mb)
                self.retired_cpu += worker.work_cpu_seconds
                self.workers.append(self._spawn())
                self.recycled += 1

    def _replace(self, worker: _Worker, reason: str) -> list[tuple[Any, dict]]:
        """Kill `worker`; its current document gets `reason` as error, the rest are re-sent."""
        self.workers.remove(worker)
        with contextlib.suppress(Exception):
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
        self.retired_rss.append(worker.peak_rss_mb)
        self.retired_cpu += worker.work_cpu_seconds
        results = []
        if worker.queue:
            key, item = worker.queue.popleft()
            results.append((key, error_record(item.id, getattr(item, "source", None), reason)))
            self.retry.extend(worker.queue)
        self.workers.append(self._spawn())
        self.replaced += 1
        return results

    def work_cpu_seconds(self) -> float:
        return self.retired_cpu + sum(w.work_cpu_seconds for w in self.workers)

    def settle(self, timeout: float = 10.0) -> None:
        """Read the start-up report of workers that finished before getting any document.

        A short job can end before a slow-starting worker said it was ready; without this its
        memory would be unknown (it used to be reported as 0 MB).
        """
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            while not worker.ready and worker.process.is_alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if worker.conn.poll(min(0.1, remaining)):
                    self._handle(worker, worker.conn.recv())

    def peak_rss(self) -> list[float]:
        """Peak RSS of each worker that reported one (a worker still starting has none yet)."""
        return [round(w.peak_rss_mb, 1) for w in self.workers if w.ready]

    def kill(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.process.kill()

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
        for worker in self.workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


@dataclass
class _OpenShard:
    """A shard being processed; written once its length is known and every record is back."""

    file_index: int
    shard_no: int
    records: list[dict | None]
    stored: int = 0
    length: int | None = None  # known when the shard is full or its file has ended


@dataclass
class _FileProgress:
    shards: int | None = None  # known once the file has been read to its end
    records: int = 0
    written: int = 0


def _pending_records(
    job: BatchJob, work: WorkDir, summary: BatchSummary, files: dict[int, _FileProgress]
) -> Iterator[tuple[int, int, int, Any]]:
    """(file_index, record_no, records_so_far, record) for records of shards not yet written.

    At the end of each file one (file_index, -1, records_in_file, None) marks where it ended.
    Files already marked done are not read at all; finished shards inside a partly done file are
    read (to advance through the file) but not processed again.
    """
    for file_index, path in enumerate(work.files):
        if work.skip_if_done(file_index, summary):
            continue
        state = files.setdefault(file_index, _FileProgress())
        count = 0
        for count, record in enumerate(read_records(path, job), start=1):
            shard_no, position = divmod(count - 1, job.shard_size)
            state.records = count
            if work.has_shard(file_index, shard_no):
                if position == 0:
                    summary.shards_skipped += 1
                    state.written += 1
                summary.skipped_documents += 1
                continue
            yield file_index, count - 1, count, record
        state.shards = -(-count // job.shard_size)
        yield file_index, -1, count, None


class _LocalRun:
    """Bookkeeping of one local run: open shards, per-file progress, the feeding loop."""

    def __init__(
        self,
        job: BatchJob,
        work: WorkDir,
        summary: BatchSummary,
        progress: bool,
        description: str = "unspin batch",
    ) -> None:
        self.job = job
        self.work = work
        self.summary = summary
        self.files: dict[int, _FileProgress] = {}
        self.open: dict[tuple[int, int], _OpenShard] = {}
        self.source = _pending_records(job, work, summary, self.files)
        self.source_done = False
        self.bar = Progress(progress, description)

    def next_chunk(self, size: int, max_open: int) -> list[tuple[Any, Any]]:
        """Up to `size` documents for a worker; reader errors are stored directly."""
        chunk: list[tuple[Any, Any]] = []
        while not self.source_done and len(chunk) < size:
            if len(self.open) >= max_open:
                break
            try:
                file_index, record_no, count, record = next(self.source)
            except StopIteration:
                self.source_done = True
                break
            if record_no < 0:
                self.end_of_file(file_index, count)
                continue
            shard_no, position = divmod(record_no, self.job.shard_size)
            shard = self.open.get((file_index, shard_no))
            if shard is None:
                shard = _OpenShard(file_index, shard_no, [None] * self.job.shard_size)
                self.open[(file_index, shard_no)] = shard
            if position == self.job.shard_size - 1:
                shard.length = self.job.shard_size
            key = (file_index, shard_no, position)
            if hasattr(record, "content"):
                chunk.append((key, record))
            else:  # a DocumentError from the reader needs no worker
                self.store(key, error_record(record.id, record.source, record.message))
        return chunk

    def end_of_file(self, file_index: int, count: int) -> None:
        if count:
            last = self.open.get((file_index, (count - 1) // self.job.shard_size))
            if last is not None and last.length is None:
                last.length = count - last.shard_no * self.job.shard_size
                last.records = last.records[: last.length]
                self.complete_if_done(last)
        self.finish_file_if_done(file_index)

    def store(self, key: tuple[int, int, int], record: dict) -> None:
        file_index, shard_no, position = key
        shard = self.open[(file_index, shard_no)]
        shard.records[position] = record
        shard.stored += 1
        self.bar.update([record])
        self.summary.documents += 1
        self.summary.errors += record.get("error") is not None
        self.complete_if_done(shard)

    def complete_if_done(self, shard: _OpenShard) -> None:
        if shard.length is None or shard.stored < shard.length:
            return
        self.work.write_shard(shard.file_index, shard.shard_no, shard.records)  # type: ignore[arg-type]
        del self.open[(shard.file_index, shard.shard_no)]
        self.summary.shards_done += 1
        self.files[shard.file_index].written += 1
        self.finish_file_if_done(shard.file_index)

    def finish_file_if_done(self, file_index: int) -> None:
        state = self.files.get(file_index)
        if state is not None and state.shards is not None and state.written == state.shards:
            self.work.mark_file_done(file_index, state.shards, state.records)
            del self.files[file_index]


def run_local(
    job: BatchJob,
    work: WorkDir,
    *,
    workers: int = 1,
    progress: bool = True,
    summary: BatchSummary,
    max_worker_rss_mb: float | None = None,
    processor: ProcessorSpec | None = None,
    description: str = "unspin batch",
) -> None:
    """Process every undone shard of `work` with `workers` local worker processes.

    ``processor`` says what each worker builds (default: the job's `DocumentProcessor`).
    """
    processor = processor if processor is not None else ProcessorSpec.for_job(job)
    run = _LocalRun(job, work, summary, progress, description)
    max_open = max(4, 2 * workers)  # bounds the records held in memory by the parent
    pool = LocalPool(
        workers,
        processor,
        time_limit=job.time_limit,
        chunk_size=processor.chunk_size,
        on_ready=summary.mark_worker_ready,
        max_worker_rss_mb=max_worker_rss_mb,
    )
    try:
        while True:
            for worker in pool.idle_capacity():
                chunk = [pool.retry.popleft() for _ in range(min(len(pool.retry), pool.chunk_size))]
                if len(chunk) < pool.chunk_size:
                    chunk += run.next_chunk(pool.chunk_size - len(chunk), max_open)
                if chunk:
                    pool.send(worker, chunk)
            if run.source_done and pool.in_flight == 0:
                break
            for key, record in pool.poll(timeout=0.5):
                run.store(key, record)
        pool.settle()
    except BaseException:
        pool.kill()  # Ctrl-C or a fatal error: do not wait for documents in progress
        raise
    finally:
        summary.worker_peak_rss_mb = pool.peak_rss() + [round(r, 1) for r in pool.retired_rss]
        summary.workers_replaced = pool.replaced
        summary.workers_recycled = pool.recycled
        summary.worker_cpu_seconds = round(pool.work_cpu_seconds(), 3)
        pool.close()
        run.bar.close()
    if run.open:  # cannot happen unless the bookkeeping above is wrong: never write a bad output
        raise BatchError(f"internal error: {len(run.open)} shards left incomplete")


@dataclass(frozen=True)
class Dispatch:
    """Where a pass runs, the same for every pass of a job: the engine ("local" or "ray"),
    its workers, the Ray address, a progress bar, and the local workers' memory bound."""

    engine: str
    workers: int
    address: str | None = None
    progress: bool = False
    max_worker_rss_mb: float | None = None


def run_pass(
    job: BatchJob,
    work: WorkDir,
    dispatch: Dispatch,
    *,
    summary: BatchSummary,
    processor: ProcessorSpec,
    description: str = "unspin batch",
) -> None:
    """One pass over `work` on the local engine or on Ray (the main pass and `--learn`'s)."""
    if dispatch.engine == "ray":
        from unspin.batch.ray_engine import run_ray

        run_ray(
            job,
            work,
            workers=dispatch.workers,
            address=dispatch.address,
            progress=dispatch.progress,
            summary=summary,
            processor=processor,
            description=f"{description} (ray)",
        )
    else:
        run_local(
            job,
            work,
            workers=dispatch.workers,
            progress=dispatch.progress,
            summary=summary,
            max_worker_rss_mb=dispatch.max_worker_rss_mb,
            processor=processor,
            description=description,
        )
