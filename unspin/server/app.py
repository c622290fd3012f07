"""FastAPI application: JSON endpoints for clean/detect/restore/trace, the page at `/`, health.

Limits are part of the design, not an afterthought, because a public instance must not be
exhausted by one client:

* the request body is capped while it is read (also for chunked bodies without Content-Length):
  413;
* model work runs in a small thread pool; when every slot is taken a request is refused at once
  with 429 rather than queued, so memory and latency stay bounded under load;
* each request has a time limit: 504. Python threads cannot be killed, so a timed-out job keeps
  its slot until it really finishes; freeing the slot early would let abandoned work pile up.

The server never fetches a URL given by a client: pages are analysed only from the text, HTML or
file sent in the request. Everything that came from a submitted page is returned as JSON data and
the page renders it as text (see static/app.js); a strict Content-Security-Policy backs that up.

Every document endpoint returns the one pipeline record (`unspin.pipeline.process(...).to_dict()`,
schema in unspin/data/record.schema.json), the same JSON as the CLI's `--json` and `unspin batch`;
each fills the parts it computes and leaves the others null.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic_core
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.datastructures import UploadFile
from starlette.staticfiles import StaticFiles

from unspin import __version__
from unspin.text import one_line

log = logging.getLogger("unspin.server")

STATIC_DIR = Path(__file__).resolve().parent / "static"

DEFAULT_MAX_BODY = 2 * 1024 * 1024  # bytes; a long news page in HTML is well under 1 MB
# Documents analysed at once (`unspin serve --workers`): one a core, since the work is CPU-bound.
# An engine that still serialises its analyses behind a lock makes extra slots queue behind it
# (504 under load instead of 429): give --workers 1 to such an engine.
DEFAULT_MAX_CONCURRENT = os.cpu_count() or 1
DEFAULT_TIMEOUT_S = 60.0

# The page loads only its own script and style; nothing inline, nothing from elsewhere.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Swagger UI needs one inline bootstrap script; /docs never shows submitted data.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")


# --------------------------------------------------------------------------- request models


class DocumentIn(BaseModel):
    """One document to analyse: pasted text or HTML. Nothing else (in particular no URL)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "The deputy International Minister mentioned the talks got here late."},
                {"html": "<html><body><article><p>...</p></article></body></html>"},
            ]
        },
    )

    text: str | None = Field(None, description="Plain text (or HTML when format is auto/html).")
    html: str | None = Field(None, description="An HTML page; the article is extracted from it.")
    format: Literal["auto", "html", "text"] = Field(
        "auto", description="How to read the input; auto sniffs HTML from its tags."
    )
    id: str | None = Field(None, description="An id echoed in the result, as the CLI does.")

    @model_validator(mode="after")
    def _one_input(self) -> DocumentIn:
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' or 'html'")
        return self

    @property
    def page(self) -> str:
        return self.html if self.html is not None else (self.text or "")

    @property
    def page_format(self) -> str:
        if self.html is not None and self.format == "auto":
            return "html"
        return self.format


# --------------------------------------------------------------------------- response schemas
# For the OpenAPI documentation only: every document endpoint returns the one pipeline record
# (`unspin.pipeline.Record.to_dict()`, the CLI's --json and batch's output, documented in
# unspin/data/record.schema.json) unchanged, so these describe it and never filter it.


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RemovedOut(_Open):
    kind: str = Field(description="script, tracking, trailer, credit, share, spintax, ...")
    text: str


class CleanOut(_Open):
    title: str
    title_variants: list[str]
    removed: list[RemovedOut]
    format: str
    meta: dict[str, Any] = Field(default_factory=dict)


class EvidenceOut(_Open):
    source: str = Field(description="What produced the candidate: a thesaurus, a rule, a model.")
    relation: str = Field(description="inverse, forward, or empty where direction means nothing.")
    resources: list[str] = Field(description="The resources or dictionaries that say so.")
    detail: str = Field(description="One line for a person.")
    weight: float | None = None


