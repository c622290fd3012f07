"""The web service over real HTTP on 127.0.0.1: endpoints, schemas equal to the CLI's, limits.

Every test talks to a real uvicorn server through a real socket; the engine is the real one
without the causal LM (`model=None`, n-gram only) so the module stays fast. One test, marked
`model` and `slow`, starts the app with the default engine.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from unspin.server.app import create_app, running_server  # noqa: E402

SPUN_TEXT = (
    "Counterfeit consciousness helps the deputy International Minister\n\n"
    "The deputy International Minister mentioned the US positions got here as no shock. "
    "The Secretary Common said the navy {hardware} would be moved next month, and that "
    "counterfeit consciousness and profound learning were used to plan the route."
)

SPUN_HTML = f"""<!doctype html>
<html><head><title>Counterfeit consciousness helps the deputy International Minister</title></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Counterfeit consciousness helps the deputy International Minister</h1>
{"".join(f"<p>{p}</p>" for p in SPUN_TEXT.split(chr(10) + chr(10))[1:])}
<p>Officials said the plan would be reviewed by the committee on Tuesday in the capital.</p>
</article><footer>Supply hyperlink</footer></body></html>"""

ORIGINAL_TEXT = (
    "Artificial intelligence helps the deputy Foreign Minister\n\n"
    "The deputy Foreign Minister said the US positions came as no surprise. "
    "The Secretary General said the navy hardware would be moved next month, and that "
    "artificial intelligence and deep learning were used to plan the route."
)


@pytest.fixture(scope="module")
def engine():
    from unspin.engine import Engine

    return Engine(model=None)


@pytest.fixture(scope="module")
def server(engine):
    with running_server(create_app(engine=engine)) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=120) as http:
        yield http


@pytest.fixture(scope="module")
def index_path(tmp_path_factory, wikinews_articles):
    """A real SQLite source index: the hand-made original plus 30 Wikinews articles."""
    from unspin.tracing.index import SourceIndex

    path = tmp_path_factory.mktemp("index") / "sources.db"
    originals = [
        {
            "id": "hand/original",
            "title": ORIGINAL_TEXT.split("\n\n")[0],
            "text": ORIGINAL_TEXT.split("\n\n", 1)[1],
            "url": "https://example.org/original",
        }
    ]
    originals += [
        {"id": a["id"], "title": a["title"], "text": a["text"], "url": a.get("url")}
        for a in wikinews_articles[:30]
    ]
    with SourceIndex(path) as index:
        index.add(originals)
    return path


# ------------------------------------------------------------------ service basics


def test_listening_socket_lets_asyncio_disable_nagle():
    """Regression: a socket made without IPPROTO_TCP made asyncio skip TCP_NODELAY on accepted
    connections, and every kept-alive request waited ~40 ms for a delayed ACK."""
    import socket

    from unspin.server.app import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        sock.listen()
        with socket.create_connection(sock.getsockname()) as _client:
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP  # what asyncio checks
    finally:
        sock.close()


def test_health_reports_configuration(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["engine"] is True
    assert body["index"] is False
    assert body["busy"] == 0
    assert body["max_concurrent"] >= 1


def test_page_is_served_with_a_strict_content_security_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["server-timing"].startswith("app;dur=")
    page = response.text
    assert '<script src="/static/app.js" defer></script>' in page
    # No inline script or event-handler attributes: the CSP would block them anyway.
    assert page.count("<script") == 1
    assert " onclick=" not in page and " onload=" not in page
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200


def test_page_script_never_uses_innerhtml():
    source = (Path(__file__).parent.parent / "unspin/server/static/app.js").read_text()
    script = "\n".join(line for line in source.splitlines() if not line.strip().startswith("//"))
    assert "textContent" in script
    for dangerous in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert dangerous not in script


def test_openapi_lists_every_endpoint_and_docs_load_offline(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/clean", "/api/detect", "/api/restore", "/api/trace", "/api/analyze"):
        assert "post" in schema["paths"][path]
    assert "/health" in schema["paths"]
    detect_ok = schema["paths"]["/api/detect"]["post"]["responses"]["200"]
    assert detect_ok["content"]["application/json"]["schema"]["$ref"].endswith("/RecordOut")
    span = schema["components"]["schemas"]["SpanOut"]
    assert {"start", "end", "suggestion", "confidence", "evidence"} <= set(span["properties"])
    analyze = schema["paths"]["/api/analyze"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(analyze)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    if "/docs-assets/" in docs.text:  # swagger-ui-bundle installed: nothing from a CDN
        assert "cdn.jsdelivr" not in docs.text
        assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


# ------------------------------------------------------------------ endpoints and schemas


def _cli_json(command: str, page: Path, *extra: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "unspin", command, "--json", *extra, str(page)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode in (0, 1), completed.stderr
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    return json.loads(lines[0])


@pytest.mark.slow  # the CLI loads its own engine in a subprocess
def test_clean_equals_the_cli_json(client, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(SPUN_HTML, encoding="utf-8")
    served = client.post("/api/clean", json={"html": SPUN_HTML, "id": "page.html"})
    assert served.status_code == 200
    from_cli = _cli_json("clean", page)
    served_body = served.json()
    assert set(served_body) == set(from_cli)
    assert served_body["text"] == from_cli["text"]
    for key in ("title", "title_variants", "removed", "format"):
        assert served_body["clean"][key] == from_cli["clean"][key]
    assert "Supply hyperlink" not in served_body["text"]


def test_detect_returns_spans_at_offsets_into_the_article(client):
    from unspin.extraction import extract

    response = client.post("/api/detect", json={"text": SPUN_TEXT, "format": "text"})
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == extract(SPUN_TEXT, format="text").full_text
    assert body["clean"] is body["restoration"] is body["trace"] is body["error"] is None
    detection = body["detection"]
    assert {"spun", "score", "spans", "family"} <= set(detection)
    assert 0.0 <= detection["score"] <= 1.0
    text = body["text"]
    assert detection["spans"], "the hand-spun passage has obvious substitutions"
    for span in detection["spans"]:
        assert text[span["start"] : span["end"]] == span["text"]
        assert {"suggestion", "confidence", "evidence"} <= set(span)


@pytest.mark.slow  # the CLI loads its own engine in a subprocess
def test_detect_schema_equals_the_cli_json(client, tmp_path):
    page = tmp_path / "spun.txt"
    page.write_text(SPUN_TEXT, encoding="utf-8")
    from_cli = _cli_json("detect", page, "--model", "none")
    served = client.post("/api/detect", json={"text": SPUN_TEXT, "id": from_cli.get("id")})
    assert served.status_code == 200
    body = served.json()
    assert set(body) == set(from_cli)
    assert body["detection"] == from_cli["detection"]


def test_restore_edits_rebuild_the_restored_text(client):
    from unspin.extraction import extract

    response = client.post("/api/restore", json={"text": SPUN_TEXT, "format": "text"})
    assert response.status_code == 200
    record = response.json()
    body = record["restoration"]
    text = extract(SPUN_TEXT, format="text").full_text
    assert record["text"] == text and record["detection"] is None
    rebuilt, position = [], 0
    for edit in sorted(body["edits"], key=lambda edit: edit["start"]):
        assert text[edit["start"] : edit["end"]] == edit["before"]
        rebuilt += [text[position : edit["start"]], edit["after"]]
        position = edit["end"]
    rebuilt.append(text[position:])
    assert "".join(rebuilt) == body["text"]
    assert body["edits"], "the hand-spun passage has obvious substitutions"


@pytest.mark.slow  # the CLI loads its own engine in a subprocess
def test_restore_schema_equals_the_cli_json(client, tmp_path):
    page = tmp_path / "spun.txt"
    page.write_text(SPUN_TEXT, encoding="utf-8")
    from_cli = _cli_json("restore", page, "--model", "none")
    served = client.post("/api/restore", json={"text": SPUN_TEXT, "id": from_cli.get("id")})
    assert served.status_code == 200
    body = served.json()
    assert set(body) == set(from_cli)
    assert body["restoration"] == from_cli["restoration"]


def test_trace_without_an_index_says_how_to_configure_one(client):
    response = client.post("/api/trace", json={"text": SPUN_TEXT})
    assert response.status_code == 404
    assert "--db" in response.json()["detail"]


@pytest.mark.slow  # the CLI loads its own engine in a subprocess
def test_trace_and_analyze_with_an_index(engine, index_path, tmp_path):
    app = create_app(engine=engine, db=index_path)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        assert http.get("/health").json()["index"] is True
        traced = http.post("/api/trace", json={"text": SPUN_TEXT, "format": "text"})
        assert traced.status_code == 200
        matches = traced.json()["trace"]["matches"]
        assert matches and matches[0]["source_id"] == "hand/original"
        page = tmp_path / "spun.txt"
        page.write_text(SPUN_TEXT, encoding="utf-8")
        from_cli = _cli_json("trace", page, "--db", str(index_path))
        served = http.post("/api/trace", json={"text": SPUN_TEXT, "id": from_cli["id"]}).json()
        assert served["source"] is None  # sent to the API: no file it came from
        assert served == {**from_cli, "source": None}
        analyzed = http.post("/api/analyze", json={"text": SPUN_TEXT, "format": "text"})
    assert analyzed.status_code == 200
    body = analyzed.json()
    assert body["trace"]["matches"][0]["source_id"] == "hand/original"
    source = body["sources"]["hand/original"]
    assert source["title"].startswith("Artificial intelligence")
    assert source["url"] == "https://example.org/original"
    for passage in body["trace"]["matches"][0]["passages"]:
        assert 0 <= passage["page_start"] < passage["page_end"] <= len(body["text"])
        assert 0 <= passage["source_start"] < passage["source_end"] <= len(source["text"])


def test_analyze_takes_json_and_gives_every_view(client):
    response = client.post("/api/analyze", json={"text": SPUN_TEXT, "format": "text"})
    assert response.status_code == 200
    body = response.json()
    assert body["text"].startswith("Counterfeit consciousness helps")
    assert body["detection"]["spans"]
    assert body["restoration"]["edits"]
    assert body["trace"] is None and body["sources"] == {}
    assert body["clean"]["title"] and body["error"] is None


def test_analyze_takes_an_uploaded_file(client):
    response = client.post(
        "/api/analyze",
        files={"file": ("spun.html", SPUN_HTML.encode("utf-8"), "text/html")},
        data={"format": "auto"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "spun.html"
    assert "Officials said the plan" in body["text"]
    assert body["clean"]["format"] == "html"


def test_analyze_upload_in_an_unknown_encoding_is_decoded(client):
    page = SPUN_HTML.replace("Officials", "Offíciáls").encode("latin-1")
    response = client.post("/api/analyze", files={"file": ("latin.html", page, "text/html")})
    assert response.status_code == 200
    assert "Offíciáls" in response.json()["text"]


# ------------------------------------------------------------------ bad input: clear one-line errors


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"text": "a", "html": "<p>b</p>"}, "exactly one"),
        ({}, "exactly one"),
        ({"text": "fine", "format": "pdf"}, "format"),
        ({"url": "http://127.0.0.1/"}, "url"),
    ],
)
def test_invalid_requests_get_a_readable_422(client, payload, fragment):
    response = client.post("/api/detect", json=payload)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    assert fragment in detail


def test_empty_and_binary_documents_get_a_422(client):
    empty = client.post("/api/clean", json={"text": "   "})
    assert empty.status_code == 422
    binary = client.post(
        "/api/analyze",
        files={"file": ("blob.bin", bytes(range(256)) * 64, "application/octet-stream")},
    )
    assert binary.status_code == 422
    assert "\n" not in binary.json()["detail"]


def test_malformed_json_and_other_content_types(client):
    broken = client.post(
        "/api/analyze", content=b'{"text": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert "invalid JSON" in broken.json()["detail"]
    other = client.post("/api/analyze", content=b"hello", headers={"content-type": "text/plain"})
    assert other.status_code == 415
    nothing = client.post("/api/analyze", data={"format": "auto"}, files={"x": ("", b"")})
    assert nothing.status_code == 422


ENDPOINTS = ["/api/clean", "/api/detect", "/api/restore", "/api/trace", "/api/analyze"]


def assert_readable_4xx(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # was a RecursionError: 500
        b'{"text": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}",
        b"[" * 1_000_000,  # never closed
        b'{"text": "\\ud800 a lone surrogate cannot be written back as UTF-8"}',
        b'{"text": "invalid UTF-8 \xff\xfe here"}',
        b'{"text": "cut off',
        b"",
    ],
    ids=["deep-array", "deep-object", "unclosed", "lone-surrogate", "bad-utf8", "cut", "empty"],
)
def test_malformed_and_deep_json_gets_a_422_detail_on_every_endpoint(client, endpoint, body):
    response = client.post(endpoint, content=body, headers={"content-type": "application/json"})
    assert_readable_4xx(response)
    assert response.status_code == 422
    if body:
        assert response.json()["detail"].startswith("invalid JSON: ")


@pytest.mark.parametrize("endpoint", ["/api/detect", "/api/trace"])
def test_an_unknown_key_with_a_newline_is_named_on_one_line(client, endpoint):
    # Found by the hypothesis test below: the 422 detail quoted a key holding a newline.
    body = {"text": "A short text.", "a\nb": 1, "k" * 500: 2}
    response = client.post(endpoint, json=body)
    assert_readable_4xx(response)
    detail = response.json()["detail"]
    assert '"a\\nb": Extra inputs are not permitted' in detail
    assert len(detail) < 300


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)


def _nested(depth: int, opener: str, closer: str, closed: bool) -> bytes:
    return ('{"text": ' + opener * depth + closer * (depth if closed else 0) + "}").encode()


_json_bodies = st.one_of(
    # documents with the right keys and random values (sometimes valid: real work is done)
    st.fixed_dictionaries(
        {},
        optional={
            "text": st.text(max_size=200) | _surrogates | _json_values,
            "html": st.text(max_size=200) | _json_values,
            "format": st.sampled_from(["auto", "html", "text", "pdf"]) | _json_values,
            "id": st.text(max_size=20) | _json_values,
            "url": st.just("http://127.0.0.1/"),
        },
    ).map(lambda document: json.dumps(document).encode()),
    _json_values.map(lambda value: json.dumps(value).encode()),
    # nesting from shallow to past the 2 MiB body limit (413)
    st.builds(
        _nested,
        st.integers(1, 1_100_000),
        st.sampled_from(["[", '{"a": ']),
        st.sampled_from(["]", "}"]),
        st.booleans(),
    ),
    st.binary(max_size=300),
)
_content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        None,
    ]
)


@pytest.mark.slow  # 150 examples, some of them real analyses: minutes on a loaded machine
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(endpoint=st.sampled_from(ENDPOINTS), body=_json_bodies, content_type=_content_types)
def test_no_request_body_gets_a_5xx(client, endpoint, body, content_type):
    """Random, deep and oversized JSON and random bytes, under any content type, to every
    endpoint of the real app over HTTP: never a 5xx, and every 4xx is a JSON `detail`."""
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(endpoint, content=body, headers=headers)
    if response.status_code >= 400:
        assert_readable_4xx(response)
    else:
        assert response.status_code == 200 and "id" in response.json()


# ------------------------------------------------------------------ limits by design


@pytest.fixture(scope="module")
def small_server(engine):
    with running_server(create_app(engine=engine, max_body=4096)) as url:
        yield url


def test_body_over_the_cap_gets_413_from_content_length(small_server):
    with httpx.Client(base_url=small_server) as http:
        response = http.post("/api/detect", json={"text": "word " * 2000})
        assert response.status_code == 413
        assert "4096" in response.json()["detail"]
        assert http.post("/api/detect", json={"text": SPUN_TEXT}).status_code == 200


def test_chunked_body_without_content_length_is_cut_at_the_cap(small_server):
    sent = []

    def chunks():
        yield b'{"text": "'
        for _ in range(200):
            sent.append(1)
            yield b"spun words " * 10
        yield b'"}'

    with httpx.Client(base_url=small_server) as http:
        for endpoint in ("/api/detect", "/api/analyze"):
            request = http.build_request(
                "POST", endpoint, content=chunks(), headers={"content-type": "application/json"}
            )
            assert "content-length" not in request.headers
            assert request.headers["transfer-encoding"] == "chunked"
            response = http.send(request)
            assert response.status_code == 413


def test_oversize_bodies_always_get_their_413_never_a_reset_or_a_hang(small_server):
    """Regressions: answering before the client finished sending made it see a connection reset
    instead of the 413; and once the whole (chunked) body was in, draining waited for a
    disconnect that never came, so the client timed out."""
    whole = b'{"text": "' + b"spun words " * 1000 + b'"}'

    def one_chunk():
        yield whole

    with httpx.Client(base_url=small_server, timeout=3) as http:
        for _ in range(15):
            declared = http.post(
                "/api/detect", content=whole * 50, headers={"content-type": "application/json"}
            )
            assert declared.status_code == 413
            chunked = http.post(
                "/api/detect", content=one_chunk(), headers={"content-type": "application/json"}
            )
            assert chunked.status_code == 413


def test_upload_over_the_cap_gets_413(small_server):
    with httpx.Client(base_url=small_server) as http:
        response = http.post(
            "/api/analyze", files={"file": ("big.html", b"<p>spun words</p>" * 1000, "text/html")}
        )
    assert response.status_code == 413


LONG_DOCUMENT = 48_000  # characters: a request that keeps the work slot busy for a while


def _long_document(size: int) -> str:
    """A long spun text whose paragraphs all differ (numbers), so no cache makes it quick.

    48,000 characters take about 1.5 s warm.  3,000 (0.1 s), then 12,000 (0.4 s once the
    n-gram hot path was compiled) became too quick for the 429 test: a follow-up request was
    served instead of refused."""
    body = SPUN_TEXT.split("\n\n", 1)[1]
    paragraphs, number = [], 0
    while sum(map(len, paragraphs)) < size:
        number += 1
        paragraphs.append(f"In report {number}, {number * 7} officials noted: {body}")
    return "\n\n".join(paragraphs)


def test_busy_server_answers_429_at_once_and_recovers(engine):
    """One work slot, a document that takes a while: the requests beside it are refused."""
    long_text = _long_document(LONG_DOCUMENT)
    app = create_app(engine=engine, max_concurrent=1, timeout_s=300)

    async def burst(url: str) -> list[tuple[int, float]]:
        async with httpx.AsyncClient(base_url=url, timeout=300) as http:

            async def one(delay: float) -> tuple[int, float]:
                await asyncio.sleep(delay)
                started = time.perf_counter()
                response = await http.post("/api/detect", json={"text": long_text})
                return response.status_code, time.perf_counter() - started

            return await asyncio.gather(one(0), *(one(0.05) for _ in range(4)))

    with running_server(app) as url:
        results = asyncio.run(burst(url))
        statuses = [status for status, _ in results]
        assert statuses[0] == 200
        assert statuses[1:] == [429] * 4
        slowest_refusal = max(seconds for status, seconds in results if status == 429)
        assert slowest_refusal < results[0][1]  # refused at once, not queued behind the work
        with httpx.Client(base_url=url) as http:
            assert http.get("/health").json()["busy"] == 0
            assert http.post("/api/detect", json={"text": SPUN_TEXT}).status_code == 200


def test_slow_document_gets_504_and_keeps_its_slot_until_done(engine):
    long_text = _long_document(LONG_DOCUMENT)
    app = create_app(engine=engine, max_concurrent=1, timeout_s=0.05)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=300) as http:
        response = http.post("/api/detect", json={"text": long_text})
        assert response.status_code == 504
        assert "time limit" in response.json()["detail"]
        # The abandoned work still runs: its slot is held, so the next request is refused.
        assert http.get("/health").json()["busy"] == 1
        assert http.post("/api/detect", json={"text": long_text}).status_code == 429
        deadline = time.monotonic() + 120
        while http.get("/health").json()["busy"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert http.get("/health").json()["busy"] == 0


# ------------------------------------------------------------------ the server never fetches


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<p>fetched</p>")

    def log_message(self, *args: object) -> None:
        pass


def test_server_never_fetches_urls_from_a_page(client):
    recorder = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{recorder.server_address[1]}"
        page = (
            f'<html><head><link rel="stylesheet" href="{base}/style.css">'
            f'<meta http-equiv="refresh" content="0; url={base}/refresh"></head>'
            f"<body><article><p>The deputy International Minister mentioned it.</p>"
            f'<img src="{base}/pixel.gif"><iframe src="{base}/frame"></iframe>'
            f"<p>Read more at {base}/more and more.</p></article></body></html>"
        )
        assert client.post("/api/analyze", json={"html": page}).status_code == 200
        assert client.post("/api/analyze", json={"text": base + "/article"}).status_code in (
            200,
            422,
        )
        assert client.post("/api/detect", json={"url": base + "/x"}).status_code == 422
        time.sleep(0.2)
        assert _Recorder.hits == []
    finally:
        recorder.shutdown()
        recorder.server_close()


# ------------------------------------------------------------------ the CLI


def test_serve_cli_refuses_a_missing_index_in_one_line(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "unspin", "serve", "--db", str(tmp_path / "none.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "none.db" in completed.stderr and "Traceback" not in completed.stderr


def test_serve_cli_refuses_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [sys.executable, "-m", "unspin", "serve", "--port", str(port), "--model", "none"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.slow
def test_serve_cli_starts_answers_and_stops(tmp_path):
    import re
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "unspin", "serve", "--port", "0", "--model", "none"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 180
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            found = re.search(r"serving on (http://\S+)/ ", line)
            url = found.group(1) if found else None
        assert url, "the server did not report its address"
        # Two worker processes (the default on two cores) build their engines first.
        with httpx.Client(base_url=url, timeout=300) as http:
            assert http.get("/health").json()["status"] == "ok"
            assert http.post("/api/detect", json={"text": SPUN_TEXT}).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)  # what a service manager sends; Ctrl+C is SIGINT
        assert process.wait(timeout=30) == 0
    assert "server stopped" in process.stderr.read()


@pytest.mark.slow
@pytest.mark.model
def test_default_engine_loads_once_at_start_up():
    app = create_app()  # the default engine, with the causal LM, built in the lifespan
    with running_server(app) as url, httpx.Client(base_url=url, timeout=300) as http:
        assert http.get("/health").json()["engine"] is True
        first = http.post("/api/detect", json={"text": SPUN_TEXT, "format": "text"})
        second = http.post("/api/restore", json={"text": SPUN_TEXT, "format": "text"})
    assert first.status_code == 200 and second.status_code == 200
    assert first.json()["detection"]["spans"]
    assert second.json()["restoration"]["text"] != SPUN_TEXT


@pytest.mark.slow
def test_worker_processes_serve_two_documents_at_once(engine):
    """`processes=True`: each worker process builds its own engine from the factory and two
    documents are analysed at once, each in its own process, with the same results as the
    one-engine server."""
    import functools

    from unspin.engine import Engine

    factory = functools.partial(Engine, model=None, lexical=["wordnet", "moby"])
    app = create_app(engine=factory, max_concurrent=2, timeout_s=300, processes=True)

    async def two_at_once(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=300) as http:
            return await asyncio.gather(
                *(http.post("/api/restore", json={"text": SPUN_TEXT}) for _ in range(2))
            )

    with running_server(app) as url:
        health = httpx.get(url + "/health").json()
        assert health["processes"] == 2 and health["engine"] is True
        first, second = asyncio.run(two_at_once(url))
        assert first.status_code == second.status_code == 200  # neither refused: two slots
        assert first.json() == second.json()
    with running_server(create_app(engine=factory(), max_concurrent=1)) as url:
        alone = httpx.post(url + "/api/restore", json={"text": SPUN_TEXT}, timeout=300)
    assert first.json() == alone.json()


def test_worker_processes_want_a_factory_not_an_engine(engine):
    with pytest.raises(ValueError, match="factory"):
        create_app(engine=engine, processes=True)


@pytest.mark.slow
def test_serve_with_workers_and_a_missing_dictionary_exits_with_an_error(tmp_path):
    """Checked before any worker process starts: one line, no traceback."""
    missing = tmp_path / "missing-dictionary.txt"
    done = subprocess.run(
        [sys.executable, "-m", "unspin", "serve", "--port", "0", "--workers", "2",
         "--model", "none", "--dict", str(missing)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert "missing-dictionary.txt: no such dictionary file" in done.stderr
    assert "Traceback" not in done.stderr
