"""Restoration under the spinner's own model, for a page spun with a known dictionary.

Auto-spinners of the WordPress family (reproduced by `unspin.bench.spinner.spin`) apply their
dictionary line by line: every occurrence of a line's head (as written, lower case or
Capitalised, whole word) that no earlier line already replaced becomes *one*
alternative, chosen once for the page, its first letter capitalised where the head's
was; a matching line is used with probability ``rate`` (it is skipped otherwise).
Nothing is lemmatised: a line for "say" never touches "said" (dictionaries list each
inflected form on its own line), and the inversion here is just as literal.

Inverting that process pins most of a page down without any language model:

- a site is an occurrence of one of the dictionary's alternatives, in a form the
  spinner writes; its candidate originals are the heads of the lines that list it;
- a line produced at most one alternative in a page, and every occurrence of its head
  that was not already taken went: a *standing* head that nothing could have produced
  means its line was skipped, so none of that line's alternatives came from it;
- the same spun form has one original throughout the page (the form is a "group");
- a word that is no alternative was not touched.

What remains is decided by a document-level score, the log-likelihood of the restored
page under the spinner, ``LM(original) + sum over lines of log P(line's fate)`` with
P = ``rate / alternatives`` for a line used, ``1 - rate`` for a line whose head stands
(skipped), 1 for a line whose head the page never had. Groups are assigned by
iterated conditional modes (each group takes its best option given the others, a few
sweeps), with a compound move for a head that is itself a spun form (two lines swapped
each other's words). A page gets edits only when this spun explanation beats the clean
one (the page as written, no spinner) by ``page_margin`` nats: in a clean page every
head stands, each one costing ``log(1 - rate)`` under the spinner, so a page with no
sign of this spinner is left alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from unspin.resources.dictionary import SpinnerDictionary
from unspin.resources.lm import NGramLM
from unspin.text import SPINNER_WORD_RE

__all__ = ["SpinnerAnalysis", "SpinnerEdit", "SpinnerEvidence", "SpinnerModel"]

# The spinner's notion of a word (`unspin.bench.spinner`): heads match between \w boundaries,
# so "known" in "well-known" is a word to it, and so it is here.
_SPACES = re.compile(r"\s+")
_SENTENCE_BREAK = re.compile(r"[.!?]|\n")
_SPINTAX = re.compile(r"\{([^{}\n]{1,100})\}")

DEFAULT_RATE = 0.6  # the dev sets' line rate (benchmarks/build_devsets.py)
# Nats by which the spun explanation must beat the clean one before a page is edited: a
# prior for "clean" (a clean page with digits and modal verbs reached +3.5 under the
# rule-based spinner; spun pages score in the tens to hundreds).
DEFAULT_PAGE_MARGIN = 5.0
SCREENED_OPTIONS = 4  # options per group given a full evaluation (the rest: n-gram only)
SPLIT_BAR = 0.0  # nats a lone occurrence must gain to leave its form's line (any gain)
PARTNER_OPTIONS = 2  # options tried for a group moved along (a standing head it holds)
NO_LM_LOGPROB = 0.0  # per-word score when no n-gram model is given: only the prior decides


@dataclass(frozen=True, slots=True)
class SpinnerEvidence:
    """Why an edit was made: the dictionary line (index into ``dictionary.lines``), the
    constraints that decided it, and the language model's margin where it had a say."""

    line: int
    constraints: tuple[str, ...]
    lm_margin: float | None = None


@dataclass(frozen=True, slots=True)
class SpinnerEdit:
    """Replace ``text[start:end]`` (== ``before``) with ``after``."""

    start: int
    end: int
    before: str
    after: str
    confidence: float
    evidence: SpinnerEvidence


@dataclass
class SpinnerAnalysis:
    """A page read under the spinner model.

    ``page_log_odds`` is log P(page | spun with this dictionary) - log P(page | clean),
    both at their best explanation; edits are made only above the model's page margin.
    """

    edits: list[SpinnerEdit]
    page_log_odds: float
    sites: int  # occurrences of the dictionary's alternatives found in the page
    restored_text: str


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text.strip()).lower()


