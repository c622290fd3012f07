"""unspin: undo article spinning.

The pipeline, one module and one public function a stage:

    extract(page)       -> Article       unspin/extraction/article.py
    detect(text)        -> Detection     unspin/detection.py
    restore(text)       -> Restoration   unspin/restoration.py
    trace(text, index)  -> TraceResult   unspin/tracing/tracer.py

and the four assembled once, for one document:

    process(document, tasks) -> Record   unspin/pipeline.py
                                          (JSON: unspin/data/record.schema.json)

and, from traced pages, the spinner's dictionary:

    learn(pages, index)  -> LearnReport   unspin/learning.py

The engine behind detect and restore is the package unspin/engine/ (docs/engine.md has
its map); thesauri, language models and spinner dictionaries are in unspin/resources/.

Stage modules are named by noun so that the function `unspin.detect` is never
shadowed by a submodule of the same name. Names are imported lazily so that
`import unspin` does not load language models.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "extract": "unspin.extraction",
    "Article": "unspin.extraction",
    "detect": "unspin.detection",
    "Detection": "unspin.detection",
    "restore": "unspin.restoration",
    "restore_and_explain": "unspin.restoration",
    "Restoration": "unspin.restoration",
    "trace": "unspin.tracing",
    "TraceResult": "unspin.tracing",
    "SourceIndex": "unspin.tracing",
    "learn": "unspin.learning",
    "Engine": "unspin.engine",
    "process": "unspin.pipeline",
    "Record": "unspin.pipeline",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unspin' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
