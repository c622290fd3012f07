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