@dataclass
class _Index:
    """The dictionary indexed once: every head and alternative by its first word."""

    heads: list[str]
    choices: list[int]  # how many alternatives each line chooses from
    by_first_word: dict[str, list[tuple[int, str]]]  # word -> [(tokens, normal form)]
    alternative_of: dict[str, list[tuple[int, str]]]  # normal form -> [(line, as written)]
    head_of: dict[str, list[int]]  # normal form -> lines with this head
    bare_heads: dict[str, int]  # head of a line with no alternative -> line ("{head}")
    heads_by_words: dict[tuple[str, ...], list[int]]  # a head's words -> its lines
    longest_head: int  # most words in a head
    phrase_words: frozenset[str]  # words that occur in multi-word heads
    phrase_lengths: dict[str, tuple[int, ...]]  # first word -> lengths of phrase heads

    @classmethod
    def build(cls, dictionary: SpinnerDictionary) -> _Index:
        heads: list[str] = []
        choices: list[int] = []
        by_first_word: dict[str, dict[tuple[int, str], None]] = {}
        alternative_of: dict[str, list[tuple[int, str]]] = {}
        head_of: dict[str, list[int]] = {}
        bare_heads: dict[str, int] = {}

        def register(form: str) -> str | None:
            words = SPINNER_WORD_RE.findall(form.lower())
            normal = _normal(form)
            # Only forms that start and end with a word character can be matched on
            # token boundaries (thesaurus entries always do; ".22 caliber" does not).
            if not words or not (normal[:1].isalnum() or normal[:1] == "_"):
                return None
            if not (normal[-1:].isalnum() or normal[-1:] == "_"):
                return None
            by_first_word.setdefault(words[0], {})[(len(words), normal)] = None
            return normal

        for number, (head, *alternatives) in enumerate(dictionary.lines):
            # The spinner draws from the alternatives that differ from the head.
            others = list(dict.fromkeys(alt for alt in alternatives if alt.lower() != head.lower()))
            heads.append(head)
            choices.append(len(others))
            normal = register(head)
            if normal is None:
                continue
            head_of.setdefault(normal, []).append(number)
            if not others:
                bare_heads.setdefault(normal, number)
            for alt in others:
                alt_normal = register(alt)
                if alt_normal is not None:
                    alternative_of.setdefault(alt_normal, []).append((number, alt))
        heads_by_words: dict[tuple[str, ...], list[int]] = {}
        for normal, lines in head_of.items():
            heads_by_words.setdefault(tuple(SPINNER_WORD_RE.findall(normal)), []).extend(lines)
        phrase_lengths: dict[str, set[int]] = {}
        for words in heads_by_words:
            if len(words) > 1:
                phrase_lengths.setdefault(words[0], set()).add(len(words))
        return cls(
            heads,
            choices,
            {word: list(forms) for word, forms in by_first_word.items()},
            alternative_of,
            head_of,
            bare_heads,
            heads_by_words,
            max((len(words) for words in heads_by_words), default=1),
            frozenset(word for words in heads_by_words if len(words) > 1 for word in words),
            {word: tuple(sorted(lengths)) for word, lengths in phrase_lengths.items()},
        )


@dataclass
class _Site:
    """An occurrence in the page of a dictionary entry (head and/or alternative)."""

    first: int  # token range [first, last)
    last: int
    start: int  # character range
    end: int
    surface: str
    options: list[int]  # lines that could have written this surface here
    alternative: dict[int, str]  # line -> the alternative as written
    heads: list[int]  # lines whose head this is, in a form the spinner matches
    group: int = -1
    cluster: int = -1


@dataclass
class _Group:
    """Every restorable occurrence of one spun form: they share one original."""

    form: str
    sites: list[int]
    options: list[int]
    ruled_out: int = 0  # lines listing the form, excluded by a standing head
    line: int | None = None  # current assignment (None: the form is original text)


@dataclass
class _Cluster:
    """Overlapping sites; at most one of overlapping sites is restored."""

    sites: list[int]
    first: int
    last: int
    active: list[int] = field(default_factory=list)


