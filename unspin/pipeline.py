"""The pipeline assembled once: extract -> detect -> restore -> trace, one :class:`Record` out.

Why one module: the CLI's ``--json``, ``unspin batch`` and the HTTP API each used to wire the
stages together themselves and each wrote its own shape of the same result. They now all call
:func:`process` and serialise :meth:`Record.to_dict`, whose JSON is documented once, in
``unspin/data/record.schema.json`` (:data:`SCHEMA_PATH`).

What a record holds (every key is always present; a part whose task was not asked for is
``null``):

* ``id``, ``source``: the document's id and where it came from (``file:line``, ``warc#n``).
* ``text``: the cleaned article (title, blank line, paragraphs) that every offset refers to.
* ``clean``: the extraction's details (title, title variants, what was removed, format, meta).
* ``detection``, ``restoration``, ``trace``: the three analyses of ``text``.
* ``error``: ``null``, or one line naming the failed stage (``"restore: ..."``); the stages
  that finished before it keep their results.

Detection and restoration are two views of one engine analysis, so asking for both costs one
analysis, not two.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unspin.detection import detection_from_analysis
from unspin.extraction import Article, extract
from unspin.restoration import restoration_from_analysis, with_source
from unspin.text import error_message

if TYPE_CHECKING:
    from unspin.detection import Detection
    from unspin.engine import Engine
    from unspin.extraction.inputs import Document, DocumentError
    from unspin.restoration import Restoration
    from unspin.tracing import TraceResult
    from unspin.tracing.index import SourceIndex

__all__ = ["RECORD_FIELDS", "SCHEMA_PATH", "TASKS", "Record", "load_schema", "process"]

TASKS = ("clean", "detect", "restore", "trace")
# The keys of Record.to_dict(), in order (custom batch tasks add theirs before "error").
RECORD_FIELDS = ("id", "source", "text", "clean", "detection", "restoration", "trace", "error")
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "record.schema.json"


def load_schema() -> dict[str, Any]:
    """The record's JSON Schema (draft 2020-12), for validating outputs with ``jsonschema``."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@dataclass
