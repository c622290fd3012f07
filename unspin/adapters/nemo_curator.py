"""NeMo Curator filter: score documents for spinning, keep the clean ones.

    from nemo_curator.stages.text.filters import ScoreFilter
    from unspin.adapters.nemo_curator import UnspinFilter

    pipeline.add_stage(ScoreFilter(UnspinFilter(threshold=0.5), text_field="text",
                                   score_field="unspin_score"))

``score_document(text)`` returns unspin's calibrated probability that the text was spun;
``keep_document(score)`` keeps documents scoring below the threshold. Because the filter has a
``load_model`` method, ``ScoreFilter`` runs it as an actor stage and calls ``load_model`` once per
worker, so the language model is loaded once per worker, not per batch. Needs
``pip install nemo-curator`` (the 1.x API, ``nemo_curator.stages.text.filters``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:  # NeMo Curator >= 1.0
    from nemo_curator.stages.text.filters import DocumentFilter
except ImportError:  # the 0.x layout
    from nemo_curator.filters import DocumentFilter

from unspin.adapters import DEFAULT_THRESHOLD, SpinningScorer


class UnspinFilter(DocumentFilter):
    """`DocumentFilter` whose score is unspin's probability that a document was spun."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._name = "unspin_spinning"
        self.scorer = SpinningScorer(threshold=threshold, engine_options=engine_options)

    def load_model(self) -> None:
        """Build the Engine now (ScoreFilter calls this once per worker in `setup`)."""
        _ = self.scorer.engine

    def score_document(self, text: str) -> float:
        return float(self.scorer.detect(text).score)

    def keep_document(self, score: float) -> bool:
        return not self.scorer.is_spun(score)
