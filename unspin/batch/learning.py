"""The learn pass of ``unspin batch --learn``: map (per page, in the workers), reduce (driver).

Map: each worker's `unspin.batch.processor.PageLearner` traces a page against the index and
mines it (`unspin.learning.mine_page`); its compact record (the page's pairs and unchanged counts)
goes into shards in the job's work folder, `OUTPUT.shards/learn/`, written and resumed exactly
like the main pass's shards, by the same engines. Reduce: the driver reads the shards once,
merges the pages' counts with `unspin.learning.merge_mined` (the rule `learn` applies: every
word's unchanged count, a phrase's only when it is a spun form) and writes the lexicon beside
the output, `OUTPUT.lexicon.tsv` (`BatchJob.lexicon_path`). The main pass then adds it to the
engine's dictionaries.

A marker, `learn/lexicon.json`, records the finished lexicon's counts and checksum: a resumed
job reuses the lexicon without reading a shard; if the file was removed or changed it is merged
again from the learn shards (no page is traced twice). `--restart` discards both passes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unspin.batch.job import BatchJob, BatchSummary, WorkDir, atomic_write_bytes
from unspin.batch.output import iter_shard_records
from unspin.batch.processor import ProcessorSpec

if TYPE_CHECKING:
    from unspin.batch.local import Dispatch

__all__ = ["LEARN_DIR", "LEXICON_MARKER", "learn_lexicon", "merge_learn_shards"]

LEARN_DIR = "learn"
LEXICON_MARKER = "lexicon.json"


def learn_lexicon(
    job: BatchJob, files: Sequence[Path], dispatch: Dispatch, *, summary: BatchSummary
) -> Path:
    """Run (or resume) the learn pass of `job` over `files`; returns the lexicon's path.

    The learn counts go to `summary` (``learn_pages``, ``pages_traced``, ``pairs_learned``...).
    """
    work = WorkDir(job, files, path=job.shard_dir / LEARN_DIR)
    marker = work.path / LEXICON_MARKER
    finished = _finished_lexicon(marker, job.lexicon_path)
    if finished is not None:
        _report(summary, finished, job.lexicon_path)
        summary.lexicon_reused = True
        return job.lexicon_path
    started = time.perf_counter()
    learn_summary = BatchSummary()
    learner = ProcessorSpec.learner(job)
    from unspin.batch.local import run_pass

    run_pass(
        job,
        work,
        dispatch,
        summary=learn_summary,
        processor=learner,
        description="unspin batch --learn",
    )
    lexicon, counts = merge_learn_shards(work)
    lexicon.name = job.lexicon_path.stem
    job.lexicon_path.parent.mkdir(parents=True, exist_ok=True)
    lexicon.write(job.lexicon_path)
    counts["sha256"] = _sha256(job.lexicon_path)
    atomic_write_bytes(marker, json.dumps(counts, indent=1).encode())
    _report(summary, counts, job.lexicon_path)
    summary.learn_seconds = round(time.perf_counter() - started, 3)
    return job.lexicon_path


def merge_learn_shards(work: WorkDir) -> tuple[Any, dict[str, int]]:
    """The reduce step: one lexicon from every learn record of `work`, and its counts."""
    from unspin.learning import merge_mined
    from unspin.resources.lexicon import Lexicon

    mined = Lexicon()
    unchanged: Counter[str] = Counter()
    counts = {"pages": 0, "traced": 0, "errors": 0, "pairs": 0, "spun_forms": 0}
    for file_index in range(len(work.files)):
        for record in iter_shard_records(work, file_index):
            counts["pages"] += 1
            if record.get("error") is not None:
                counts["errors"] += 1
                continue
            if not record.get("traced"):
                continue
            counts["traced"] += 1
            for spun, originals in record["pairs"].items():
                for original, count in originals.items():
                    mined.add_pair(spun, original, count)
            unchanged.update(record["unchanged"])
    mined.pages = counts["traced"]
    mined.unchanged = unchanged
    lexicon = merge_mined(Lexicon(), mined)
    counts["pairs"] = mined.pair_count
    counts["spun_forms"] = len(lexicon.pairs)
    return lexicon, counts


def _finished_lexicon(marker: Path, lexicon_path: Path) -> dict[str, Any] | None:
    """The marker's counts when the lexicon it describes is still there, unchanged."""
    if not marker.exists() or not lexicon_path.exists():
        return None
    try:
        counts = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return counts if counts.get("sha256") == _sha256(lexicon_path) else None


def _report(summary: BatchSummary, counts: dict[str, Any], lexicon_path: Path) -> None:
    summary.learn_pages = counts["pages"]
    summary.pages_traced = counts["traced"]
    summary.pairs_learned = counts["pairs"]
    summary.spun_forms_learned = counts["spun_forms"]
    summary.learn_errors = counts["errors"]
    summary.lexicon = str(lexicon_path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
