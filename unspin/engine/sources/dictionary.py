"""A user's spinner dictionaries (`--dict`): the heads of lines listing the spun form."""

from __future__ import annotations

from collections.abc import Iterator

from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.engine.sources import Proposal, SpunSpan
from unspin.resources.relations import RelationIndex
from unspin.text import inflect_phrase_like


class SpinnerDictionarySource:
    """The strongest evidence there is: the spinner's own substitution, re-inflected.

    Its bonus counts only once the page is judged spun (a big dictionary lists most common
    words and would otherwise make any page look spun).  A word that itself heads a line
    gets no bonus: the spinner would have replaced it, so it is more likely an original the
    spinner skipped.
    """

    name = "dictionary"

    def __init__(self, dictionaries: RelationIndex, config: EngineConfig) -> None:
        self.dictionaries = dictionaries
        self.config = config

    def propose(self, span: SpunSpan) -> Iterator[Proposal]:
        if span.ends_in_number or not self.dictionaries.indexes:
            return
        related = self.dictionaries.related(span.phrase)
        is_head = any(rel.forward for rels in related.values() for rel in rels)
        config = self.config
        prior = config.head_dict_prior if is_head else config.user_dict_prior
        for head, rels in related.items():
            names = sorted(rel.resource for rel in rels if not rel.forward)
            if not names:
                continue
            evidence = Evidence(
                "dictionary", f"dictionary {names[0]}", "inverse", tuple(names), prior
            )
            for form in inflect_phrase_like(head, span.phrase):
                yield Proposal(
                    form, evidence, config.thesaurus_prior, prior - config.thesaurus_prior
                )