class SpanOut(_Open):
    start: int = Field(
        description="Character offset into the record's text (title, blank line, body)."
    )
    end: int
    text: str
    suggestion: str
    confidence: float
    evidence: list[EvidenceOut]


class DetectionOut(_Open):
    spun: bool
    score: float = Field(description="Calibrated probability that the document was spun.")
    spans: list[SpanOut]
    family: str | None = None
    family_share: float | None = None
    language: str | None = Field(None, description="The text's language; null if too short.")


class AlternativeOut(_Open):
    text: str
    score: float


class EditOut(_Open):
    start: int
    end: int
    before: str
    after: str
    confidence: float
    evidence: list[EvidenceOut] | None = None
    alternatives: list[AlternativeOut] = Field(default_factory=list)


class RestorationOut(_Open):
    text: str = Field(description="The restored article.")
    edits: list[EditOut]
    language: str | None = None


class PassageOut(_Open):
    page_start: int
    page_end: int
    source_start: int
    source_end: int
    similarity: float


class MatchOut(_Open):
    source_id: str
    score: float
    title: str
    url: str | None
    passages: list[PassageOut]


class TraceOut(_Open):
    matches: list[MatchOut]


class RecordOut(_Open):
    """The one record; a part the endpoint does not compute is null."""

    id: str | None
    source: str | None
    text: str | None = Field(description="The article text that every offset refers to.")
    clean: CleanOut | None
    detection: DetectionOut | None
    restoration: RestorationOut | None
    trace: TraceOut | None
    error: str | None


class SourceOut(_Open):
    id: str
    title: str
    url: str | None
    text: str = Field(description="The source's full text, which passage source offsets index.")


class AnalyzeOut(RecordOut):
    sources: dict[str, SourceOut] = Field(
        description="Each matched source's stored text, for the side-by-side panel."
    )


class HealthOut(_Open):
    status: str
    version: str
    engine: bool
    processes: int = Field(description="Worker processes analysing documents (0: threads).")
    index: bool
    busy: int
    max_concurrent: int
    timeout_s: float
    max_body: int


# --------------------------------------------------------------------------- limits


class Busy(Exception):
    """Every work slot is taken."""


class TimeLimit(Exception):
    """The job ran past the per-request time limit."""


class WorkLimiter:
    """A bounded pool (threads, or worker processes) that refuses (never queues) work beyond
    its slots."""

    def __init__(self, max_concurrent: int, timeout_s: float, pool: Executor | None = None) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.max_concurrent = max_concurrent
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._lock = threading.Lock()
        self._busy = 0
        # Threads share one engine (it is read-only); worker processes (`WorkerProcesses`) each
        # hold their own, which is what runs pure-Python analyses on several cores at once.
        self._pool = pool or ThreadPoolExecutor(max_concurrent, thread_name_prefix="unspin-work")

    @property
    def busy(self) -> int:
        """Slots held right now, including jobs whose requests already timed out."""
        with self._lock:
            return self._busy

    def _release(self, _future: object) -> None:
        with self._lock:
            self._busy -= 1
        self._slots.release()

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        if not self._slots.acquire(blocking=False):
            raise Busy
        with self._lock:
            self._busy += 1
        try:
            future = self._pool.submit(function, *args)
        except BaseException:
            self._release(None)
            raise
        # The slot is given back when the thread finishes, not when the request gives up.
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except TimeoutError:
            raise TimeLimit from None

    def shutdown(self) -> None:
        """Stop taking work; worker processes are stopped too, even mid-document.

        A process still building its engine or analysing a long document would otherwise
        keep the server from exiting (the interpreter waits for its pool at exit), and the
        executor has no public way to stop its processes: hence `_processes`.
        """
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()


class _BodyTooLarge(Exception):
    pass


