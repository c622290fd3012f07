"""`unspin serve`: the web service and page (FastAPI on uvicorn).

The engine (and its language model) is built once, before the server starts listening, so the
first request does not pay for it and a broken model install is a clear error, not a 500.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
from pathlib import Path

from unspin.cli._engine_args import (
    add_engine_arguments,
    build_engine,
    check_engine_options,
    engine_options,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the web service and page",
        description=(
            "Serve JSON endpoints (/api/clean, /api/detect, /api/restore, /api/trace, "
            "/api/analyze), the page at /, OpenAPI docs at /docs and /health. The server never "
            "fetches URLs given by a client."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default %(default)s; 0 picks a free one)"
    )
    parser.add_argument(
        "--db", metavar="PATH", help="source index (from `unspin index add`) to trace against"
    )
    parser.add_argument(
        "--max-body",
        type=int,
        default=None,
        metavar="BYTES",
        help="largest request body accepted; bigger ones get 413 (default 2 MiB)",
    )
    parser.add_argument(
        "--workers",
        "--max-concurrent",
        dest="workers",
        type=int,
        default=None,
        metavar="N",
        help="documents analysed at once, each in a worker process with its own engine (1: "
        "one engine in this process); more get 429 at once (default: the number of cores)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time limit per request; slower ones get 504 (default 60)",
    )
    parser.add_argument(
        "--keep-alive",
        type=float,
        default=15.0,
        metavar="SECONDS",
        # Longer than common clients' own idle expiry (httpx: 5 s): with equal timeouts a client
        # can send on a connection the server is just closing and get a connection error.
        help="close idle keep-alive connections after this long (default %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default %(default)s)",
    )
    add_engine_arguments(parser)  # --dict, --model, --lexical, --exclude, --device as in detect
    parser.set_defaults(func=run)


def _error(message: str) -> int:
    print(f"unspin: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from unspin.server import app as server_app
    except ImportError as error:
        return _error(
            f"serve needs the server extra ({error.name} is missing): pip install 'unspin[server]'"
        )

    limits = {
        "max_body": args.max_body if args.max_body is not None else server_app.DEFAULT_MAX_BODY,
        "max_concurrent": (
            args.workers if args.workers is not None else server_app.DEFAULT_MAX_CONCURRENT
        ),
        "timeout_s": args.timeout if args.timeout is not None else server_app.DEFAULT_TIMEOUT_S,
    }
    if limits["max_body"] < 1 or limits["max_concurrent"] < 1 or limits["timeout_s"] <= 0:
        return _error("--max-body, --workers and --timeout must be positive")

    db = None
    if args.db:
        db = Path(args.db)
        if not db.is_file():
            return _error(f"{db}: no such index (build one with `unspin index add --db {db} ...`)")
        try:
            from unspin.tracing.index import SourceIndex

            SourceIndex(db, create=False).close()
        except Exception as error:  # a user's file: say what is wrong in one line
            return _error(f"{db}: cannot open as a source index: {error}")

    try:
        sock = server_app.listening_socket(args.host, args.port)
    except OSError as error:
        return _error(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")

    if limits["max_concurrent"] > 1:
        # Worker processes, each building its engine at start-up: the engine's work is pure
        # Python, so threads would share one core (docs/server.md).
        if not check_engine_options(args):
            sock.close()
            return 2
        print(
            f"unspin: starting {limits['max_concurrent']} worker processes…",
            file=sys.stderr,
            flush=True,
        )
        from unspin.engine import Engine

        factory = functools.partial(Engine, **engine_options(args))
        app = server_app.create_app(engine=factory, db=db, processes=True, **limits)
    else:
        print("unspin: loading the engine…", file=sys.stderr, flush=True)
        engine = build_engine(args)  # prints a one-line error itself
        if engine is None:
            sock.close()
            return 2
        app = server_app.create_app(engine=engine, db=db, **limits)
    host, port = sock.getsockname()[:2]
    print(f"unspin: serving on http://{host}:{port}/ (Ctrl+C stops)", file=sys.stderr, flush=True)
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        timeout_keep_alive=max(1, round(args.keep_alive)),
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal; a stop
    # asked for is a normal end for a server, so both end here with exit code 0.
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    stopped = False
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _Stopped):
        stopped = True
    except SystemExit:
        pass  # uvicorn exits when the start-up fails; said below
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
        # A stop during start-up skips the app's own shutdown: worker processes must not
        # outlive the server.
        if app.state.unspin.limiter is not None:
            app.state.unspin.limiter.shutdown()
    if not server.started and not stopped:
        # The start-up failed (an engine that did not build in a worker): uvicorn logged why.
        return _error("the server did not start")
    print("unspin: server stopped", file=sys.stderr)
    return 0


class _Stopped(Exception):
    """SIGTERM arrived: stop like Ctrl+C does."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped
