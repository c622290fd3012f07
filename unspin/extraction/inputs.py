"""Every input kind, read the same way: paths, folders or ``-`` (stdin) -> documents.

Why one module: every command (clean, detect, restore, trace, index, batch) takes
the same inputs, and users should never have to say what a file is. The kind is
sniffed from the bytes (gzip magic, ``WARC/1.`` magic, ``PAR1`` magic, a JSON
object on the first line, HTML tags), not trusted from the extension.

Errors are data, not exceptions: a missing path, an unreadable file, a bad JSONL
line or a truncated WARC yields a :class:`DocumentError` with a one-line message
and iteration goes on with the next document, so one bad record never costs the
rest of a crawl. (A missing path is a DocumentError too, not a usage error: the
other inputs are still processed and the exit code is 2 either way.)
"""

from __future__ import annotations

import codecs
import gzip
import io
import itertools
import json
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from unspin.text import one_line

# One document larger than this is refused with a clear error instead of being fed
# to regex- and tree-based extraction (a news article is a few kB; 50 MB on one
# line is a broken dump, not an article). The limit holds while reading: no more
# than this (plus one read buffer) of a document is ever held in memory, the rest of
# an oversized line or record is read through in bounded chunks and dropped.
MAX_DOCUMENT_BYTES = 10_000_000

# The rest of an oversized JSONL line is skipped in pieces of this size.
_DISCARD_CHUNK = 1 << 20

# File name endings that a folder walk picks up. Files given explicitly are read
# whatever their name is.
FOLDER_SUFFIXES = (
    ".html",
    ".htm",
    ".xhtml",
    ".txt",
    ".warc",
    ".warc.gz",
    ".jsonl",
    ".jsonl.gz",
    ".ndjson",
    ".parquet",
)

_SNIFF_BYTES = 65536
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_WARC_MAGIC = re.compile(rb"^\s*WARC/\d")
_HTML_START = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_HTML_TAG = re.compile(
    r"<(?:p|div|span|a|br|h[1-6]|title|meta|article|section|main|ul|ol|li|table|body|head|script|style|link|img|header|footer|nav)\b[^<>]{0,500}>",
    re.I,
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)
_CONTENT_TYPE_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", re.I)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class UsageError(Exception):
    """A problem with how unspin was called (exit code 2), not with one document."""


@dataclass
class Document:
    """One page or text to process, decoded, with everything known about where it came from."""

    id: str
    content: str
    format: str  # "html" | "text"
    container: str  # "file" | "stdin" | "warc" | "jsonl" | "parquet"
    source: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class DocumentError:
    """A document (or a whole input) that could not be read; ``message`` is one line for the user."""

    id: str | None
    source: str
    message: str
    container: str = "file"


# --------------------------------------------------------------------------- decoding


