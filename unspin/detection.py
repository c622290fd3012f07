"""Detection: is a text spun, and which phrases were substituted (with their likely originals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unspin.engine.results import SPUN_THRESHOLD, Detection, Span, detection_from_analysis

if TYPE_CHECKING:
    from unspin.engine import Engine

__all__ = ["SPUN_THRESHOLD", "Detection", "Span", "detect", "detection_from_analysis"]


def detect(text: str, *, engine: Engine | None = None) -> Detection:
    """Detect spinning in `text` with the default (or a given) engine."""
    from unspin.engine import default_engine

    return (engine or default_engine()).detect(text)
