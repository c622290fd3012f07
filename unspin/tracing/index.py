"""The index of originals: one embedded SQLite file that `trace` searches.

Layout (schema version 1):

- `docs`: one row per original — id, title, url, date, the body compressed
  with zlib, and the document's anchor sketch (see `unspin.tracing.fingerprint`).
  The text a match's `source_start`/`source_end` offsets point into is the
  *full text*: the title, a blank line, then the body (just the body when the
  title is empty) — `SourceDocument.full_text`.
- `postings`: (anchor hash, document) pairs, the inverted index over the
  sketches, clustered by hash (WITHOUT ROWID) so one lookup is one B-tree range.
- `anchors`: how many sketches hold each anchor hash (document frequency), so
  a query skips common anchors without reading their long postings.
- `meta`: format marker and parameters.

The file is opened in WAL mode so readers keep working while a writer adds,
and every batch of `add` is one transaction: a process killed mid-way leaves
every committed batch intact and nothing of the interrupted one.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unspin.tracing.fingerprint import (
    SKETCH_SIZE,
    Sketch,
    anchor_hashes,
    iter_chunks,
    make_sketch,
    pack_hashes,
    unpack_hashes,
)

FORMAT_NAME = "unspin-source-index"
SCHEMA_VERSION = 1

PAGE_SIZE = 16384
"""SQLite page size of new indexes (existing ones keep theirs)."""

POSTINGS_LOOKUP_CAP = 1000
"""An anchor found in more documents than this is too common to find candidates with.

It still counts when candidates are scored (from their stored sketches)."""

MIN_LOOKUP_ANCHORS = 4
"""Anchors looked up even when all of a page's anchors exceed POSTINGS_LOOKUP_CAP (within
the read budget). Without them, at 1,000,000 documents whose names recur in thousands of
same-story documents, even verbatim copies found no candidate at all."""

POSTINGS_READ_BUDGET = 8000
"""Postings read per query to find candidates, rarest anchors first.

