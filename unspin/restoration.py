"""Restoration: the spun text with every decided edit applied, and the edits themselves.

Edits are character ranges of the input; applying them (`apply_edits`) to the input gives the
restored text exactly, which the tests check as a property.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unspin.engine.results import Edit, Restoration, apply_edits, restoration_from_analysis

if TYPE_CHECKING:
    from unspin.engine import Engine

__all__ = [
    "Edit",
    "Restoration",
    "apply_edits",
    "restoration_from_analysis",
    "restore",
    "restore_and_explain",
]


def restore(text: str, *, engine: Engine | None = None) -> Restoration:
    """Restore the original wording of a spun text (a clean text comes back unchanged)."""
    from unspin.engine import default_engine

    return (engine or default_engine()).restore(text)


def restore_and_explain(text: str, *, engine: Engine | None = None) -> Restoration:
    """Like `restore`, with each edit's evidence and the alternatives it was preferred to."""
    from unspin.engine import default_engine

    return (engine or default_engine()).restore_and_explain(text)
