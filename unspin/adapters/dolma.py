"""dolma tagger: spinning spans as dolma attributes.

    # register the tagger by importing this module, then tag as usual:
    dolma tag --documents 'data/documents/*.jsonl.gz' --experiment unspin \
        --taggers unspin --tagger_modules unspin.adapters.dolma --processes 4

Each document gets, under ``{experiment}__unspin__<type>``:

* ``document``: ``[[0, len(text), score]]`` — the calibrated probability it was spun;
* ``spun``: ``[[0, len(text), 1.0 or 0.0]]`` — the engine's verdict (``Detection.spun``);
* ``spans``: ``[[start, end, confidence], ...]`` — every phrase unspin marks as substituted.

These are the same attributes ``unspin batch --format attributes`` writes (experiment ``unspin``),
so a dolma mixer filter such as ``$.attributes[?(@.unspin__unspin__document[0][2] >= 0.5)]``
works on either. dolma builds a tagger per worker process with no arguments, so options come from
environment variables: ``UNSPIN_MODEL`` (``default``, a model id or path, or ``none`` for the
n-gram-only engine), ``UNSPIN_DICT`` (spinner dictionary files, separated by ``:``) and
``UNSPIN_LEXICAL`` (built-in resources to use, comma-separated; default all). Needs
``pip install dolma``.
"""

from __future__ import annotations

import os
from typing import Any

from dolma import add_tagger
from dolma.core.data_types import DocResult, Document, Span
from dolma.core.taggers import BaseTagger

from unspin.adapters import SpinningScorer

TAGGER_NAME = "unspin"


def engine_options_from_environment() -> dict[str, Any]:
    options: dict[str, Any] = {}
    model = os.environ.get("UNSPIN_MODEL")
    if model:
        options["model"] = None if model.lower() == "none" else model
    dictionaries = [p for p in os.environ.get("UNSPIN_DICT", "").split(os.pathsep) if p]
    if dictionaries:
        options["dictionaries"] = dictionaries
    lexical = [n.strip() for n in os.environ.get("UNSPIN_LEXICAL", "").split(",") if n.strip()]
    if lexical:
        options["lexical"] = lexical
    return options


@add_tagger(TAGGER_NAME)
class UnspinTagger(BaseTagger):
    """Tags spun phrases (`spans`), the document score (`document`) and verdict (`spun`)."""

    def __init__(self, scorer: SpinningScorer | None = None) -> None:
        self.scorer = scorer or SpinningScorer(engine_options=engine_options_from_environment())

    @property
    def defaults(self) -> list[str]:
        # Always emit these keys, even for a document with no marked phrase.
        return ["document", "spun", "spans"]

    def predict(self, doc: Document) -> DocResult:
        detection = self.scorer.detect(doc.text)
        length = len(doc.text)
        spans = [
            Span(start=0, end=length, type="document", score=float(detection.score)),
            Span(
                start=0,
                end=length,
                type="spun",
                score=1.0 if detection.spun else 0.0,
            ),
        ]
        spans += [
            Span(start=s.start, end=s.end, type="spans", score=float(s.confidence))
            for s in detection.spans
        ]
        return DocResult(doc=doc, spans=spans)