A long page has hundreds of rare anchors; reading every posting of its commoner ones
took most of a query's database time and never changed which candidates win.  A
short page's few anchors all fit in the budget."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    url TEXT,
    date TEXT,
    body BLOB NOT NULL,
    sketch BLOB NOT NULL,
    sketch_limit INTEGER,
    anchor_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS anchors (
    token INTEGER PRIMARY KEY,
    documents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    token INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (token, doc)
) WITHOUT ROWID;
"""


class SourceIndexError(ValueError):
    """The path is not a usable unspin source index (message is user-facing)."""


@dataclass
class SourceDocument:
    """An original article as stored in the index."""

    id: str
    text: str
    title: str = ""
    url: str | None = None
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def full_text(self) -> str:
        """Title, blank line, body: the text that source offsets refer to."""
        return f"{self.title}\n\n{self.text}" if self.title else self.text

    @classmethod
    def coerce(cls, item: SourceDocument | Mapping[str, Any] | Any) -> SourceDocument:
        """Accept a SourceDocument, a dict (id, text, title, url, date) or an Article."""
        if isinstance(item, SourceDocument):
            return item
        if isinstance(item, Mapping):
            get = item.get
            meta = dict(get("meta") or {})
        else:
            meta = dict(getattr(item, "meta", None) or {})

            def get(key: str, default: Any = None) -> Any:
                return getattr(item, key, default)

        identifier = get("id")
        if identifier is None or str(identifier) == "":
            raise SourceIndexError("a document to index has no id")
        text = get("text")
        if not isinstance(text, str):
            raise SourceIndexError(f"document {identifier!r} has no text")
        return cls(
            id=str(identifier),
            text=text,
            title=str(get("title") or ""),
            url=get("url") or meta.get("url") or None,
            date=_as_text(get("date") or meta.get("date")),
        )


def _as_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True, slots=True)
class IndexedSketch:
    """What tracing needs of a candidate before loading its text."""

    rowid: int
    source_id: str
    title: str
    url: str | None
    sketch: Sketch


class SourceIndex:
    """An index of original articles in one SQLite file (WAL mode).

    Safe to share between threads (one lock serialises the connection); open
    one SourceIndex per process for concurrent readers and writers.
    """

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise SourceIndexError(f"no index at {self.path}")
        if create and not self.path.parent.exists():
            raise SourceIndexError(f"directory {self.path.parent} does not exist")
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        try:
            self._db = sqlite3.connect(
                self.path, timeout=60, isolation_level=None, check_same_thread=False
            )
            self._open()
        except (sqlite3.DatabaseError, SourceIndexError) as exc:
            if self._db is not None:
                self._db.close()
            if isinstance(exc, SourceIndexError):
                raise
            if (
                "not a database" in str(exc)
                or isinstance(exc, sqlite3.DatabaseError)
                and not (isinstance(exc, sqlite3.OperationalError))
            ):
                raise SourceIndexError(
                    f"{self.path} is not an unspin source index ({exc})"
                ) from None
            raise SourceIndexError(f"cannot open index {self.path}: {exc}") from None

    def _open(self) -> None:
        db = self._db
        existing = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if existing and "meta" not in existing:
            raise SourceIndexError(f"{self.path} is an SQLite file but not an unspin source index")
        if "meta" in existing:
            marker = dict(db.execute("SELECT key, value FROM meta"))
            if marker.get("format") != FORMAT_NAME:
                raise SourceIndexError(f"{self.path} is not an unspin source index")
            if int(marker.get("schema_version", 0)) > SCHEMA_VERSION:
                raise SourceIndexError(
                    f"{self.path} was written by a newer unspin (schema {marker['schema_version']})"
                )
            self.sketch_size = int(marker.get("sketch_size", SKETCH_SIZE))
        if not existing:
            # Must precede the first write. A stored original (about 1.5 KB with its
            # sketch) left a quarter of every 4 KB page empty; 16 KB pages waste under 5 %.
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed batch survives the process being killed
        # (only a power loss can drop the latest commits), and commits stay cheap.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA cache_size=-262144")  # up to 256 MiB, used only as the file grows
        if "meta" not in existing:
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    db.execute(statement)
            db.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                [
                    ("format", FORMAT_NAME),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("sketch_size", str(SKETCH_SIZE)),
                ],
            )
            db.execute("COMMIT")
            self.sketch_size = SKETCH_SIZE

    # -- writing -------------------------------------------------------------------------------

    def add(
        self, documents: Iterable[SourceDocument | Mapping[str, Any]], *, batch_size: int = 1000
    ) -> int:
        """Index documents, one transaction per batch; an id already present is replaced.

        Returns the number of documents written.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        written = 0
        for chunk in iter_chunks(documents, batch_size):
            # Within a batch the last document with an id wins, as across batches.
            unique = {doc.id: doc for doc in map(SourceDocument.coerce, chunk)}
            rows = [
                (doc, make_sketch(anchor_hashes(doc.full_text), self.sketch_size))
                for doc in unique.values()
            ]
            with self._lock:
                self._write_batch(rows)
            written += len(rows)
        return written

    def _write_batch(self, rows: list[tuple[SourceDocument, Sketch]]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for doc, sketch in rows:
                previous = db.execute(
                    "SELECT rowid, sketch FROM docs WHERE id = ?", (doc.id,)
                ).fetchone()
                if previous is not None:
                    old_rowid, old_sketch = previous
                    old_tokens = unpack_hashes(old_sketch)
                    db.executemany(
                        "DELETE FROM postings WHERE token = ? AND doc = ?",
                        [(token, old_rowid) for token in old_tokens],
                    )
                    db.executemany(
                        "UPDATE anchors SET documents = documents - 1 WHERE token = ?",
                        [(token,) for token in old_tokens],
                    )
                    db.execute("DELETE FROM docs WHERE rowid = ?", (old_rowid,))
                cursor = db.execute(
                    "INSERT INTO docs(id, title, url, date, body, sketch, sketch_limit,"
                    " anchor_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc.id,
                        doc.title,
                        doc.url,
                        doc.date,
                        zlib.compress(doc.text.encode("utf-8"), 6),
                        pack_hashes(sketch.hashes),
                        sketch.limit,
                        sketch.anchor_count,
                    ),
                )
                rowid = cursor.lastrowid
                db.executemany(
                    "INSERT INTO postings(token, doc) VALUES (?, ?)",
                    [(token, rowid) for token in sketch.hashes],
                )
                db.executemany(
                    "INSERT INTO anchors(token, documents) VALUES (?, 1)"
                    " ON CONFLICT(token) DO UPDATE SET documents = documents + 1",
                    [(token,) for token in sketch.hashes],
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- reading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def __contains__(self, source_id: object) -> bool:
        with self._lock:
            return (
                self._db.execute("SELECT 1 FROM docs WHERE id = ?", (str(source_id),)).fetchone()
                is not None
            )

    def get(self, source_id: str) -> SourceDocument | None:
        """The stored original, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, url, date, body FROM docs WHERE id = ?", (source_id,)
            ).fetchone()
        return None if row is None else _document_from_row(row)

    def get_by_rowid(self, rowid: int) -> SourceDocument | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, url, date, body FROM docs WHERE rowid = ?", (rowid,)
            ).fetchone()
        return None if row is None else _document_from_row(row)

    def ids(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT id FROM docs ORDER BY rowid")]

    def candidates(
        self, page_hashes: Iterable[int], *, limit: int = 50
    ) -> tuple[list[tuple[int, int]], dict[int, int], int]:
        """Documents sharing the page's rarer anchors, and what ranking them needs.

        Returns (candidates, document_frequency, documents): candidates are
        (rowid, shared anchors) best first, counting only the rarest anchors (within
        POSTINGS_READ_BUDGET postings, and held by at most POSTINGS_LOOKUP_CAP sketches
        once MIN_LOOKUP_ANCHORS are found: common ones would cost a long read and say
        little); document_frequency maps
        each page anchor found in the index to the number of sketches holding it;
        documents is the index size.
        """
        tokens = list(set(page_hashes))
        frequency: dict[int, int] = {}
        with self._lock:
            db = self._db
            total = db.execute("SELECT count(*) FROM docs").fetchone()[0]
            for chunk in iter_chunks(tokens, 500):
                frequency.update(
                    db.execute(
                        "SELECT token, documents FROM anchors"
                        f" WHERE token IN ({','.join('?' * len(chunk))}) AND documents > 0",
                        chunk,
                    ).fetchall()
                )
            rare = []
            budget = POSTINGS_READ_BUDGET
            for token, count in sorted(frequency.items(), key=lambda item: (item[1], item[0])):
                # Anchors more common than the cap are read only while fewer than
                # MIN_LOOKUP_ANCHORS were found: a page whose names all recur in thousands
                # of documents still needs some to find its source by.
                if count > budget or (
                    count > POSTINGS_LOOKUP_CAP and len(rare) >= MIN_LOOKUP_ANCHORS
                ):
                    break
                rare.append(token)
                budget -= count
            counts: dict[int, int] = {}
            # One grouped, ordered query in the usual case; huge pages are chunked
            # (SQLite caps bound parameters) and their partial counts merged.
            chunk_limit = limit if len(rare) <= 900 else -1
            for chunk in iter_chunks(rare, 900):
                for doc, shared in db.execute(
                    "SELECT doc, count(*) AS shared FROM postings"
                    f" WHERE token IN ({','.join('?' * len(chunk))})"
                    " GROUP BY doc ORDER BY shared DESC, doc LIMIT ?",
                    [*chunk, chunk_limit],
                ):
                    counts[doc] = counts.get(doc, 0) + shared
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:limit], frequency, total

    def sketches(self, rowids: Iterable[int]) -> list[IndexedSketch]:
        """Stored sketches of the given documents (missing rowids are skipped)."""
        rowids = list(rowids)
        if not rowids:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, id, title, url, sketch, sketch_limit, anchor_count FROM docs"
                f" WHERE rowid IN ({','.join('?' * len(rowids))})",
                rowids,
            ).fetchall()
        return [
            IndexedSketch(
                rowid=rowid,
                source_id=source_id,
                title=title,
                url=url,
                sketch=Sketch(unpack_hashes(blob), limit, count),
            )
            for rowid, source_id, title, url, blob, limit, count in rows
        ]

    def stats(self) -> dict[str, Any]:
        """Counts and sizes; `fingerprint_bytes_per_document` excludes the stored texts."""
        with self._lock:
            db = self._db
            documents = db.execute("SELECT count(*) FROM docs").fetchone()[0]
            postings = db.execute("SELECT count(*) FROM postings").fetchone()[0]
            page_size = db.execute("PRAGMA page_size").fetchone()[0]
            text_bytes = db.execute("SELECT coalesce(sum(length(body)), 0) FROM docs").fetchone()[0]
            try:
                table_pages = dict(
                    db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
                )
            except sqlite3.OperationalError:  # SQLite built without DBSTAT
                table_pages = {}
            # Logical size: pages of the database including those still in the WAL.
            file_bytes = db.execute("PRAGMA page_count").fetchone()[0] * page_size
        wal = self.path.with_name(self.path.name + "-wal")
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        postings_bytes = table_pages.get("postings")
        stats: dict[str, Any] = {
            "path": str(self.path),
            "documents": documents,
            "postings": postings,
            "sketch_size": self.sketch_size,
            "file_bytes": file_bytes,
            "wal_bytes": wal_bytes,
            "page_size": page_size,
            "compressed_text_bytes": text_bytes,
            "bytes_per_document": round(file_bytes / documents, 1) if documents else None,
        }
        if postings_bytes is not None and documents:
            # Postings B-tree plus the 4-byte-per-anchor sketch column: the fingerprint proper.
            sketch_bytes = postings * 4 + documents * 8
            stats["postings_bytes"] = postings_bytes
            stats["fingerprint_bytes_per_document"] = round(
                (postings_bytes + sketch_bytes) / documents, 1
            )
        return stats

    def integrity_check(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SourceIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _document_from_row(row: tuple) -> SourceDocument:
    source_id, title, url, date, body = row
    return SourceDocument(
        id=source_id,
        text=zlib.decompress(body).decode("utf-8"),
        title=title or "",
        url=url,
        date=date,
    )
