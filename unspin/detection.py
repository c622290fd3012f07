"""Detection: is a text spun, and which phrases were substituted (with their likely originals)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unspin.engine import Analysis, Engine

SPUN_THRESHOLD = 0.5


@dataclass
class Span:
    """A substituted phrase text[start:end] and the original it most likely replaced."""

    start: int
    end: int
    text: str
    suggestion: str
    confidence: float
    evidence: list[str] | str = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Detection:
    """`score` is a calibrated probability that the text is spun; `family` names the loaded
    spinner dictionary that explains most spans (None without --dict)."""

    spun: bool
    score: float
    spans: list[Span]
    family: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spun": self.spun,
            "score": self.score,
            "spans": [span.to_dict() for span in self.spans],
            "family": self.family,
        }


def detection_from_analysis(engine: Engine, analysis: Analysis) -> Detection:
    score = round(analysis.probability, 4)
    spans = [
        Span(d.start, d.end, d.before, d.after, d.confidence, list(d.evidence))
        for d in sorted(analysis.decisions, key=lambda d: d.start)
    ]
    return Detection(score >= SPUN_THRESHOLD, score, spans, _family(engine, analysis))


def _family(engine: Engine, analysis: Analysis) -> str | None:
    """The loaded spinner dictionary in which most decided edits are listed substitutions."""
    if not engine.dictionary_names:
        return None
    votes: Counter[str] = Counter()
    for decision in analysis.decisions:
        for name in engine.user.explains(decision.after, decision.before):
            votes[name] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def detect(text: str, *, engine: Engine | None = None) -> Detection:
    """Detect spinning in `text` with the default (or a given) engine."""
    from unspin.engine import default_engine

    return (engine or default_engine()).detect(text)
