"""Document-level spin probability: a logistic model over a few features of the analysis.

The coefficients live in `unspin/data/calibration.json`, fitted by
`benchmarks/fit_calibration.py` on the development sets (dictionaries other than the evaluated
one, so the unseen numbers stay honest).  The defaults below are only used when that file is
missing, and are the first hand-set version.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from unspin.engine.engine import Analysis

FEATURES = ("edit_rate", "score_rate", "spintax", "ngram_per_word", "log_words")
DEFAULT = {
    "bias": -6.0,
    "weights": {
        "edit_rate": 1.2,
        "score_rate": 0.1,
        "spintax": 4.0,
        "ngram_per_word": 0.0,
        "log_words": 0.0,
    },
}


def features(analysis: Analysis) -> dict[str, float]:
    words = max(analysis.words, 1)
    return {
        "edit_rate": 100.0 * len(analysis.decisions) / words,
        "score_rate": 100.0 * sum(min(d.score, 20.0) for d in analysis.decisions) / words,
        "spintax": float(min(analysis.spintax, 3)),
        "ngram_per_word": analysis.ngram_logprob / words,
        "log_words": math.log(words),
    }


@lru_cache(maxsize=4)
def coefficients(mode: str) -> dict:
    """Coefficients for an engine mode ("causal" or "ngram")."""
    try:
        text = resources.files("unspin.data").joinpath("calibration.json").read_text("utf-8")
        table = json.loads(text)
    except (FileNotFoundError, json.JSONDecodeError):
        return DEFAULT
    return table.get(mode, DEFAULT)


def spin_probability(analysis: Analysis | dict[str, float], mode: str = "ngram") -> float:
    """Probability that the analysed text is spun, from the fast n-gram pass's findings
    (an analysis, or its `features`)."""
    coef = coefficients(mode)
    values = analysis if isinstance(analysis, dict) else features(analysis)
    z = coef["bias"] + sum(coef["weights"].get(name, 0.0) * values[name] for name in FEATURES)
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))
