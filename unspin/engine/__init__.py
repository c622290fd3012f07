"""The engine: candidates from several sources, an n-gram beam, a document verdict and a
causal-LM decision.  See docs/engine.md for a map of the modules.

    config.py      EngineConfig: every tuning constant, with its reason
    sources/       where candidate originals come from, one module a source
    candidates.py  spans of a sentence, proposals merged into candidates
    protect.py     names, terms, URLs, quotations and headlines
    decoding.py    per-call PageState, priors, the beam, n-gram and causal decisions
    calibration.py the document-level spin probability
    engine.py      Engine: loads resources once, analyses a text per call
"""

from unspin.engine.config import EngineConfig
from unspin.engine.decoding import Decision, PageState
from unspin.engine.engine import Analysis, Engine, default_engine
from unspin.engine.evidence import Evidence

__all__ = [
    "Analysis",
    "Decision",
    "Engine",
    "EngineConfig",
    "Evidence",
    "PageState",
    "default_engine",
]
