"""What detection and restoration return: spans, edits and the views of an `Analysis`.

Both are views of one engine analysis (`Engine.analyse`), so a caller that wants both runs
the engine once (`unspin.pipeline.process` does).  Edits are character ranges of the input;
applying them (`apply_edits`) to the input gives the restored text exactly, which the tests
check as a property.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unspin.engine.evidence import Evidence

if TYPE_CHECKING:
    from unspin.engine.engine import Analysis, Engine


def _evidence_dicts(evidence: Iterable[Evidence | str]) -> list[Any]:
    return [e.to_dict() if isinstance(e, Evidence) else e for e in evidence]


SPUN_THRESHOLD = 0.5


@dataclass
class Span:
    """A substituted phrase text[start:end] and the original it most likely replaced."""

    start: int
    end: int
    text: str
    suggestion: str
    confidence: float
    evidence: list[Evidence | str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "suggestion": self.suggestion,
            "confidence": self.confidence,
            "evidence": _evidence_dicts(self.evidence),
        }


@dataclass
class Detection:
    """`score` is a calibrated probability that the text is spun; `family` names the loaded
    (or learned) spinner dictionary that explains most spans, and `family_share` the share of
    the spans it lists (both None without --dict).  `language` is the text's language (None
    when too short to tell): a text not in English is not analysed, and comes back not spun,
    with no spans."""

    spun: bool
    score: float
    spans: list[Span]
    family: str | None = None
    family_share: float | None = None
    language: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spun": self.spun,
            "score": self.score,
            "spans": [span.to_dict() for span in self.spans],
            "family": self.family,
            "family_share": self.family_share,
            "language": self.language,
        }


def detection_from_analysis(engine: Engine, analysis: Analysis) -> Detection:
    score = round(analysis.probability, 4)
    spans = [
        Span(d.start, d.end, d.before, d.after, d.confidence, list(d.evidence))
        for d in sorted(analysis.decisions, key=lambda d: d.start)
    ]
    family, share = _family(engine, analysis)
    return Detection(score >= SPUN_THRESHOLD, score, spans, family, share, analysis.language)


def _family(engine: Engine, analysis: Analysis) -> tuple[str | None, float | None]:
    """The loaded spinner dictionary in which most decided edits are listed substitutions,
    and the share of the edits it lists: which spinner made this page, and how sure."""
    if not engine.dictionary_names or not analysis.decisions:
        return None, None
    votes: Counter[str] = Counter()
    for decision in analysis.decisions:
        for name in engine.user.explains(decision.after, decision.before):
            votes[name] += 1
        for lexicon in engine.lexicons:
            before, after = decision.before, decision.after
            listed = lexicon.pairs.get(before) or lexicon.pairs.get(before.lower()) or {}
            if after in listed or after.lower() in listed:
                votes[lexicon.name] += 1
    if not votes:
        return None, None
    name, count = votes.most_common(1)[0]
    return name, round(count / len(analysis.decisions), 4)


@dataclass
class Edit:
    """Replace text[start:end] (== before) by `after`."""

    start: int
    end: int
    before: str
    after: str
    confidence: float
    evidence: list[Evidence | str] = field(default_factory=list)
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self, *, explain: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "before": self.before,
            "after": self.after,
            "confidence": self.confidence,
        }
        if explain:
            data["evidence"] = _evidence_dicts(self.evidence)
            data["alternatives"] = [{"text": t, "score": s} for t, s in self.alternatives]
        return data


@dataclass
class Restoration:
    """The restored `text`, the `original` input and the `edits` that turn one into the other;
    `language` as in `Detection` (a text not in English is left as it is)."""

    text: str
    original: str
    edits: list[Edit]
    language: str | None = None

    def to_dict(self, *, explain: bool = True) -> dict[str, Any]:
        return {
            "text": self.text,
            "edits": [edit.to_dict(explain=explain) for edit in self.edits],
            "language": self.language,
        }

    def marked(self) -> str:
        """The input with every edit shown in place as ``[before → after]``, for reading the changes."""
        marks = [
            Edit(e.start, e.end, e.before, f"[{e.before} \u2192 {e.after}]", e.confidence)
            for e in self.edits
        ]
        return apply_edits(self.original, marks)


def apply_edits(text: str, edits: Iterable[Any]) -> str:
    """Apply non-overlapping edits (any order) to `text`.

    An edit is anything with `start`, `end` and `after` (ours, or another restorer's in the
    bench); one that also has `before` must match the text it replaces. Raises ValueError
    for overlapping, reversed or out-of-range edits.
    """
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    pieces = []
    cursor = 0
    for edit in ordered:
        start, end = int(edit.start), int(edit.end)
        if end < start:
            raise ValueError(f"edit [{start}, {end}) ends before it starts")
        if end > len(text):
            raise ValueError(f"edit [{start}, {end}) runs past the text ({len(text)})")
        if start < cursor:
            raise ValueError(f"overlapping edits at {start}")
        before = getattr(edit, "before", None)
        if before is not None and text[start:end] != before:
            raise ValueError(f"edit at {start} does not match the text")
        pieces.append(text[cursor:start])
        pieces.append(str(edit.after))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def restoration_from_analysis(text: str, analysis: Analysis, *, explain: bool) -> Restoration:
    edits = [
        Edit(
            d.start,
            d.end,
            d.before,
            d.after,
            d.confidence,
            list(d.evidence) if explain else [],
            list(d.alternatives) if explain else [],
        )
        for d in sorted(analysis.decisions, key=lambda d: d.start)
    ]
    return Restoration(apply_edits(text, edits), text, edits, analysis.language)
