"""The job: what to run on which inputs (`BatchJob`), what happened (`BatchSummary`), and the
work directory of finished shards (`WorkDir`) that makes a job resumable.

Input file *i* (in the order given, folders expanded in sorted order) is cut into shards of
``shard_size`` records: shard *k* holds records ``[k*shard_size, (k+1)*shard_size)``. The split
depends only on the inputs, so a re-run finds the same shards. Each finished shard is written to
a temporary file and atomically renamed into the work directory; the renamed file *is* the
completion marker. Files whose shards are all done get a ``file-NNNNN.done`` marker so a re-run
does not even read them again. Both engines (`unspin.batch.local`, `unspin.batch.ray_engine`)
write the same shards through this module.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from unspin.text import one_line

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
    # --learn: learn the spinner's lexicon from the traced pages first (a pass of its own),
    # then restore every page with it; pages count as traced at `learn_threshold` (None: the
    # trace threshold).
    learn: bool = False
    learn_threshold: float | None = None

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
        if self.learn and self.db is None:
            raise BatchError("--learn needs --db PATH (the index of originals to learn against)")
        if self.learn and "restore" not in self.tasks:
            raise BatchError("--learn needs the restore task (the lexicon is learned to restore)")
        if self.learn_threshold is not None and not 0.0 <= self.learn_threshold <= 1.0:
            raise BatchError("--learn-min-score must be between 0 and 1")
        if self.shard_size < 1:
            raise BatchError("--shard-size must be at least 1")
        if self.time_limit is not None and self.time_limit <= 0:
            raise BatchError("--time-limit must be positive")

    @property
    def shard_dir(self) -> Path:
        if self.work_dir is not None:
            return Path(self.work_dir)
        return self.output.with_name(self.output.name + ".shards")

    @property
    def lexicon_path(self) -> Path:
        """Where --learn writes the learned lexicon: beside the output, `OUTPUT.lexicon.tsv`."""
        return self.output.with_name(self.output.name + ".lexicon.tsv")

    def fingerprint(self, files: Sequence[Path]) -> dict[str, Any]:
        """What the shards depend on; a work directory made for another fingerprint is refused."""
        entries = []
        for path in files:
            stat = path.stat()
            entries.append([str(path), stat.st_size, stat.st_mtime_ns])
        fingerprint = {
            "layout": LAYOUT_VERSION,
            "inputs": entries,
            "tasks": list(self.tasks),
            "shard_size": self.shard_size,
            "text_key": self.text_key,
            "id_key": self.id_key,
            "db": str(self.db) if self.db else None,
            "engine_options": jsonable(dict(self.engine_options)),
            "task_functions": dict(self.task_functions),
        }
        if self.learn:  # only then: work directories of jobs without --learn stay valid
            fingerprint["learn"] = {"threshold": self.learn_threshold}
        return fingerprint


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data (what a fingerprint or a record can hold)."""
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
    # --learn: the learn pass. Pages it read (this run and earlier ones), pages traced to a
    # source, substitutions mined, distinct spun forms, pages it could not read, and the lexicon.
    learn_pages: int = 0
    pages_traced: int = 0
    pairs_learned: int = 0
    spun_forms_learned: int = 0
    learn_errors: int = 0
    learn_seconds: float = 0.0
    lexicon: str = ""
    lexicon_reused: bool = False  # a resumed job found the lexicon already learned
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
        if self.lexicon:
            parts.append(
                f"learned from {self.pages_traced} traced pages of {self.learn_pages}: "
                f"{self.pairs_learned} substitutions, {self.spun_forms_learned} spun forms"
                + (f", {self.learn_errors} pages unreadable" if self.learn_errors else "")
                + f" -> {self.lexicon}"
                + (" (reused)" if self.lexicon_reused else "")
            )
        parts.append(f"output: {self.output}")
        return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Inputs and shards


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Input files with folders expanded the way `unspin.extraction.inputs.read_documents` walks them.

    Paths are kept as given (relative stays relative) so each record's `source` reads the way the
    user wrote the command. Standard input cannot be resumed, so it is refused; a missing path is
    a usage error before any work starts (a batch job should fail fast, not after hours).
    """
    from unspin.extraction.inputs import FOLDER_SUFFIXES

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
    from unspin.extraction.inputs import read_documents

    try:
        yield from read_documents([str(path)], text_key=job.text_key, id_key=job.id_key)
    except Exception as exc:  # a reader bug must cost one record, not the run
        from unspin.extraction.inputs import DocumentError

        yield DocumentError(id=None, source=str(path), message=f"cannot read: {one_line(exc)}")


class WorkDir:
    """The shard directory: job fingerprint, finished shards, per-file markers.

    ``path`` defaults to the job's shard folder; the --learn pass keeps its own shards in a
    `learn` folder inside it (`learn_dir`), so both passes resume and are removed together.
    """

    def __init__(
        self,
        job: BatchJob,
        files: Sequence[Path],
        *,
        restart: bool = False,
        path: Path | None = None,
    ) -> None:
        self.path = job.shard_dir if path is None else path
        self.files = list(files)
        fingerprint = job.fingerprint(files)
        job_file = self.path / JOB_FILE
        if restart and self.path.exists():
            remove_tree(self.path)
        if job_file.exists():
            try:
                existing = json.loads(job_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BatchError(
                    f"{job_file}: unreadable ({one_line(exc)}); use --restart"
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
        remove_tree(self.path)


def remove_tree(path: Path) -> None:
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
