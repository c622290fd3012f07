"""Crawl-scale batch runs: sharded, resumable, parallel, with per-document time limits.

A batch job reads many input files (JSONL(.gz), Parquet, WARC(.gz), HTML, text, or folders of them),
runs the requested tasks (``clean``, ``detect``, ``restore``, ``trace``) on every document and writes
one result record per input record.

Why it is built this way:

* **Shards.** Input file *i* (in the order given, folders expanded in sorted order) is cut into
  shards of ``shard_size`` records: shard *k* holds records ``[k*shard_size, (k+1)*shard_size)``.
  The split depends only on the inputs, so a re-run finds the same shards. Each finished shard is
  written to a temporary file and atomically renamed into the work directory; the renamed file *is*
  the completion marker. A killed run (even ``SIGKILL`` of the whole process group) therefore leaves
  only whole shards behind, and the re-run skips them. Files whose shards are all done get a
  ``file-NNNNN.done`` marker so a re-run does not even read them again.
* **Assembly.** Once every shard exists, the output is assembled in input order (file order, then
  record order) and atomically renamed into place, so the output of an interrupted-then-resumed run
  is byte-for-byte the output of an uninterrupted one.
* **Workers.** The local engine uses its own worker processes (``multiprocessing``, spawn) rather
  than ``ProcessPoolExecutor`` because a pathological document must be able to cost one worker, not
  the pool: each worker builds the Engine once (at start), enforces the per-document limit with
  ``SIGALRM``, and the parent kills and replaces a worker that overruns the limit in C code where
  the alarm cannot reach it. The document is recorded with its error; the run goes on.
* The Ray engine (``unspin.batch_ray``) runs the same shards with Ray Data and an actor pool.

Output record (one JSON object per input record): the one pipeline record,
``unspin.pipeline.Record.to_dict()``, documented in ``unspin/data/record.schema.json``::

    {"id": ..., "source": "docs.jsonl:17", "text": <the cleaned text every offset refers to>,
     "clean": {...}, "detection": {...}, "restoration": {...}, "trace": {...},
     "error": "detect: time limit of 60 s exceeded"}      # null when nothing failed

Every key is present; a task not asked for leaves its part null. ``DocumentProcessor.process``
calls ``unspin.pipeline.process``, the same assembly as the CLI and the server; a custom task
(``--task-function``) adds its result under its own name.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import json
import multiprocessing
import os
import resource
import shutil
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

TASKS = ("clean", "detect", "restore", "trace")
FORMATS = ("jsonl", "parquet", "attributes")
ENGINES = ("local", "ray")
# Suffixes stripped from an input's name to name its dolma documents/attributes files.
INPUT_SUFFIXES = (".jsonl.gz", ".jsonl", ".ndjson", ".parquet", ".warc.gz", ".warc", ".xhtml")
INPUT_SUFFIXES += (".html", ".htm", ".txt", ".gz")
JOB_FILE = "job.json"
#  Bump when the shard record layout changes, so old work directories are not mixed in.
#  2: the one pipeline record (keys detection/restoration, every key present).
LAYOUT_VERSION = 2
# dolma attribute names `{experiment}__{tagger}__{type}`, as `dolma tag --experiment unspin
# --taggers unspin` writes them with unspin.adapters.dolma.
ATTRIBUTE_PREFIX = "unspin__unspin__"


class BatchError(Exception):
    """A problem with the job as a whole (bad arguments, unreadable work directory): exit code 2."""


class DocumentTimeout(TimeoutError):
    """Raised inside a worker when one document exceeds the per-document time limit.

    A TimeoutError, so the record's error shows its message as is ("detect: time limit of
    60 s exceeded"), like other errors written for users.
    """


# ---------------------------------------------------------------------------------------------
# The job description


@dataclass(frozen=True)
class BatchJob:
    """Everything that determines the output; `fingerprint()` is what a resumed run must match."""

    inputs: tuple[str, ...]
    output: Path
    tasks: tuple[str, ...] = ("clean",)
    format: str = "jsonl"
    db: Path | None = None
    shard_size: int = 1000
    time_limit: float | None = 60.0
    text_key: str = "text"
    id_key: str = "id"
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    # Extra per-document tasks: name -> "module:function", function(article) -> JSON-able value.
    task_functions: Mapping[str, str] = field(default_factory=dict)
    work_dir: Path | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.tasks if t not in TASKS and t not in self.task_functions]
        if unknown:
            raise BatchError(f"unknown task {unknown[0]!r} (choose from {', '.join(TASKS)})")
        from unspin.pipeline import RECORD_FIELDS

        clashing = sorted(set(self.task_functions) & set(RECORD_FIELDS))
        if clashing:
            raise BatchError(f"task function name {clashing[0]!r} is a record field; rename it")
        if not self.tasks:
            raise BatchError("no task given (choose from " + ", ".join(TASKS) + ")")
        if self.format not in FORMATS:
            raise BatchError(
                f"unknown output format {self.format!r} (choose from {', '.join(FORMATS)})"
            )
        if self.format == "attributes" and "detect" not in self.tasks:
            raise BatchError("--format attributes needs the detect task (spans come from detect)")
        if "trace" in self.tasks and self.db is None:
            raise BatchError("the trace task needs --db PATH (an index made by `unspin index add`)")
        if self.shard_size < 1:
            raise BatchError("--shard-size must be at least 1")
        if self.time_limit is not None and self.time_limit <= 0:
            raise BatchError("--time-limit must be positive")

    @property
    def shard_dir(self) -> Path:
        if self.work_dir is not None:
            return Path(self.work_dir)
        return self.output.with_name(self.output.name + ".shards")

    def fingerprint(self, files: Sequence[Path]) -> dict[str, Any]:
        """What the shards depend on; a work directory made for another fingerprint is refused."""
        entries = []
        for path in files:
            stat = path.stat()
            entries.append([str(path), stat.st_size, stat.st_mtime_ns])
        return {
            "layout": LAYOUT_VERSION,
            "inputs": entries,
            "tasks": list(self.tasks),
            "shard_size": self.shard_size,
            "text_key": self.text_key,
            "id_key": self.id_key,
            "db": str(self.db) if self.db else None,
            "engine_options": _jsonable(dict(self.engine_options)),
            "task_functions": dict(self.task_functions),
        }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def default_format(output: str | Path) -> str:
    """Output format implied by the output name: `.parquet` -> parquet, otherwise JSONL."""
    return "parquet" if str(output).endswith(".parquet") else "jsonl"


@dataclass
class BatchSummary:
    """What happened in one run: printed at the end, returned to Python callers."""

    documents: int = 0  # documents processed in this run
    errors: int = 0  # of which recorded with an error
    skipped_documents: int = 0  # already done by an earlier, interrupted run
    shards_done: int = 0
    shards_skipped: int = 0
    seconds: float = 0.0
    worker_peak_rss_mb: list[float] = field(default_factory=list)
    workers_replaced: int = 0
    workers_recycled: int = 0  # retired between documents for passing the memory limit
    # CPU seconds the workers spent on documents (start-up excluded), summed over workers.
    worker_cpu_seconds: float = 0.0
    # Seconds from the start until the last worker had built its engine (model loading etc.).
    startup_seconds: float = 0.0
    output: str = ""
    started_at: float = field(default_factory=time.time, repr=False)

    @property
    def documents_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_documents_per_second(self) -> float:
        """Throughput once every worker is up: what more documents would cost."""
        busy = self.seconds - self.startup_seconds
        return self.documents / busy if busy > 0 else 0.0

    @property
    def documents_per_cpu_second(self) -> float:
        """Work per CPU, independent of how many cores other programs leave free."""
        return self.documents / self.worker_cpu_seconds if self.worker_cpu_seconds else 0.0

    def mark_worker_ready(self) -> None:
        self.startup_seconds = max(self.startup_seconds, time.time() - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("started_at")
        data["documents_per_second"] = round(self.documents_per_second, 3)
        data["steady_documents_per_second"] = round(self.steady_documents_per_second, 3)
        data["documents_per_cpu_second"] = round(self.documents_per_cpu_second, 3)
        return data

    def describe(self) -> str:
        rss = ", ".join(f"{mb:.0f}" for mb in self.worker_peak_rss_mb) or "-"
        parts = [
            f"{self.documents} documents in {self.seconds:.1f} s "
            f"({self.documents_per_second:.1f} docs/s; {self.steady_documents_per_second:.1f} "
            f"after {self.startup_seconds:.1f} s start-up), {self.errors} with errors",
            f"{self.shards_done} shards written, {self.shards_skipped} already done"
            + (f" ({self.skipped_documents} documents)" if self.skipped_documents else ""),
            f"peak RSS per worker (MB): {rss}",
        ]
        if self.workers_replaced:
            parts.append(f"{self.workers_replaced} workers replaced after a hang or crash")
        if self.workers_recycled:
            parts.append(f"{self.workers_recycled} workers recycled for memory")
        parts.append(f"output: {self.output}")
        return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Inputs and shards


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Input files with folders expanded the way `unspin.inputs.read_documents` walks them.

    Paths are kept as given (relative stays relative) so each record's `source` reads the way the
    user wrote the command. Standard input cannot be resumed, so it is refused; a missing path is
    a usage error before any work starts (a batch job should fail fast, not after hours).
    """
    from unspin.inputs import FOLDER_SUFFIXES

    files: list[Path] = []
    for raw in inputs:
        if str(raw) == "-":
            raise BatchError("batch reads files, not standard input (a resumable job needs paths)")
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                    and p.name.lower().endswith(FOLDER_SUFFIXES)
                )
            )
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise BatchError(f"{raw}: not a regular file or folder")
        else:
            raise BatchError(f"{raw}: no such file or folder")
    if not files:
        raise BatchError("no input files found")
    return files


