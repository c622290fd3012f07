"""Loaded thesauri (Moby, WordNet, MyThes, PPS, ...): inverse and forward relations of the
spun phrase and of its lemmas, re-inflected to the spun word's tag ("mentioned" -> "said")."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.engine.sources import PhraseCache, Proposal, SpunSpan
from unspin.resources.lm import NGramLM
from unspin.resources.relations import RelationIndex
from unspin.text import ARTICLES, STOPWORDS, inflect_phrase_like, lemmas_of


@dataclass(frozen=True, slots=True)
class ThesaurusForm:
    """One inflected candidate for a spun phrase."""

    text: str
    evidence: Evidence
    prior: float
    resources: int  # resources relating it to the spun phrase
    knowing: int  # resources knowing the spun phrase at all
    listed_term: bool  # listed one way only for a phrase of the same shape


class ThesaurusSource:
    """At most `max_candidates_per_span` originals a phrase, most resources agreeing first."""

    name = "thesaurus"

    def __init__(self, relations: RelationIndex, ngram: NGramLM, config: EngineConfig) -> None:
        self.relations = relations
        self.ngram = ngram
        self.config = config
        self._cache: PhraseCache[ThesaurusForm] = PhraseCache()
        # The engine's view: the same forms as ready-made proposals, made once per phrase
        # rather than once per span (a common word's two dozen proposals were rebuilt in
        # every sentence).  Proposals are never modified by their readers.
        self._proposals: PhraseCache[Proposal] = PhraseCache()

    def propose(self, span: SpunSpan) -> list[Proposal]:
        if skips_thesauri(span):
            return []
        return self._proposals.get(span.phrase, self._proposals_of)

    def _proposals_of(self, phrase: str) -> list[Proposal]:
        return [
            Proposal(
                form.text,
                form.evidence,
                form.prior,
                resources=form.resources,
                knowing=form.knowing,
                listed_term=form.listed_term,
            )
            for form in self._forms(phrase)
        ]

    def forms(self, phrase: str) -> list[ThesaurusForm]:
        """The inflected candidates of a lower-case spun phrase (cached)."""
        return self._cache.get(phrase, self._forms)

    def _forms(self, phrase: str) -> list[ThesaurusForm]:
        config = self.config
        spun_words = phrase.count(" ") + 1
        keys = [phrase]
        if spun_words == 1:
            keys.extend(lemma for lemma in lemmas_of(phrase) if lemma != phrase)
        # The relations of the phrase and of its lemmas, merged in first-seen order.  The
        # sets of `related()` are shared (cached there) and never modified: a head listed
        # under two keys gets a new union, any other keeps its set (building a set per head
        # of a common word, hundreds of them, was a tenth of a first detect pass).
        related: dict[str, set] = dict(self.relations.related(keys[0]))
        for key in keys[1:]:
            for head, rels in self.relations.related(key).items():
                found = related.get(head)
                related[head] = rels if found is None else found | rels
        cached, logprob = self.ngram.cached, self.ngram.logprob

        def rank(item: tuple[str, set]) -> tuple[int, float]:
            # Most resources first, then the more frequent first word.  (One relation, the
            # usual case, is one resource: no set built.)
            head, rels = item
            count = 1 if len(rels) == 1 else len({rel.resource for rel in rels})
            first = head.split()[0] if " " in head else head
            value = cached((first,))
            return (-count, -(logprob(first) if value is None else value))

        ranked = heapq.nsmallest(config.max_candidates_per_span, related.items(), key=rank)
        knowing = len({rel.resource for rels in related.values() for rel in rels})
        result: list[ThesaurusForm] = []
        for head, rels in ranked:
            head_words = head.count(" ") + 1
            if head in STOPWORDS or head.split()[0] in ARTICLES:
                continue
            inverse = any(not rel.forward for rel in rels)
            if head_words != spun_words and not inverse:
                # Forward relations of a single word list many loose phrases ("woodland" ->
                # "the country"); a change of length needs a resource that lists it as a swap.
                continue
            resources = tuple(sorted({rel.resource for rel in rels}))
            prior = config.thesaurus_prior + config.source_bonus * (len(resources) - 1)
            if spun_words > 1:
                # A listed multi-word phrase is far more specific evidence than a single word.
                prior += config.phrase_bonus * (spun_words - 1)
            evidence = Evidence(
                "thesaurus",
                "thesaurus: " + ", ".join(resources),
                "inverse" if inverse else "forward",
                resources,
                prior,
            )
            one_way = all(not rel.forward for rel in rels)
            for form in inflect_phrase_like(head, phrase):
                # Listed one way only (PPS lists "profound learning" under "deep learning",
                # not the reverse) and the same shape: see `term_for_term`.
                term = one_way and term_for_term(form, phrase)
                result.append(ThesaurusForm(form, evidence, prior, len(resources), knowing, term))
        return result


def skips_thesauri(span: SpunSpan) -> bool:
    """Numbers and single function words: thesaurus relations of these are noise ("the" ->
    "th'"); only phrase rules propose replacements for them."""
    if span.ends_in_number:
        return True
    return span.words == 1 and (span.phrase in STOPWORDS or len(span.phrase) < 3)


def term_for_term(original: str, spun: str) -> bool:
    """A multi-word phrase listed (one way only) for one of the same length that keeps a word
    in place ("profound learning" -> "deep learning"): specific enough that one resource
    listing it suffices.  (Measured: exempting every multi-word phrase let Moby's loose
    ones, "in the past" -> "recently", "a urban center" -> "a new york", and symmetric
    pairs, "low tide" -> "high tide", change words on news.)"""
    new, old = original.lower().split(), spun.lower().split()
    return (
        len(old) > 1 and len(new) == len(old) and any(a == b for a, b in zip(new, old, strict=True))
    )


class TwoWordSource:
    """Base of the sources that reach an original for a two-word phrase through synonyms of
    its words (listed variants, reassembled terms): weighed only on pages judged spun."""

    name = "two-word"

    def __init__(self, relations: RelationIndex, config: EngineConfig) -> None:
        self.relations = relations
        self.config = config
        self._cache: PhraseCache[Proposal] = PhraseCache()

    def propose(self, span: SpunSpan) -> list[Proposal]:
        if span.words == 1 or skips_thesauri(span):
            return []
        return self.forms(span.phrase)

    def forms(self, phrase: str) -> list[Proposal]:
        """The candidates of a lower-case two-word phrase (cached)."""
        return self._cache.get(phrase, self._forms)

    def _forms(self, phrase: str) -> Iterator[Proposal]:
        raise NotImplementedError