def _json_message(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class BodyLimitMiddleware:
    """Caps the request body at `max_body` bytes while it is read: 413 beyond it.

    A declared Content-Length over the cap is refused without passing the body to the app. A
    chunked body is counted as it arrives; once over the cap the app's own response (whatever it
    made of the cut-off body) is replaced by the 413. Before answering, what the client is still
    sending is read and thrown away (up to DRAIN_LIMIT bytes / DRAIN_SECONDS): a client that is
    still writing when the server closes gets a connection reset and never sees the 413.
    """

    DRAIN_LIMIT = 16 * 1024 * 1024
    DRAIN_SECONDS = 5.0

    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def _refuse(
        self, scope: dict, receive: Callable, send: Callable, read: int, body_done: bool = False
    ) -> None:
        headers = dict(scope.get("headers") or [])
        # With "Expect: 100-continue" the client waits for us: refuse before it sends anything.
        # Once the last chunk is in, receive() would only wait for the client to disconnect.
        if not body_done and headers.get(b"expect", b"").lower() != b"100-continue":
            await self._drain(receive, read)
        message = f"request body is larger than the limit of {self.max_body} bytes"
        await _json_message(413, message)(scope, receive, send)

    async def _drain(self, receive: Callable, read: int) -> None:
        try:
            async with asyncio.timeout(self.DRAIN_SECONDS):
                while read <= self.DRAIN_LIMIT:
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    read += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return
        except TimeoutError:
            return

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                declared_size = int(declared)
            except ValueError:
                await _json_message(400, "invalid Content-Length header")(scope, receive, send)
                return
            if declared_size > self.max_body:
                # Too big to be worth draining: answer at once (the client may see a reset).
                read = 0 if declared_size <= self.DRAIN_LIMIT else self.DRAIN_LIMIT + 1
                await self._refuse(scope, receive, send, read)
                return

        received = 0
        exceeded = False
        body_done = False
        response_started = False

        async def limited_receive() -> dict:
            nonlocal received, exceeded, body_done
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > self.max_body:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def checked_send(message: dict) -> None:
            nonlocal response_started
            if exceeded:
                if message["type"] == "http.response.start" and not response_started:
                    response_started = True
                    await self._refuse(scope, receive, send, received, body_done)
                return  # the app's own reply to a cut-off body is dropped
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, checked_send)
        except Exception:
            if not exceeded:
                raise
            if not response_started:
                await self._refuse(scope, receive, send, received, body_done)


