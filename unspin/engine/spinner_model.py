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

Past that gate, a page whose own line rate (lines used against heads standing) is far from
``rate`` is decoded again at its own, and, given a causal LM, the close calls of the
n-gram decode are decided by it, each option read in its sentence with the neighbours
already restored (the trigram model reads them spun, and picks among tens of thesaurus
lines by two words of context).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from unspin.resources.dictionary import SpinnerDictionary
from unspin.resources.lm import CausalLM, NGramLM
from unspin.text import SPINNER_WORD_RE

__all__ = ["SpinnerAnalysis", "SpinnerEdit", "SpinnerEvidence", "SpinnerModel", "page_words"]

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
# A page whose own line rate (lines used vs heads standing) is this far from the model's
# is decoded again at its own rate, kept within these bounds.
RATE_TOLERANCE = 0.1
MIN_RATE, MAX_RATE = 0.05, 0.95
# The causal LM's pass over a page judged spun (`SpinnerModel.analyse(text, causal=...)`).
CLOSE_CALL = 10.0  # nats (n-gram + prior) within which another option is scored by it
CAUSAL_OPTIONS = 8  # options of a group scored by it (the best by the n-gram model), + keep
CAUSAL_WEIGHT = 1.0  # its gain, against...
CAUSAL_NGRAM_WEIGHT = 0.0  # ...the trigram's (which read the neighbours spun)
CAUSAL_CONTEXT_SENTENCES = 1  # sentences before the candidate's that it reads
CAUSAL_SITES = 3  # occurrences of a form it reads (each costs a variant an option)
CAUSAL_CHUNK_CHARS = 1200  # neighbouring sentences read as one text, up to this length

# A causal LM, or a zero-argument function that loads one (the engine's lazy model).
CausalSource = CausalLM | Callable[[], CausalLM | None]


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
        close_call: float = CLOSE_CALL,
        causal_options: int = CAUSAL_OPTIONS,
        causal_weight: float = CAUSAL_WEIGHT,
        causal_ngram_weight: float = CAUSAL_NGRAM_WEIGHT,
        causal_sites: int = CAUSAL_SITES,
        estimate_rate: bool = True,
    ) -> None:
        if not 0.0 < rate < 1.0:
            raise ValueError(f"rate must be strictly between 0 and 1, got {rate}")
        self.dictionary = dictionary
        self.ngram = ngram
        self.rate = rate
        self.page_margin = page_margin
        self.sweeps = sweeps
        self.close_call = close_call
        self.causal_options = causal_options
        self.causal_weight = causal_weight
        self.causal_ngram_weight = causal_ngram_weight
        self.causal_sites = causal_sites
        self.estimate_rate = estimate_rate
        self._index = _Index.build(dictionary)
        self._skip_cost = math.log(1.0 - rate)

    def line_cost(self, line: int) -> float:
        """log P(line used with the alternative seen): rate times one choice among its."""
        return math.log(self.rate / max(1, self._index.choices[line]))

    def restore(self, text: str, causal: CausalSource | None = None) -> list[SpinnerEdit]:
        """Edits that put the original wording back, in text order (empty if not spun)."""
        return self.analyse(text, causal).edits

    def analyse(self, text: str, causal: CausalSource | None = None) -> SpinnerAnalysis:
        """Edits with the page-level log-odds that this dictionary spun the page.

        With ``causal`` (a `CausalLM`, or a function returning one, called only for a page
        judged spun), the close calls of the n-gram decode are decided again by it."""
        return _Decoder(self, text).run(causal)