class Record:
    """The result of :func:`process` on one document; ``to_dict()`` is its one JSON shape."""

    id: str | None = None
    source: str | None = None
    text: str | None = None
    clean: Article | None = None
    detection: Detection | None = None
    restoration: Restoration | None = None
    trace: TraceResult | None = None
    error: str | None = None
    # Results of custom tasks (batch --task-function), written as top-level keys.
    extra: dict[str, Any] = field(default_factory=dict)
    # The extracted article even when the clean task was not asked for (not serialised).
    article: Article | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON data, keys in :data:`RECORD_FIELDS` order."""
        data: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "text": self.text,
            "clean": _clean_fields(self.clean) if self.clean is not None else None,
            "detection": self.detection.to_dict() if self.detection is not None else None,
            # Always the explained shape: without explain the lists are empty, the keys remain.
            "restoration": (
                self.restoration.to_dict(explain=True) if self.restoration is not None else None
            ),
            "trace": self.trace.to_dict() if self.trace is not None else None,
        }
        data.update(self.extra)
        data["error"] = self.error
        return data


def _clean_fields(article: Article) -> dict[str, Any]:
    """``Article.to_dict()`` without ``id`` and ``text``, which the record holds once."""
    fields = article.to_dict()
    fields.pop("id", None)
    fields.pop("text", None)
    return fields


def process(
    document: Document | DocumentError | Article | str | bytes,
    tasks: Iterable[str] | None = None,
    *,
    engine: Engine | None = None,
    index: SourceIndex | None = None,
    explain: bool = True,
    format: str = "auto",
    id: str | None = None,
    top_k: int = 5,
    threshold: float | None = None,
    functions: Mapping[str, Callable[[Article], Any]] | None = None,
    from_source: bool = True,
    raise_errors: bool = False,
) -> Record:
    """Run ``tasks`` on one document and return its :class:`Record`.

    ``document`` is a :class:`~unspin.extraction.inputs.Document`, a page (HTML or text, str or bytes of
    any encoding, read as ``format``, given ``id``), or an already extracted
    :class:`~unspin.extraction.Article`. A :class:`~unspin.extraction.inputs.DocumentError` from the
    reader gives a record holding only its id, source and message.

    ``tasks`` are from :data:`TASKS` plus the names in ``functions`` (custom tasks:
    ``function(article)`` -> a JSON value, stored under its name, None until it has run).
    Default: clean, detect, restore, and trace when an ``index`` is given. The article is
    always extracted (``text`` is filled); ``clean`` is filled only when asked. ``engine``
    defaults to the process-wide default engine; ``explain`` keeps each edit's evidence and
    alternatives. With an ``index``, a page whose source is found is restored from it
    (``from_source``): the source's wording in the copied passages (evidence ``source``),
    the engine's edits elsewhere.

    A failing stage does not raise: its message goes to ``error`` (``"detect: ..."``) and the
    later stages are skipped. ``raise_errors=True`` re-raises instead (the server maps
    exception types to status codes; ``UNSPIN_DEBUG`` wants tracebacks).
    """
    functions = dict(functions or {})
    if tasks is None:
        wanted = ("clean", "detect", "restore") + (("trace",) if index is not None else ())
    else:
        wanted = tuple(tasks)
    clashing = sorted(set(functions) & set(RECORD_FIELDS))
    if clashing:
        raise ValueError(f"custom task name {clashing[0]!r} is a record field; rename it")
    unknown = [task for task in wanted if task not in TASKS and task not in functions]
    if unknown:
        raise ValueError(f"unknown task {unknown[0]!r} (choose from {', '.join(TASKS)})")

    # A custom task asked for has its key even when it did not run, like the record fields.
    extra = {task: None for task in wanted if task in functions}
    if _is_read_error(document):
        return Record(id=document.id, source=document.source, error=document.message, extra=extra)
    record = Record(id=id, source=getattr(document, "source", None), extra=extra)
    if record.id is None:
        record.id = getattr(document, "id", None)
    stage = "clean"
    traced: TraceResult | None = None
    try:
        article = (
            document if isinstance(document, Article) else extract(document, format=format, id=id)
        )
        record.article = article
        record.id = article.id if article.id is not None else record.id
        record.source = article.source if article.source is not None else record.source
        text = article.full_text
        record.text = text
        if "clean" in wanted:
            record.clean = article
        if "detect" in wanted or "restore" in wanted:
            # Detection and restoration are views of ONE analysis; detection alone needs only
            # the fast pass (restore=False), as Engine.detect does.
            stage = "detect" if "detect" in wanted else "restore"
            engine = _default_engine() if engine is None else engine
            analysis = engine.analyse(text, restore="restore" in wanted)
            if "detect" in wanted:
                record.detection = detection_from_analysis(engine, analysis)
            if "restore" in wanted:
                stage = "restore"
                record.restoration = restoration_from_analysis(text, analysis, explain=explain)
                if from_source and index is not None:
                    stage = "trace"
                    traced = _trace(text, index, top_k=top_k, threshold=threshold)
                    best = traced.best
                    if best is not None and best.passages:
                        stage = "restore"
                        record.restoration = with_source(record.restoration, best, index)
        if "trace" in wanted:
            stage = "trace"
            if traced is None:
                traced = _trace(text, index, top_k=top_k, threshold=threshold)
            record.trace = traced
        for task in wanted:
            if task in functions:
                stage = task
                record.extra[task] = functions[task](article)
    except Exception as exc:
        if raise_errors:
            raise
        record.error = f"{stage}: {error_message(exc)}"
    return record


def _is_read_error(document: Any) -> bool:
    from unspin.extraction.inputs import DocumentError

    return isinstance(document, DocumentError)


def _default_engine() -> Engine:
    from unspin.engine import default_engine

    return default_engine()


def _trace(
    text: str, index: SourceIndex | None, *, top_k: int, threshold: float | None
) -> TraceResult:
    from unspin.tracing import DEFAULT_THRESHOLD, trace

    if index is None:
        raise ValueError("no source index to trace against (give index=SourceIndex(...))")
    return trace(
        text, index, top_k=top_k, threshold=DEFAULT_THRESHOLD if threshold is None else threshold
    )