class SecurityHeadersMiddleware:
    """Adds a Content-Security-Policy, related headers and Server-Timing to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope.get("path") in DOCS_PATHS else PAGE_CSP
        started = time.perf_counter()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                # Server-Timing: time spent in the app, which tells server work from client lag.
                spent_ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers") or [])
                headers += [
                    (b"server-timing", f"app;dur={spent_ms:.1f}".encode()),
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------- the work itself


@dataclass
class ServerState:
    """What the app holds between requests: the engine, the index path, the limiter."""

    engine: Any
    engine_factory: Callable[[], Any] | None
    db: Path | None
    limiter: WorkLimiter | None  # None inside a worker process
    max_body: int
    processes: bool = False  # jobs run in worker processes, each with its own engine
    worker_count: int = 0  # ...once all of them have built their engines

    @property
    def ready(self) -> bool:
        """Whether an engine is loaded (here, or in every worker process)."""
        return self.engine is not None or self.worker_count > 0

    _local: threading.local = field(default_factory=threading.local)

    def index(self) -> Any:
        """A SourceIndex per worker thread: one SourceIndex serialises its connection with a lock,
        so separate ones let requests read the SQLite file (WAL mode) at the same time."""
        if self.db is None:
            return None
        index = getattr(self._local, "index", None)
        if index is None:
            from unspin.tracing.index import SourceIndex

            index = SourceIndex(self.db, create=False)
            self._local.index = index
        return index


class NoIndex(Exception):
    """The server was started without --db."""


# The state of a worker process (processes mode): its own engine and index, built once.
WORKER_START_TIMEOUT_S = 600.0
_WORKER_STATE: ServerState | None = None


def _start_worker(engine_factory: Callable[[], Any], db: Path | None, started: Any) -> None:
    """Initializer of each worker process: build the engine once, as a thread server does,
    then wait at `started` (a barrier of all the workers) so that the server answers only
    once every worker is ready."""
    global _WORKER_STATE
    # Ctrl+C reaches the whole process group: the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_STATE = ServerState(
        engine=engine_factory(), engine_factory=None, db=db, limiter=None, max_body=0
    )
    started.wait(WORKER_START_TIMEOUT_S)


def _worker_pid() -> int:
    """A job that says which worker process ran it (start-up checks, health)."""
    return os.getpid()


def _in_worker(job_name: str, page: str | bytes, page_format: str, doc_id: str | None) -> dict:
    """Run a job (by name: jobs are found again in the worker's copy of this module) against
    the worker process's own state."""
    assert _WORKER_STATE is not None, "worker process not started"
    return JOBS[job_name](_WORKER_STATE, page, page_format, doc_id)


def _record(
    state: ServerState,
    tasks: tuple[str, ...],
    page: str | bytes,
    page_format: str,
    doc_id: str | None,
    index: Any = None,
) -> dict:
    """The one pipeline record (unspin/data/record.schema.json), as the CLI and batch write it.

    Errors are raised, not recorded, so that _run_job maps them to status codes.
    """
    from unspin.pipeline import process

    record = process(
        page,
        tasks,
        engine=state.engine,
        index=index,
        format=page_format,
        id=doc_id,
        raise_errors=True,
    )
    return record.to_dict()


def clean_job(state: ServerState, page: str | bytes, page_format: str, doc_id: str | None) -> dict:
    return _record(state, ("clean",), page, page_format, doc_id)


def detect_job(state: ServerState, page: str | bytes, page_format: str, doc_id: str | None) -> dict:
    return _record(state, ("detect",), page, page_format, doc_id)


def restore_job(
    state: ServerState, page: str | bytes, page_format: str, doc_id: str | None
) -> dict:
    # With an index, a page whose source is found gets the source's wording (restore --db).
    return _record(state, ("restore",), page, page_format, doc_id, state.index())


def trace_job(state: ServerState, page: str | bytes, page_format: str, doc_id: str | None) -> dict:
    index = state.index()
    if index is None:
        raise NoIndex
    return _record(state, ("trace",), page, page_format, doc_id, index)


def _source_view(index: Any, source_id: str) -> dict | None:
    """Title, url and stored text of a source for the side-by-side panel.

    `text` is the source's full text (title, blank line, body): the text that the passages'
    source offsets refer to.
    """
    source = index.get(source_id)
    if source is None:  # replaced or removed by a writer since tracing
        return None
    return {"id": source.id, "title": source.title, "url": source.url, "text": source.full_text}


def analyze_job(
    state: ServerState, page: str | bytes, page_format: str, doc_id: str | None
) -> dict:
    """Everything the page shows, from one extraction and one analysis: the record with every
    part, plus `sources` (each matched source's stored text, for the side-by-side panel)."""
    index = state.index()
    tasks = ("clean", "detect", "restore") + (("trace",) if index is not None else ())
    result = _record(state, tasks, page, page_format, doc_id, index)
    sources: dict[str, Any] = {}
    for match in (result.get("trace") or {}).get("matches", []):
        source = _source_view(index, match["source_id"])
        if source is not None:
            sources[match["source_id"]] = source
    result["sources"] = sources
    return result


Job = Callable[[ServerState, "str | bytes", str, "str | None"], dict]
JOBS: dict[str, Job] = {
    "clean": clean_job,
    "detect": detect_job,
    "restore": restore_job,
    "trace": trace_job,
    "analyze": analyze_job,
}


async def _run_job(
    state: ServerState, job: Job, page: str | bytes, page_format: str, doc_id: str | None
) -> JSONResponse:
    """Runs one job in the bounded pool and maps its outcome to a status code."""
    assert state.limiter is not None
    try:
        if state.processes:
            name = next(key for key, value in JOBS.items() if value is job)
            result = await state.limiter.run(_in_worker, name, page, page_format, doc_id)
        else:
            result = await state.limiter.run(job, state, page, page_format, doc_id)
    except Busy:
        return _json_message(
            429,
            f"the server is busy ({state.limiter.max_concurrent} documents in work); retry shortly",
            headers={"Retry-After": "1"},
        )
    except TimeLimit:
        return _json_message(
            504, f"the document took longer than the time limit of {state.limiter.timeout_s:g} s"
        )
    except NoIndex:
        return _json_message(
            404, "this server has no source index; start it with `unspin serve --db PATH`"
        )
    except ValueError as error:  # ExtractionError and other bad-document errors
        return _json_message(422, one_line(error))
    except Exception as error:
        log.exception("unexpected error while processing a document")
        return _json_message(500, f"internal error: {one_line(error)}")
    return JSONResponse(result)


# --------------------------------------------------------------------------- the application


def _default_engine() -> Any:
    from unspin.engine import default_engine

    return default_engine()


async def _start_workers(state: ServerState, count: int, timeout_s: float) -> None:
    """Start `count` worker processes and wait until each has built its engine.

    "spawn", not "fork": the server already runs threads (the event loop's, uvicorn's), and a
    forked child of a threaded process can inherit a held lock. A worker whose engine fails to
    build fails the start-up with that error instead of every later request.
    """
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        count,
        mp_context=context,
        initializer=_start_worker,
        initargs=(state.engine_factory or _default_engine, state.db, context.Barrier(count)),
    )
    state.limiter = WorkLimiter(count, timeout_s, pool)
    # Submitted together, before any worker is idle, they start every process; none runs
    # before all the workers have built their engines (the barrier).
    await asyncio.gather(*(asyncio.wrap_future(pool.submit(_worker_pid)) for _ in range(count)))
    state.worker_count = count