def page_words(text: str) -> tuple[list[tuple[int, int]], list[str], list[str], list[bool]]:
    """A page as a spinner sees it: its words' character spans (`SPINNER_WORD_RE`), in lower
    case, as the n-gram model reads them (it spells numbers out: a digit reads "ten", as in
    the engine) and whether each begins a sentence."""
    tokens = [match.span() for match in SPINNER_WORD_RE.finditer(text)]
    lower = [text[start:end].lower() for start, end in tokens]
    lm_words = ["ten" if word[:1].isdigit() else word for word in lower]
    sentence_start = [True] * len(tokens)
    for i in range(1, len(tokens)):
        sentence_start[i] = bool(_SENTENCE_BREAK.search(text[tokens[i - 1][1] : tokens[i][0]]))
    return tokens, lower, lm_words, sentence_start


class _Decoder:
    """One page: sites, groups, the assignment search and the edits."""

    def __init__(self, model: SpinnerModel, text: str) -> None:
        self.model = model
        self.index = model._index
        self.text = text
        self.tokens, self.lower, self.lm_words, self.sentence_start = page_words(text)
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
        self.set_rate(model.rate)

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
        """One group per spun form, its options the lines that could have written every one
        of its sites; occurrences no common line explains ("Charge" only from a line listing
        it capitalised, "charge" from others) get a group of their own (a group's line once
        had no alternative for one of its sites, and restoring it raised KeyError)."""
        by_form: dict[str, list[int]] = {}
        for number, site in enumerate(self.sites):
            if not site.options:
                continue
            form = _normal(site.surface)
            for group in by_form.get(form, ()):
                shared = [line for line in self.groups[group].options if line in site.options]
                if shared:
                    self.groups[group].options = shared
                    break
            else:
                group = len(self.groups)
                by_form.setdefault(form, []).append(group)
                self.groups.append(_Group(form, [], list(site.options)))
            site.group = group
            self.groups[group].sites.append(number)
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
        tail = 0
        while tail < 2:
            if token >= len(self.tokens) or self.sentence_start[token]:
                words.append("</s>")
                break
            following = self.words_at(token)
            words.extend(following)
            tail += len(following)
            token += 1
        if ngram is None:
            return NO_LM_LOGPROB * len(words)
        return ngram.chain_logprob(history, words)

    def words_at(self, token: int) -> list[str]:
        """The n-gram words token ``token`` stands for under the current assignment."""
        site = self.cover[token]
        if site < 0:
            return [self.lm_words[token]]
        if self.sites[site].first != token:
            return []
        return self.site_words(site)

    def set_rate(self, rate: float) -> None:
        self.rate = rate
        self.skip_cost = math.log(1.0 - rate)

    def line_cost(self, line: int) -> float:
        """log P(line used with the alternative seen), at this page's rate."""
        return math.log(self.rate / max(1, self.index.choices[line]))

    def line_prior(self, line: int) -> float:
        """log P(the line's fate): used, skipped (its head stands), or never matched."""
        if line in self.used_by:
            return self.line_cost(line)
        if self.standing.get(line, 0) > 0:
            return self.skip_cost
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
            scored.append((gain + self.line_cost(line), line))
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

    def run(self, causal: CausalSource | None = None) -> SpinnerAnalysis:
        self.prepare()
        return self.search(causal)

    def prepare(self) -> None:
        self.find_sites()
        self.rule_out_standing_heads()
        self.build_groups()

    def sweep(self, dirty: set[int]) -> float:
        """Iterated conditional modes from the current state: each group of ``dirty`` takes
        its best move given the others; groups near a change, or listing a line whose fate
        changed, are looked at again, for ``sweeps`` rounds. Returns the n-gram gain."""
        lm_gain = 0.0
        option_groups: dict[int, list[int]] = {}
        for number, group in enumerate(self.groups):
            for line in group.options:
                option_groups.setdefault(line, []).append(number)
        cluster_groups = [
            {self.sites[s].group for s in cluster.sites if self.sites[s].group >= 0}
            for cluster in self.clusters
        ]
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
        return lm_gain

    def search(self, causal: CausalSource | None = None, lm_gain: float = 0.0) -> SpinnerAnalysis:
        spintax = self.spintax_edits()
        lm_gain += self.sweep(set(range(len(self.groups))))
        lm_gain += self.split_forms()
        lines = set(self.standing) | set(self.used_by) | self.dead
        prior = sum(self.line_prior(line) for line in lines)
        # Lines ruled out stand in the page; line_prior already counts them as skipped.
        log_odds = lm_gain + prior + len(spintax) * 4.0
        edits: list[SpinnerEdit] = []
        if log_odds > self.model.page_margin:
            # The page gate is the n-gram explanation's: the causal LM only re-decides the
            # close calls of a page already judged spun (clean pages never pay for it).
            if self.model.estimate_rate:
                self.adapt_rate()
            if causal is not None:
                self.causal_pass(causal)
            edits = self.edits(log_odds) + spintax
            edits.sort(key=lambda edit: edit.start)
        restored = _apply(self.text, edits)
        return SpinnerAnalysis(
            edits, log_odds, sum(1 for s in self.sites if s.group >= 0), restored
        )

    def page_rate(self) -> float:
        """The line rate this page shows: lines used against lines whose head stands
        (skipped), with one of each added (a page with few lines says little)."""
        used = len(self.used_by)
        skipped = sum(1 for line, count in self.standing.items() if count > 0)
        return (used + 1) / (used + skipped + 2)

    def adapt_rate(self) -> None:
        """Decode again at the page's own line rate when it is far from the model's: a
        spinner set to replace less (or more) than assumed leaves more (fewer) heads
        standing, and the costs of using and skipping a line follow the rate. The page
        gate stays the nominal rate's (a clean page never gets here)."""
        rate = min(MAX_RATE, max(MIN_RATE, self.page_rate()))
        if abs(rate - self.rate) <= RATE_TOLERANCE:
            return
        self.set_rate(rate)
        self.window_cache.clear()
        self.sweep(set(range(len(self.groups))))

    # ------------------------------------------------------------------ causal LM

    def causal_pass(self, causal: CausalSource) -> None:
        """Re-decide the close calls with the causal LM, each candidate read in its sentence
        (and the one before) with every other group's current choice applied, so that its
        neighbours are unspun — the trigram model saw them spun.

        A close call is a group whose best other option (keep, or another line the
        spinner could have used) is within ``close_call`` nats of its current one under
        n-gram + prior. All close calls are scored against the same page state, one batch
        of variants per sentence; the winners are then applied best first, each checked
        again against the spinner's constraints."""
        model = self.model
        candidates: dict[int, dict[int | None, tuple[float, float]]] = {}
        for number, group in enumerate(self.groups):
            if any(len(self.clusters[self.sites[s].cluster].sites) != 1 for s in group.sites):
                continue  # overlapping sites: the trigram decision stands
            options = group.options
            if len(options) > model.causal_options:
                options = self.screen(number, options, model.causal_options)
            scored: dict[int | None, tuple[float, float]] = {}
            for option in [None, *options]:
                if option == group.line or (option is not None and not self.free(option, number)):
                    continue
                if option is not None and any(
                    option not in self.sites[s].alternative for s in group.sites
                ):
                    continue
                result = self.try_move([(number, option)])
                if result is not None and sum(result) > -model.close_call:
                    scored[option] = result
            if scored:
                candidates[number] = scored
        if not candidates:
            return
        if not hasattr(causal, "variant_gains"):
            causal = causal()  # a provider: the engine loads its LM on first use
            if causal is None:
                return
        gains = self.causal_gains(causal, candidates)
        moves: list[tuple[float, int, int | None]] = []
        for number, scored in candidates.items():
            totals = {self.groups[number].line: (0.0, 0.0)}
            for option, (lm, prior) in scored.items():
                lm_part = model.causal_weight * gains.get((number, option), 0.0)
                totals[option] = (lm_part + model.causal_ngram_weight * lm + prior, lm_part)
            ranked = sorted(totals.items(), key=lambda item: -item[1][0])
            (best, (top, top_lm)), (_, (second, second_lm)) = ranked[0], ranked[1]
            self.margins[number] = (top - second, top_lm - second_lm)
            if best != self.groups[number].line:
                moves.append((top, number, best))
        for _gain, number, option in sorted(moves, key=lambda move: -move[0]):
            if option is not None and not self.free(option, number):
                continue
            if self.try_move([(number, option)]) is None:
                continue  # an earlier move took its line or put its head back
            self.assign([(number, option)])
            self.window_cache.clear()

    def causal_gains(
        self, causal: CausalLM, candidates: dict[int, dict[int | None, tuple[float, float]]]
    ) -> dict[tuple[int, int | None], float]:
        """Causal-LM gain of each (group, option) over the group's current choice, summed
        over its occurrences, each read in its own sentence after the one before it."""
        starts = [i for i, start in enumerate(self.sentence_start) if start]
        if not starts or starts[0] != 0:
            starts.insert(0, 0)
        active = sorted(
            (self.sites[n].start, self.sites[n].end, n) for c in self.clusters for n in c.active
        )
        by_sentence: dict[int, list[tuple[int, int | None, int]]] = {}
        for number, scored in candidates.items():
            # A form repeated many times is read at its first few occurrences.
            for site in self.groups[number].sites[: self.model.causal_sites]:
                sentence = bisect.bisect_right(starts, self.sites[site].first) - 1
                for option in scored:
                    by_sentence.setdefault(sentence, []).append((number, option, site))

        # Neighbouring sentences share one base text (each token of the page is read
        # about once), up to CAUSAL_CHUNK_CHARS; the first is read after the sentence before.
        def end_of(sentence: int) -> int:
            if sentence + 1 < len(starts):
                return self.tokens[starts[sentence + 1]][0]
            return len(self.text)

        chunks: list[list[int]] = []
        for sentence in sorted(by_sentence):
            if (
                chunks
                and chunks[-1][-1] == sentence - 1
                and end_of(sentence) - self.tokens[starts[chunks[-1][0]]][0] <= CAUSAL_CHUNK_CHARS
            ):
                chunks[-1].append(sentence)
            else:
                chunks.append([sentence])
        gains: dict[tuple[int, int | None], float] = {}
        for chunk in chunks:
            items = [item for sentence in chunk for item in by_sentence[sentence]]
            lo = self.tokens[starts[max(0, chunk[0] - CAUSAL_CONTEXT_SENTENCES)]][0]
            hi = end_of(chunk[-1])
            base = self.render(active, lo, hi, None)
            variants = [
                self.render(active, lo, hi, (site, self.option_surface(site, option)))
                for _, option, site in items
            ]
            for (number, option, _), gain in zip(
                items, causal.variant_gains(base, variants), strict=True
            ):
                gains[(number, option)] = gains.get((number, option), 0.0) + gain
        return gains

    def render(
        self, active: list[tuple[int, int, int]], lo: int, hi: int, change: tuple[int, str] | None
    ) -> str:
        """The page's text[lo:hi] under the current assignment, one site's text changed."""
        replacements = []
        for start, end, number in active[bisect.bisect_left(active, (lo, -1, -1)) :]:
            if start >= hi:
                break
            if change is None or number != change[0]:
                line = self.groups[self.sites[number].group].line
                replacements.append((start, end, self.restored_surface(self.sites[number], line)))
        if change is not None:
            site = self.sites[change[0]]
            replacements.append((site.start, site.end, change[1]))
        pieces = []
        cursor = lo
        for start, end, replacement in sorted(replacements):
            pieces.append(self.text[cursor:start])
            pieces.append(replacement)
            cursor = end
        pieces.append(self.text[cursor:hi])
        return "".join(pieces).rstrip()

    def option_surface(self, number: int, option: int | None) -> str:
        """What a site reads as under an option: the head restored, or the text as written."""
        site = self.sites[number]
        return site.surface if option is None else self.restored_surface(site, option)

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
