"""Every input kind, read from real files written by the tests (WARC via warcio)."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import sys
import zlib
from pathlib import Path

import pytest

from unspin.extraction import inputs
from unspin.extraction.inputs import (
    Document,
    DocumentError,
    decode_bytes,
    read_documents,
    sniff_format,
)

PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Quake hits town</title></head>"
    "<body><article><h1>Quake hits town</h1><p>An earthquake struck the town on Saturday, "
    "officials said.</p><p>Twenty-five people were injured.</p></article></body></html>"
)


def items(*names: str | Path, **options: str) -> list[Document | DocumentError]:
    return list(read_documents([str(name) for name in names], **options))


def write_warc(
    path: Path, records: list[tuple[str, str, bytes, list[tuple[str, str]]]], gzip_: bool
) -> None:
    """Records of (type, uri, payload, http headers) written with warcio, as a crawler would."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as output:
        writer = WARCWriter(output, gzip=gzip_)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for record_type, uri, payload, headers in records:
            http = (
                StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
                if record_type == "response"
                else None
            )
            if record_type == "request":
                http = StatusAndHeaders(
                    f"GET {uri} HTTP/1.1", [("Host", "example.com")], is_http_request=True
                )
            record = writer.create_warc_record(
                uri, record_type, payload=io.BytesIO(payload), http_headers=http
            )
            writer.write_record(record)


HTML_HEADERS = [("Content-Type", "text/html; charset=utf-8")]


@pytest.fixture
def warc_records() -> list[tuple[str, str, bytes, list[tuple[str, str]]]]:
    return [
        ("request", "https://farm.example/a", b"", []),
        ("response", "https://farm.example/a", PAGE.encode(), HTML_HEADERS),
        (
            "response",
            "https://farm.example/logo.png",
            b"\x89PNG\r\n\x1a\n\x00\x00binary",
            [("Content-Type", "image/png")],
        ),
        (
            "response",
            "https://farm.example/b",
            gzip.compress(PAGE.replace("Quake", "Storm").encode()),
            [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
        ),
        (
            "response",
            "https://farm.example/c.txt",
            "Plain café text.".encode("cp1252"),
            [("Content-Type", "text/plain; charset=windows-1252")],
        ),
    ]


@pytest.mark.parametrize("compressed", [True, False])
def test_warc_response_records_become_documents(tmp_path, warc_records, compressed):
    path = tmp_path / ("pages.warc.gz" if compressed else "pages.warc")
    write_warc(path, warc_records, gzip_=compressed)
    found = items(path)
    assert all(isinstance(item, Document) for item in found), found
    assert [doc.id for doc in found] == [
        "https://farm.example/a",
        "https://farm.example/b",
        "https://farm.example/c.txt",
    ]
    first, second, third = found
    assert (
        first.container == "warc"
        and first.format == "html"
        and "earthquake struck" in first.content
    )
    assert first.meta["url"] == "https://farm.example/a" and first.meta["http_status"] == 200
    assert first.meta["date"] and first.meta["warc_record_id"].startswith("<urn:uuid:")
    assert first.source == f"{path}#3"  # after warcinfo and request records
    assert "Storm hits town" in second.content  # Content-Encoding: gzip undone
    assert third.format == "text" and third.content == "Plain café text."


def test_truncated_warc_keeps_earlier_records_and_reports_the_cut(tmp_path, warc_records):
    whole = tmp_path / "whole.warc"
    write_warc(whole, warc_records, gzip_=False)
    data = whole.read_bytes()
    cut = tmp_path / "cut.warc"
    cut.write_bytes(data[: data.rindex(b"Plain caf")])
    found = items(cut)
    assert [doc.id for doc in found if isinstance(doc, Document)] == [
        "https://farm.example/a",
        "https://farm.example/b",
    ]
    errors = [item for item in found if isinstance(item, DocumentError)]
    assert len(errors) == 1 and "truncated" in errors[0].message


def test_truncated_warc_gz_reports_the_cut(tmp_path, warc_records):
    whole = tmp_path / "whole.warc.gz"
    write_warc(whole, warc_records, gzip_=True)
    data = whole.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[:-40])
    found = items(cut)
    assert [doc.id for doc in found if isinstance(doc, Document)] == [
        "https://farm.example/a",
        "https://farm.example/b",
    ]
    errors = [item for item in found if isinstance(item, DocumentError)]
    assert errors and "truncated" in errors[-1].message
    assert "\n" not in errors[-1].message