def create_app(
    engine: Any = None,
    db: str | Path | None = None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    max_concurrent: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    processes: bool = False,
) -> FastAPI:
    """Builds the app.

    engine: an `unspin.engine.Engine`, a zero-argument callable that builds one (called once at
    start-up, in a thread), or None for the process-wide default engine (also built at start-up).
    db: path of a `SourceIndex` (SQLite) to trace against; without it tracing is off.
    max_concurrent: documents analysed at once; more get 429. Default
    DEFAULT_MAX_CONCURRENT, the number of cores.
    processes: analyse in `max_concurrent` worker processes, each building its own engine with
    the factory `engine` (picklable: `functools.partial(Engine, ...)`; None: the default
    engine), instead of threads sharing one engine. The engine is thread-safe, but its work is
    pure Python: threads share one core under the GIL, processes use them all (at the memory
    of one engine each).
    """
    if max_concurrent is None:
        max_concurrent = DEFAULT_MAX_CONCURRENT
    if max_body < 1:
        raise ValueError("max_body must be at least 1 byte")
    if processes and engine is not None and hasattr(engine, "detect"):
        raise ValueError("worker processes build their own engines: pass a factory, not an engine")
    if engine is None:
        engine_factory: Callable[[], Any] | None = _default_engine
        engine = None
    elif callable(engine) and not hasattr(engine, "detect"):
        engine_factory, engine = engine, None
    else:
        engine_factory = None
    state = ServerState(
        engine=engine,
        engine_factory=engine_factory,
        db=Path(db) if db is not None else None,
        limiter=WorkLimiter(max_concurrent, timeout_s),
        max_body=max_body,
        processes=processes,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if processes:
            log.info("starting %d worker processes", max_concurrent)
            await _start_workers(state, max_concurrent, timeout_s)
        elif state.engine is None and state.engine_factory is not None:
            log.info("loading the engine")
            state.engine = await asyncio.to_thread(state.engine_factory)
        try:
            yield
        finally:
            state.limiter.shutdown()

    app = FastAPI(
        title="unspin",
        version=__version__,
        summary="Undo article spinning: extract, detect, restore, trace.",
        description=(
            "Document endpoints return one record (the CLI's `--json` and `unspin batch` shape; "
            "parts an endpoint does not compute are null). Send a document "
            'as `{"text": ...}` or `{"html": ...}`; the server never fetches URLs. Limits: '
            f"bodies over {max_body} bytes get 413, more than {max_concurrent} documents in work "
            f"at once get 429, and a document that runs past {timeout_s:g} s gets 504."
        ),
        lifespan=lifespan,
        docs_url=None,  # served below, from local assets when swagger-ui-bundle is installed
        redoc_url=None,  # ReDoc would load from a CDN
    )
    app.state.unspin = state
    app.router.route_class = _JSONBodyRoute  # before any route: every endpoint reads JSON alike
    app.add_middleware(BodyLimitMiddleware, max_body=max_body)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _mount_docs(app)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(error.errors())}, status_code=422)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/health", tags=["service"], response_model=HealthOut)
    async def health() -> dict:
        """Liveness and configuration: whether the engine is loaded, the index, busy slots."""
        return {
            "status": "ok" if state.ready else "loading",
            "version": __version__,
            "engine": state.ready,
            "processes": state.worker_count,
            "index": state.db is not None,
            "busy": state.limiter.busy,
            "max_concurrent": state.limiter.max_concurrent,
            "timeout_s": state.limiter.timeout_s,
            "max_body": state.max_body,
        }

    responses: dict[int | str, dict[str, Any]] = {
        413: {"description": "Request body over the size limit."},
        422: {"description": "Invalid request or a document with no usable text."},
        429: {"description": "Every work slot is busy; retry later."},
        504: {"description": "The document ran past the time limit."},
    }

    @app.post("/api/clean", tags=["pipeline"], responses=responses, response_model=RecordOut)
    async def clean(document: DocumentIn) -> JSONResponse:
        """The extracted article: title, title variants, body text, what was removed."""
        return await _run_job(state, clean_job, document.page, document.page_format, document.id)

    @app.post("/api/detect", tags=["pipeline"], responses=responses, response_model=RecordOut)
    async def detect(document: DocumentIn) -> JSONResponse:
        """Spinning verdict, calibrated score and the substituted spans (offsets into the article)."""
        return await _run_job(state, detect_job, document.page, document.page_format, document.id)

    @app.post("/api/restore", tags=["pipeline"], responses=responses, response_model=RecordOut)
    async def restore(document: DocumentIn) -> JSONResponse:
        """The restored article and every edit with its evidence."""
        return await _run_job(state, restore_job, document.page, document.page_format, document.id)

    @app.post(
        "/api/trace",
        tags=["pipeline"],
        response_model=RecordOut,
        responses={**responses, 404: {"description": "The server has no source index."}},
    )
    async def trace(document: DocumentIn) -> JSONResponse:
        """Ranked candidate sources from the server's index, with aligned passages."""
        return await _run_job(state, trace_job, document.page, document.page_format, document.id)

    @app.post(
        "/api/analyze",
        tags=["page"],
        response_model=AnalyzeOut,
        responses={**responses, 415: {"description": "Neither JSON nor multipart form data."}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/DocumentIn"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "text": {"type": "string"},
                                "format": {"type": "string", "enum": ["auto", "html", "text"]},
                            },
                        }
                    },
                },
            }
        },
    )
    async def analyze(request: Request) -> JSONResponse:
        """Everything the page shows in one call: the article text, detection, restoration and,
        with an index, the traced sources. Takes JSON or a multipart upload (`file`, or `text`)."""
        parsed = await _read_analyze_request(request, state.max_body)
        if isinstance(parsed, JSONResponse):
            return parsed
        page, page_format, doc_id = parsed
        return await _run_job(state, analyze_job, page, page_format, doc_id)

    return app


