"""Listed variants reached through a synonym: "irregular woodland" is listed nowhere, but
"woodland" ~ "forest" turns it into "irregular forest", which the PPS list has for "random
forest".  Tortured phrases vary; the lists hold only some of the variants."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.engine.sources import PhraseCache, Proposal
from unspin.engine.sources.thesaurus import TwoWordSource
from unspin.resources.relations import RelationIndex
from unspin.text import STOPWORDS, inflect_phrase_like


class ListedVariantSource(TwoWordSource):
    """Originals of a listed two-word phrase one synonym away; weighed only on spun pages."""

    name = "variant"

    def __init__(self, relations: RelationIndex, config: EngineConfig) -> None:
        super().__init__(relations, config)
        # A word's best synonyms are the same in every phrase it is part of: ranked once.
        self._synonyms: PhraseCache[str] = PhraseCache()

    def _hop_synonyms(self, word: str) -> list[str]:
        """The `hop_synonyms` one-word synonyms of `word` most resources agree on."""
        ranked = heapq.nsmallest(
            self.config.hop_synonyms,
            (
                (head, rels)
                for head, rels in self.relations.related(word).items()
                if " " not in head and head not in STOPWORDS
            ),
            key=lambda item: (-len({rel.resource for rel in item[1]}), item[0]),
        )
        return [head for head, _rels in ranked]

    def _forms(self, phrase: str) -> Iterator[Proposal]:
        config = self.config
        related = self.relations.related
        words = phrase.split()
        # Content words only: phrasal verbs ("admit in" -> "take in" -> "take up") hop to
        # unrelated idioms (measured on the dev sets).  And only phrases no resource lists
        # as a spun form themselves.
        if (
            len(words) != 2
            or STOPWORDS.intersection(words)
            or any(not rel.forward for rels in related(phrase).values() for rel in rels)
        ):
            return
        for position, word in enumerate(words):
            if word in STOPWORDS or len(word) < 3:
                continue
            for synonym in self._synonyms.get(word, self._hop_synonyms):
                variant = list(words)
                variant[position] = synonym
                listed = " ".join(variant)
                for head, rels in related(listed).items():
                    inverse = sorted({rel.resource for rel in rels if not rel.forward})
                    # Only term-for-term swaps that keep the synonym: the list says
                    # "irregular" stands for "random" in this term, a thesaurus that
                    # "woodland" stands for "forest".  (Measured: looser hops, "military
                    # assistance" -> "service", changed untouched words on news.)
                    head_words = head.split()
                    if (
                        not inverse
                        or len(head_words) != 2
                        or STOPWORDS.intersection(head_words)
                        or head_words[position] != synonym
                        or head == phrase
                    ):
                        continue
                    prior = config.thesaurus_prior + config.phrase_bonus - config.hop_cost
                    prior += config.source_bonus * (len(inverse) - 1)
                    evidence = Evidence(
                        "variant",
                        f"thesaurus: {', '.join(inverse)} via '{listed}'",
                        "inverse",
                        tuple(inverse),
                        prior,
                    )
                    for form in inflect_phrase_like(head, phrase):
                        yield Proposal(form, evidence, prior, resources=len(inverse), hop=True)
