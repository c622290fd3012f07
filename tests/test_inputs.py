"""Every input kind, read from real files written by the tests (WARC via warcio)."""

from __future__ import annotations

import gzip
import io
import json
import sys
import zlib
from pathlib import Path

import pytest

from unspin import inputs
from unspin.inputs import Document, DocumentError, decode_bytes, read_documents, sniff_format

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
    assert inputs._decode_http_body(body, {"transfer-encoding": "chunked"}) == b"Hello, world"
    deflated = zlib.compress(b"deflated page")
    assert inputs._decode_http_body(deflated, {"content-encoding": "deflate"}) == b"deflated page"
