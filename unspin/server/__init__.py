"""The unspin web service: JSON endpoints and a page for people who look rather than read JSON.

`create_app(...)` builds the FastAPI application (see `unspin.server.app`); `unspin serve` runs it
with uvicorn. FastAPI is an optional dependency (`pip install 'unspin[server]'`), so nothing is
imported here until it is asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from unspin.server.app import create_app

        return create_app
    raise AttributeError(f"module 'unspin.server' has no attribute {name!r}")