def test_warc_is_sniffed_not_trusted_by_extension(tmp_path, warc_records):
    path = tmp_path / "crawl.dat"
    write_warc(path, warc_records, gzip_=True)
    assert [doc.container for doc in items(path)] == ["warc"] * 3


def test_jsonl_lines_with_ids_meta_and_errors_in_order(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "First text.", "url": "https://x/a", "date": "2020-01-01"}),
        "",
        json.dumps({"id": 7, "text": PAGE}),
        "{not json",
        json.dumps({"id": "c", "body": "wrong field"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": "No id here."}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = items(path)
    assert [type(item).__name__ for item in found] == [
        "Document", "Document", "DocumentError", "DocumentError", "DocumentError", "Document",
    ]  # fmt: skip
    first, second, bad_json, missing, not_object, no_id = found
    assert first.id == "a" and first.content == "First text." and first.format == "text"
    assert first.meta == {"url": "https://x/a", "date": "2020-01-01"}
    assert first.container == "jsonl" and first.source == f"{path}:1"
    assert second.id == "7" and second.format == "html"
    assert bad_json.source == f"{path}:4" and bad_json.message.startswith("invalid JSON")
    assert missing.id == "c" and "'text'" in missing.message and "body" in missing.message
    assert not_object.message == "not a JSON object"
    assert no_id.id == f"{path}:7"


def test_jsonl_keys_can_be_renamed_and_gzip_is_sniffed(tmp_path):
    path = tmp_path / "docs.data"  # no telling extension: gzip, then JSON objects, are sniffed
    rows = [{"doc": f"d{i}", "html": f"Text number {i}."} for i in range(3)]
    path.write_bytes(gzip.compress("".join(json.dumps(row) + "\n" for row in rows).encode()))
    found = items(path, text_key="html", id_key="doc")
    assert [doc.id for doc in found] == ["d0", "d1", "d2"]
    assert [doc.content for doc in found] == ["Text number 0.", "Text number 1.", "Text number 2."]


def test_html_and_text_files_are_sniffed(tmp_path):
    html = tmp_path / "page.txt"
    html.write_text(PAGE, encoding="utf-8")
    text = tmp_path / "article.html"
    text.write_text("Just words.\n\nMore words, with <b>one</b> tag.", encoding="utf-8")
    page, plain = items(html, text)
    assert (page.format, page.container, page.id) == ("html", "file", str(html))
    assert plain.format == "text"


def test_folders_are_walked_sorted_with_known_suffixes(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.html").write_text(PAGE)
    (tmp_path / "a.txt").write_text("Text A.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("hidden")
    found = items(tmp_path)
    assert [Path(doc.id).relative_to(tmp_path).as_posix() for doc in found] == ["a.txt", "b/2.html"]


def test_stdin(monkeypatch):
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "s", "text": "From a pipe."}\n'))
    )
    (doc,) = items("-")
    assert (doc.id, doc.container, doc.content) == ("s", "jsonl", "From a pipe.")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PAGE.encode())))
    (doc,) = items("-")
    assert (doc.id, doc.container, doc.format, doc.source) == ("stdin", "stdin", "html", "<stdin>")


def test_bad_inputs_are_one_line_errors_and_the_rest_goes_on(tmp_path):
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(bytes(range(256)) * 40)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\n\t")
    good = tmp_path / "good.txt"
    good.write_text("Fine text.")
    found = items(binary, tmp_path / "missing.html", empty, blank, good)
    messages = [item.message for item in found if isinstance(item, DocumentError)]
    assert messages == [
        "binary data, not text, HTML, WARC or JSONL",
        "no such file or directory",
        "empty document",
        "empty document",
    ]
    assert isinstance(found[-1], Document) and found[-1].content == "Fine text."


