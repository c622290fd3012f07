"""`unspin batch` with the local engine: shards, resume after SIGKILL, time limits, formats.

Everything here runs real worker processes on real files written by the tests. The extra-task
functions at the top are loaded by the workers by name (`test_batch:...`), the way a user's own
per-document function would be; they make a document hang or crash the way a pathological page
can, so the time limit and the watchdog are exercised for real.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from unspin.batch import (
    BatchError,
    BatchJob,
    attribute_spans,
    expand_inputs,
    run_batch,
)

MODULE = __name__


# --- per-document task functions loaded by the workers -------------------------------------


def loop_forever(article):
    """A pathological document: Python code that never ends (the SIGALRM limit stops it)."""
    if "PATHOLOGICAL" in article.text:
        while True:
            pass
    return len(article.full_text)


def hang_ignoring_alarm(article):
    """A hang the alarm cannot reach (like C code that blocks signals): the watchdog must kill."""
    if "PATHOLOGICAL" in article.text:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            pass
    return len(article.full_text)


def crash_worker(article):
    """A document that takes its worker process down with it."""
    if "PATHOLOGICAL" in article.text:
        os._exit(3)
    return len(article.full_text)


# --- helpers -------------------------------------------------------------------------------


def paragraphs(n: int) -> list[str]:
    """Distinct plain-text articles (no development data needed)."""
    return [
        f"Council approves budget number {i}\n\n"
        f"The city council of Springfield approved budget number {i} on Tuesday after a long debate. "
        f"Officials said the plan adds {i * 3} new buses and repairs {i + 7} bridges.\n\n"
        f"The mayor said the vote came as no surprise to residents who had asked for it."
        for i in range(n)
    ]


def write_jsonl(path: Path, texts: list[str], *, prefix: str = "doc") -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": f"{prefix}{i:04d}", "text": text}) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def make_job(inputs, output: Path, **kwargs) -> BatchJob:
    return BatchJob(inputs=tuple(str(p) for p in inputs), output=output, **kwargs)


# --- the job description -------------------------------------------------------------------


def test_expand_inputs_walks_folders_in_sorted_order_and_skips_hidden(tmp_path: Path) -> None:
    folder = tmp_path / "crawl"
    (folder / "b").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    for name in ("b/2.jsonl", "a.jsonl.gz", "b/1.html", "notes.md", ".hidden/x.jsonl"):
        (folder / name).write_text("x")
    single = tmp_path / "one.txt"
    single.write_text("x")
    files = expand_inputs([str(single), str(folder)])
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "one.txt",
        "crawl/a.jsonl.gz",
        "crawl/b/1.html",
        "crawl/b/2.jsonl",
    ]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [(["-"], "standard input"), (["missing.jsonl"], "no such file")],
)
def test_expand_inputs_refuses_what_cannot_be_resumed(
    tmp_path: Path, inputs: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BatchError, match=message):
        expand_inputs(inputs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tasks": ("clean", "summarise")}, "unknown task"),
        ({"tasks": ("clean",), "format": "attributes"}, "needs the detect task"),
        ({"tasks": ("trace",)}, "needs --db"),
        ({"shard_size": 0}, "shard-size"),
        ({"tasks": ("restore",), "learn": True}, "--learn needs --db"),
        ({"tasks": ("trace",), "learn": True, "db": Path("x.db")}, "needs the restore task"),
    ],
)
def test_job_options_are_checked_up_front(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(BatchError, match=message):
        make_job([tmp_path], tmp_path / "out.jsonl", **kwargs)


# --- the clean task, sharding, output -------------------------------------------------------


def test_clean_gives_one_record_per_input_record_in_order(tmp_path: Path) -> None:
    from unspin.extraction import extract
    from unspin.extraction.inputs import read_documents

    texts = paragraphs(23)
    first = write_jsonl(tmp_path / "a.jsonl", texts[:17], prefix="a")
    second = write_jsonl(tmp_path / "b.jsonl", texts[17:], prefix="b")
    output = tmp_path / "out.jsonl"
    job = make_job([first, second], output, tasks=("clean",), shard_size=5)
    summary = run_batch(job, workers=2, progress=False)
    records = read_jsonl(output)
    assert [r["id"] for r in records] == [f"a{i:04d}" for i in range(17)] + [
        f"b{i:04d}" for i in range(6)
    ]
    expected = [extract(doc) for doc in read_documents([str(first), str(second)])]
    assert [r["text"] for r in records] == [a.full_text for a in expected]
    assert records[0]["clean"]["title"] == expected[0].title
    assert records[0]["source"].endswith("a.jsonl:1")
    assert summary.documents == 23 and summary.errors == 0
    assert summary.shards_done == 4 + 2
    assert len(summary.worker_peak_rss_mb) == 2 and all(mb > 0 for mb in summary.worker_peak_rss_mb)
    assert summary.worker_cpu_seconds > 0 and summary.documents_per_cpu_second > 0
    assert not job.shard_dir.exists(), "the shard folder is removed once the output is written"


def test_a_folder_of_every_input_kind(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    warcio = pytest.importorskip("warcio")
    from warcio.statusandheaders import StatusAndHeaders

    texts = paragraphs(6)
    folder = tmp_path / "crawl"
    folder.mkdir()
    page = texts[0].split("\n\n")
    (folder / "a-page.html").write_text(
        f"<html><head><title>{page[0]}</title></head><body><article><h1>{page[0]}</h1>"
        + "".join(f"<p>{p}</p>" for p in page[1:])
        + "</article></body></html>",
        encoding="utf-8",
    )
    (folder / "b-dump.txt").write_text(texts[1], encoding="utf-8")
    pq.write_table(
        pa.Table.from_pylist([{"id": "p0", "text": texts[2]}, {"id": "p1", "text": texts[3]}]),
        folder / "c-table.parquet",
    )
    with (folder / "d-pages.warc.gz").open("wb") as raw:
        writer = warcio.WARCWriter(raw, gzip=True)
        for i, text in enumerate(texts[4:]):
            title, *body = text.split("\n\n")
            html = f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            html += "".join(f"<p>{p}</p>" for p in body) + "</article></body></html>"
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                f"https://news.example/{i}",
                "response",
                payload=io.BytesIO(html.encode()),
                http_headers=headers,
            )
            writer.write_record(record)
    output = tmp_path / "out.jsonl"
    summary = run_batch(make_job([folder], output, shard_size=1), workers=2, progress=False)
    records = read_jsonl(output)
    assert summary.errors == 0 and len(records) == 6
    for record, text in zip(records, texts, strict=True):
        assert "budget number" in record["text"]
        assert text.split("\n\n")[1][:40] in record["text"]
    assert [r["id"] for r in records[2:4]] == ["p0", "p1"]


def test_bad_documents_are_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    good = paragraphs(3)
    data = tmp_path / "mixed.jsonl"
    data.write_text(
        json.dumps({"id": "ok0", "text": good[0]})
        + "\n{this is not json\n"
        + json.dumps({"id": "empty", "text": ""})
        + "\n"
        + json.dumps({"id": "ok1", "text": good[1]})
        + "\n",
        encoding="utf-8",
    )
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    output = tmp_path / "out.jsonl"
    summary = run_batch(
        make_job([data, binary], output, tasks=("clean",), shard_size=2), progress=False
    )
    records = read_jsonl(output)
    assert len(records) == 5
    by_position = {i: r for i, r in enumerate(records)}
    assert by_position[0]["error"] is None and by_position[3]["error"] is None
    assert by_position[1]["error"] and by_position[2]["error"] and by_position[4]["error"]
    assert by_position[2]["id"] == "empty"
    assert summary.errors == 3 and summary.documents == 5


def test_jsonl_gz_output_is_byte_identical_across_runs(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", paragraphs(9))
    outputs = []
    for run_no in range(2):
        output = tmp_path / f"run{run_no}" / "out.jsonl.gz"
        run_batch(make_job([data], output, shard_size=4), workers=1 + run_no, progress=False)
        outputs.append(output.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(read_jsonl(tmp_path / "run0" / "out.jsonl.gz")) == 9


def test_parquet_output_has_flat_columns_and_task_json(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    data = write_jsonl(tmp_path / "a.jsonl", paragraphs(6))
    output = tmp_path / "out.parquet"
    run_batch(make_job([data], output, format="parquet", shard_size=4), progress=False)
    table = pq.read_table(output).to_pylist()
    assert [row["id"] for row in table] == [f"doc{i:04d}" for i in range(6)]
    assert json.loads(table[0]["clean"])["title"].startswith("Council approves budget number 0")
    assert table[0]["error"] is None


# --- resuming ------------------------------------------------------------------------------


def test_resume_skips_finished_shards_and_gives_the_same_output(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", paragraphs(20))
    other = write_jsonl(tmp_path / "b.jsonl", paragraphs(4), prefix="b")
    reference = tmp_path / "reference.jsonl"
    run_batch(make_job([data, other], reference, shard_size=6), progress=False)

    output = tmp_path / "out.jsonl"
    job = make_job([data, other], output, shard_size=6)
    run_batch(job, progress=False, keep_shards=True)
    # Make it look interrupted: two shards of the first file and its marker never got written.
    for name in ("shard-00000-000001.jsonl", "shard-00000-000003.jsonl", "file-00000.done"):
        (job.shard_dir / name).unlink()
    output.unlink()
    summary = run_batch(job, progress=False)
    assert output.read_bytes() == reference.read_bytes()
    assert summary.documents == 6 + 2  # shard 1 (6 records) and the short last shard (2)
    assert summary.shards_skipped == 2 + 1  # shards 0 and 2 of a.jsonl, all of b.jsonl
    assert summary.skipped_documents == 12 + 4


def test_an_output_inside_an_input_folder_is_not_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", paragraphs(3))
    output = folder / "results.jsonl"
    job = make_job([folder], output, shard_size=2)
    run_batch(job, progress=False)
    first = output.read_bytes()
    run_batch(job, progress=False, keep_shards=True)
    assert output.read_bytes() == first and len(read_jsonl(output)) == 3
    run_batch(job, progress=False)  # the kept shard folder inside the input is not read either
    assert output.read_bytes() == first


def test_a_work_dir_of_another_job_is_refused_until_restart(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", paragraphs(3))
    output = tmp_path / "out.jsonl"
    run_batch(make_job([data], output), progress=False, keep_shards=True)
    changed = make_job([data], output, shard_size=2)
    with pytest.raises(BatchError, match="different job"):
        run_batch(changed, progress=False)
    run_batch(changed, progress=False, restart=True)
    assert len(read_jsonl(output)) == 3


@pytest.mark.slow
def test_sigkill_of_the_process_group_then_rerun_gives_the_uninterrupted_output(
    tmp_path: Path,
) -> None:
    texts = paragraphs(60) * 10  # 600 records, ids stay unique
    data = write_jsonl(tmp_path / "crawl.jsonl", texts)
    command = [sys.executable, "-m", "unspin", "batch", str(data), "--tasks", "clean"]
    command += ["--shard-size", "10", "--workers", "1", "--no-progress"]
    reference = tmp_path / "reference.jsonl"
    done = subprocess.run([*command, "-o", str(reference)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    output = tmp_path / "out.jsonl"
    shard_dir = tmp_path / "out.jsonl.shards"
    process = subprocess.Popen(
        [*command, "-o", str(output)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if shard_dir.exists() and len(list(shard_dir.glob("shard-*.jsonl"))) >= 3:
            break
        assert process.poll() is None, "the run finished before it could be interrupted"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_before = len(list(shard_dir.glob("shard-*.jsonl")))
    assert not output.exists() and 3 <= finished_before < 60

    rerun = subprocess.run(
        [*command, "-o", str(output), "--summary-json"], capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["shards_skipped"] >= finished_before
    assert summary["documents"] + summary["skipped_documents"] == 600
    assert output.read_bytes() == reference.read_bytes()


@pytest.mark.slow
def test_workers_do_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    """Workers busy on a long document die with their parent (not just at their next read)."""
    texts = [t.replace("long debate", "long PATHOLOGICAL debate") for t in paragraphs(8)]
    data = write_jsonl(tmp_path / "crawl.jsonl", texts)
    command = [sys.executable, "-m", "unspin", "batch", str(data), "--tasks", "clean,probe"]
    command += ["--task-function", f"probe={MODULE}:loop_forever", "--time-limit", "120"]
    command += ["--workers", "2", "--no-progress", "-o", str(tmp_path / "out.jsonl")]
    environment = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    process = subprocess.Popen(
        command,
        start_new_session=True,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        children_file = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        if not children_file.exists():
            pytest.skip("needs Linux /proc")
        deadline = time.monotonic() + 60
        children: list[int] = []
        while time.monotonic() < deadline and len(children) < 2:
            time.sleep(0.1)
            children = [int(pid) for pid in children_file.read_text().split()]
        assert len(children) >= 2, "workers did not start"
        time.sleep(3)  # let them reach the endless document
        process.kill()  # the parent only, not its process group
        process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(c) for c in children):
            time.sleep(0.05)
        assert not [c for c in children if _running(c)], "workers outlived their parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# --- time limits and crashes ---------------------------------------------------------------


def _run_with_function(tmp_path: Path, function: str, **kwargs):
    texts = paragraphs(6)
    texts[2] = texts[2].replace("long debate", "long PATHOLOGICAL debate")
    data = write_jsonl(tmp_path / "a.jsonl", texts)
    output = tmp_path / "out.jsonl"
    job = make_job(
        [data],
        output,
        tasks=("clean", "probe"),
        task_functions={"probe": f"{MODULE}:{function}"},
        shard_size=4,
        time_limit=1.0,
    )
    summary = run_batch(job, progress=False, **kwargs)
    return read_jsonl(output), summary, texts


def test_a_document_over_the_time_limit_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    records, summary, texts = _run_with_function(tmp_path, "loop_forever", workers=1)
    assert records[2]["error"] == "probe: time limit of 1 s exceeded"
    assert records[2]["clean"], "work finished before the limit is kept"
    assert [r["probe"] for i, r in enumerate(records) if i != 2] == [
        len(r["text"]) for i, r in enumerate(records) if i != 2
    ]
    assert summary.errors == 1 and summary.workers_replaced == 0


@pytest.mark.slow
def test_a_hang_the_alarm_cannot_stop_costs_one_worker_not_the_run(tmp_path: Path) -> None:
    records, summary, _ = _run_with_function(tmp_path, "hang_ignoring_alarm", workers=2)
    assert "time limit of 1 s exceeded (worker killed)" in records[2]["error"]
    assert all(r["error"] is None for i, r in enumerate(records) if i != 2)
    assert summary.workers_replaced == 1 and len(records) == 6


def test_a_document_that_crashes_its_worker_is_recorded(tmp_path: Path) -> None:
    records, summary, _ = _run_with_function(tmp_path, "crash_worker", workers=1)
    assert "worker process died" in records[2]["error"]
    assert all(r["error"] is None for i, r in enumerate(records) if i != 2)
    assert summary.workers_replaced == 1


def test_time_limit_also_stops_python_code_outside_the_main_thread() -> None:
    """Ray calls actors in a worker thread, where SIGALRM cannot reach: the timer path must."""
    import threading

    from unspin.batch import DocumentTimeout, time_limit

    outcome: dict[str, object] = {}

    def worker() -> None:
        try:
            with time_limit(0.3):
                while True:
                    pass
        except DocumentTimeout as exc:
            outcome["stopped"] = str(exc)
        with time_limit(0.2):  # finishes in time: nothing may be raised later
            total = sum(range(1000))
        time.sleep(0.4)
        outcome["after"] = total

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=10)
    assert outcome == {"stopped": "time limit of 0.3 s exceeded", "after": 499500}


def test_a_timeout_in_a_thread_names_the_stage_and_keeps_earlier_results() -> None:
    """Regression: the pipeline records a failed stage itself, so the exception injected into a
    worker thread (Ray's path) must carry its message ("probe: _ThreadTimeout" otherwise)."""
    import threading

    from unspin.batch import DocumentProcessor
    from unspin.extraction.inputs import Document

    processor = DocumentProcessor(
        ("clean", "probe"), task_functions={"probe": f"{MODULE}:loop_forever"}, time_limit=0.3
    )
    page = Document("p1", "Budget vote\n\nPATHOLOGICAL text.", "text", "file", "p1.txt")
    outcome: dict[str, dict] = {}
    thread = threading.Thread(target=lambda: outcome.update(record=processor.process(page)))
    thread.start()
    thread.join(timeout=10)
    record = outcome["record"]
    assert record["error"] == "probe: time limit of 0.3 s exceeded"
    assert record["clean"]["title"] == "Budget vote" and record["probe"] is None


def test_workers_over_the_memory_limit_are_recycled_between_documents(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", paragraphs(40))
    reference = tmp_path / "reference.jsonl"
    run_batch(make_job([data], reference, shard_size=3), progress=False)
    output = tmp_path / "out.jsonl"
    summary = run_batch(
        make_job([data], output, shard_size=3), progress=False, max_worker_rss_mb=1.0
    )
    # Every worker passes 1 MB with its first documents, gets no more work, and is replaced once
    # its queue (at most 16 documents when cleaning) is done: 40 documents need at least three.
    assert summary.workers_recycled >= 3
    assert len(summary.worker_peak_rss_mb) == summary.workers_recycled + 1
    assert output.read_bytes() == reference.read_bytes()


# --- CLI -----------------------------------------------------------------------------------


def test_cli_exit_codes_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from unspin.cli import main

    data = write_jsonl(tmp_path / "a.jsonl", paragraphs(3))
    output = tmp_path / "out.jsonl"
    code = main(
        [
            "batch",
            str(data),
            "-o",
            str(output),
            "--tasks",
            "clean",
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    assert "3 documents" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "nope.jsonl"), "-o", str(output), "--tasks", "clean"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unspin batch:") and "no such file" in err and "Traceback" not in err
    code = main(
        ["batch", str(data), "-o", str(output), "--format", "attributes", "--tasks", "clean"]
    )
    assert code == 2 and "needs the detect task" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{broken\n")
    assert main(["batch", str(bad), "-o", str(output), "--tasks", "clean", "--no-progress"]) == 2


# --- tasks that use the engine and the index ------------------------------------------------

# The real engine with the tortured-phrase list, a user spinner dictionary (the strong prior a
# curator who knows the spinner has) and no causal LM: it builds in well under a second, so each
# worker's start-up stays cheap in tests.
SPINNER_DICTIONARY = (
    "deep learning|profound learning\n"
    "artificial intelligence|counterfeit consciousness\n"
    "random forest|irregular woodland\n"
)


@pytest.fixture(scope="module")
def engine_options(tmp_path_factory: pytest.TempPathFactory) -> dict:
    dictionary = tmp_path_factory.mktemp("dict") / "paper-mill.txt"
    dictionary.write_text(SPINNER_DICTIONARY, encoding="utf-8")
    return {"model": None, "lexical": ["pps"], "dictionaries": [str(dictionary)]}


TORTURED = [
    "Deep networks in practice\n\nThe team trained a profound learning model and compared it "
    "with an irregular woodland baseline. Counterfeit consciousness systems were evaluated on "
    "the same 12 benchmarks.",
    "Paper mills at work\n\nThe authors describe a counterfeit consciousness method based on "
    "profound learning for picture acknowledgment in 2021.",
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "pages.jsonl"
    return write_jsonl(path, TORTURED + paragraphs(2))


@pytest.fixture(scope="module")
def engine(engine_options: dict):
    from unspin.engine import Engine

    return Engine(**engine_options)


def test_detect_and_restore_records_equal_the_engine_on_the_cleaned_text(
    tmp_path: Path, pages: Path, engine, engine_options: dict
) -> None:
    output = tmp_path / "out.jsonl"
    job = make_job(
        [pages],
        output,
        tasks=("clean", "detect", "restore"),
        shard_size=3,
        engine_options=engine_options,
    )
    run_batch(job, workers=2, progress=False)
    records = read_jsonl(output)
    assert len(records) == 4 and not any(r["error"] for r in records)
    for record in records:
        # One analysis gives both parts; the record keeps the edits' evidence.
        assert record["detection"] == engine.detect(record["text"]).to_dict()
        assert record["restoration"] == engine.restore_and_explain(record["text"]).to_dict()
        assert record["trace"] is None
    assert records[0]["detection"]["spun"] and records[0]["detection"]["spans"]
    assert "deep learning" in records[0]["restoration"]["text"]
    assert not records[3]["detection"]["spans"]


def test_dolma_attributes_beside_the_documents(
    tmp_path: Path, pages: Path, engine, engine_options: dict
) -> None:
    output = tmp_path / "attributes"
    job = make_job(
        [pages],
        output,
        tasks=("detect",),
        format="attributes",
        shard_size=3,
        engine_options=engine_options,
    )
    run_batch(job, workers=1, progress=False, keep_shards=True)
    documents = read_jsonl(output / "documents" / "00000-pages.jsonl.gz")
    attributes = read_jsonl(output / "attributes" / "unspin" / "00000-pages.jsonl.gz")
    assert (
        [d["id"] for d in documents]
        == [a["id"] for a in attributes]
        == [f"doc{i:04d}" for i in range(4)]
    )
    for document, attribute in zip(documents, attributes, strict=True):
        detection = engine.detect(document["text"])
        values = attribute["attributes"]
        assert values["unspin__unspin__spans"] == [
            [s.start, s.end, s.confidence] for s in detection.spans
        ]
        assert values["unspin__unspin__document"] == [[0, len(document["text"]), detection.score]]
        for start, end, _ in values["unspin__unspin__spans"]:
            assert document["text"][start:end] in {s.text for s in detection.spans}
    assert attributes[0]["attributes"]["unspin__unspin__spun"][0][2] == 1.0
    shard = read_jsonl(job.shard_dir / "shard-00000-000000.jsonl")
    assert attribute_spans(shard[0]) == attributes[0]["attributes"]


def test_trace_task_uses_the_index(tmp_path: Path) -> None:
    from unspin.tracing import trace
    from unspin.tracing.index import SourceIndex

    originals = paragraphs(5)
    db = tmp_path / "originals.db"
    with SourceIndex(db) as index:
        index.add(
            [
                {"id": f"orig{i}", "title": t.split("\n")[0], "text": t.split("\n\n", 1)[1]}
                for i, t in enumerate(originals)
            ]
        )
    copies = [t.replace("approved", "authorised").replace("said", "stated") for t in originals]
    data = write_jsonl(tmp_path / "copies.jsonl", copies[:3])
    output = tmp_path / "out.parquet"
    job = make_job([data], output, tasks=("trace",), db=db, format="parquet")
    run_batch(job, workers=1, progress=False)
    pq = pytest.importorskip("pyarrow.parquet")
    rows = pq.read_table(output).to_pylist()
    with SourceIndex(db, create=False) as index:
        for row in rows:
            assert json.loads(row["trace"]) == json.loads(
                json.dumps(trace(row["text"], index).to_dict())
            )
    assert [row["top_source"] for row in rows] == ["orig0", "orig1", "orig2"]


def test_cli_passes_the_engine_options_of_detect(
    tmp_path: Path, pages: Path, engine, engine_options: dict
) -> None:
    from unspin.cli import main

    output = tmp_path / "out.jsonl"
    arguments = ["batch", str(pages), "-o", str(output), "--tasks", "detect", "--workers", "1"]
    arguments += [
        "--model",
        "none",
        "--lexical",
        "pps",
        "--dict",
        engine_options["dictionaries"][0],
    ]
    assert main([*arguments, "--no-progress"]) == 0
    records = read_jsonl(output)
    assert [r["detection"] for r in records] == [
        engine.detect(r["text"]).to_dict() for r in records
    ]
    assert records[0]["detection"]["spans"]


def test_a_worker_that_got_no_document_still_reports_its_memory(tmp_path: Path) -> None:
    """Regression: a job shorter than a worker's start-up reported that worker's RSS as 0 MB."""
    source = write_jsonl(tmp_path / "one.jsonl", paragraphs(1), prefix="a")
    job = make_job([source], tmp_path / "out.jsonl", tasks=("clean",), shard_size=5)
    summary = run_batch(job, workers=2, progress=False)
    assert summary.documents == 1
    assert len(summary.worker_peak_rss_mb) == 2
    assert all(mb > 0 for mb in summary.worker_peak_rss_mb)


def test_cli_strict_refuses_a_malformed_dict_line_and_otherwise_skips_it(
    tmp_path: Path, pages: Path, capsys: pytest.CaptureFixture
) -> None:
    from unspin.cli import main

    dictionary = tmp_path / "wild.txt"
    dictionary.write_text(SPINNER_DICTIONARY + "|five hundred\n", encoding="utf-8")
    arguments = ["batch", str(pages), "-o", str(tmp_path / "out.jsonl"), "--tasks", "detect"]
    arguments += ["--model", "none", "--lexical", "pps", "--dict", str(dictionary)]
    arguments += ["--workers", "1", "--no-progress"]
    assert main([*arguments, "--strict"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unspin batch:") and "wild.txt" in err and "Traceback" not in err
    assert not (tmp_path / "out.jsonl").exists()
    assert main(arguments) == 0
    err = capsys.readouterr().err
    assert "wild.txt" in err and "skipped" in err  # said once, by the driver
    assert read_jsonl(tmp_path / "out.jsonl")[0]["detection"]["spans"]


# --- --learn: learn the spinner from the traced pages, restore every page with it ----------

# Hand-written originals (names and numbers for tracing to anchor on) and their copies by one
# spinner: firm -> agency, said -> stated, look into -> investigate, matter -> issue.
LEARN_ORIGINALS = [
    (
        "src-harbour",
        "Council of Vellmar approves the Kastrup harbour plan",
        "The council of Vellmar voted 17 to 4 on Monday to approve the Kastrup harbour plan. "
        "Mayor Anrik Solberg said the firm Nordhavn Works would start building in March 2025. "
        "Critics said the firm had not shown how it would protect the wetlands. Solberg said "
        "the council would look into the matter before the next vote in June.",
    ),
    (
        "src-bridge",
        "Ostrava bridge reopens after 14 months of repairs",
        "The Zelena bridge in Ostrava reopened on Friday after 14 months of repairs. Engineer "
        "Petra Hruba said the firm Moravia Steel had replaced 312 beams. Hruba said the firm "
        "would look into the matter of the noise the new joints make.",
    ),
    (
        "src-mine",
        "Kiruna mine halts work after tremor",
        "The Kiruna iron mine halted work on Wednesday after a tremor of magnitude 3.2. A "
        "spokesman said the firm LKAB Mining had moved 410 workers to the surface. Inspectors "
        "said they would look into the matter within 10 days.",
    ),
    (
        "src-chess",
        "Lindqvist wins the Tromsø chess open",
        "Grandmaster Ebba Lindqvist won the Tromsø chess open on Sunday with 7.5 points from "
        "9 games. She beat Mattias Berg in the last round after 61 moves.",
    ),
]
LEARN_SWAPS = (
    ("look into", "investigate"),
    ("matter", "issue"),
    ("firm", "agency"),
    ("said", "stated"),
)
# Its source is not in the index: only what was learned from the others can restore it.
UNINDEXED_SPUN = (
    "Port of Halden hires divers\n\n"
    "The agency Oslofjord Diving stated on Tuesday it would investigate the issue of the "
    "sunken barge in Halden. Captain Nils Berge stated the agency had 6 divers ready."
)
# The real engine without a causal LM; WordNet gives the thesaurus evidence the engine needs to
# call the page spun, the learned lexicon (added by --learn) gives the spinner's own pairs.
LEARN_ENGINE = {"model": None, "lexical": ["wordnet"]}


def spin(text: str) -> str:
    for original, spun in LEARN_SWAPS:
        text = text.replace(original, spun)
    return text


@pytest.fixture
def learn_set(tmp_path: Path) -> tuple[Path, Path]:
    """(index of the originals, pages.jsonl: the three spun copies, the unindexed page, the
    untouched chess report)."""
    from unspin.tracing.index import SourceIndex

    db = tmp_path / "originals.db"
    with SourceIndex(db) as index:
        index.add([{"id": i, "title": title, "text": text} for i, title, text in LEARN_ORIGINALS])
    pages = [f"{title}\n\n{spin(text)}" for _, title, text in LEARN_ORIGINALS[:3]]
    pages += [UNINDEXED_SPUN, f"{LEARN_ORIGINALS[3][1]}\n\n{LEARN_ORIGINALS[3][2]}"]
    return db, write_jsonl(tmp_path / "pages.jsonl", pages)


def learn_job(pages: Path, db: Path, output: Path, *, learn: bool = True) -> BatchJob:
    return make_job(
        [pages],
        output,
        tasks=("trace", "restore"),
        db=db,
        shard_size=2,
        engine_options=LEARN_ENGINE,
        learn=learn,
    )


def test_learn_restores_a_page_whose_source_is_not_indexed(
    tmp_path: Path, learn_set: tuple[Path, Path]
) -> None:
    from unspin.learning import learn
    from unspin.resources.lexicon import Lexicon
    from unspin.tracing.index import SourceIndex

    db, pages = learn_set
    output = tmp_path / "out.jsonl"
    summary = run_batch(learn_job(pages, db, output), workers=2, progress=False)
    assert (summary.learn_pages, summary.pages_traced) == (5, 4)  # the chess page traces too
    assert summary.pairs_learned >= 12 and summary.errors == 0
    assert summary.lexicon == str(tmp_path / "out.jsonl.lexicon.tsv")
    assert "learned from 4 traced pages of 5" in summary.describe()
    lexicon = Lexicon.read(summary.lexicon)
    assert lexicon.pages == 4
    assert lexicon.pairs["agency"] == {"firm": 5}
    assert lexicon.pairs["investigate"] == {"look into": 3}
    assert lexicon.unchanged["council"] == 3  # a word seen unchanged is kept
    records = read_jsonl(output)
    # Map in the workers + reduce in the driver = `unspin learn` over the same pages.
    with SourceIndex(db, create=False) as index:
        alone = learn([r["text"] for r in records], index)
    assert lexicon.dumps() == alone.lexicon.dumps()
    assert (summary.pages_traced, summary.pairs_learned) == (
        alone.pages_traced,
        alone.pairs_mined,
    )
    unindexed = records[3]["restoration"]["text"]
    assert records[3]["trace"]["matches"] == []
    assert "Oslofjord Diving said on Tuesday" in unindexed
    assert "would look into the" in unindexed
    assert "Berge said the" in unindexed
    # "agency" -> "firm" and "issue" -> "matter" were learned too, but from 3-5 sightings
    # their weight does not outvote the n-gram model here ("the agency", "the issue of").
    # A traced page is restored from its source where it was copied.
    assert records[0]["restoration"]["text"].endswith(LEARN_ORIGINALS[0][2])
    assert not (tmp_path / "out.jsonl.shards").exists()


def test_without_learn_the_unindexed_page_keeps_the_spinner_words(
    tmp_path: Path, learn_set: tuple[Path, Path]
) -> None:
    """The control: the same job without --learn does not restore the spinner's pairs."""
    db, pages = learn_set
    output = tmp_path / "out.jsonl"
    summary = run_batch(learn_job(pages, db, output, learn=False), workers=1, progress=False)
    assert summary.lexicon == "" and not (tmp_path / "out.jsonl.lexicon.tsv").exists()
    unindexed = read_jsonl(output)[3]["restoration"]["text"]
    assert "The agency Oslofjord Diving" in unindexed
    assert "investigate the issue" in unindexed


def test_learn_resumes_after_the_learn_pass_and_restart_redoes_both(
    tmp_path: Path, learn_set: tuple[Path, Path]
) -> None:
    db, pages = learn_set
    output = tmp_path / "out.jsonl"
    job = learn_job(pages, db, output)
    first = run_batch(job, workers=1, progress=False, keep_shards=True)
    expected, lexicon = output.read_bytes(), job.lexicon_path.read_bytes()
    learn_shards = sorted((job.shard_dir / "learn").glob("shard-*.jsonl"))
    assert len(learn_shards) == 3 and not first.lexicon_reused
    stamps = [p.stat().st_mtime_ns for p in learn_shards]

    # Killed after the learn pass, during the main pass: its shards are partly there.
    (job.shard_dir / "shard-00000-000001.jsonl").unlink()
    (job.shard_dir / "file-00000.done").unlink()
    output.unlink()
    resumed = run_batch(job, workers=1, progress=False, keep_shards=True)
    assert resumed.lexicon_reused and resumed.pages_traced == first.pages_traced
    assert resumed.documents == 2 and resumed.shards_skipped == 2
    assert output.read_bytes() == expected

    # The lexicon file lost: merged again from the learn shards, no page traced again.
    job.lexicon_path.unlink()
    (job.shard_dir / "shard-00000-000002.jsonl").unlink()
    (job.shard_dir / "file-00000.done").unlink()
    again = run_batch(job, workers=1, progress=False, keep_shards=True)
    assert not again.lexicon_reused and again.pairs_learned == first.pairs_learned
    assert job.lexicon_path.read_bytes() == lexicon and output.read_bytes() == expected
    assert [p.stat().st_mtime_ns for p in learn_shards] == stamps

    restarted = run_batch(job, workers=1, progress=False, restart=True)
    assert not restarted.lexicon_reused and restarted.documents == 5
    assert restarted.learn_pages == 5 and output.read_bytes() == expected


def test_cli_learn_usage_errors_and_summary(
    tmp_path: Path, learn_set: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    from unspin.cli import main

    db, pages = learn_set
    output = tmp_path / "out.jsonl"
    base = ["batch", str(pages), "-o", str(output), "--workers", "1", "--no-progress"]
    assert main([*base, "--tasks", "restore", "--learn", "--model", "none"]) == 2
    assert "--learn needs --db" in capsys.readouterr().err
    assert main([*base, "--tasks", "trace", "--db", str(db), "--learn"]) == 2
    assert "needs the restore task" in capsys.readouterr().err
    arguments = [*base, "--tasks", "trace,restore", "--db", str(db), "--learn"]
    arguments += ["--model", "none", "--lexical", "wordnet", "--summary-json"]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["pages_traced"] == 4 and summary["pairs_learned"] >= 12
    assert summary["lexicon"] == str(output) + ".lexicon.tsv"
    assert "learned from 4 traced pages of 5" in captured.err
