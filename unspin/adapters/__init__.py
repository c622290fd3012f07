"""Thin adapters that put unspin's spinning detector into data-curation pipelines.

* ``unspin.adapters.datatrove.UnspinFilter`` — a datatrove ``BaseFilter``: keeps clean documents,
  drops spun ones with ``filter_reason="unspin_spun"``; the score and spans go into metadata.
* ``unspin.adapters.nemo_curator.UnspinFilter`` — a NeMo Curator ``DocumentFilter``:
  ``score_document(text)`` returns the calibrated score, ``keep_document(score)`` keeps it below
  the threshold.
* ``unspin.adapters.dolma.UnspinTagger`` — a dolma tagger (registered as ``unspin_spinning``):
  ``[start, end, score]`` spans for every marked phrase plus a document-level score.

Each library is an optional extra and is imported only by its adapter module. All three share
:class:`SpinningScorer`, which builds the Engine lazily on first use: pipeline frameworks pickle
their steps to send them to workers, and a loaded language model must not travel that way (nor
be loaded per document) — each worker process builds its own engine once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

DEFAULT_THRESHOLD = 0.5
DROP_REASON = "unspin_spun"


class SpinningScorer:
    """Scores texts for spinning with one lazily built, per-process Engine."""

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        engine_options: Mapping[str, Any] | None = None,
        engine: Any = None,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1 (the score is a probability)")
        self.threshold = threshold
        self.engine_options = dict(engine_options or {})
        self._engine = engine
        self._lock = threading.Lock()

    @property
    def engine(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from unspin.engine import Engine

                    self._engine = Engine(**self.engine_options)
        return self._engine

    def detect(self, text: str) -> Any:
        """The Detection for `text` (offsets are into `text` as given)."""
        return self.engine.detect(text)

    def is_spun(self, score: float) -> bool:
        return score >= self.threshold

    def __getstate__(self) -> dict[str, Any]:
        # Never pickle a loaded model or a lock: workers rebuild the engine from its options.
        state = self.__dict__.copy()
        state["_engine"] = None
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def spans_as_triples(detection: Any) -> list[list[float]]:
    """`[start, end, confidence]` for each marked phrase (the dolma attribute convention)."""
    return [[span.start, span.end, float(span.confidence)] for span in detection.spans]
