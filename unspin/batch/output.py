"""Assembly of the final output from the finished shards: JSONL(.gz), Parquet or dolma attributes.

Once every shard exists the output is written in input order (file order, then record order)
to a temporary file (or folder) and atomically renamed into place, so the output of an
interrupted-then-resumed run is byte-for-byte the output of an uninterrupted one.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from unspin.batch.job import (
    ATTRIBUTE_PREFIX,
    INPUT_SUFFIXES,
    JOB_FILE,
    BatchError,
    BatchJob,
    WorkDir,
    dump_record,
    remove_tree,
)

__all__ = [
    "PARQUET_SCALARS",
    "TASK_FIELDS",
    "assemble",
    "attribute_file_stem",
    "attribute_spans",
    "iter_shard_records",
]


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
        remove_tree(output)
    os.replace(tmp, output)
