"""Per-worker document processing, shared by the local and the Ray engine.

A worker builds one processor at start (the Engine, its language model and the index load
once) and calls ``process(item)`` on each Document or DocumentError it is given; ``process``
never raises for a bad document. `DocumentProcessor` runs the job's tasks through
`unspin.pipeline.process` (the CLI's and the server's assembly too); `PageLearner` is the
per-page step of ``--learn``.
"""

from __future__ import annotations

import importlib
import resource
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unspin.batch.job import BatchError, BatchJob, jsonable
from unspin.batch.timeouts import DocumentTimeout, time_limit
from unspin.text import one_line

__all__ = [
    "DocumentProcessor",
    "PageLearner",
    "ProcessorSpec",
    "cpu_seconds",
    "error_record",
    "load_function",
    "peak_rss_mb",
]


def load_function(spec: str) -> Callable[[Any], Any]:
    """The function a ``module:function`` spec names (a --task-function), or BatchError."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise BatchError(f"task function {spec!r} must look like module:function")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise BatchError(f"cannot load task function {spec!r}: {one_line(exc)}") from exc


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
            name: load_function(spec) for name, spec in (task_functions or {}).items()
        }
        if {"detect", "restore"} & set(self.tasks):
            from unspin.engine import Engine

            self.engine = Engine(**dict(engine_options or {}))
        if "trace" in self.tasks:
            from unspin.tracing.index import SourceIndex

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
        record.extra = {name: jsonable(value) for name, value in record.extra.items()}
        return record.to_dict()

    def close(self) -> None:
        if self.index is not None:
            self.index.close()


class PageLearner:
    """The map step of ``--learn``: trace one page against the index and mine its swaps.

    Built once per worker like `DocumentProcessor` (same ``process``/``close``), it returns
    a compact record instead of the pipeline record: ``{"id", "source", "traced", "pairs",
    "unchanged", "error"}`` where ``pairs`` (spun -> original -> count) and ``unchanged``
    (form -> count, every word and phrase seen unchanged) are the page's
    `unspin.learning.mine_page` lexicon, empty when the page did not trace. The driver merges
    these records into one lexicon (`unspin.batch.learning`). The text mined is the record's
    ``text`` (the same extraction as the main pass).
    """

    def __init__(
        self, *, db: str | Path, threshold: float | None = None, time_limit: float | None = None
    ) -> None:
        from unspin.tracing import DEFAULT_THRESHOLD
        from unspin.tracing.index import SourceIndex

        if not Path(db).exists():
            raise BatchError(f"{db}: no such index (make one with `unspin index add`)")
        self.index = SourceIndex(db, create=False)
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.time_limit = time_limit

    def process(self, item: Any) -> dict[str, Any]:
        """The learn record of one Document or DocumentError; never raises for a bad page."""
        from unspin.learning import mine_page
        from unspin.pipeline import process

        result: dict[str, Any] = {
            "id": getattr(item, "id", None),
            "source": getattr(item, "source", None),
            "traced": False,
            "pairs": {},
            "unchanged": {},
            "error": None,
        }
        stage = "clean"
        try:
            with time_limit(self.time_limit):
                record = process(item, ())  # extraction only: the text the main pass restores
                if record.error is not None:
                    result["error"] = record.error
                    return result
                stage = "learn"
                mined = mine_page(record.text or "", self.index, threshold=self.threshold)
        except Exception as exc:  # a time limit or a bug costs this page's counts, not the job
            result["error"] = (
                f"{stage}: {exc if isinstance(exc, DocumentTimeout) else one_line(exc)}"
            )
            return result
        if mined is not None:
            result.update(traced=True, pairs=mined.pairs, unchanged=mined.unchanged)
        return result

    def close(self) -> None:
        self.index.close()


@dataclass(frozen=True)
class ProcessorSpec:
    """Which processor every worker builds, and with what: sent (pickled) to each worker
    process or Ray actor, which calls ``build()`` once at start."""

    factory: type
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Documents sent to a local worker at once (see `for_job`).
    chunk_size: int = 8

    def build(self) -> Any:
        return self.factory(**self.kwargs)

    @classmethod
    def for_job(cls, job: BatchJob, *, dictionaries: Sequence[str] = ()) -> ProcessorSpec:
        """The job's `DocumentProcessor`; ``dictionaries`` are added to the engine's
        (--learn adds the learned lexicon for the main pass)."""
        engine_options = dict(job.engine_options)
        if dictionaries:
            engine_options["dictionaries"] = [
                *engine_options.get("dictionaries", ()),
                *map(str, dictionaries),
            ]
        # Model work costs seconds a document: send one at a time so no worker sits on a
        # queue while another idles at the end. Cleaning costs milliseconds: chunks save
        # round trips.
        costly = bool({"detect", "restore", "trace"} & set(job.tasks)) or bool(job.task_functions)
        return cls(
            DocumentProcessor,
            {
                "tasks": job.tasks,
                "db": str(job.db) if job.db else None,
                "engine_options": engine_options,
                "task_functions": dict(job.task_functions),
                "time_limit": job.time_limit,
            },
            chunk_size=1 if costly else 8,
        )

    @classmethod
    def learner(cls, job: BatchJob) -> ProcessorSpec:
        """The `PageLearner` of the --learn pass (trace + diff: milliseconds a page)."""
        kwargs = {"db": str(job.db), "threshold": job.learn_threshold, "time_limit": job.time_limit}
        return cls(PageLearner, kwargs, chunk_size=4)


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
