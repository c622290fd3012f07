"""Candidate sources: where possible originals for a spun span come from.

Each source is a small class with a `name` and `propose(span)`, which yields `Proposal`s:
an original, a typed `Evidence` record and the log-prior the source gives it.  The engine
asks every source for every span of a sentence (`unspin.engine.candidates.gather`) and
merges proposals of the same original.

Adding a source: write a module here with a class that follows `CandidateSource`, and
list it in `Engine._sources` (unspin/engine/engine.py).  Weights belong in
`unspin.engine.config.EngineConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from unspin.engine.evidence import Evidence


@dataclass(frozen=True, slots=True)
class SpunSpan:
    """Words [first, last] of a sentence, as a source sees them."""

    first: int
    last: int
    phrase: str  # the words in lower case, one space apart
    surface: str  # as written
    next_word: str | None  # the word after the span, for rules with a right context

    @property
    def words(self) -> int:
        return self.last - self.first + 1

    @property
    def ends_in_number(self) -> bool:
        return self.phrase.rsplit(" ", 1)[-1].isdigit()


@dataclass(slots=True)
class Proposal:
    """One possible original for a span, with what the engine's prior needs to know of it."""

    text: str
    evidence: Evidence
    prior: float
    bonus: float = 0.0  # extra log-prior once a page is judged spun (user dictionaries)
    resources: int = 0  # lexical resources relating it to the spun text
    knowing: int = 0  # lexical resources that know the spun text at all
    rule_words: int = 0  # words of the spun phrase when a phrase rule proposed it
    rule_prior: float | None = None  # that rule's log-prior
    hop: bool = False  # reached through a synonym of one spun word (indirect)
    listed_term: bool = False  # listed one way only for a same-shape phrase ("profound learning")


T = TypeVar("T")

# Bound on remembered phrases: the same words recur in every article, but a long-running
# worker must not grow without limit.
PHRASE_CACHE_ENTRIES = 200_000


_NOTHING: list = []


class PhraseCache(Generic[T]):
    """A source's candidates per phrase, computed once (a plain dict: safe to share between
    threads, where a race only computes a phrase twice).

    Two generations of at most `limit` phrases each: when the newer is full it becomes the
    older and a fresh one starts; a phrase found in the older is copied forward.  Clearing
    everything at the bound (as before) threw the common words out with the one-off
    multi-word spans that fill it (it cleared four times in 40 dev articles)."""

    def __init__(self, limit: int = PHRASE_CACHE_ENTRIES) -> None:
        self.limit = limit
        self._entries: dict[str, list[T]] = {}
        self._older: dict[str, list[T]] = {}

    def get(self, phrase: str, compute: Callable[[str], Iterable[T]]) -> list[T]:
        """The cached list for `phrase` (shared: callers read it, never modify it)."""
        found = self._entries.get(phrase)
        if found is None:
            found = self._older.get(phrase)
            if found is None:
                # Most spans have no candidate at all: they share one empty list.
                found = list(compute(phrase)) or _NOTHING
            if len(self._entries) >= self.limit:
                self._older = self._entries
                self._entries = {}
            self._entries[phrase] = found
        return found


class CandidateSource(Protocol):
    """Proposes originals for spans of a page."""

    name: str

    def propose(self, span: SpunSpan) -> Iterable[Proposal]: ...


__all__ = ["CandidateSource", "PhraseCache", "Proposal", "SpunSpan"]
