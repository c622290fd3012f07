"""Candidates: every possible original of every span of a sentence, merged across sources.

A spinner replaces a phrase `h` by one of its alternatives `s`; to undo it we need, for the
spun form `s` we see, the phrases `h` it could have come from.  The sources
(`unspin.engine.sources`) propose them; this module walks the spans a sentence allows,
merges proposals of the same original into one `Candidate` with all its evidence, and
weighs article agreement.  Scoring and choosing is `unspin.engine.decoding`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.engine.sources import CandidateSource, Proposal, SpunSpan
from unspin.resources.relations import MAX_SPAN_WORDS
from unspin.text import Token, adjacent


@dataclass(slots=True)
class Candidate:
    """A possible original for tokens [first, last] (inclusive, word indexes into a sentence)."""

    first: int
    last: int
    text: str
    evidence: set[Evidence] = field(default_factory=set)
    prior: float = 0.0  # log-prior of this substitution (resources agreeing, rules)
    bonus: float = 0.0  # extra log-prior from a user's spinner dictionary, once a page is spun
    resources: int = 0  # lexical resources relating it to the spun text
    knowing: int = 0  # lexical resources that know the spun text at all
    rule_words: int = 0  # words of the spun phrase when a phrase rule proposed it
    rule_prior: float | None = None  # the best log-prior of the rules proposing it
    hop: bool = False  # reached through a synonym (a listed variant or a reassembled term)
    listed_term: bool = False  # a resource lists it, one way only, for this same-shape phrase

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.first, self.last, self.text.lower())

    @property
    def certain(self) -> bool:
        """A spintax leftover: repaired even on pages judged clean."""
        return any(e.source == "spintax" for e in self.evidence)

    def merge(self, proposal: Proposal) -> None:
        """Another source proposing the same original: keep the strongest of each weight."""
        self.evidence.add(proposal.evidence)
        self.prior = max(self.prior, proposal.prior)
        self.bonus = max(self.bonus, proposal.bonus)
        self.resources = max(self.resources, proposal.resources)
        self.knowing = max(self.knowing, proposal.knowing)
        self.rule_words = max(self.rule_words, proposal.rule_words)
        if proposal.rule_prior is not None:
            self.rule_prior = (
                proposal.rule_prior
                if self.rule_prior is None
                else max(self.rule_prior, proposal.rule_prior)
            )
        self.hop = self.hop and proposal.hop
        self.listed_term = self.listed_term or proposal.listed_term


def gather(
    text: str,
    word_tokens: Sequence[Token],
    sources: Sequence[CandidateSource],
    *,
    protected_ranges: Sequence[tuple[int, int]] = (),
    protected_words: Sequence[bool] | None = None,
    config: EngineConfig,
) -> list[Candidate]:
    """Every candidate of a sentence's spans of up to four adjacent words.

    A span never crosses a protected word (names, technical terms) or anything but one space
    between words, never starts inside a protected range (URLs, e-mail addresses), and ends
    at a number (which phrase rules may still read: "a few 200").  A spintax leftover is a
    span of its own.
    """
    found: dict[tuple[int, int, str], Candidate] = {}
    n = len(word_tokens)
    protected_words = protected_words or [False] * n

    # Per span, not per proposal: the spun surface, its lower case and its capitalisation
    # style are computed once and every proposal of every source reuses them (a span of a
    # common word gets dozens of proposals; per-proposal joins and `match_case` calls were a
    # tenth of `detect`'s time).
    def propose(first: int, last: int) -> None:
        span_tokens = word_tokens[first : last + 1]
        surface = " ".join([t.text for t in span_tokens])
        span = SpunSpan(
            first,
            last,
            " ".join([t.lower for t in span_tokens]),
            surface,
            word_tokens[last + 1].text if last + 1 < n else None,
        )
        spun_lower = surface.lower()
        style = case_style(surface)
        for source in sources:
            for proposal in source.propose(span):
                text = proposal.text
                lower = text.lower()
                if lower == spun_lower:
                    continue
                if style != _KEEP:
                    # (the lower case of the restyled text, not `lower`: "ß".upper() is "SS")
                    text = apply_case_style(text, style)
                    lower = text.lower()
                key = (first, last, lower)
                candidate = found.get(key)
                if candidate is None:
                    found[key] = Candidate(
                        first,
                        last,
                        text,
                        {proposal.evidence},
                        proposal.prior,
                        proposal.bonus,
                        proposal.resources,
                        proposal.knowing,
                        proposal.rule_words,
                        proposal.rule_prior,
                        proposal.hop,
                        proposal.listed_term,
                    )
                else:
                    candidate.merge(proposal)

    for first in range(n):
        token = word_tokens[first]
        if any(a <= token.start < b for a, b in protected_ranges):
            continue
        if token.text.startswith("{"):
            propose(first, first)  # a spintax leftover is a site of its own, never protected
            continue
        for last in range(first, min(n, first + MAX_SPAN_WORDS)):
            span = word_tokens[first : last + 1]
            if last > first and not adjacent(text, span[-2], span[-1]):
                break
            if any(protected_words[i] for i in range(first, last + 1)):
                break
            if not span[-1].is_word and not span[-1].text.isdigit():
                break
            propose(first, last)
            if span[-1].text.isdigit():
                break
    candidates = list(found.values())
    weigh_article_agreement(text, word_tokens, candidates, config.article_agreement)
    return candidates


_KEEP, _UPPER, _TITLE, _CAPITAL = range(4)


def case_style(spun: str) -> int:
    """`unspin.text.match_case`'s decision for `spun`, which depends on `spun` alone."""
    if spun.isupper() and len(spun) > 1:
        return _UPPER
    spun_words = spun.split()
    if len(spun_words) > 1 and all(w[0].isupper() for w in spun_words if w[0].isalpha()):
        return _TITLE
    if spun[:1].isupper():
        return _CAPITAL
    return _KEEP