def shard_name(file_index: int, shard_no: int) -> str:
    return f"shard-{file_index:05d}-{shard_no:06d}.jsonl"


def file_marker_name(file_index: int) -> str:
    return f"file-{file_index:05d}.done"


def read_records(path: Path, job: BatchJob) -> Iterator[Any]:
    """Every record of one input file, in order: Document or DocumentError (never raises per record)."""
    from unspin.inputs import read_documents

    try:
        yield from read_documents([str(path)], text_key=job.text_key, id_key=job.id_key)
    except Exception as exc:  # a reader bug must cost one record, not the run
        from unspin.inputs import DocumentError

        yield DocumentError(id=None, source=str(path), message=f"cannot read: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class WorkDir:
    """The shard directory: job fingerprint, finished shards, per-file markers."""

    def __init__(self, job: BatchJob, files: Sequence[Path], *, restart: bool = False) -> None:
        self.path = job.shard_dir
        self.files = list(files)
        fingerprint = job.fingerprint(files)
        job_file = self.path / JOB_FILE
        if restart and self.path.exists():
            _remove_tree(self.path)
        if job_file.exists():
            try:
                existing = json.loads(job_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BatchError(
                    f"{job_file}: unreadable ({_one_line(exc)}); use --restart"
                ) from exc
            if existing != fingerprint:
                raise BatchError(
                    f"{self.path} holds shards of a different job (inputs, tasks or options changed); "
                    "use --restart to discard them"
                )
        else:
            if self.path.exists() and any(self.path.iterdir()):
                raise BatchError(f"{self.path} exists and is not an unspin work directory")
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(job_file, json.dumps(fingerprint, indent=1).encode())

    def shard_path(self, file_index: int, shard_no: int) -> Path:
        return self.path / shard_name(file_index, shard_no)

    def has_shard(self, file_index: int, shard_no: int) -> bool:
        return self.shard_path(file_index, shard_no).exists()

    def file_marker(self, file_index: int) -> dict[str, Any] | None:
        marker = self.path / file_marker_name(file_index)
        if not marker.exists():
            return None
        return json.loads(marker.read_text(encoding="utf-8"))

    def skip_if_done(self, file_index: int, summary: BatchSummary) -> bool:
        """Whether this input file is already finished; if so, its work counts as skipped."""
        marker = self.file_marker(file_index)
        if marker is None:
            return False
        summary.shards_skipped += marker["shards"]
        summary.skipped_documents += marker["records"]
        return True

    def write_shard(self, file_index: int, shard_no: int, records: Iterable[dict]) -> None:
        payload = "".join(dump_record(r) + "\n" for r in records).encode("utf-8")
        atomic_write_bytes(self.shard_path(file_index, shard_no), payload)

    def write_shard_payload(self, file_index: int, shard_no: int, payload: bytes) -> None:
        atomic_write_bytes(self.shard_path(file_index, shard_no), payload)

    def mark_file_done(self, file_index: int, shards: int, records: int) -> None:
        info = {"path": str(self.files[file_index]), "shards": shards, "records": records}
        atomic_write_bytes(self.path / file_marker_name(file_index), json.dumps(info).encode())

    def remove(self) -> None:
        _remove_tree(self.path)


def _remove_tree(path: Path) -> None:
    """Rename first (atomic) so a half-deleted directory is never mistaken for a work directory."""
    trash = path.with_name(path.name + f".trash-{os.getpid()}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, rename: readers see all of it or nothing."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    with open(tmp, "wb") as out:
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def dump_record(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# Processing one document (shared by the local and the Ray engine)


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise DocumentTimeout in this thread after `seconds`.

    In the main thread (local workers) this is SIGALRM. Elsewhere (Ray runs actor methods in a
    worker thread, where signals cannot be delivered) a timer thread injects the exception with
    `PyThreadState_SetAsyncExc`. Both stop Python code; C code that never returns to the
    interpreter is stopped by the local engine's watchdog, which kills the worker process.
    """
    if not seconds:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        with _alarm_limit(seconds):
            yield
    else:
        with _thread_limit(seconds):
            yield


@contextlib.contextmanager
def _alarm_limit(seconds: float) -> Iterator[None]:
    def _expired(signum: int, frame: Any) -> None:
        raise DocumentTimeout(f"time limit of {seconds:g} s exceeded")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _ThreadTimeout(DocumentTimeout):
    """Injected into a worker thread, which cannot pass arguments: a subclass made per limit
    carries the seconds, so the message is right wherever the exception is caught."""

    seconds: float = 0.0

    def __str__(self) -> str:
        return f"time limit of {self.seconds:g} s exceeded"


@contextlib.contextmanager
def _thread_limit(seconds: float) -> Iterator[None]:
    import ctypes

    thread_id = ctypes.c_ulong(threading.get_ident())
    expired = type("_ThreadTimeout", (_ThreadTimeout,), {"seconds": seconds})
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def _expire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, ctypes.py_object(expired))

    timer = threading.Timer(seconds, _expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except _ThreadTimeout as exc:
        raise DocumentTimeout(f"time limit of {seconds:g} s exceeded") from exc
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            if state["fired"]:  # injected but perhaps not raised yet: never let it escape later
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, None)


def _load_function(spec: str) -> Callable[[Any], Any]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise BatchError(f"task function {spec!r} must look like module:function")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise BatchError(f"cannot load task function {spec!r}: {_one_line(exc)}") from exc


class DocumentProcessor:
    """Runs the job's tasks on one record. Built once per worker: the Engine and index load here."""

    def __init__(
        self,
        tasks: Sequence[str],
        *,
        db: str | Path | None = None,
        engine_options: Mapping[str, Any] | None = None,
        task_functions: Mapping[str, str] | None = None,
        time_limit: float | None = None,
    ) -> None:
        self.tasks = tuple(tasks)
        self.time_limit = time_limit
        self.engine = None
        self.index = None
        self.functions = {
            name: _load_function(spec) for name, spec in (task_functions or {}).items()
        }
        if {"detect", "restore"} & set(self.tasks):
            from unspin.engine import Engine

            self.engine = Engine(**dict(engine_options or {}))
        if "trace" in self.tasks:
            from unspin.index import SourceIndex

            if db is None:
                raise BatchError("the trace task needs --db PATH")
            if not Path(db).exists():
                raise BatchError(f"{db}: no such index (make one with `unspin index add`)")
            self.index = SourceIndex(db, create=False)

    def process(self, item: Any) -> dict[str, Any]:
        """One output record (``pipeline.Record.to_dict()``) for a Document or DocumentError.

        Never raises for a bad document: a failure is the record's ``error``, named by stage.
        """
        from unspin.pipeline import Record, process

        try:
            with time_limit(self.time_limit):
                record = process(
                    item, self.tasks, engine=self.engine, index=self.index, functions=self.functions
                )
        except DocumentTimeout as exc:  # fired between two stages, outside process()
            record = Record(id=item.id, source=getattr(item, "source", None), error=str(exc))
        record.extra = {name: _jsonable(value) for name, value in record.extra.items()}
        return record.to_dict()

    def close(self) -> None:
        if self.index is not None:
            self.index.close()


def error_record(doc_id: str | None, source: str | None, message: str) -> dict[str, Any]:
    """The record of a document that has no result: the one record shape, only ``error`` set."""
    from unspin.pipeline import Record

    return Record(id=doc_id, source=source, error=message).to_dict()


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its threads so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------
# Local engine: worker processes


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the parent dies (even by SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker ends when its pipe closes
        pass


def _worker_main(conn: Connection, processor_kwargs: dict[str, Any]) -> None:
    """Worker loop: build the processor once, then answer one result message per document."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _die_with_parent()
    # One worker = one CPU: math libraries must not each start a thread per core (N workers
    # would then fight over N x cores threads). Ray does the same for its actors.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    try:
        processor = DocumentProcessor(**processor_kwargs)
    except BaseException as exc:  # tell the parent why, once, instead of dying silently
        conn.send(("fatal", _one_line(exc)))
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
            record = processor.process(item)
            conn.send(("result", key, record, peak_rss_mb(), cpu_seconds()))
    processor.close()


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
        processor_kwargs: dict[str, Any],
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
        self.processor_kwargs = processor_kwargs
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
            target=_worker_main, args=(child_conn, self.processor_kwargs), daemon=True
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


class _Progress:
    """A tqdm bar on stderr with documents/s and the error count (off when not wanted)."""

    def __init__(self, enabled: bool, description: str = "unspin batch") -> None:
        self.bar = None
        self.errors = 0
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(desc=description, unit="doc", file=sys.stderr, dynamic_ncols=True)

    def update(self, records: Sequence[dict]) -> None:
        errors = sum(1 for r in records if r.get("error") is not None)
        self.errors += errors
        if self.bar is not None:
            self.bar.update(len(records))
            if errors:
                self.bar.set_postfix(errors=self.errors, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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

    def __init__(self, job: BatchJob, work: WorkDir, summary: BatchSummary, progress: bool) -> None:
        self.job = job
        self.work = work
        self.summary = summary
        self.files: dict[int, _FileProgress] = {}
        self.open: dict[tuple[int, int], _OpenShard] = {}
        self.source = _pending_records(job, work, summary, self.files)
        self.source_done = False
        self.bar = _Progress(progress)

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
) -> None:
    """Process every undone shard with `workers` local worker processes."""
    processor_kwargs = {
        "tasks": job.tasks,
        "db": str(job.db) if job.db else None,
        "engine_options": dict(job.engine_options),
        "task_functions": dict(job.task_functions),
        "time_limit": job.time_limit,
    }
    run = _LocalRun(job, work, summary, progress)
    max_open = max(4, 2 * workers)  # bounds the records held in memory by the parent
    # Model work costs seconds a document: send one at a time so no worker sits on a queue
    # while another idles at the end. Cleaning costs milliseconds: chunks save round trips.
    costly = bool({"detect", "restore", "trace"} & set(job.tasks)) or bool(job.task_functions)
    pool = LocalPool(
        workers,
        processor_kwargs,
        time_limit=job.time_limit,
        chunk_size=1 if costly else 8,
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


# ---------------------------------------------------------------------------------------------
# Assembly of the final output


def iter_shard_records(work: WorkDir, file_index: int) -> Iterator[dict]:
    """Records of one input file, from its shards, in record order."""
    marker = work.file_marker(file_index)
    shards = marker["shards"] if marker else 0
    for shard_no in range(shards):
        with open(work.shard_path(file_index, shard_no), encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


def _shard_payloads(work: WorkDir) -> Iterator[bytes]:
    for file_index in range(len(work.files)):
        marker = work.file_marker(file_index)
        for shard_no in range(marker["shards"] if marker else 0):
            yield work.shard_path(file_index, shard_no).read_bytes()


def assemble(job: BatchJob, work: WorkDir) -> Path:
    """Write the final output from the shards (all must be done) and return its path."""
    missing = [i for i in range(len(work.files)) if work.file_marker(i) is None]
    if missing:
        raise BatchError(f"cannot assemble: {len(missing)} input files are not finished")
    output = job.output
    output.parent.mkdir(parents=True, exist_ok=True)
    if job.format == "jsonl":
        _assemble_jsonl(work, output)
    elif job.format == "parquet":
        _assemble_parquet(work, output)
    else:
        _assemble_attributes(work, output)
    return output


def _atomic_stream(path: Path):
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    return tmp, open(tmp, "wb")


def _assemble_jsonl(work: WorkDir, output: Path) -> None:
    tmp, raw = _atomic_stream(output)
    with raw:
        if output.name.endswith(".gz"):
            # mtime=0 and no file name: the same records give the same bytes on every run.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
                for payload in _shard_payloads(work):
                    out.write(payload)
        else:
            for payload in _shard_payloads(work):
                raw.write(payload)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, output)


PARQUET_SCALARS = {
    # column: (task, record field, key in that field's dict)
    "spun": ("detect", "detection", "spun"),
    "score": ("detect", "detection", "score"),
    "restored_text": ("restore", "restoration", "text"),
}
# The record field each built-in task fills (a custom task fills the field of its name).
TASK_FIELDS = {"clean": "clean", "detect": "detection", "restore": "restoration", "trace": "trace"}


def _parquet_row(record: dict, tasks: Sequence[str]) -> dict[str, Any]:
    """Flat columns for the common questions; each task's full result as a JSON string column."""
    row: dict[str, Any] = {
        "id": record.get("id"),
        "source": record.get("source"),
        "text": record.get("text"),
        "error": record.get("error"),
    }
    for column, (task, name, key) in PARQUET_SCALARS.items():
        if task in tasks:
            row[column] = (record.get(name) or {}).get(key)
    if "trace" in tasks:
        matches = (record.get("trace") or {}).get("matches") or []
        row["top_source"] = matches[0].get("source_id") if matches else None
    for task in tasks:
        name = TASK_FIELDS.get(task, task)
        value = record.get(name)
        row[name] = json.dumps(value, ensure_ascii=False) if value is not None else None
    return row


def _assemble_parquet(work: WorkDir, output: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise BatchError("Parquet output needs pyarrow: pip install 'unspin[batch]'") from exc
    tasks = json.loads((work.path / JOB_FILE).read_text(encoding="utf-8"))["tasks"]
    fields = [("id", pa.string()), ("source", pa.string()), ("text", pa.string())]
    fields.append(("error", pa.string()))
    for column, (task, _, _) in PARQUET_SCALARS.items():
        if task in tasks:
            kind = {"spun": pa.bool_(), "score": pa.float64()}.get(column, pa.string())
            fields.append((column, kind))
    if "trace" in tasks:
        fields.append(("top_source", pa.string()))
    fields += [(TASK_FIELDS.get(task, task), pa.string()) for task in tasks]
    schema = pa.schema(fields)
    tmp, raw = _atomic_stream(output)
    with raw, pq.ParquetWriter(raw, schema, compression="zstd") as writer:
        for payload in _shard_payloads(work):  # one shard in memory at a time
            rows = [_parquet_row(json.loads(line), tasks) for line in payload.splitlines()]
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    os.replace(tmp, output)


def attribute_spans(record: dict) -> dict[str, list[list[float]]]:
    """Dolma attributes of one record: `[start, end, score]` spans over `text`."""
    detection = record.get("detection")
    text = record.get("text")
    if detection is None or text is None:
        return {}
    length = len(text)
    return {
        ATTRIBUTE_PREFIX + "document": [[0, length, float(detection["score"])]],
        ATTRIBUTE_PREFIX + "spun": [[0, length, 1.0 if detection["spun"] else 0.0]],
        ATTRIBUTE_PREFIX + "spans": [
            [span["start"], span["end"], float(span["confidence"])]
            for span in detection.get("spans", [])
        ],
    }


def attribute_file_stem(file_index: int, path: Path) -> str:
    name = path.name
    for suffix in sorted(INPUT_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return f"{file_index:05d}-{name or 'input'}"


def _assemble_attributes(work: WorkDir, output: Path) -> None:
    """Dolma layout: documents/<stem>.jsonl.gz and attributes/unspin/<stem>.jsonl.gz, line by line.

    Built in a temporary folder renamed into place, so a half-written output is never seen.
    """
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "documents").mkdir(parents=True)
    (tmp / "attributes" / "unspin").mkdir(parents=True)
    for file_index, path in enumerate(work.files):
        stem = attribute_file_stem(file_index, path)
        with (
            gzip.GzipFile(tmp / "documents" / f"{stem}.jsonl.gz", "wb", mtime=0) as documents,
            gzip.GzipFile(
                tmp / "attributes" / "unspin" / f"{stem}.jsonl.gz", "wb", mtime=0
            ) as attrs,
        ):
            for record in iter_shard_records(work, file_index):
                metadata = {k: v for k, v in record.items() if k not in ("id", "text", "source")}
                doc = {
                    "id": record.get("id"),
                    "text": record.get("text") or "",
                    "source": record.get("source"),
                    "metadata": metadata,
                }
                attr = {"id": record.get("id"), "attributes": attribute_spans(record)}
                documents.write((dump_record(doc) + "\n").encode("utf-8"))
                attrs.write((dump_record(attr) + "\n").encode("utf-8"))
    if output.exists():
        if not output.is_dir():
            raise BatchError(
                f"{output}: exists and is not a folder (attributes output is a folder)"
            )
        _remove_tree(output)
    os.replace(tmp, output)


# ---------------------------------------------------------------------------------------------
# Entry point


def run_batch(
    job: BatchJob,
    *,
    workers: int = 1,
    engine: str = "local",
    address: str | None = None,
    progress: bool = True,
    restart: bool = False,
    keep_shards: bool = False,
    max_worker_rss_mb: float | None = None,
) -> BatchSummary:
    """Run (or resume) `job`; returns the summary. Raises BatchError for job-level problems."""
    if engine not in ENGINES:
        raise BatchError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if workers < 1:
        raise BatchError("--workers must be at least 1")
    # An output written into an input folder must not become an input of the re-run.
    ours = (job.output.resolve(), job.shard_dir.resolve())
    files = [
        f
        for f in expand_inputs(job.inputs)
        if not any(f.resolve() == p or p in f.resolve().parents for p in ours)
    ]
    if not files:
        raise BatchError("no input files found (only this job's own output)")
    if job.db is not None and not Path(job.db).exists():
        raise BatchError(f"{job.db}: no such index (make one with `unspin index add`)")
    for spec in job.task_functions.values():
        _load_function(spec)  # fail before starting workers
    work = WorkDir(job, files, restart=restart)
    summary = BatchSummary()
    started = time.perf_counter()
    summary.started_at = time.time()
    if engine == "ray":
        from unspin.batch.ray_engine import run_ray

        run_ray(job, work, workers=workers, address=address, progress=progress, summary=summary)
    else:
        run_local(
            job,
            work,
            workers=workers,
            progress=progress,
            summary=summary,
            max_worker_rss_mb=max_worker_rss_mb,
        )
    summary.seconds = time.perf_counter() - started
    summary.output = str(assemble(job, work))
    if not keep_shards:
        work.remove()
    return summary
