"""Technical terms spun word by word: "artificial intelligence" -> "counterfeit
consciousness" is listed nowhere as a tortured phrase, but a synonym of each changed word
reassembles a term that paper mills are known to torture."""

from __future__ import annotations

from collections.abc import Iterator

from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.engine.sources import Proposal
from unspin.engine.sources.thesaurus import TwoWordSource
from unspin.resources.relations import RelationIndex
from unspin.text import STOPWORDS, inflect_phrase_like, lemmas_of


class TermSource(TwoWordSource):
    """Term-list originals reassembled from synonyms of a two-word phrase's words.

    Only the originals of term lists (`EngineConfig.term_lists`) count: with every two-word
    phrase of the thesauri, synonyms reassembled "apply counterfeit" into "touch base" and
    "irregular woodland" into "common ground".  Like a listed variant it is an indirect
    guess: weighed only on pages judged spun, and only when the spun phrase is itself listed
    nowhere.  `terms` also protects technical terms from edits (`unspin.engine.protect`).
    """

    name = "term"

    def __init__(self, relations: RelationIndex, config: EngineConfig) -> None:
        super().__init__(relations, config)
        # "loss function", "random forest": the multi-word originals of the term lists.
        self.terms: frozenset[str] = frozenset(
            phrase
            for index in relations.indexes
            if index.name in config.term_lists
            for phrase in index.heads()
            if " " in phrase
        )
        pairs: dict[str, set[str]] = {}
        for phrase in self.terms:
            if phrase.count(" ") == 1:
                head, tail = phrase.split(" ")
                pairs.setdefault(head, set()).add(tail)
        self._second_words = pairs  # first word -> second words of two-word terms

    def _forms(self, phrase: str) -> Iterator[Proposal]:
        config = self.config
        words = phrase.split()
        if (
            len(words) != 2
            or STOPWORDS.intersection(words)
            or min(len(w) for w in words) < 3
            or phrase in self.relations
        ):
            return
        terms = self._second_words
        # Filtered lookups: most pairs have no synonym that starts a term at all.
        heads = self._synonym_sources(words[0], terms)
        if words[0] in terms:
            heads[words[0]] = set()  # kept: "blunder rate" -> "error rate"
        wanted = set().union(*(terms[h] for h in heads)) if heads else set()
        tails = self._synonym_sources(words[1], wanted) if wanted else {}
        if words[1] in wanted:
            tails[words[1]] = set()
        for head, head_where in heads.items():
            for tail in terms.get(head, ()):
                tail_where = tails.get(tail)
                if tail_where is None or (head == words[0] and tail == words[1]):
                    continue
                term = f"{head} {tail}"
                listing = [ix.name for ix in self.relations.indexes if term in ix]
                # Resources relating the changed words (both, when both changed).
                agree = head_where & tail_where or head_where | tail_where
                prior = config.thesaurus_prior + config.phrase_bonus - config.hop_cost
                prior += config.source_bonus * max(0, len(agree) - 1)
                changed = " and ".join(
                    f"'{old}' ~ '{new}'"
                    for old, new in zip(words, (head, tail), strict=True)
                    if old != new
                )
                evidence = Evidence(
                    "term",
                    f"term: '{term}' ({', '.join(listing)}) by synonyms {changed}",
                    "inverse",
                    tuple(sorted(agree)),
                    prior,
                )
                for form in inflect_phrase_like(term, phrase):
                    yield Proposal(form, evidence, prior, resources=max(1, len(agree)), hop=True)

    def _synonym_sources(self, word: str, keep) -> dict[str, set[str]]:
        """Relations of `word` (and of its lemmas) that are in `keep` -> resources relating
        them."""
        found: dict[str, set[str]] = {}
        for key in dict.fromkeys([word, *lemmas_of(word)]):
            for head, rels in self.relations.related(key).items():
                if head in keep:
                    found.setdefault(head, set()).update(rel.resource for rel in rels)
        return found
