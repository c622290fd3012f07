"""The per-document time limit of batch workers (`time_limit`, `DocumentTimeout`).

In a local worker's main thread the limit is ``SIGALRM``; Ray runs actor methods in a worker
thread where signals cannot be delivered, so there a timer thread injects the exception. Both
stop Python code; C code that never returns to the interpreter is the local engine's watchdog's
job (`unspin.batch.local.LocalPool` kills the worker process).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["DocumentTimeout", "time_limit"]


class DocumentTimeout(TimeoutError):
    """Raised inside a worker when one document exceeds the per-document time limit.

    A TimeoutError, so the record's error shows its message as is ("detect: time limit of
    60 s exceeded"), like other errors written for users.
    """


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise DocumentTimeout in this thread after `seconds`.

    In the main thread (local workers) this is SIGALRM. Elsewhere (Ray runs actor methods in a
    worker thread, where signals cannot be delivered) a timer thread injects the exception with
    `PyThreadState_SetAsyncExc`. Both stop Python code; C code that never returns to the
    interpreter is stopped by the local engine's watchdog, which kills the worker process.
    """
    if not seconds:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        with _alarm_limit(seconds):
            yield
    else:
        with _thread_limit(seconds):
            yield


@contextlib.contextmanager
def _alarm_limit(seconds: float) -> Iterator[None]:
    def _expired(signum: int, frame: Any) -> None:
        raise DocumentTimeout(f"time limit of {seconds:g} s exceeded")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _ThreadTimeout(DocumentTimeout):
    """Injected into a worker thread, which cannot pass arguments: a subclass made per limit
    carries the seconds, so the message is right wherever the exception is caught."""

    seconds: float = 0.0

    def __str__(self) -> str:
        return f"time limit of {self.seconds:g} s exceeded"


@contextlib.contextmanager
def _thread_limit(seconds: float) -> Iterator[None]:
    import ctypes

    thread_id = ctypes.c_ulong(threading.get_ident())
    expired = type("_ThreadTimeout", (_ThreadTimeout,), {"seconds": seconds})
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def _expire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, ctypes.py_object(expired))

    timer = threading.Timer(seconds, _expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except _ThreadTimeout as exc:
        raise DocumentTimeout(f"time limit of {seconds:g} s exceeded") from exc
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            if state["fired"]:  # injected but perhaps not raised yet: never let it escape later
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, None)
