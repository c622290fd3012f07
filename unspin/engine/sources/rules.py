"""Phrase rules (`unspin/data/phrase_rules.tsv`): function-word and multi-word swaps that
no thesaurus lists the other way round ("got here" -> "came", "the place" -> "where")."""

from __future__ import annotations

from collections.abc import Iterator

from unspin.engine.evidence import Evidence
from unspin.engine.sources import Proposal, SpunSpan
from unspin.resources.rules import phrase_rules


class PhraseRuleSource:
    """Each matching rule whose right context holds, with the rule's own log-prior."""

    name = "rule"

    def __init__(self) -> None:
        self.rules = phrase_rules()

    def propose(self, span: SpunSpan) -> Iterator[Proposal]:
        for rule in self.rules.get(span.phrase, ()):
            if not rule.applies(span.next_word):
                continue
            yield Proposal(
                rule.original,
                Evidence("rule", f"rule: {rule.spun} -> {rule.original}", weight=rule.log_prior),
                rule.log_prior,
                rule_words=span.words,
                rule_prior=rule.log_prior,
            )