def _validation_message(errors: Any) -> str:
    """Pydantic's error list as one line a person can read."""
    parts = []
    for error in errors or []:
        where = ".".join(_field_name(part) for part in error.get("loc", ()) if part != "body")
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or "invalid request"


def _field_name(part: Any) -> str:
    """A field name as the client sent it, shortened, and quoted and escaped when it is not a
    plain name (an unknown key may hold a newline or be a kilobyte long), so that the detail
    stays one short line."""
    text = str(part)
    if len(text) > 40:
        text = text[:40] + "\u2026"
    if text.isidentifier() or text.isdigit():
        return text
    return json.dumps(text, ensure_ascii=False)


def _parse_json_body(body: bytes) -> Any:
    """The one JSON reader for every request body: any bad body is a 422 with a `detail`.

    pydantic-core's parser, not `json.loads`: `json.loads` recurses in C and raises
    RecursionError on a body nested a few thousand levels deep (which escaped as a 500), and it
    accepts lone UTF-16 surrogates (`"\\ud800"`) that cannot be encoded back into the UTF-8
    response. pydantic-core stops at a fixed nesting depth and rejects both with a ValueError.
    """
    try:
        return pydantic_core.from_json(body)
    except ValueError as error:
        raise HTTPException(422, f"invalid JSON: {one_line(error)}") from None


