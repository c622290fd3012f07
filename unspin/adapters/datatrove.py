"""datatrove filter: drop spun documents, keep the evidence in metadata.

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from unspin.adapters.datatrove import UnspinFilter

    LocalPipelineExecutor(pipeline=[
        JsonlReader("crawl/"),
        UnspinFilter(threshold=0.5, exclusion_writer=JsonlWriter("spun/")),
        JsonlWriter("kept/"),
    ], tasks=4).run()

Every document gets ``metadata["unspin_score"]`` (calibrated probability that it was spun),
``metadata["unspin_spun"]`` and ``metadata["unspin_spans"]`` (``[start, end, confidence]`` over
``doc.text``). Spun documents (score >= threshold) are dropped with reason ``unspin_spun``, which
datatrove counts as ``dropped_unspin_spun`` and writes as ``filter_reason`` when an
``exclusion_writer`` is given. Needs ``pip install datatrove``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from unspin.adapters import DEFAULT_THRESHOLD, DROP_REASON, SpinningScorer, spans_as_triples


class UnspinFilter(BaseFilter):
    """Keeps documents unspin finds clean; drops spun ones with `filter_reason` `unspin_spun`."""

    name = "🌀 unspin spinning filter"

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        engine_options: Mapping[str, Any] | None = None,
        exclusion_writer: DiskWriter | None = None,
        keep_spans: bool = True,
    ) -> None:
        super().__init__(exclusion_writer)
        self.scorer = SpinningScorer(threshold=threshold, engine_options=engine_options)
        self.keep_spans = keep_spans

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        detection = self.scorer.detect(doc.text)
        spun = self.scorer.is_spun(detection.score)
        doc.metadata["unspin_score"] = float(detection.score)
        doc.metadata["unspin_spun"] = spun
        if self.keep_spans:
            doc.metadata["unspin_spans"] = spans_as_triples(detection)
        if spun:
            self.stat_update("unspin_spans", value=len(detection.spans))
            return False, DROP_REASON
        return True