def test_fifty_megabyte_single_line_is_refused_clearly(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as output:
        chunk = b"word " * 200_000
        for _ in range(50):
            output.write(chunk)
    (error,) = items(path)
    assert isinstance(error, DocumentError)
    assert error.message.startswith("document too large (50.0 MB")


def test_oversized_jsonl_line_fails_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_DOCUMENT_BYTES", 1000)
    path = tmp_path / "docs.jsonl"
    path.write_text(
        json.dumps({"id": "big", "text": "x " * 2000})
        + "\n"
        + json.dumps({"id": "ok", "text": "Small."})
        + "\n"
    )
    big, ok = items(path)
    assert isinstance(big, DocumentError) and "too large" in big.message
    assert ok.content == "Small."


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Café déjà vu — “quoted”".encode(), "Café déjà vu — “quoted”"),
        ("Café déjà vu, naïve façade".encode("cp1252"), "Café déjà vu, naïve façade"),
        ("Überraschung für Straße".encode("utf-16"), "Überraschung für Straße"),
        (b"<meta charset='iso-8859-1'><p>Caf\xe9</p>", "<meta charset='iso-8859-1'><p>Café</p>"),
    ],
)
def test_decoding_unknown_encodings(data, expected):
    assert decode_bytes(data) == expected


def test_invalid_utf8_never_crashes(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"Valid start. " + b"\xff\xfe\xfa broken \xc3\x28 bytes." + b" Ende.")
    (doc,) = items(path)
    assert isinstance(doc, Document) and "Valid start." in doc.content and "Ende." in doc.content


def test_sniff_format():
    assert sniff_format(PAGE) == "html"
    assert sniff_format("<p>one</p><p>two</p><div>three</div>") == "html"
    assert sniff_format("A story about the <title> tag, in prose.") == "text"
    assert sniff_format("plain", content_type="text/html") == "html"


def test_parquet(tmp_path):
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    path = tmp_path / "docs.parquet"
    parquet.write_table(
        pyarrow.table({"id": ["p1", "p2"], "text": ["One.", PAGE], "lang": ["en", "en"]}), path
    )
    first, second = items(path)
    assert (first.id, first.container, first.content, first.meta) == (
        "p1",
        "parquet",
        "One.",
        {"lang": "en"},
    )
    assert second.format == "html" and second.source == f"{path}:2"


def test_http_chunked_body_is_decoded():
    body = b"5\r\nHello\r\n7\r\n, world\r\n0\r\n\r\n"
    assert inputs._decode_http_body(body, {"transfer-encoding": "chunked"}) == (
        b"Hello, world",
        12,
    )
    deflated = zlib.compress(b"deflated page")
    assert inputs._decode_http_body(deflated, {"content-encoding": "deflate"}) == (
        b"deflated page",
        13,
    )
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = raw_deflate.compress(b"raw deflate") + raw_deflate.flush()
    assert inputs._decode_http_body(raw, {"content-encoding": "deflate"}) == (b"raw deflate", 11)
    not_encoded = b"<p>stored decoded</p>"
    assert inputs._decode_http_body(not_encoded, {"content-encoding": "gzip"}) == (
        not_encoded,
        len(not_encoded),
    )


# ------------------------------------------------------------------ limits hold while reading

MB = 1_000_000