class _JSONBodyRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = _parse_json_body(await self.body())
        return self._json


class _JSONBodyRoute(APIRoute):
    """Routes whose JSON body is read by `_parse_json_body`, also where FastAPI parses it.

    FastAPI parses a model body with `request.json()` and answers anything but a decode error
    with a generic 400 ("There was an error parsing the body"); swapping in the request class
    is FastAPI's documented hook for custom body handling.
    """

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def read_json_body(request: Request) -> Response:
            return await handler(_JSONBodyRequest(request.scope, request.receive))

        return read_json_body


async def _read_analyze_request(
    request: Request, max_body: int
) -> tuple[str | bytes, str, str | None] | JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            document = DocumentIn.model_validate(await request.json())
        except ValidationError as error:
            return _json_message(422, _validation_message(error.errors()))
        return document.page, document.page_format, document.id
    if content_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10, max_part_size=max_body) as form:
            page_format = str(form.get("format") or "auto")
            if page_format not in ("auto", "html", "text"):
                return _json_message(422, "format: must be one of auto, html, text")
            upload = form.get("file")
            text = form.get("text")
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read()
                if not data.strip():
                    return _json_message(422, f"the uploaded file {upload.filename!r} is empty")
                return data, page_format, upload.filename
            if isinstance(text, str) and text.strip():
                return text, page_format, None
        return _json_message(422, "send a file (field 'file') or text (field 'text')")
    return _json_message(415, "send application/json or multipart/form-data")


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn (`sockets=[...]`), so errors surface before start-up.

    The protocol must be given as IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections
    only when the socket says so, and without it Nagle's algorithm meets delayed ACKs and every
    request on a kept-alive connection waits ~40 ms.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Listening now, not when uvicorn starts serving: clients that connect while worker
        # processes build their engines wait in the backlog instead of being refused.
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def running_server(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Runs `app` with uvicorn in a background thread; yields its base URL, stops on exit.

    For tests, benchmarks and notebooks: the port is bound before the thread starts, so the URL
    is usable as soon as it is yielded (port 0 picks a free one).
    """
    import uvicorn

    sock = listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="unspin-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 120  # start-up may load the engine
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server failed to start")
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 120 s")
            time.sleep(0.02)
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{url_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, from the locally installed swagger-ui-bundle when present.

    No network at run time: without the bundle, /docs points at the CDN FastAPI uses by default
    (which only works online) while /openapi.json always works.
    """
    try:
        import swagger_ui_bundle  # type: ignore[import-not-found]
    except ImportError:
        assets = None
    else:
        assets = Path(swagger_ui_bundle.swagger_ui_path)
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if assets is None:
            return get_swagger_ui_html(openapi_url="/openapi.json", title="unspin API")
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="unspin API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
