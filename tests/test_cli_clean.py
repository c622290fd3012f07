"""`unspin clean` and the shared per-document CLI plumbing, on real files."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.cli import main
from unspin.cli.common import DOCUMENT_SEPARATOR, add_document_arguments, run_documents

DUMP = """Quake injures 25 people in southern Philippines
Quake injures 25 folks in southern Philippines
fbq(‘init’, ‘1234’); fbq(‘track’, ‘PageView’);
An earthquake struck the province on Saturday, injuring at least 25 people.
The navy {hardware} was sent to the region.
Supply hyperlink
Leave a Reply
Your email address will not be published.
"""
PAGE = (
    "<html><head><title>Storm hits coast</title></head><body><article><h1>Storm hits coast</h1>"
    "<p>A storm hit the coast on Monday, officials said.</p><p>Nobody was hurt.</p></article></body></html>"
)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["clean", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_clean_text_dump_plain(tmp_path, capsys):
    path = tmp_path / "dump.txt"
    path.write_text(DUMP, encoding="utf-8")
    code, out, err = run_cli(capsys, str(path))
    assert (code, err) == (0, "")
    assert out == (
        "Quake injures 25 people in southern Philippines\n\n"
        "An earthquake struck the province on Saturday, injuring at least 25 people.\n\n"
        "The navy hardware was sent to the region.\n"
    )


def test_clean_json_schema(tmp_path, capsys):
    path = tmp_path / "dump.txt"
    path.write_text(DUMP, encoding="utf-8")
    code, out, _ = run_cli(capsys, "--json", str(path))
    (line,) = out.splitlines()
    record = json.loads(line)
    assert code == 0
    # The one pipeline record (unspin/data/record.schema.json); clean fills `clean` only.
    assert list(record) == [
        "id",
        "source",
        "text",
        "clean",
        "detection",
        "restoration",
        "trace",
        "error",
    ]
    assert record["id"] == record["source"] == str(path)
    assert record["text"].startswith("Quake injures 25 people in southern Philippines\n\n")
    assert (
        record["detection"] is record["restoration"] is record["trace"] is record["error"] is None
    )
    clean = record["clean"]
    assert list(clean) == ["title", "title_variants", "removed", "format", "meta"]
    assert clean["title_variants"] == ["Quake injures 25 folks in southern Philippines"]
    assert {item["kind"] for item in clean["removed"]} == {
        "tracking",
        "spintax",
        "credit",
        "trailer",
        "duplicate-title",
    }
    assert clean["format"] == "text"


def test_several_documents_are_separated_by_a_form_feed_line(tmp_path, capsys):
    first = tmp_path / "a.html"
    first.write_text(PAGE)
    second = tmp_path / "b.txt"
    second.write_text("Plain text article, one sentence.")
    code, out, _ = run_cli(capsys, str(first), str(second))
    assert code == 0
    # Each document ends with a newline; then a blank line and a form-feed line.
    assert out.split("\n" + DOCUMENT_SEPARATOR) == [
        "Storm hits coast\n\nA storm hit the coast on Monday, officials said.\n\nNobody was hurt.",
        "Plain text article, one sentence.\n",
    ]


def test_jsonl_in_jsonl_out_one_line_per_input_line(tmp_path, capsys):
    path = tmp_path / "docs.jsonl"
    rows = [
        json.dumps({"id": "a", "text": DUMP}),
        json.dumps({"id": "b", "text": ""}),
        "{broken",
        json.dumps({"id": "d", "text": PAGE, "url": "https://farm.example/d"}),
    ]
    path.write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(capsys, str(path))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2
    assert [line["id"] for line in lines] == ["a", "b", f"{path}:3", "d"]
    # A failed document is a whole record with only its id, source and error filled (the
    # reader refused these two, so the message is the reader's, without a stage name).
    assert lines[1]["error"] == "empty document"
    assert lines[1]["source"] == f"{path}:2"
    assert lines[1]["text"] is lines[1]["clean"] is None
    assert lines[2]["error"].startswith("invalid JSON")  # not read at all: the reader's message
    assert lines[3]["clean"]["meta"]["url"] == "https://farm.example/d"
    assert lines[3]["clean"]["format"] == "html"
    assert err.splitlines() == [
        f"unspin: {path}:2: empty document",
        f"unspin: {path}:3: {lines[2]['error']}",
    ]


def test_renamed_keys(tmp_path, capsys):
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"key": "k1", "body": "Body text here."}) + "\n")
    code, out, _ = run_cli(capsys, "--text-key", "body", "--id-key", "key", str(path))
    assert (
        code == 0 and json.loads(out)["id"] == "k1" and json.loads(out)["text"] == "Body text here."
    )


def test_stdin_is_the_default_input(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PAGE.encode())))
    code, out, _ = run_cli(capsys)
    assert code == 0 and out.startswith("Storm hits coast\n\n")


def test_missing_file_is_reported_and_others_still_processed(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text("Good text.")
    code, out, err = run_cli(capsys, str(tmp_path / "nope.html"), str(good))
    assert code == 2
    assert out == "Good text.\n"
    assert err == f"unspin: {tmp_path / 'nope.html'}: no such file or directory\n"


def make_args(inputs: list[str], *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_document_arguments(parser)
    return parser.parse_args([*extra, *inputs])


def test_run_documents_contract_errors_and_findings(tmp_path, capsys):
    paths = []
    for name, text in [
        ("1.txt", "First text."),
        ("2.txt", "Boom text."),
        ("3.txt", "Third text, flagged."),
    ]:
        path = tmp_path / name
        path.write_text(text)
        paths.append(str(path))

    def process(article):
        if "Boom" in article.text:
            raise RuntimeError("process failed\non two lines")
        return {"flagged": "flagged" in article.text}, article.text

    out = io.StringIO()
    code = run_documents(
        make_args(paths, "--json"), process, findings=lambda d: d["flagged"], stdout=out
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 2  # a failed document outranks findings
    assert lines == [
        {"id": paths[0], "flagged": False},
        {"id": paths[1], "error": "RuntimeError: process failed on two lines"},
        {"id": paths[2], "flagged": True},
    ]
    assert (
        capsys.readouterr().err
        == f"unspin: {paths[1]}: RuntimeError: process failed on two lines\n"
    )

    out = io.StringIO()
    code = run_documents(
        make_args([paths[0], paths[2]]), process, findings=lambda d: d["flagged"], stdout=out
    )
    assert code == 1
    assert out.getvalue() == "First text.\n\n\f\nThird text, flagged.\n"

    code = run_documents(
        make_args([paths[0]]), process, findings=lambda d: d["flagged"], stdout=io.StringIO()
    )
    assert code == 0


def test_bad_inputs_give_one_line_errors_and_no_traceback(tmp_path):
    """The real command in a subprocess: binary, empty, truncated WARC, deep HTML, 50 MB line."""
    warcio = pytest.importorskip("warcio")
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    del warcio
    binary = tmp_path / "image.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    deep = tmp_path / "deep.html"
    deep.write_text("<div>" * 20000 + "<p>deep</p>" + "</div>" * 20000)
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"word " * 10_500_000)
    warc = tmp_path / "cut.warc.gz"
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for index in range(2):
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        payload = io.BytesIO(PAGE.replace("Storm", f"Storm {index}").encode())
        writer.write_record(
            writer.create_warc_record(
                f"https://x/{index}", "response", payload=payload, http_headers=headers
            )
        )
    warc.write_bytes(buffer.getvalue()[:-30])
    good = tmp_path / "good.txt"
    good.write_text("A good document survives.")
    names = [binary, empty, deep, huge, warc, good]
    result = subprocess.run(
        [sys.executable, "-m", "unspin", "clean", *map(str, names)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = result.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in errors] == ["unspin"] * len(errors)
    assert any("binary data" in line for line in errors)
    assert any("empty document" in line for line in errors)
    assert any(str(deep) in line for line in errors)
    assert any("document too large (52.5 MB" in line for line in errors)
    assert any("truncated" in line for line in errors)
    assert "Storm 0 hits coast" in result.stdout
    assert result.stdout.rstrip().endswith("A good document survives.")


def test_help_lists_clean(capsys):
    with pytest.raises(SystemExit):
        main(["clean", "--help"])
    out = capsys.readouterr().out
    assert "--text-key" in out and "--json" in out


def test_input_format_overrides_detection(tmp_path, capsys):
    path = tmp_path / "snippet.txt"
    path.write_text("<p>Kept as text, tags and all.</p><div>x</div><span>y</span>")
    code, out, _ = run_cli(capsys, "--input-format", "text", "--json", str(path))
    record = json.loads(out)
    assert code == 0 and record["clean"]["format"] == "text"
    assert record["text"].startswith("<p>Kept as text")
    code, out, _ = run_cli(capsys, "--json", str(path))
    assert json.loads(out)["clean"]["format"] == "html"


def test_a_progress_bar_on_a_terminal_and_none_in_a_pipe(tmp_path) -> None:
    """Long runs show their pace per document on a terminal (stderr a real pty), and write no
    control characters into pipes and logs."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    pages = []
    for number in range(3):
        page = tmp_path / f"page{number}.txt"
        page.write_text(f"Title {number}\n\nThe council met on Monday. It voted.\n", "utf-8")
        pages.append(str(page))
    command = [sys.executable, "-m", "unspin", "clean", *pages]
    piped = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""

    leader, follower = pty.openpty()
    # A terminal of 24 rows and 100 columns (a fresh pty has none; tqdm sizes the bar to it).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with open(os.devnull, "w") as devnull:
        done = subprocess.run(command, stdout=devnull, stderr=follower, timeout=120)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal's other end closed: all read
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert done.returncode == 0
    text = seen.decode("utf-8", "replace")
    assert "unspin clean" in text and "3doc" in text.replace(" ", "")
