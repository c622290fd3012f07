"""Restoration: the spun text with every decided edit applied, and the edits themselves.

Edits are character ranges of the input; applying them (`apply_edits`) to the input gives the
restored text exactly, which the tests check as a property.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from unspin.engine.results import Edit, Restoration, apply_edits, restoration_from_analysis

if TYPE_CHECKING:
    from unspin.engine import Engine
    from unspin.tracing import Match
    from unspin.tracing.index import SourceIndex

__all__ = [
    "Edit",
    "Restoration",
    "apply_edits",
    "restoration_from_analysis",
    "restore",
    "restore_and_explain",
    "with_source",
]


def restore(text: str, *, engine: Engine | None = None) -> Restoration:
    """Restore the original wording of a spun text (a clean text comes back unchanged)."""
    from unspin.engine import default_engine

    return (engine or default_engine()).restore(text)


def restore_and_explain(text: str, *, engine: Engine | None = None) -> Restoration:
    """Like `restore`, with each edit's evidence and the alternatives it was preferred to."""
    from unspin.engine import default_engine

    return (engine or default_engine()).restore_and_explain(text)


def with_source(restoration: Restoration, match: Match, index: SourceIndex) -> Restoration:
    """The traced source's wording where the page was copied from it, the engine's elsewhere.

    A page whose source is in the index needs no guessing inside the passages copied from
    it: the aligned source words are the original (edits with evidence ``source``). Outside
    those passages (what the farm added, paragraphs the alignment missed) the engine's own
    edits stand.
    """
    from unspin.learning import restore_from_source

    source = index.get(match.source_id)
    if source is None:  # removed from the index since tracing
        return restoration
    page = restoration.original
    from_source = restore_from_source(
        page, source.full_text, match.passages, source_id=match.source_id
    )
    covered = [(p.page_start, p.page_end) for p in match.passages]
    kept = [e for e in restoration.edits if not _inside(e, covered)]
    edits = sorted([*from_source, *_without_overlaps(kept, from_source)], key=lambda e: e.start)
    return Restoration(apply_edits(page, edits), page, edits, restoration.language)


def _inside(edit: Edit, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(start < edit.end and edit.start < end for start, end in ranges)


def _without_overlaps(edits: list[Edit], taken: list[Edit]) -> list[Edit]:
    return [e for e in edits if not _inside(e, [(t.start, t.end) for t in taken])]
