"""Per-document CLI plumbing shared by clean, detect, restore, trace (and spin).

Why: every per-document command reads the same inputs, reports bad documents the
same way and writes the same output shapes; only the work done on one document
differs. The pipeline commands hand the tasks they run to :func:`run_pipeline`,
which builds each document's :class:`unspin.pipeline.Record` with
``unspin.pipeline.process`` and writes ``Record.to_dict()`` in JSON mode (the one
record of ``unspin/data/record.schema.json``, shared with ``unspin batch`` and the
HTTP API) or the command's plain text otherwise. Commands outside the pipeline
(``spin``) use :func:`run_documents` with their own ``process(article)``.

Output contract (documented for users in docs/extraction.md):

* JSON lines when ``--json`` is given or when the first input is JSONL/Parquet: one
  object a document, in input order, ``"id"`` first. A failed document is a record
  whose ``error`` says why, so JSONL in gives exactly one line per input line.
* Otherwise plain text: each document's text, documents separated by a blank line and
  a line holding a single form feed (``\\f``), which ``csplit``/``awk`` can split on.
* Each failure is also reported on stderr as ``unspin: <source>: <message>``.
* Exit code: 2 if any document (or input) failed, else 1 if ``findings`` said true for
  any document, else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from unspin.progress import Progress

if TYPE_CHECKING:
    from unspin.extraction import Article
    from unspin.pipeline import Record

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

DOCUMENT_SEPARATOR = "\n\f\n"
_JSON_CONTAINERS = ("jsonl", "parquet")


def add_document_arguments(parser: argparse.ArgumentParser) -> None:
    """Add INPUT..., --text-key, --id-key, --input-format and --json to a per-document command."""
    parser.add_argument(
        "inputs",
        nargs="*",
        default=["-"],
        metavar="INPUT",
        help="files or folders (HTML, text, WARC(.gz), JSONL(.gz), Parquet) or - for "
        "standard input (the default)",
    )
    parser.add_argument(
        "--text-key",
        default="text",
        metavar="KEY",
        help="JSONL/Parquet field holding the page or text (default: text)",
    )
    parser.add_argument(
        "--id-key",
        default="id",
        metavar="KEY",
        help="JSONL/Parquet field holding the document id (default: id)",
    )
    parser.add_argument(
        "--input-format",
        choices=("auto", "html", "text"),
        default="auto",
        help="treat each document as HTML or as text instead of detecting it (default: auto)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="write one JSON object a line (always the case for JSONL input)",
    )


def input_names(args: argparse.Namespace) -> list[str]:
    """The inputs to read (``-`` when none was given), with a hint when stdin is a terminal."""
    names = list(getattr(args, "inputs", None) or ["-"])
    if "-" in names and sys.stdin is not None and sys.stdin.isatty():
        print(
            "unspin: reading standard input (end with Ctrl-D; give files to read those)",
            file=sys.stderr,
        )
    return names


def _raise_if_debugging(exc: BaseException) -> None:
    if os.environ.get("UNSPIN_DEBUG"):
        raise exc


def run_documents(
    args: argparse.Namespace,
    process: Callable[[Article], tuple[dict[str, Any], str]],
    *,
    findings: Callable[[dict[str, Any]], bool] | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Read every input, extract each document, run ``process`` on it, write the results.

    ``process(article)`` returns ``(json_dict, plain_text)``: the object written in JSON
    mode (``"id"`` is added first when missing) and the text written otherwise. An
    exception from extraction or from ``process`` fails that document only: it is
    reported on stderr and as ``{"id", "error"}`` in JSON mode, and the run goes on.
    ``findings(json_dict)`` marks documents with findings (exit code 1, e.g. spinning
    detected). Set ``UNSPIN_DEBUG=1`` to get tracebacks instead of one-line errors.
    """
    names = input_names(args)
    out = stdout or sys.stdout
    _prefer_utf8(out)
    json_mode: bool | None = True if getattr(args, "json", False) else None
    failed = False
    found = False
    written = 0
    from unspin.extraction import iter_articles
    from unspin.text import error_message

    for article, error, container in iter_articles(
        names,
        text_key=getattr(args, "text_key", "text"),
        id_key=getattr(args, "id_key", "id"),
        format=getattr(args, "input_format", "auto"),
    ):
        if json_mode is None:
            json_mode = container in _JSON_CONTAINERS
        if article is not None:
            try:
                payload, plain = process(article)
            except Exception as exc:  # noqa: BLE001 - report, then go on with the next document
                _raise_if_debugging(exc)
                from unspin.extraction.inputs import DocumentError

                error = DocumentError(
                    article.id, _source_of(article), error_message(exc), container
                )
            else:
                if findings is not None and findings(payload):
                    found = True
                if json_mode:
                    record = {"id": article.id, **payload}
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                else:
                    if written:
                        out.write(DOCUMENT_SEPARATOR)
                    out.write(plain.rstrip("\n") + "\n")
                written += 1
                continue
        assert error is not None
        failed = True
        print(f"unspin: {error.source}: {error.message}", file=sys.stderr)
        if json_mode:
            out.write(
                json.dumps({"id": error.id, "error": error.message}, ensure_ascii=False) + "\n"
            )
    out.flush()
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if found else EXIT_OK


def run_pipeline(
    args: argparse.Namespace,
    tasks: Sequence[str],
    plain: Callable[[Record], str],
    *,
    findings: Callable[[Record], bool] | None = None,
    stdout: TextIO | None = None,
    **options: Any,
) -> int:
    """Read every input and run ``unspin.pipeline.process(document, tasks, **options)`` on it.

    JSON mode writes ``record.to_dict()``; plain mode writes ``plain(record)``. A document
    whose record has an ``error`` is reported on stderr (and still written in JSON mode).
    ``findings(record)`` marks documents with findings (exit code 1). ``options`` go to
    ``process`` (engine, index, top_k, threshold...).
    """
    from unspin.extraction.inputs import read_documents
    from unspin.pipeline import process

    names = input_names(args)
    out = stdout or sys.stdout
    _prefer_utf8(out)
    json_mode: bool | None = True if getattr(args, "json", False) else None
    debugging = bool(os.environ.get("UNSPIN_DEBUG"))
    failed = found = False
    written = 0
    # A bar per document on a terminal: long runs of detect/restore show their pace.
    bar = Progress.on_terminal(f"unspin {'/'.join(tasks)}")
    try:
        for item in read_documents(
            names, text_key=getattr(args, "text_key", "text"), id_key=getattr(args, "id_key", "id")
        ):
            if json_mode is None:
                json_mode = item.container in _JSON_CONTAINERS
            record = process(
                item,
                tasks,
                format=getattr(args, "input_format", "auto"),
                raise_errors=debugging,
                **options,
            )
            bar.add(1, errors=record.error is not None)
            if record.error is not None:
                failed = True
                where = record.source or record.id or "<input>"
                bar.write(f"unspin: {where}: {record.error}")
            elif findings is not None and findings(record):
                found = True
            if json_mode:
                out.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            elif record.error is None:
                if written:
                    out.write(DOCUMENT_SEPARATOR)
                out.write(plain(record).rstrip("\n") + "\n")
                written += 1
    finally:
        bar.close()
    out.flush()
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if found else EXIT_OK


def _source_of(article: Article) -> str:
    return str(article.source or article.id or "<input>")


def _prefer_utf8(stream: TextIO) -> None:
    """Write UTF-8 to pipes even under a C/POSIX locale, so no character is lost or fails."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if encoding != "utf8" and reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8")