class SpinnerModel:
    """Restore pages spun with a known dictionary, under the spinner's own model.

    Build once per dictionary (indexing takes about a second for 100,000 lines) and call
    `restore` or `analyse` per page; thread-safe for reading (no state between pages
    other than the n-gram model's cache).
    """

    def __init__(
        self,
        dictionary: SpinnerDictionary,
        ngram: NGramLM | None = None,
        *,
        rate: float = DEFAULT_RATE,
        page_margin: float = DEFAULT_PAGE_MARGIN,
        sweeps: int = 2,
    ) -> None:
        if not 0.0 < rate < 1.0:
            raise ValueError(f"rate must be strictly between 0 and 1, got {rate}")
        self.dictionary = dictionary
        self.ngram = ngram
        self.rate = rate
        self.page_margin = page_margin
        self.sweeps = sweeps
        self._index = _Index.build(dictionary)
        self._skip_cost = math.log(1.0 - rate)

    def line_cost(self, line: int) -> float:
        """log P(line used with the alternative seen): rate times one choice among its."""
        return math.log(self.rate / max(1, self._index.choices[line]))

    def restore(self, text: str) -> list[SpinnerEdit]:
        """Edits that put the original wording back, in text order (empty if not spun)."""
        return self.analyse(text).edits

    def analyse(self, text: str) -> SpinnerAnalysis:
        """Edits with the page-level log-odds that this dictionary spun the page."""
        return _Decoder(self, text).run()


