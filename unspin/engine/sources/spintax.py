"""Spintax leftovers: `{word}` or `{a|b}` left in the text by a spinner that failed to resolve it."""

from __future__ import annotations

from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.engine.sources import Proposal, SpunSpan


class SpintaxSource:
    """The first option of a spintax group: certain, so repaired even on pages judged clean."""

    name = "spintax"

    def __init__(self, config: EngineConfig) -> None:
        self.prior = config.spintax_prior

    def propose(self, span: SpunSpan) -> list[Proposal]:
        if span.words != 1 or not span.surface.startswith("{"):
            return []
        options = [o.strip() for o in span.surface[1:-1].split("|") if o.strip()]
        evidence = Evidence("spintax", "spintax leftover", weight=self.prior)
        return [Proposal(option, evidence, self.prior) for option in options[:1]]
