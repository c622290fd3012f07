"""Crawl-scale batch runs (`unspin batch`): sharded, resumable, parallel, with per-document
time limits, on local worker processes or Ray.

A batch job reads many input files (JSONL(.gz), Parquet, WARC(.gz), HTML, text, or folders of
them), runs the requested tasks (``clean``, ``detect``, ``restore``, ``trace``) on every
document and writes one result record per input record: the one pipeline record,
``unspin.pipeline.Record.to_dict()``, documented in ``unspin/data/record.schema.json``.

The package, one job a module (no module imports this one, so there is no cycle):

* `job`: the job (`BatchJob`), its summary, its errors, input expansion, the work folder of
  finished shards (`WorkDir`), which is what makes a run resumable;
* `timeouts`: the per-document time limit;
* `processor`: what a worker builds once and runs per document (`DocumentProcessor` calls
  `unspin.pipeline.process`; `PageLearner` is the per-page step of ``--learn``);
* `local`: the local engine (`LocalPool`: worker processes with a hang/crash watchdog);
* `ray_engine`: the Ray engine (Ray Data, an actor pool), writing the same shards;
* `learning`: ``--learn``'s learn pass (map in the workers, reduce in the driver);
* `output`: assembly of JSONL, Parquet or dolma attributes from the shards;
* `progress`: the progress bar both engines show.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from unspin.batch.job import (
    ENGINES,
    FORMATS,
    TASKS,
    BatchError,
    BatchJob,
    BatchSummary,
    WorkDir,
    default_format,
    expand_inputs,
)
from unspin.batch.learning import learn_lexicon
from unspin.batch.local import Dispatch, LocalPool, run_pass
from unspin.batch.output import assemble, attribute_spans
from unspin.batch.processor import DocumentProcessor, PageLearner, ProcessorSpec, load_function
from unspin.batch.timeouts import DocumentTimeout, time_limit
from unspin.progress import Progress

__all__ = [
    "ENGINES",
    "FORMATS",
    "TASKS",
    "BatchError",
    "BatchJob",
    "BatchSummary",
    "DocumentProcessor",
    "DocumentTimeout",
    "LocalPool",
    "PageLearner",
    "Progress",
    "ProcessorSpec",
    "WorkDir",
    "assemble",
    "attribute_spans",
    "default_format",
    "expand_inputs",
    "run_batch",
    "time_limit",
]


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
    """Run (or resume) `job`; returns the summary. Raises BatchError for job-level problems.

    With ``job.learn`` a learn pass runs first (`unspin.batch.learning`) and the main pass
    restores with the lexicon it wrote (``job.lexicon_path``).
    """
    if engine not in ENGINES:
        raise BatchError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if workers < 1:
        raise BatchError("--workers must be at least 1")
    # An output written into an input folder must not become an input of the re-run.
    ours = (job.output.resolve(), job.shard_dir.resolve())
    if job.learn:
        ours += (job.lexicon_path.resolve(),)
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
        load_function(spec)  # fail before starting workers
    work = WorkDir(job, files, restart=restart)
    summary = BatchSummary()
    started = time.perf_counter()
    summary.started_at = time.time()
    dispatch = Dispatch(engine, workers, address, progress, max_worker_rss_mb)
    with _session(engine, address, workers):  # one Ray session for both passes of --learn
        processor = _main_processor(job, files, dispatch, summary)
        run_pass(job, work, dispatch, summary=summary, processor=processor)
    summary.seconds = time.perf_counter() - started
    summary.output = str(assemble(job, work))
    if not keep_shards:
        work.remove()
    return summary


def _session(engine: str, address: str | None, workers: int) -> AbstractContextManager:
    """A Ray session for a Ray run (started or joined once), nothing for a local one."""
    if engine != "ray":
        return nullcontext()
    from unspin.batch.ray_engine import ray_session

    return ray_session(address, workers)


def _main_processor(
    job: BatchJob, files: list[Path], dispatch: Dispatch, summary: BatchSummary
) -> ProcessorSpec:
    """The main pass's processor; with --learn, after learning its lexicon (or finding it)."""
    if not job.learn:
        return ProcessorSpec.for_job(job)
    lexicon = learn_lexicon(job, files, dispatch, summary=summary)
    return ProcessorSpec.for_job(job, dictionaries=[str(lexicon)])
