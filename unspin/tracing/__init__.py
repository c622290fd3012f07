"""Stage 4, trace: the source of a page in an index of originals, with the copied passages.

fingerprint.py  anchors and sketches of a text (what the index stores and looks up)
index.py        SourceIndex: the SQLite index of originals
tracer.py       trace(): candidate sources from the index, ranked by aligned passages
"""

from unspin.tracing.index import SourceDocument, SourceIndex, SourceIndexError
from unspin.tracing.tracer import (
    DEFAULT_THRESHOLD,
    Match,
    Passage,
    TraceResult,
    align_passages,
    trace,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "Match",
    "Passage",
    "SourceDocument",
    "SourceIndex",
    "SourceIndexError",
    "TraceResult",
    "align_passages",
    "trace",
]
