"""SourceIndex: a real SQLite file, replacement by id, WAL readers, a writer killed mid-add."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from unspin.tracing.fingerprint import SKETCH_SIZE, anchor_terms, make_sketch, term_hash
from unspin.tracing.index import PAGE_SIZE, SourceDocument, SourceIndex, SourceIndexError

REPO_ROOT = Path(__file__).resolve().parent.parent


def article(number: int) -> dict:
    """A small synthetic original with its own names and numbers."""
    return {
        "id": f"doc-{number}",
        "title": f"Report {number} from Vellmar",
        "text": (
            f"Officials in Vellmar{number} said on Monday that Anrik Solberg{number} had resigned. "
            f"The council voted {number + 17} to {number + 3} in favour.\n\n"
            f"Solberg{number} told the Gazette{number} he would return to Kastrup{number}."
        ),
        "url": f"https://example.org/{number}",
        "date": "2024-05-01",
    }


def test_anchors_are_names_and_numbers_not_sentence_starts():
    text = 'The mayor of Tromsø said 1,200 people left. "We expect more," Mayor Lind said.'
    assert anchor_terms(text) == ["tromsø", "1200", "mayor", "lind"]


def test_sketch_keeps_smallest_hashes_and_estimates_containment():
    hashes = [term_hash(f"name{i}") for i in range(200)]
    sketch = make_sketch(hashes)
    assert len(sketch.hashes) == SKETCH_SIZE
    assert sketch.limit == sorted(hashes)[SKETCH_SIZE - 1]
    estimate, hits, comparable = sketch.containment_of(hashes[:100])
    assert comparable > 0 and hits == comparable and estimate == 1.0
    unrelated = [term_hash(f"other{i}") for i in range(100)]
    assert sketch.containment_of(unrelated)[1] == 0


def test_add_get_stats_and_full_text(tmp_path):
    path = tmp_path / "index.db"
    with SourceIndex(path) as index:
        assert index.add([article(1), SourceDocument(**article(2))]) == 2
        stored = index.get("doc-1")
        assert stored is not None
        assert stored.title == "Report 1 from Vellmar"
        assert stored.url == "https://example.org/1" and stored.date == "2024-05-01"
        assert stored.text == article(1)["text"]
        assert stored.full_text == stored.title + "\n\n" + stored.text
        assert index.get("missing") is None
        stats = index.stats()
        assert stats["documents"] == 2
        assert stats["postings"] > 0
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_new_indexes_use_large_pages_and_old_ones_keep_theirs(tmp_path):
    # 16 KB pages: a stored original no longer leaves a quarter of each page empty.
    with SourceIndex(tmp_path / "new.db") as index:
        index.add([article(1)])
        assert index.stats()["page_size"] == PAGE_SIZE == 16384
    # An index written with SQLite's default 4 KB pages opens and grows as it is.
    old = tmp_path / "old.db"
    with SourceIndex(old) as index:
        index.add([article(1)])
    with sqlite3.connect(old) as raw:
        raw.execute("PRAGMA journal_mode=DELETE")
        raw.execute("PRAGMA page_size=4096")
        raw.execute("VACUUM")
        assert raw.execute("PRAGMA page_size").fetchone()[0] == 4096
    with SourceIndex(old) as index:
        index.add([article(2)])
        assert index.stats()["page_size"] == 4096
        assert len(index) == 2 and index.get("doc-1") is not None


def test_same_id_replaces_and_never_duplicates(tmp_path):
    with SourceIndex(tmp_path / "index.db") as index:
        index.add([article(1), article(2)])
        replacement = dict(article(3), id="doc-1")
        # Twice in one batch and once more in the next: the last one wins.
        index.add([dict(article(4), id="doc-1"), replacement], batch_size=10)
        assert len(index) == 2
        assert index.get("doc-1").text == article(3)["text"]
        postings = index._db.execute("SELECT count(*) FROM postings").fetchone()[0]
        expected = sum(
            len(make_sketch({term_hash(t) for t in anchor_terms(d.full_text)}).hashes)
            for d in (index.get("doc-1"), index.get("doc-2"))
        )
        assert postings == expected


def test_refuses_files_that_are_not_an_index(tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello, this is not a database\n" * 200)
    with pytest.raises(SourceIndexError, match="not an unspin source index"):
        SourceIndex(text_file)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE t (x)")
    with pytest.raises(SourceIndexError, match="not an unspin source index"):
        SourceIndex(other)
    with pytest.raises(SourceIndexError, match="cannot open index"):
        SourceIndex(tmp_path)  # a directory
    with pytest.raises(SourceIndexError, match="does not exist"):
        SourceIndex(tmp_path / "no" / "such" / "index.db")
    with pytest.raises(SourceIndexError, match="no index"):
        SourceIndex(tmp_path / "missing.db", create=False)
    with pytest.raises(SourceIndexError, match="no id"):
        SourceIndex(tmp_path / "ok.db").add([{"text": "no id here"}])


def test_readers_keep_working_while_a_writer_adds(tmp_path):
    path = tmp_path / "index.db"
    with SourceIndex(path) as index:
        index.add(article(i) for i in range(50))
    errors: list[BaseException] = []
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        try:
            with SourceIndex(path, create=False) as reader:
                while not stop.is_set():
                    seen.append(len(reader))
                    assert reader.get("doc-7") is not None
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        with SourceIndex(path) as writer:
            writer.add((article(i) for i in range(50, 2050)), batch_size=100)
    finally:
        stop.set()
        thread.join(10)
    assert not errors
    assert seen and min(seen) >= 50 and max(seen) <= 2050
    # Readers saw whole batches only.
    assert all((count - 50) % 100 == 0 for count in seen)


@pytest.mark.slow
def test_killed_writer_leaves_every_committed_batch(tmp_path):
    source = tmp_path / "originals.jsonl"
    with source.open("w") as out:
        for number in range(60_000):
            out.write(json.dumps(article(number)) + "\n")
    path = tmp_path / "index.db"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unspin",
            "index",
            "add",
            "--db",
            str(path),
            "--batch-size",
            "500",
            str(source),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        committed = 0
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            if path.exists():
                try:
                    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as raw:
                        committed = raw.execute("SELECT count(*) FROM docs").fetchone()[0]
                except sqlite3.OperationalError:
                    continue
            if committed >= 1000:
                break
        assert process.poll() is None, process.stderr.read().decode()
        assert committed >= 1000
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        process.stderr.close()
    with SourceIndex(path, create=False) as index:
        assert index.integrity_check() == "ok"
        count = len(index)
        assert count >= committed
        assert count % 500 == 0  # whole batches only
        assert count < 60_000
        # Every committed batch is there, in input order.
        assert index.ids() == [f"doc-{n}" for n in range(count)]
        index.add([article(99_999)])  # and the index still takes writes
        assert "doc-99999" in index
