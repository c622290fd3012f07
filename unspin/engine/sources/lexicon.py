"""Learned lexicons (`unspin learn`) as a candidate source: the substitutions a farm's spinner
made on traced pages, with how often each was seen, and how often the spun form stood
unchanged.  The page-level model of the same lexicon is `unspin.engine.lexicon_model`."""

from __future__ import annotations

import math
from collections.abc import Iterator

from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.engine.sources import Proposal, SpunSpan
from unspin.resources.lexicon import Lexicon


class LexiconSource:
    """Each original a learned lexicon lists for the spun form, weighed by its counts.

    The prior is the log-odds that this form stood for this original rather than for
    itself on the traced pages, ``log((seen as original + 0.5) / (seen unchanged + 0.5))``,
    plus `EngineConfig.lexicon_prior`: "agency" seen five times for "firm" and never
    unchanged is strong evidence; a form seen once spun and ten times as itself is not. A
    flat dictionary bonus for every mined pair, noise included, changed 4% of untouched
    words (bench_learn, WordNet-spun). Like a user dictionary's, the weight counts only once
    the page is judged spun.
    """

    name = "lexicon"

    def __init__(self, lexicons: list[Lexicon], config: EngineConfig) -> None:
        self.lexicons = lexicons
        self.config = config

    def propose(self, span: SpunSpan) -> Iterator[Proposal]:
        if span.ends_in_number:
            return
        config = self.config
        for lexicon in self.lexicons:
            for key in dict.fromkeys((span.surface, span.phrase)):
                originals = lexicon.pairs.get(key)
                if not originals:
                    continue
                unchanged = lexicon.unchanged.get(key, 0)
                for original, count in originals.items():
                    log_odds = math.log((count + 0.5) / (unchanged + 0.5))
                    weight = round(config.lexicon_prior + log_odds, 3)
                    evidence = Evidence(
                        "lexicon",
                        f"learned {lexicon.name}: '{key}' stood for '{original}' {count} "
                        f"times, for itself {unchanged} times",
                        "inverse",
                        (lexicon.name,),
                        weight,
                    )
                    yield Proposal(
                        original,
                        evidence,
                        config.thesaurus_prior,
                        bonus=weight - config.thesaurus_prior,
                    )
