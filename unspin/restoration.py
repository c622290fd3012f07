"""Restoration: the spun text with every decided edit applied, and the edits themselves.

Edits are character ranges of the input; applying them (`apply_edits`) to the input gives the
restored text exactly, which the tests check as a property.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unspin.engine import Analysis, Engine


@dataclass
class Edit:
    """Replace text[start:end] (== before) by `after`."""

    start: int
    end: int
    before: str
    after: str
    confidence: float
    evidence: list[str] = field(default_factory=list)
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self, *, explain: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not explain:
            data.pop("evidence")
            data.pop("alternatives")
        else:
            data["alternatives"] = [{"text": t, "score": s} for t, s in self.alternatives]
        return data


@dataclass
class Restoration:
    """The restored `text`, the `original` input and the `edits` that turn one into the other."""

    text: str
    original: str
    edits: list[Edit]

    def to_dict(self, *, explain: bool = True) -> dict[str, Any]:
        return {
            "text": self.text,
            "edits": [edit.to_dict(explain=explain) for edit in self.edits],
        }

    def marked(self) -> str:
        """The input with every edit shown in place as ``[before → after]``, for reading the changes."""
        marks = [
            Edit(e.start, e.end, e.before, f"[{e.before} \u2192 {e.after}]", e.confidence)
            for e in self.edits
        ]
        return apply_edits(self.original, marks)


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (any order) to `text`."""
    ordered = sorted(edits, key=lambda e: e.start)
    pieces = []
    cursor = 0
    for edit in ordered:
        if edit.start < cursor:
            raise ValueError(f"overlapping edits at {edit.start}")
        if text[edit.start : edit.end] != edit.before:
            raise ValueError(f"edit at {edit.start} does not match the text")
        pieces.append(text[cursor : edit.start])
        pieces.append(edit.after)
        cursor = edit.end
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
    return Restoration(apply_edits(text, edits), text, edits)


def restore(text: str, *, engine: Engine | None = None) -> Restoration:
    """Restore the original wording of a spun text (a clean text comes back unchanged)."""
    from unspin.engine import default_engine

    return (engine or default_engine()).restore(text)


def restore_and_explain(text: str, *, engine: Engine | None = None) -> Restoration:
    """Like `restore`, with each edit's evidence and the alternatives it was preferred to."""
    from unspin.engine import default_engine

    return (engine or default_engine()).restore_and_explain(text)