def apply_case_style(candidate: str, style: int) -> str:
    """`match_case(candidate, spun)` given `case_style(spun)` (the same result)."""
    if style == _UPPER:
        return candidate.upper()
    if style == _TITLE:
        return " ".join(w[:1].upper() + w[1:] for w in candidate.split())
    if style == _CAPITAL:
        return candidate[:1].upper() + candidate[1:]
    return candidate


# Words starting with a vowel letter but a consonant sound, and the reverse.
_CONSONANT_SOUND = ("uni", "use", "usu", "ure", "uti", "eu", "ewe", "one", "once", "ubiq", "uku")
_VOWEL_SOUND = ("hour", "honest", "honor", "honour", "heir")


def wants_an(word: str) -> bool | None:
    """Whether `word` takes "an" (vowel sound); None when spelling cannot tell (acronyms,
    numbers)."""
    if not word[:1].isalpha() or (word.isupper() and len(word) > 1):
        return None
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND):
        return True
    if lower.startswith(_CONSONANT_SOUND):
        return False
    return lower[0] in "aeiou"


def weigh_article_agreement(
    text: str, word_tokens: Sequence[Token], candidates: list[Candidate], weight: float
) -> None:
    """Favour candidates that restore agreement with a preceding "a"/"an" ("a excessive" ->
    "a high"); the mismatch itself is evidence that the word after the article was
    substituted (spinners swap words, not the article).  Candidates that break agreement pay."""
    for cand in candidates:
        if cand.first == 0:
            continue
        article = word_tokens[cand.first - 1]
        if article.lower not in ("a", "an") or not adjacent(text, article, word_tokens[cand.first]):
            continue
        spun = wants_an(word_tokens[cand.first].text)
        new = wants_an(cand.text.split()[0])
        if spun is None or new is None or spun == new:
            continue
        wants = article.lower == "an"
        if new == wants:
            cand.prior += weight
            cand.evidence.add(
                Evidence(
                    "agreement",
                    f"article agreement: '{article.text} {word_tokens[cand.first].text}' is "
                    f"ungrammatical, '{article.text} {cand.text.split()[0]}' is not",
                    weight=weight,
                )
            )
        else:
            cand.prior -= weight