def write_jsonl_with_a_huge_middle_line(path: Path, huge_size: int, compressed: bool) -> None:
    """Small record, a record whose text is `huge_size` bytes (written in 1 MB pieces), small."""
    opener = gzip.open if compressed else open
    with opener(path, "wb") as output:
        output.write(json.dumps({"id": "before", "text": "Before the huge line."}).encode())
        output.write(b'\n{"id": "huge", "text": "')
        for _ in range(huge_size // MB):
            output.write(b"spun word " * (MB // 10))
        output.write(b'"}\n')
        output.write(json.dumps({"id": "after", "text": "After the huge line."}).encode() + b"\n")


@pytest.mark.parametrize("compressed", [False, True])
def test_oversized_middle_jsonl_line_is_refused_and_the_next_lines_are_read(tmp_path, compressed):
    path = tmp_path / ("docs.jsonl.gz" if compressed else "docs.jsonl")
    write_jsonl_with_a_huge_middle_line(path, 12 * MB, compressed)
    before, huge, after = items(path)
    assert isinstance(before, Document) and before.content == "Before the huge line."
    assert isinstance(huge, DocumentError) and huge.source == f"{path}:2"
    assert huge.message == "document too large (12.0 MB; the limit is 10 MB per document)"
    assert isinstance(after, Document) and after.content == "After the huge line."
    assert after.source == f"{path}:3"


def test_jsonl_line_at_the_limit_is_accepted_and_one_byte_more_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_DOCUMENT_BYTES", 100)
    at_limit = '{"text": "' + "x" * 88 + '"}'
    assert len(at_limit) == 100
    over = '{"text": "' + "x" * 89 + '"}'
    path = tmp_path / "edge.jsonl"
    path.write_text(f"{at_limit}\n{over}\n{at_limit}")  # the last line has no newline
    first, second, third = items(path)
    assert isinstance(first, Document) and first.content == "x" * 88
    assert isinstance(second, DocumentError) and "too large" in second.message
    assert isinstance(third, Document) and third.source == f"{path}:3"


def test_gzip_jsonl_long_lines_and_members_are_read_exactly(tmp_path):
    """A 9.5 MB line (just under the limit) and a line cut across two gzip members come out
    byte for byte: the inflater hands out bounded pieces (linear time) and loses none."""
    text = "".join(f"word{number} " for number in range(1_000_000))[:9_500_000]
    records = [{"id": "long", "text": text}] + [
        {"id": f"r{n}", "text": f"Row {n}."} for n in range(3000)
    ]
    data = "".join(json.dumps(record) + "\n" for record in records).encode()
    cut = len(data) - 1000  # inside the last lines
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(data[:cut]) + gzip.compress(data[cut:]) + b"\0" * 512)
    found = items(path)
    assert all(isinstance(item, Document) for item in found)
    assert [doc.id for doc in found] == [record["id"] for record in records]
    assert found[0].content == text
    assert [doc.content for doc in found[1:]] == [record["text"] for record in records[1:]]


def read_stdin_pipe(monkeypatch, chunks) -> tuple[list[Document | DocumentError], int]:
    """Read documents from a real pipe on stdin that a thread fills from `chunks`.

    Returns what was read and how many bytes the writer got into the pipe before the reader
    closed it: a reader that stops early leaves the rest of a huge input unwritten.
    """
    import os
    import threading

    read_end, write_end = os.pipe()
    written = 0

    def feed() -> None:
        nonlocal written
        with open(write_end, "wb", buffering=0) as output:
            try:
                for chunk in chunks:
                    view = memoryview(chunk)
                    while view:
                        count = output.write(view)
                        written += count
                        view = view[count:]
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=feed)
    writer.start()
    stdin = open(read_end, encoding="utf-8")  # noqa: SIM115 - closed below, to stop the writer
    monkeypatch.setattr(sys, "stdin", stdin)
    try:
        found = items("-")
    finally:
        stdin.close()
        writer.join(timeout=60)
    assert not writer.is_alive()
    return found, written


@pytest.mark.parametrize(
    ("start", "piece"),
    [
        (b"", b"Spun words in a plain text dump. "),
        (b"<!doctype html><html><body><article>", b"<p>Spun words in a paragraph.</p>"),
    ],
)
def test_oversized_text_or_html_on_stdin_is_refused_without_reading_on(monkeypatch, start, piece):
    """200 MB on a pipe: reading stops just past the 10 MB limit, the writer never gets the rest
    into the pipe."""
    block = piece * (MB // len(piece))
    chunks = itertools.chain([start], itertools.repeat(block, 200))
    (error,), written = read_stdin_pipe(monkeypatch, chunks)
    assert isinstance(error, DocumentError) and error.container == "stdin"
    assert error.message == (
        "document too large (over the limit of 10 MB per document; the rest was not read)"
    )
    assert written < 12 * MB


def gzip_bomb_members(inflated: int, member: int = 16 << 20) -> tuple[bytes, int]:
    """A gzip of `inflated` bytes of one letter, as concatenated members (about 1000:1).

    Returns one member and how many times to repeat it: the bomb is never held whole."""
    return gzip.compress(b"a" * member, compresslevel=9), inflated // member


def test_gzip_bomb_is_refused_as_soon_as_it_inflates_past_the_limit(monkeypatch):
    """A 2 MB gzip that inflates to 2 GiB: refused after inflating 10 MB, so well under 1 MB of
    the compressed stream is ever read (the writer is still blocked on the pipe)."""
    member, count = gzip_bomb_members(2 << 30)
    assert len(member) * count < 3 * MB
    (error,), written = read_stdin_pipe(monkeypatch, itertools.repeat(member, count))
    assert isinstance(error, DocumentError)
    assert error.message.startswith("document too large (over the limit of 10 MB")
    assert written < MB


def test_gzip_bomb_in_a_file_is_refused_too(tmp_path):
    member, count = gzip_bomb_members(2 << 30)
    path = tmp_path / "bomb.txt.gz"
    with path.open("wb") as output:
        for _ in range(count):
            output.write(member)
    (error,) = items(path)
    assert isinstance(error, DocumentError) and "too large" in error.message


def test_oversized_warc_bodies_are_refused_and_the_next_records_read(tmp_path, monkeypatch):
    """Bodies over the limit: read and measured (up to 4x the limit), skipped unread (beyond),
    and a gzip Content-Encoding bomb inflated only just past the limit."""
    monkeypatch.setattr(inputs, "MAX_DOCUMENT_BYTES", 200_000)
    small = b"<html><body><p>" + b"Small page. " * 20 + b"</p></body></html>"
    bomb = gzip.compress(b"<p>" + b"a" * 50_000_000, compresslevel=9)  # 50 KB -> 50 MB
    records = [
        ("response", "https://farm.example/first", small, HTML_HEADERS),
        ("response", "https://farm.example/over", b"<p>" + b"x" * 300_000, HTML_HEADERS),
        ("resource", "https://farm.example/far-over.txt", b"y" * 1_000_000, []),
        (
            "response",
            "https://farm.example/bomb",
            bomb,
            [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
        ),
        ("response", "https://farm.example/last", small, HTML_HEADERS),
    ]
    path = tmp_path / "big.warc.gz"
    write_warc(path, records, gzip_=True)
    found = items(path)
    assert [item.id for item in found] == [record[1] for record in records]
    first, over, far_over, bombed, last = found
    assert isinstance(first, Document) and isinstance(last, Document)
    assert "Small page." in last.content
    assert all(isinstance(item, DocumentError) for item in (over, far_over, bombed))
    assert over.message == "document too large (0.3 MB; the limit is 0 MB per document)"
    assert far_over.message.startswith("document too large (1.0 MB;")
    assert bombed.message.startswith("document too large (over the limit")


# Runs the CLI and feeds it; a fresh small process because Linux counts the RSS of the process
# that forked (vfork) the CLI into the CLI's ru_maxrss: measured from pytest itself, which holds
# an engine after the server tests, a 37 MB run reads as 860 MB.
_FEED_THE_CLI = r"""
import json, os, subprocess, sys
out_path, line_size = sys.argv[1], int(sys.argv[2])
with open(out_path, "wb") as out:
    process = subprocess.Popen(
        [sys.executable, "-m", "unspin", "clean", "--json", "-"],
        stdin=subprocess.PIPE, stdout=out, stderr=subprocess.DEVNULL,
    )
    block = b"spun words " * 100_000
    process.stdin.write(b'{"id": "huge", "text": "')
    for _ in range(line_size // len(block)):
        process.stdin.write(block)
    process.stdin.write(b'"}\n{"id": "small", "text": "A small record after the huge one."}\n')
    process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "peak_rss_kb": usage.ru_maxrss}))
"""


@pytest.mark.slow
def test_two_gib_jsonl_line_on_stdin_keeps_the_cli_under_300_mb(tmp_path):
    """The real CLI in a subprocess, fed a 2 GiB line generated on the fly, then a small record:
    the huge one is reported, the small one cleaned, and peak RSS (the CLI's ru_maxrss) stays
    under 300 MB."""
    import subprocess

    output = tmp_path / "out.jsonl"
    driver = subprocess.run(
        [sys.executable, "-c", _FEED_THE_CLI, str(output), str(2 << 30)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    run = json.loads(driver.stdout)
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [record["id"] for record in records] == ["stdin:1", "small"]
    assert records[0]["error"].startswith("document too large (2147.2 MB")
    assert "A small record" in records[1]["text"]
    assert run["exit"] == 2  # a document failed (README: exit codes)
    assert run["peak_rss_kb"] * 1024 < 300 * MB, f"peak RSS {run['peak_rss_kb'] / 1024:.0f} MB"
