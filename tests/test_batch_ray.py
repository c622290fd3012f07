"""`unspin batch --engine ray` on a local Ray instance (one per module: Ray starts slowly).

The Ray engine must give exactly the local engine's output, resume from shards the local engine
(or an interrupted Ray run) left, and build its processor once per actor, not per batch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from unspin.batch import BatchJob, run_batch  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield
    ray.shutdown()


def write_jsonl(path: Path, count: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            text = (
                f"Harbour reopens after storm {i}\n\n"
                f"The harbour of Port Ellis reopened on Monday, {i + 2} days after the storm. "
                f"Crews cleared {i * 5 + 10} tonnes of debris, the port authority said."
            )
            out.write(json.dumps({"id": f"{prefix}{i:03d}", "text": text}) + "\n")
        out.write("{not json\n")  # a bad record must be recorded, not stop the run
    return path


def test_ray_engine_gives_the_local_output_and_resumes(local_ray, tmp_path: Path) -> None:
    inputs = (
        str(write_jsonl(tmp_path / "a.jsonl", 11, "a")),
        str(write_jsonl(tmp_path / "b.jsonl", 4, "b")),
    )
    local_out = tmp_path / "local.jsonl.gz"
    run_batch(BatchJob(inputs=inputs, output=local_out, shard_size=4), workers=1, progress=False)

    ray_out = tmp_path / "ray.jsonl.gz"
    job = BatchJob(inputs=inputs, output=ray_out, shard_size=4)
    summary = run_batch(job, workers=2, engine="ray", progress=False, keep_shards=True)
    assert ray_out.read_bytes() == local_out.read_bytes()
    assert summary.documents == 17 and summary.errors == 2
    assert summary.shards_done == 3 + 2
    # one actor per worker, each reporting its memory: the processor was built per actor
    assert 1 <= len(summary.worker_peak_rss_mb) <= 2

    # Interrupted-looking work dir: the Ray run redoes only what is missing.
    (job.shard_dir / "shard-00000-000001.jsonl").unlink()
    (job.shard_dir / "file-00000.done").unlink()
    ray_out.unlink()
    resumed = run_batch(job, workers=2, engine="ray", progress=False)
    assert ray_out.read_bytes() == local_out.read_bytes()
    assert resumed.documents == 4 and resumed.shards_done == 1
    assert resumed.shards_skipped == 2 + 2


def test_ray_learn_gives_the_local_lexicon_and_output(local_ray, tmp_path: Path) -> None:
    """`--learn` on Ray: the learn pass's map runs in actors, the same lexicon and records."""
    from test_batch import LEARN_ORIGINALS, UNINDEXED_SPUN, learn_job, spin, write_jsonl

    from unspin.tracing.index import SourceIndex

    db = tmp_path / "originals.db"
    with SourceIndex(db) as index:
        index.add([{"id": i, "title": title, "text": text} for i, title, text in LEARN_ORIGINALS])
    texts = [f"{title}\n\n{spin(text)}" for _, title, text in LEARN_ORIGINALS[:3]]
    pages = write_jsonl(tmp_path / "pages.jsonl", [*texts, UNINDEXED_SPUN])
    # Same output name in two folders: the records name the lexicon by its file name.
    (tmp_path / "local").mkdir()
    (tmp_path / "ray").mkdir()
    local = learn_job(pages, db, tmp_path / "local" / "out.jsonl")
    run_batch(local, workers=1, progress=False)
    on_ray = learn_job(pages, db, tmp_path / "ray" / "out.jsonl")
    summary = run_batch(on_ray, workers=2, engine="ray", progress=False, keep_shards=True)
    assert summary.pages_traced == 3 and summary.pairs_learned > 0
    assert on_ray.lexicon_path.read_bytes() == local.lexicon_path.read_bytes()
    assert on_ray.output.read_bytes() == local.output.read_bytes()
    assert (
        "Oslofjord Diving said on Tuesday it would look into the"
        in json.loads(on_ray.output.read_text(encoding="utf-8").splitlines()[3])["restoration"][
            "text"
        ]
    )

    # Resumed on Ray after the learn pass: the lexicon is reused, the output the same.
    (on_ray.shard_dir / "shard-00000-000001.jsonl").unlink()
    (on_ray.shard_dir / "file-00000.done").unlink()
    resumed = run_batch(on_ray, workers=2, engine="ray", progress=False)
    assert resumed.lexicon_reused and resumed.documents == 2
    assert on_ray.output.read_bytes() == local.output.read_bytes()