class _Decoder:
    """One page: sites, groups, the assignment search and the edits."""

    def __init__(self, model: SpinnerModel, text: str) -> None:
        self.model = model
        self.index = model._index
        self.text = text
        self.tokens = [match.span() for match in SPINNER_WORD_RE.finditer(text)]
        self.lower = [text[start:end].lower() for start, end in self.tokens]
        self.lm_words = [
            "ten" if word[:1].isdigit() else word for word in self.lower
        ]  # the ASR n-gram model spells numbers out (as the engine reads them)
        # sentence_start[i]: token i begins a sentence
        self.sentence_start = [True] * len(self.tokens)
        for i in range(1, len(self.tokens)):
            gap = text[self.tokens[i - 1][1] : self.tokens[i][0]]
            self.sentence_start[i] = bool(_SENTENCE_BREAK.search(gap))
        self.sites: list[_Site] = []
        self.groups: list[_Group] = []
        self.clusters: list[_Cluster] = []
        self.cover: list[int] = [-1] * len(self.tokens)  # active site covering each token
        self.standing: dict[int, int] = {}  # line -> standing head occurrences
        # line -> groups using it: one spun form, split where two lines chose the same
        self.used_by: dict[int, list[int]] = {}
        self.compound: dict[int, int] = {}  # group -> group moved with it last
        self.head_sites: dict[int, list[int]] = {}  # line -> sites where its head is
        self.created: dict[int, dict[int, int]] = {}  # site -> heads its restoration made
        self.journal: dict[int, float] = {}  # line -> prior before the current move
        self.standing_journal: dict[int, int] = {}  # line -> standing before the move
        self.window_cache: dict[int, float] = {}  # cluster -> window in the current state
        self.dead: set[int] = set()
        self.margins: dict[int, tuple[float, float | None]] = {}  # group -> (total, lm)

    # ------------------------------------------------------------------ sites

    def find_sites(self) -> None:
        index = self.index
        tokens, lower, text = self.tokens, self.lower, self.text
        for i, word in enumerate(lower):
            for length, normal in index.by_first_word.get(word, ()):
                if i + length > len(tokens):
                    continue
                start, end = tokens[i][0], tokens[i + length - 1][1]
                surface = text[start:end]
                if length > 1 and _normal(surface) != normal:
                    continue
                if length == 1 and word != normal:
                    continue
                spaced = _SPACES.sub(" ", surface)
                alternative: dict[int, str] = {}
                for line, written in index.alternative_of.get(normal, ()):
                    # What the spinner writes: the alternative as listed, its first
                    # letter raised where the replaced head was capitalised.
                    if spaced == written or (
                        written[:1].islower() and spaced == _capitalised(written)
                    ):
                        alternative.setdefault(line, written)
                heads = []
                for line in index.head_of.get(normal, ()):
                    head = index.heads[line]
                    if spaced in (head, head.lower(), _capitalised(head.lower())):
                        heads.append(line)
                if alternative or heads:
                    self.sites.append(
                        _Site(
                            i,
                            i + length,
                            start,
                            end,
                            surface,
                            list(alternative),
                            alternative,
                            heads,
                        )
                    )

    def rule_out_standing_heads(self) -> int:
        """Drop lines whose head stands where nothing could have written it; a fixpoint,
        since dropping a line can leave another head with nothing to explain it."""
        by_token: list[list[int]] = [[] for _ in self.tokens]
        for number, site in enumerate(self.sites):
            for token in range(site.first, site.last):
                by_token[token].append(number)
        dead: set[int] = set()
        while True:
            restorable = [bool(site.options) for site in self.sites]
            newly: set[int] = set()
            for site in self.sites:
                if not site.heads:
                    continue
                covered = any(
                    restorable[other]
                    for token in range(site.first, site.last)
                    for other in by_token[token]
                )
                if not covered:
                    newly.update(line for line in site.heads if line not in dead)
            if not newly:
                break
            dead |= newly
            for site in self.sites:
                if site.options and any(line in dead for line in site.options):
                    site.options = [line for line in site.options if line not in dead]
        self.dead = dead
        return len(dead)

    def build_groups(self) -> None:
        by_form: dict[str, int] = {}
        for number, site in enumerate(self.sites):
            if not site.options:
                continue
            form = _normal(site.surface)
            group = by_form.get(form)
            if group is None:
                group = by_form[form] = len(self.groups)
                self.groups.append(_Group(form, [], []))
            site.group = group
            self.groups[group].sites.append(number)
            for line in site.options:
                if line not in self.groups[group].options:
                    self.groups[group].options.append(line)
        for group in self.groups:
            listed = {line for line, _ in self.index.alternative_of.get(group.form, ())}
            group.ruled_out = len(listed & self.dead)
        # Clusters of overlapping sites (most are single sites).
        order = sorted(
            range(len(self.sites)), key=lambda n: (self.sites[n].first, -self.sites[n].last)
        )
        for number in order:
            site = self.sites[number]
            if self.clusters and site.first < self.clusters[-1].last:
                cluster = self.clusters[-1]
                cluster.sites.append(number)
                cluster.last = max(cluster.last, site.last)
            else:
                self.clusters.append(_Cluster([number], site.first, site.last))
            site.cluster = len(self.clusters) - 1
        for number, site in enumerate(self.sites):
            for line in site.heads:
                self.standing[line] = self.standing.get(line, 0) + 1
                self.head_sites.setdefault(line, []).append(number)
        self.initially_standing = dict(self.standing)

    # ------------------------------------------------------------------ scoring

    def site_words(self, number: int) -> list[str]:
        """The n-gram words of a site restored to its group's line."""
        line = self.groups[self.sites[number].group].line
        return SPINNER_WORD_RE.findall(self.index.heads[line].lower())

    def base_window(self, c: int) -> float:
        """`window` of cluster ``c`` in the current state, cached until a move is kept."""
        value = self.window_cache.get(c)
        if value is None:
            value = self.window_cache[c] = self.window(self.clusters[c])
        return value

    def window(self, cluster: _Cluster, override: list[str] | None = None) -> float:
        """log P of the cluster's words and the two after them, given the two before
        (``override``: score these words in place of the cluster's current ones)."""
        ngram = self.model.ngram
        first, last = cluster.first, cluster.last
        history: list[str] = []
        token = first
        while len(history) < 2:
            if token == 0 or self.sentence_start[token]:
                history.insert(0, "<s>")
                break
            token -= 1
            history[:0] = self.words_at(token)[-2:]
        history = history[-2:]
        words: list[str] = [] if override is None else list(override)
        token = first if override is None else last
        while token < last:
            site = self.cover[token]
            if site >= 0 and self.sites[site].first == token:
                words.extend(self.site_words(site))
                token = self.sites[site].last
            else:
                words.append(self.lm_words[token])
                token += 1
        scored = len(words)
        tail = 0
        while tail < 2:
            if token >= len(self.tokens) or self.sentence_start[token]:
                words.append("</s>")
                break
            following = self.words_at(token)
            words.extend(following)
            tail += len(following)
            token += 1
        scored = len(words)
        if ngram is None:
            return NO_LM_LOGPROB * scored
        sequence = history + words
        total = 0.0
        offset = len(history)
        for i in range(offset, offset + scored):
            if i >= 2:
                total += ngram.logprob(sequence[i], sequence[i - 2], sequence[i - 1])
            else:
                total += ngram.logprob(sequence[i], *sequence[:i])
        return total

    def words_at(self, token: int) -> list[str]:
        """The n-gram words token ``token`` stands for under the current assignment."""
        site = self.cover[token]
        if site < 0:
            return [self.lm_words[token]]
        if self.sites[site].first != token:
            return []
        return self.site_words(site)

    def line_prior(self, line: int) -> float:
        """log P(the line's fate): used, skipped (its head stands), or never matched."""
        if line in self.used_by:
            return self.model.line_cost(line)
        if self.standing.get(line, 0) > 0:
            return self.model._skip_cost
        return 0.0

    def _touch(self, line: int) -> None:
        """Remember a line's prior before its fate changes (for the move's delta)."""
        if line not in self.journal:
            self.journal[line] = self.line_prior(line)

    def _stand(self, line: int, change: int) -> None:
        self._touch(line)
        if line not in self.standing_journal:
            self.standing_journal[line] = self.standing.get(line, 0)
        self.standing[line] = self.standing.get(line, 0) + change

    def relayout(self, cluster: _Cluster) -> None:
        """Recompute which sites of a cluster are restored, and the standing heads.

        Of overlapping sites whose groups are restored, longer spans win (a spinner's
        multi-word lines come before their words), then earlier ones. A head stands in
        the page while no restored site touches it; a restored head can also make a
        head of an *earlier* line appear in the original ("part" inside a restored
        "take part"): that line would have matched first, so it was skipped.
        """
        for number in cluster.active:
            site = self.sites[number]
            for token in range(site.first, site.last):
                self.cover[token] = -1
            for line, count in self.created.pop(number, {}).items():
                self._stand(line, -count)
        previous = cluster.active
        wanted = [
            n
            for n in cluster.sites
            if self.sites[n].group >= 0 and self.groups[self.sites[n].group].line is not None
        ]
        wanted.sort(
            key=lambda n: (-(self.sites[n].last - self.sites[n].first), self.sites[n].first)
        )
        active: list[int] = []
        for number in wanted:
            site = self.sites[number]
            if all(self.cover[t] < 0 for t in range(site.first, site.last)):
                active.append(number)
                for token in range(site.first, site.last):
                    self.cover[token] = number
        for number in cluster.sites:
            site = self.sites[number]
            if not site.heads:
                continue
            was = not any(self._overlaps(number, other) for other in previous)
            now = not any(self.cover[t] >= 0 for t in range(site.first, site.last))
            if was != now:
                for line in site.heads:
                    self._stand(line, 1 if now else -1)
        cluster.active = active
        for number in active:
            created = self.created_heads(number)
            if created:
                self.created[number] = created
                for line, count in created.items():
                    self._stand(line, count)

    def created_heads(self, number: int) -> dict[int, int]:
        """Heads of earlier lines that restoring site ``number`` puts in the original
        text (over the site), with how many times: those lines cannot have been used."""
        site = self.sites[number]
        own = self.groups[site.group].line
        own_words = tuple(SPINNER_WORD_RE.findall(self.index.heads[own].lower()))
        reach = self.index.longest_head - 1
        if len(own_words) == 1 and own_words[0] not in self.index.phrase_words:
            return {}  # only a phrase head can take in this word: none has it
        # The original's words around the site, each with the restored site it is in.
        words: list[tuple[str, int]] = []
        token = max(0, site.first - reach)
        while token < min(len(self.tokens), site.last + reach):
            cover = self.cover[token]
            if cover < 0:
                words.append((self.lower[token], -1))
                token += 1
                continue
            covering = self.sites[cover]
            line = self.groups[covering.group].line
            if line is None:  # a neighbour being relaid out: its text as it stands
                words.append((self.lower[token], -1))
                token += 1
                continue
            words.extend(
                (word, cover) for word in SPINNER_WORD_RE.findall(self.index.heads[line].lower())
            )
            token = covering.last
        found: dict[int, int] = {}
        inside_at = [i for i, (_, cover) in enumerate(words) if cover == number]
        if not inside_at:
            return found
        lo, hi = inside_at[0], inside_at[-1]
        heads_by_words = self.index.heads_by_words
        phrase_lengths = self.index.phrase_lengths
        for i in range(max(0, lo - reach), hi + 1):
            lengths = phrase_lengths.get(words[i][0], ())
            if lo <= i and len(own_words) > 1:
                lengths = (1, *lengths)  # a one-word head inside a restored phrase
            for length in lengths:
                stop = i + length
                if stop <= lo or stop > len(words):
                    continue
                head_words = tuple(w for w, _ in words[i:stop])
                lines = heads_by_words.get(head_words)
                if lines is None or head_words == own_words:
                    continue
                inside = {cover for _, cover in words[i:stop] if cover >= 0}
                if min(inside) != number:
                    continue  # counted once, by the first restored site it covers
                writers = {self.groups[self.sites[cover].group].line for cover in inside}
                first_line = lines[0]
                if any(writer <= first_line for writer in writers):
                    continue  # an earlier line took (part of) the span first
                found[first_line] = found.get(first_line, 0) + 1
        return found

    def _overlaps(self, a: int, b: int) -> bool:
        one, two = self.sites[a], self.sites[b]
        return one.first < two.last and two.first < one.last

    # ------------------------------------------------------------------ moves

    def _clusters_of(self, changes: list[tuple[int, int | None]]) -> list[int]:
        return sorted({self.sites[s].cluster for g, _ in changes for s in self.groups[g].sites})

    def assign(self, changes: list[tuple[int, int | None]]) -> tuple[float, float, bool, dict]:
        """Apply group assignments; returns (lm delta, prior delta, feasible, undo)."""
        clusters = self._clusters_of(changes)
        self.journal = {}
        self.standing_journal = {}
        undo = {
            "lines": [(group, self.groups[group].line) for group, _ in changes],
            "used_by": {line: list(users) for line, users in self.used_by.items()},
            "clusters": [
                (
                    c,
                    list(self.clusters[c].active),
                    self.cover[self.clusters[c].first : self.clusters[c].last],
                    {n: self.created[n] for n in self.clusters[c].active if n in self.created},
                )
                for c in clusters
            ],
            "standing": self.standing_journal,
        }
        lm_before = sum(self.base_window(c) for c in clusters)
        for group, _ in changes:
            old = self.groups[group].line
            if old is not None and group in self.used_by.get(old, ()):
                self._touch(old)
                self.used_by[old].remove(group)
                if not self.used_by[old]:
                    del self.used_by[old]
        for group, line in changes:
            if line is not None:
                self._touch(line)
                self.used_by.setdefault(line, []).append(group)
            self.groups[group].line = line
        for c in clusters:
            self.relayout(self.clusters[c])
        lm_after = sum(self.window(self.clusters[c]) for c in clusters)
        prior = sum(self.line_prior(line) - before for line, before in self.journal.items())
        feasible = not any(
            self.standing.get(line, 0) > 0 for line in self.journal if line in self.used_by
        )
        return lm_after - lm_before, prior, feasible, undo

    def revert(self, undo: dict) -> None:
        """Put back the state `assign` found (a snapshot: no relayout needed)."""
        for group, line in undo["lines"]:
            self.groups[group].line = line
        self.used_by = undo["used_by"]
        for c, active, cover, created in undo["clusters"]:
            cluster = self.clusters[c]
            for number in cluster.active:
                self.created.pop(number, None)
            cluster.active = active
            self.cover[cluster.first : cluster.last] = cover
            self.created.update(created)
        for line, count in undo["standing"].items():
            self.standing[line] = count

    def free(self, line: int, group: int, moving: Iterable[int] = ()) -> bool:
        """Whether ``group`` may use ``line``: a line wrote one form only."""
        form = self.groups[group].form
        return all(
            self.groups[user].form == form
            for user in self.used_by.get(line, ())
            if user != group and user not in moving
        )

    def try_move(self, changes: list[tuple[int, int | None]]) -> tuple[float, float] | None:
        """(lm delta, prior delta) of a move, or None when the spinner could not have
        produced the page that way; the state is left unchanged."""
        moving = {group for group, _ in changes}
        for group, line in changes:
            if line is not None and not self.free(line, group, moving):
                return None
        lm, prior, feasible, undo = self.assign(changes)
        self.revert(undo)
        return (lm, prior) if feasible else None

    def blocking_groups(self, group: int, line: int) -> list[int]:
        """Groups whose kept sites are a standing head of ``line``."""
        found = []
        for number in self.head_sites.get(line, ()):
            site = self.sites[number]
            if (
                site.group >= 0
                and site.group != group
                and self.groups[site.group].line is None
                and site.group not in found
            ):
                found.append(site.group)
        return found

    def candidate_moves(self, group: int) -> Iterable[tuple[list[tuple[int, int | None]], int]]:
        """Moves for one group: each option alone, and with a blocking head's group moved."""
        current = self.groups[group].line
        options = self.groups[group].options
        if len(options) > SCREENED_OPTIONS:
            options = self.screen(group, options)
        for option in [None, *options]:
            if option == current:
                continue
            if option is not None and not self.free(option, group):
                continue
            yield [(group, option)], -1
            if option is not None and self.standing.get(option, 0) > 0:
                for other in self.blocking_groups(group, option):
                    seconds = [line for line in self.groups[other].options if line != option]
                    if len(seconds) > PARTNER_OPTIONS:
                        seconds = self.screen(other, seconds, PARTNER_OPTIONS)
                    for second in seconds:
                        if second != option and self.free(second, other):
                            yield [(group, option), (other, second)], other

    def screen(self, group: int, options: list[int], keep: int = 0) -> list[int]:
        """The few options worth a full evaluation: best by the n-gram model alone,
        each site scored in place (sites overlapping others are left to the full move)."""
        clusters = [
            self.clusters[self.sites[s].cluster]
            for s in self.groups[group].sites
            if len(self.clusters[self.sites[s].cluster].sites) == 1
        ]
        if not clusters:
            return options
        base = sum(
            self.base_window(self.sites[s].cluster)
            for s in self.groups[group].sites
            if len(self.clusters[self.sites[s].cluster].sites) == 1
        )
        scored = []
        for line in options:
            words = SPINNER_WORD_RE.findall(self.index.heads[line].lower())
            gain = sum(self.window(cluster, words) for cluster in clusters) - base
            scored.append((gain + self.model.line_cost(line), line))
        scored.sort(key=lambda item: -item[0])
        kept = [line for _, line in scored[: keep or SCREENED_OPTIONS]]
        current = self.groups[group].line
        if current is not None and current in options and current not in kept:
            kept.append(current)
        return kept

    def best_move(self, group: int) -> tuple[float, list, int, float] | None:
        best: tuple[float, list, int, float] | None = None
        for changes, partner in self.candidate_moves(group):
            result = self.try_move(changes)
            if result is None:
                continue
            total = result[0] + result[1]
            if best is None or total > best[0]:
                best = (total, changes, partner, result[0])
        return best

    # ------------------------------------------------------------------ run

    def run(self) -> SpinnerAnalysis:
        self.prepare()
        return self.search()

    def prepare(self) -> None:
        self.find_sites()
        self.rule_out_standing_heads()
        self.build_groups()

    def search(self, lm_gain: float = 0.0) -> SpinnerAnalysis:
        spintax = self.spintax_edits()
        # Groups near a change, or listing a line whose fate changed, are looked at again.
        option_groups: dict[int, list[int]] = {}
        for number, group in enumerate(self.groups):
            for line in group.options:
                option_groups.setdefault(line, []).append(number)
        cluster_groups = [
            {self.sites[s].group for s in cluster.sites if self.sites[s].group >= 0}
            for cluster in self.clusters
        ]
        dirty = set(range(len(self.groups)))
        for _ in range(self.model.sweeps):
            if not dirty:
                break
            todo, dirty = sorted(dirty), set()
            for group in todo:
                best = self.best_move(group)
                if best is None or best[0] <= 1e-6:
                    self.margins[group] = (20.0, None) if best is None else (-best[0], -best[3])
                    continue
                lm, _prior, _ok, _undo = self.assign(best[1])
                changed_lines = [
                    line for line, before in self.journal.items() if self.line_prior(line) != before
                ]
                lm_gain += lm
                if best[2] >= 0:
                    self.compound[group] = best[2]
                    self.compound[best[2]] = group
                for moved, _line in best[1]:
                    dirty.add(moved)
                    for c in self._clusters_of([(moved, None)]):
                        for near in range(max(0, c - 3), min(len(self.clusters), c + 4)):
                            self.window_cache.pop(near, None)
                            if abs(near - c) <= 2:
                                dirty |= cluster_groups[near]
                for line in changed_lines:
                    dirty.update(option_groups.get(line, ()))
        lm_gain += self.split_forms()
        lines = set(self.standing) | set(self.used_by) | self.dead
        prior = sum(self.line_prior(line) for line in lines)
        # Lines ruled out stand in the page; line_prior already counts them as skipped.
        log_odds = lm_gain + prior + len(spintax) * 4.0
        edits: list[SpinnerEdit] = []
        if log_odds > self.model.page_margin:
            edits = self.edits(log_odds) + spintax
            edits.sort(key=lambda edit: edit.start)
        restored = _apply(self.text, edits)
        return SpinnerAnalysis(
            edits, log_odds, sum(1 for s in self.sites if s.group >= 0), restored
        )

    def split_forms(self) -> float:
        """Let single occurrences of a restored form take another line: two lines can
        choose the same alternative ("had been" for both "was" and "were"). Returns the
        n-gram gain of the splits kept."""
        gain = 0.0
        for number in range(len(self.groups)):
            group = self.groups[number]
            if group.line is None or len(group.sites) < 2 or len(group.options) < 2:
                continue
            for site in list(group.sites):
                if len(group.sites) < 2:
                    break
                # Split the site off, still restored by the group's line, and move it.
                alone = len(self.groups)
                self.groups.append(_Group(group.form, [site], group.options, group.ruled_out))
                self.groups[alone].line = group.line
                self.used_by[group.line].append(alone)
                group.sites.remove(site)
                self.sites[site].group = alone
                best = self.best_move(alone)
                if best is not None and best[0] > SPLIT_BAR and best[1][0][1] is not None:
                    lm, _prior, _ok, _undo = self.assign(best[1])
                    self.window_cache.clear()
                    gain += lm
                    self.margins[alone] = (best[0], best[3])
                    continue
                self.used_by[group.line].remove(alone)
                self.groups.pop()
                group.sites.append(site)
                group.sites.sort()
                self.sites[site].group = number
        return gain

    def spintax_edits(self) -> list[SpinnerEdit]:
        """``{head}`` left where a line had no alternative: the head, for sure."""
        edits = []
        for match in _SPINTAX.finditer(self.text):
            line = self.index.bare_heads.get(_normal(match.group(1)))
            if line is not None:
                edits.append(
                    SpinnerEdit(
                        match.start(),
                        match.end(),
                        match.group(),
                        match.group(1),
                        1.0,
                        SpinnerEvidence(line, ("spintax leftover of a line with no alternative",)),
                    )
                )
        return edits

    def edits(self, log_odds: float) -> list[SpinnerEdit]:
        page = _sigmoid(log_odds)
        margins = self.margins
        for number, group in enumerate(self.groups):
            if group.line is not None and number not in margins:
                best = self.best_move(number)
                margins[number] = (20.0, None) if best is None else (-best[0], -best[3])
        edits = []
        for cluster in self.clusters:
            for number in sorted(cluster.active, key=lambda n: self.sites[n].first):
                site = self.sites[number]
                group = self.groups[site.group]
                line = group.line
                margin, lm_margin = margins[site.group]
                constraints = []
                if len(group.options) == 1:
                    constraints.append("only line listing the form")
                if group.ruled_out:
                    constraints.append(f"{group.ruled_out} lines ruled out by standing heads")
                if len(group.sites) > 1:
                    constraints.append(f"same form restored {len(group.sites)} times")
                if site.group in self.compound:
                    other = self.groups[self.compound[site.group]]
                    constraints.append(f"moved with {other.form!r} (its head stood)")
                if not self.initially_standing.get(line):
                    constraints.append("head absent from the page")
                edits.append(
                    SpinnerEdit(
                        site.start,
                        site.end,
                        site.surface,
                        self.restored_surface(site, line),
                        round(page * _sigmoid(margin), 4),
                        SpinnerEvidence(
                            line,
                            tuple(constraints),
                            None
                            if self.model.ngram is None or lm_margin is None
                            else round(lm_margin, 3),
                        ),
                    )
                )
        return edits

    def restored_surface(self, site: _Site, line: int) -> str:
        """The head in the case the spinner saw: its capital copied back."""
        head = self.index.heads[line]
        written = site.alternative[line]
        spaced = _SPACES.sub(" ", site.surface)
        # An alternative written with a capital tells nothing: then a sentence start does.
        capital = spaced[:1].isupper() if written[:1].islower() else self.sentence_start[site.first]
        if capital:
            return head if head[:1].isupper() else _capitalised(head.lower())
        return head if head[:1].islower() else head.lower()


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, value))))


def _apply(text: str, edits: list[SpinnerEdit]) -> str:
    pieces = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.start < cursor:
            continue
        pieces.append(text[cursor : edit.start])
        pieces.append(edit.after)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces)