def decode_bytes(data: bytes, declared_charset: str | None = None) -> str:
    """Decode bytes of unknown encoding; never raises.

    Order: byte-order mark, strict UTF-8 (the common case, and cheap), the charset the
    page or HTTP header declares, charset-normalizer's detection, then UTF-8 with
    replacement characters so that no input can crash the pipeline.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    if declared_charset:
        candidates.append(declared_charset)
    meta = _META_CHARSET.search(data[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "ignore"))
    for charset in candidates:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            continue
        if codec == "utf-8":
            continue  # already failed strictly
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        matches = from_bytes(data)
        best = matches.best()
        if best is not None:
            # Prefer windows-1252, the web's most common legacy encoding (WHATWG reads
            # latin-1 as it too), when it scores nearly as well as a rarer single-byte
            # code page: on short texts detection cannot tell cp1252 from mac_latin2.
            single_byte = best.encoding.startswith(("cp", "iso8859", "mac_", "latin", "koi8"))
            for match in matches:
                if (
                    single_byte
                    and match.encoding == "cp1252"
                    and match.chaos <= best.chaos + 0.1
                    and match.coherence >= best.coherence - 0.1
                ):
                    return str(match)
            return str(best)
    except Exception:  # noqa: BLE001 - detection is best effort; fall through to replacement
        pass
    return data.decode("utf-8", errors="replace")


def looks_binary(data: bytes) -> bool:
    """True for bytes that are not text in any encoding (images, executables, archives).

    NUL bytes outside UTF-16/32 (which start with a byte-order mark) or many control
    characters mean binary; text never has them.
    """
    sample = data[:8192]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    controls = sum(1 for byte in sample if byte < 9 or 13 < byte < 32 or byte == 127)
    return controls / len(sample) > 0.05


def looks_like_html(content: str, content_type: str | None = None) -> bool:
    """Sniff HTML: a declared HTML content type, a document start, or several HTML tags."""
    if content_type and "html" in content_type.lower():
        return True
    head = content[:65536]
    if _HTML_START.match(head):
        return True
    return next(itertools.islice(_HTML_TAG.finditer(head), 2, None), None) is not None


def sniff_format(content: str, content_type: str | None = None) -> str:
    """``"html"`` or ``"text"`` for decoded content (and an optional HTTP content type)."""
    return "html" if looks_like_html(content, content_type) else "text"


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CONTENT_TYPE_CHARSET.search(content_type)
    return match.group(1) if match else None


def _size_message(size: int | None) -> str:
    """The too-large error; ``size`` is None when the rest was not read to measure it."""
    limit = f"{MAX_DOCUMENT_BYTES / 1e6:.0f} MB per document"
    if size is None:
        return f"document too large (over the limit of {limit}; the rest was not read)"
    return f"document too large ({size / 1e6:.1f} MB; the limit is {limit})"


# --------------------------------------------------------------------------- reading


def read_documents(
    inputs: Sequence[str],
    *,
    text_key: str = "text",
    id_key: str = "id",
) -> Iterator[Document | DocumentError]:
    """Yield every document of every input, in order, with errors in their place.

    ``inputs`` are paths, ``-`` for stdin, or folders (walked recursively, sorted, for
    the :data:`FOLDER_SUFFIXES`). Each input's kind is sniffed from its content:
    gzip (then looked into), WARC (response/resource records with HTML or text),
    Parquet (needs pyarrow), JSONL (``text_key`` and ``id_key`` fields), HTML, text.
    """
    for name in inputs:
        if name == "-":
            yield from _read_stdin(text_key=text_key, id_key=id_key)
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.name.lower().endswith(FOLDER_SUFFIXES)
            )
            if not files:
                yield DocumentError(
                    None,
                    name,
                    "folder has no .html, .txt, .warc(.gz), .jsonl(.gz) or .parquet files",
                )
            for file in files:
                yield from _read_path(file, text_key=text_key, id_key=id_key)
        elif not path.exists():
            yield DocumentError(None, name, "no such file or directory")
        else:
            yield from _read_path(path, text_key=text_key, id_key=id_key)


def _read_stdin(*, text_key: str, id_key: str) -> Iterator[Document | DocumentError]:
    stream: IO[bytes]
    if hasattr(sys.stdin, "buffer"):
        stream = sys.stdin.buffer
    else:  # replaced by a StringIO in an embedding program or a test
        stream = io.BytesIO(sys.stdin.read().encode("utf-8"))
    yield from _read_stream(stream, "stdin", "<stdin>", "stdin", text_key=text_key, id_key=id_key)


def _read_path(path: Path, *, text_key: str, id_key: str) -> Iterator[Document | DocumentError]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield DocumentError(None, str(path), f"cannot read: {exc.strerror or one_line(exc)}")
        return
    with handle:
        yield from _read_stream(
            handle, str(path), str(path), "file", text_key=text_key, id_key=id_key
        )


def _read_stream(
    stream: IO[bytes],
    name: str,
    source: str,
    container: str,
    *,
    text_key: str,
    id_key: str,
) -> Iterator[Document | DocumentError]:
    """Sniff one byte stream (file or stdin, never rewound) and hand it to the reader for its kind."""
    try:
        size = _regular_file_size(stream)
        head = _read_up_to(stream, _SNIFF_BYTES)
        rest: IO[bytes] = _Rewound(head, stream)
        gzip_stream = None
        if head.startswith(_GZIP_MAGIC):
            size = None  # the inflated size is unknown until it has all been inflated
            gzip_stream = _GzipStream(rest)
            head = _read_up_to(gzip_stream, _SNIFF_BYTES)
            rest = _Rewound(head, gzip_stream)
        rest = io.BufferedReader(rest, buffer_size=1 << 16)  # type: ignore[arg-type]
        if _WARC_MAGIC.match(head):
            items = _read_warc(rest, name, source)
        elif head.startswith(_PARQUET_MAGIC):
            items = _read_parquet(rest, name, source, text_key=text_key, id_key=id_key)
        elif _is_jsonl(head, name):
            items = _read_jsonl(rest, name, source, text_key=text_key, id_key=id_key)
        else:
            items = _read_single(rest, name, source, container, size)
        last: Document | DocumentError | None = None
        for last in items:
            yield last
        if gzip_stream is not None and gzip_stream.error and not isinstance(last, DocumentError):
            # Damage the reader did not already report (e.g. cut between two records).
            yield DocumentError(None, source, gzip_stream.error, container)
    except OSError as exc:
        yield DocumentError(None, source, f"cannot read: {one_line(exc)}", container)
    except (MemoryError, RecursionError, ValueError, LookupError, UnicodeError) as exc:
        # Whatever else a malformed input provokes ends this input only, with one line.
        yield DocumentError(
            None, source, f"cannot read: {type(exc).__name__}: {one_line(exc)}", container
        )


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Read ``size`` bytes or up to the end (raw streams may return less per call)."""
    parts = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


class _Rewound(io.RawIOBase):
    """A stream whose first bytes were already read for sniffing, put back in front.

    Sniffing must work on stdin and pipes, which cannot seek back.
    """

    def __init__(self, head: bytes, inner: IO[bytes]):
        self._head = head
        self.inner = inner
        self._position = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        # FastWARC asks for the position of a stream it is given (and panics without it).
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
        else:
            data = self.inner.read(len(view))
            count = len(data)
            view[:count] = data
        self._position += count
        return count


class _GzipStream(io.RawIOBase):
    """Multi-member gzip (``gzip.GzipFile``) that stops at damage instead of raising.

    ``GzipFile`` inflates in bounded steps (linear in the input, never more than asked
    for), reads concatenated members and skips zero padding; this wrapper only turns its
    exceptions into ``error`` and an end of stream. An exception would also discard what
    the reading call above (``readline``, FastWARC's block read) had gathered, so the
    records before a cut would be lost with it. ``read1`` makes one bounded inflate step
    per call, which either returns data or raises: no byte before the damage is dropped.
    """

    def __init__(self, raw: IO[bytes]):
        self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")
        self._eof = False
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._eof or not len(view):
            return 0
        try:
            data = self._gzip.read1(len(view))
        except EOFError:
            data = b""
            self.error = "truncated gzip data (the file ends in the middle of a record)"
        except (gzip.BadGzipFile, zlib.error) as exc:
            data = b""
            self.error = f"corrupt gzip data: {one_line(exc)}"
        if not data:
            self._eof = True
        count = len(data)
        view[:count] = data
        return count


def _is_jsonl(head: bytes, name: str) -> bool:
    lower = name.lower()
    if lower.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        return True
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    first_line = text.split(b"\n", 1)[0]
    if b"\n" not in text and len(text) >= len(head) - 8:
        # The first line is longer than the sniffed head: a JSON object opening it is
        # still JSONL (a 50 MB single line must not be read twice to decide).
        return first_line.rstrip().startswith(b'{"')
    try:
        return isinstance(json.loads(first_line), dict)
    except ValueError:
        return False


def _read_single(
    stream: IO[bytes], name: str, source: str, container: str, size: int | None
) -> Iterator[Document | DocumentError]:
    """A whole file (or stdin) that is one HTML page or one text.

    Reading stops one byte past the limit: the input holds nothing else, so the rest
    (which may be gigabytes on a pipe, or a gzip bomb) is never read. ``size`` is the
    file's size where the file system knows it, for the error message.
    """
    data = _read_up_to(stream, MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        yield DocumentError(name, source, _size_message(size), container)
        return
    yield _document_from_bytes(data, name, source, container, meta={})


def _regular_file_size(stream: IO[bytes]) -> int | None:
    """Bytes left in a regular file (also stdin redirected from one); None for pipes."""
    try:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        return os.fstat(stream.fileno()).st_size - stream.tell()
    except (OSError, ValueError, AttributeError):
        return None


def _document_from_bytes(
    data: bytes,
    doc_id: str,
    source: str,
    container: str,
    *,
    meta: dict[str, Any],
    content_type: str | None = None,
) -> Document | DocumentError:
    if not data.strip():
        return DocumentError(doc_id, source, "empty document", container)
    if looks_binary(data):
        return DocumentError(
            doc_id, source, "binary data, not text, HTML, WARC or JSONL", container
        )
    content = decode_bytes(data, _charset_of(content_type))
    return Document(doc_id, content, sniff_format(content, content_type), container, source, meta)


def _read_jsonl(
    stream: IO[bytes], name: str, source: str, *, text_key: str, id_key: str
) -> Iterator[Document | DocumentError]:
    for line_number, (raw, size) in enumerate(_bounded_lines(stream), start=1):
        line_source = f"{source}:{line_number}"
        if raw is None:
            yield DocumentError(f"{name}:{line_number}", line_source, _size_message(size), "jsonl")
            continue
        if not raw.strip():
            continue  # blank lines carry no record (JSONL writers often end with one)
        try:
            record = json.loads(decode_bytes(raw))
        except ValueError as exc:
            yield DocumentError(
                f"{name}:{line_number}", line_source, f"invalid JSON: {one_line(exc)}", "jsonl"
            )
            continue
        if not isinstance(record, dict):
            yield DocumentError(f"{name}:{line_number}", line_source, "not a JSON object", "jsonl")
            continue
        yield _document_from_record(
            record, name, line_number, line_source, "jsonl", text_key=text_key, id_key=id_key
        )


def _bounded_lines(stream: IO[bytes]) -> Iterator[tuple[bytes | None, int]]:
    """Each line with its size (newline not counted); ``None`` for a line over the limit.

    ``readline(limit)`` never holds more than the limit: the rest of a longer line is
    read through in bounded chunks and dropped (its size is counted, since reaching the
    next line means reading it anyway).
    """
    limit = MAX_DOCUMENT_BYTES
    while line := stream.readline(limit + 2):
        ended = line.endswith(b"\n")
        size = len(line) - ended
        if not ended and len(line) == limit + 2:
            del line
            while chunk := stream.readline(_DISCARD_CHUNK):
                ended = chunk.endswith(b"\n")
                size += len(chunk) - ended
                if ended:
                    break
            yield None, size
        elif size > limit:
            yield None, size
        else:
            yield line, size


def _document_from_record(
    record: dict[str, Any],
    name: str,
    number: int,
    source: str,
    container: str,
    *,
    text_key: str,
    id_key: str,
) -> Document | DocumentError:
    raw_id = record.get(id_key)
    doc_id = str(raw_id) if raw_id is not None else f"{name}:{number}"
    meta = {key: value for key, value in record.items() if key not in (text_key, id_key)}
    if text_key not in record:
        fields = ", ".join(sorted(map(str, record))) or "none"
        return DocumentError(
            doc_id, source, f"no {text_key!r} field (fields: {fields}; see --text-key)", container
        )
    content = record[text_key]
    if isinstance(content, bytes):
        content = decode_bytes(content)
    if not isinstance(content, str):
        return DocumentError(
            doc_id,
            source,
            f"field {text_key!r} is {type(content).__name__}, not a string",
            container,
        )
    if not content.strip():
        return DocumentError(doc_id, source, "empty document", container)
    if len(content) > MAX_DOCUMENT_BYTES:
        return DocumentError(doc_id, source, _size_message(len(content)), container)
    if _CONTROL_CHARS.search(content[:8192]) and looks_binary(
        content[:8192].encode("utf-8", "replace")
    ):
        return DocumentError(doc_id, source, "binary data, not text or HTML", container)
    return Document(doc_id, content, sniff_format(content), container, source, meta)


def _read_parquet(
    stream: IO[bytes], name: str, source: str, *, text_key: str, id_key: str
) -> Iterator[Document | DocumentError]:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        yield DocumentError(
            None, source, "reading Parquet needs pyarrow (pip install 'unspin[batch]')", "parquet"
        )
        return
    try:
        # Parquet needs random access (footer first); stdin and gzip streams have none.
        parquet_file = parquet.ParquetFile(io.BytesIO(stream.read()))
        batches: Iterable[Any] = parquet_file.iter_batches()
        row = 0
        for batch in batches:
            for record in batch.to_pylist():
                row += 1
                yield _document_from_record(
                    record,
                    name,
                    row,
                    f"{source}:{row}",
                    "parquet",
                    text_key=text_key,
                    id_key=id_key,
                )
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for broken files
        yield DocumentError(None, source, f"cannot read Parquet: {one_line(exc)}", "parquet")


# --------------------------------------------------------------------------- WARC


def _read_warc(stream: IO[bytes], name: str, source: str) -> Iterator[Document | DocumentError]:
    """Response and resource records holding HTML or text, read with FastWARC.

    FastWARC is given the already decompressed stream and every record type: records
    are filtered here, after checking each block against its ``Content-Length``, because
    FastWARC ends a cut file quietly and a cut header can hide a record's type.
    """
    from fastwarc.warc import ArchiveIterator

    number = 0
    try:
        for record in ArchiveIterator(stream, parse_http=False, auto_decode="none"):
            number += 1
            item = _document_from_warc_record(record, name, source, number)
            if item is not None:
                yield item
    except Exception as exc:  # noqa: BLE001 - FastWARC raises several types for broken streams
        yield DocumentError(None, f"{source}#{number + 1}", f"broken WARC: {one_line(exc)}", "warc")


def _document_from_warc_record(
    record: Any, name: str, source: str, number: int
) -> Document | DocumentError | None:
    headers = record.headers
    record_type = (headers.get("WARC-Type") or "").lower()
    uri = headers.get("WARC-Target-URI") or ""
    record_id = headers.get("WARC-Record-ID") or ""
    doc_id = uri or record_id or f"{name}#{number}"
    record_source = f"{source}#{number}"
    declared_length = headers.get("Content-Length")
    if not record_type or declared_length is None or not declared_length.strip().isdigit():
        return DocumentError(
            doc_id, record_source, "truncated or malformed WARC record header", "warc"
        )
    if record_type not in ("response", "resource"):
        return None  # warcinfo, request, metadata, revisit: not pages
    if int(declared_length) > 4 * MAX_DOCUMENT_BYTES:
        # A block is read whole only up to 4 times the limit (HTTP headers and chunked
        # framing come on top of the body); a larger one is not read at all: FastWARC
        # skips it in bounded chunks on its way to the next record.
        return DocumentError(doc_id, record_source, _size_message(int(declared_length)), "warc")
    block = record.reader.read()
    if len(block) < int(declared_length):
        return DocumentError(
            doc_id,
            record_source,
            f"truncated WARC record ({len(block)} of {declared_length} bytes)",
            "warc",
        )
    content_type = headers.get("Content-Type") or ""
    status: int | None = None
    body = block
    body_size: int | None = len(block)
    if record_type == "response" and content_type.lower().startswith("application/http"):
        parsed = _split_http(block)
        if parsed is None:
            return DocumentError(
                doc_id, record_source, "response record without valid HTTP headers", "warc"
            )
        status, http_headers, body = parsed
        content_type = http_headers.get("content-type", "")
        body, body_size = _decode_http_body(body, http_headers)
    lowered = content_type.lower()
    if lowered and not ("html" in lowered or lowered.startswith("text/")):
        return None  # images, scripts, style sheets, PDFs: not pages
    meta: dict[str, Any] = {
        "url": uri or None,
        "date": headers.get("WARC-Date"),
        "warc_record_id": record_id or None,
        "content_type": content_type or None,
        "http_status": status,
        "warc_truncated": headers.get("WARC-Truncated"),
    }
    meta = {key: value for key, value in meta.items() if value is not None}
    if len(body) > MAX_DOCUMENT_BYTES:
        return DocumentError(doc_id, record_source, _size_message(body_size), "warc")
    return _document_from_bytes(
        body, doc_id, record_source, "warc", meta=meta, content_type=content_type
    )


def _split_http(block: bytes) -> tuple[int | None, dict[str, str], bytes] | None:
    """Status, lower-cased headers and body of an HTTP response block."""
    separator = block.find(b"\r\n\r\n")
    skip = 4
    if separator < 0:
        separator = block.find(b"\n\n")
        skip = 2
    if separator < 0 or not block.startswith(b"HTTP/"):
        return None
    lines = block[:separator].decode("latin-1").splitlines()
    status_parts = lines[0].split()
    status = int(status_parts[1]) if len(status_parts) > 1 and status_parts[1].isdigit() else None
    http_headers: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip():
            http_headers[key.strip().lower()] = value.strip()
    return status, http_headers, block[separator + skip :]


def _decode_http_body(body: bytes, http_headers: dict[str, str]) -> tuple[bytes, int | None]:
    """Undo HTTP transfer and content codings that a crawler stored verbatim.

    Returns the body and its size, None when inflation stopped one byte past the
    document limit (a compressed body can be a bomb: a few MB that inflate to
    gigabytes); the caller then refuses the record.
    """
    if "chunked" in http_headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    encoding = http_headers.get("content-encoding", "").lower().strip()
    try:
        if encoding in ("gzip", "x-gzip"):
            body = _inflate_up_to_limit(body, 16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            try:
                body = _inflate_up_to_limit(body, zlib.MAX_WBITS)
            except zlib.error:
                body = _inflate_up_to_limit(body, -zlib.MAX_WBITS)
        else:
            return body, len(body)
    except zlib.error:
        return body, len(body)  # stored already decoded despite the header (common in crawls)
    return body, len(body) if len(body) <= MAX_DOCUMENT_BYTES else None


def _inflate_up_to_limit(data: bytes, wbits: int) -> bytes:
    """``zlib.decompress`` that yields at most ``MAX_DOCUMENT_BYTES + 1`` bytes."""
    inflater = zlib.decompressobj(wbits)
    inflated = inflater.decompress(data, MAX_DOCUMENT_BYTES + 1)
    if len(inflated) <= MAX_DOCUMENT_BYTES and not inflater.eof:
        inflated += inflater.flush()
        if not inflater.eof:
            raise zlib.error("incomplete or truncated stream")
    return inflated


def _dechunk(body: bytes) -> bytes:
    """Decode HTTP/1.1 chunked transfer coding; returns the input unchanged if it is not chunked."""
    out = bytearray()
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return body
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return body
        if size == 0:
            return bytes(out)
        start = line_end + 2
        out += body[start : start + size]
        position = start + size + 2
