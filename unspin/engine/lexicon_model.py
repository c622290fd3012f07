"""A learned lexicon's page model: a page restored under the spinner's page-level constraints,
with the lexicon's counts as the evidence (`unspin learn`, `restore --dict LEXICON`).

The engine tries it like a known spinner's model (`unspin.engine.spinner_model`, whose
`SpinnerAnalysis` it returns); pages it does not explain go to the generic decode, where the
same lexicon is a candidate source (`unspin.engine.sources.lexicon`).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from unspin.engine.decoding import sigmoid
from unspin.engine.results import apply_edits
from unspin.engine.spinner_model import (
    CausalSource,
    SpinnerAnalysis,
    SpinnerEdit,
    SpinnerEvidence,
    page_words,
)
from unspin.resources.lexicon import Lexicon
from unspin.resources.lm import NGramLM
from unspin.text import (
    FUNCTION_WORDS,
    SPINNER_WORD_RE,
    first_inflection,
    lemmas_by_pos,
    normal_phrase,
)

# Nats a group's restoration must beat leaving it (prior + weighted n-gram gain). Chosen
# with `LM_WEIGHT` on test pages 15-45 of bench_learn (WordNet and realsize sets, 150 traced
# pages; the reported pages 0-15 left out): with implied inflections on, 1.0 restored 52.7%
# of WordNet's sites but changed 1.25% of untouched words, 1.5 51.4% and 1.0%, 2.0 50.2%
# and 0.7% (realsize: 73.2/0.49, 71.8/0.39, 69.8/0.35).
LEXICON_GROUP_BAR = 1.5
# Weight of the n-gram model's gain, averaged over a group's sites: a sum grew with the
# page (a clean 8,000-word page gained 49 nats for "switch" -> "change" over 18 sites and
# was edited throughout), and the counts, not the n-gram model, say whether a form is spun.
LM_WEIGHT = 0.7
# Nats by which a page's restorations together must beat the page as written (standing
# originals of learned lines counted against it): clean originals of the test pages scored
# up to +20 on WordNet (one page of 144), up to +10 on realsize; spun pages from +9 (10
# traced pages learned) to hundreds.
LEXICON_PAGE_MARGIN = 10.0
# Most nats a standing original costs: the page may hold lines the lexicon never saw, which
# can write that word, so a standing original is evidence, not proof, that its line was skipped.
STANDING_CAP = 3.0
# Add-k smoothing of the counts' log-odds and of a line's rate.
COUNT_SMOOTHING = 0.5
# An implied inflection's count: the seen pair's divided by this (`_inflected_pairs`).
INFLECTED_DISCOUNT = 2
# Passes over the page: each scores a group with its neighbours as the last pass left them
# ("Combined Says" is "United States" only once both words are restored).
SWEEPS = 3


@dataclass
class _Form:
    """A spun form of the lexicon (lower case): its originals (lower case) with counts."""

    originals: dict[str, int]
    unchanged: int  # times the form stood for itself in traced pages


@dataclass
class _LexSite:
    first: int  # token range
    last: int
    start: int  # character range
    end: int
    form: str


class LexiconModel:
    """Restore a page with a learned lexicon under the spinner's page-level constraints.

    What `unspin learn` counts is what a page-level decision needs, and `LexiconSource`
    alone (one sentence at a time, in the generic decode) leaves most of it unused: a form
    seen 48 times for "president" and never unchanged was left where the n-gram model
    preferred the spun word in one sentence. Here, per page:

    - every occurrence of a learned spun form is a site; the occurrences of one form are a
      group and get one original (the spinner chose once per page);
    - each option of a group is scored by the counts' log-odds against leaving the form,
      ``log((times it stood for o + k) / (times it stood for itself + k))``, plus the
      n-gram model's gain summed over the group's sites, the neighbouring groups restored
      as the previous pass decided (`SWEEPS`);
    - an original that still stands in the page (outside every site) suggests its line was
      skipped on this page: ``log(1 - rate)``, the line's rate learned from the counts
      (times replaced / times seen), at most `STANDING_CAP` nats, since lines the lexicon
      never saw may have written that word;
    - one line writes one form a page: two groups never get the same original (the
      better-scored group first);
    - the page gets edits only when the groups restored gain `LEXICON_PAGE_MARGIN` nats
      together, so that a page with no sign of this spinner is left alone.

    Case: originals are compared in lower case; an edit takes the original's most frequent
    spelling ("Monday"), its first letter raised where the spun word's was.
    ``analyse`` returns the spinner model's `SpinnerAnalysis`, so that the engine treats
    both alike (``evidence.line`` is the spun form's row in sorted order).
    """

    def __init__(
        self,
        lexicon: Lexicon,
        ngram: NGramLM | None,
        *,
        group_bar: float = LEXICON_GROUP_BAR,
        page_margin: float = LEXICON_PAGE_MARGIN,
        standing_cap: float = STANDING_CAP,
        exclusive: bool = True,
        sweeps: int = SWEEPS,
        lm_weight: float = LM_WEIGHT,
        inflect: bool = True,
    ) -> None:
        self.lexicon = lexicon
        self.ngram = ngram
        self.group_bar = group_bar
        self.page_margin = page_margin
        self.standing_cap = standing_cap
        self.exclusive = exclusive
        self.sweeps = sweeps
        self.lm_weight = lm_weight
        forms: dict[str, _Form] = {}
        spellings: dict[str, Counter[str]] = {}
        # Spun forms seen with a capital inside a sentence ("Weekday" for "Monday"); a
        # capitalised word there that is not one and was seen unchanged is a name ("Trump"
        # is no spun "best").
        self.capitalised: set[str] = set()
        for spun, originals in lexicon.pairs.items():
            key = normal_phrase(spun)
            if all(word in FUNCTION_WORDS for word in key.split()):
                continue  # spinners leave "the", "with", "on" alone: alignment noise
            if spun[:1].isupper():
                self.capitalised.add(key)
            form = forms.setdefault(key, _Form({}, 0))
            for original, count in originals.items():
                lower = normal_phrase(original)
                if not SPINNER_WORD_RE.search(lower) or lower == key:
                    continue
                form.originals[lower] = form.originals.get(lower, 0) + count
                spellings.setdefault(lower, Counter())[" ".join(original.split())] += count
        unchanged: Counter[str] = Counter()
        for word, count in lexicon.unchanged.items():
            unchanged[normal_phrase(word)] += count
        self.inflected: set[str] = set()
        if inflect:
            for key, original, count in _inflected_pairs(forms):
                form = forms.setdefault(key, _Form({}, 0))
                form.originals[original] = form.originals.get(original, 0) + count
                spellings.setdefault(original, Counter())[original] += count
                self.inflected.add(key)
        for key, form in forms.items():
            form.unchanged = unchanged[key]
        self.forms = {key: form for key, form in forms.items() if form.originals}
        # The spelling an edit writes: the most frequent, lower case when that was seen too.
        self.spelling = {
            lower: lower if lower in seen else seen.most_common(1)[0][0]
            for lower, seen in spellings.items()
        }
        replaced: Counter[str] = Counter()
        for form in self.forms.values():
            replaced.update(form.originals)
        k = COUNT_SMOOTHING
        # log(1 - rate) of each original's line, rate = replaced / (replaced + unchanged).
        self.skip_cost = {
            original: max(
                -standing_cap,
                math.log((unchanged[original] + k) / (count + unchanged[original] + 2 * k)),
            )
            for original, count in replaced.items()
        }
        self.rows = {key: number for number, key in enumerate(sorted(self.forms))}
        # Forms and originals by their first word, as the spinner's tokens (SPINNER_WORD_RE).
        self.by_first_word: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for key in self.forms:
            words = tuple(SPINNER_WORD_RE.findall(key))
            if words:
                self.by_first_word.setdefault(words[0], []).append((words, key))
        self.originals_by_first_word: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.original_words: dict[str, tuple[str, ...]] = {}
        for original in replaced:
            words = tuple(SPINNER_WORD_RE.findall(original))
            self.original_words[original] = words
            self.originals_by_first_word.setdefault(words[0], []).append((words, original))

    def restore(self, text: str) -> list[SpinnerEdit]:
        """Edits that put the original wording back, in text order (empty if not spun)."""
        return self.analyse(text).edits

    def analyse(self, text: str, causal: CausalSource | None = None) -> SpinnerAnalysis:
        """Edits with the page-level log-odds that this lexicon's spinner spun the page.

        `causal` is accepted as `SpinnerModel.analyse` takes it (the engine calls both alike)
        but not used yet: the counts and the n-gram gain decide (measured in
        docs/benchmarks.md, "Learning a spinner's dictionary")."""
        return _LexiconPage(self, text).run()


class _LexiconPage:
    """One page under a `LexiconModel`."""

    def __init__(self, model: LexiconModel, text: str) -> None:
        self.model = model
        self.text = text
        self.tokens, self.lower, self.lm_words, self.sentence_start = page_words(text)
        # token -> words it reads as under the current assignment ([] inside a restored site)
        self.reading: dict[int, list[str]] = {}

    # ------------------------------------------------------------------ sites

    def find_sites(self) -> list[_LexSite]:
        """Every occurrence of a learned spun form (overlapping ones too)."""
        sites = []
        for i, word in enumerate(self.lower):
            for words, key in self.model.by_first_word.get(word, ()):
                stop = self._match(i, words)
                if stop is not None:
                    start, end = self.tokens[i][0], self.tokens[stop - 1][1]
                    surface = self.text[start:end]
                    if normal_phrase(surface) != key:
                        continue
                    if (
                        surface[:1].isupper()
                        and key not in self.model.capitalised
                        and self.model.lexicon.unchanged.get(" ".join(surface.split()), 0)
                    ):
                        continue  # a name seen as such ("Trump"), not a spun word
                    sites.append(_LexSite(i, stop, start, end, key))
        return sites

    def _match(self, i: int, words: tuple[str, ...]) -> int | None:
        """End token of ``words`` starting at token ``i`` within one sentence, or None."""
        stop = i + len(words)
        if stop > len(self.tokens) or tuple(self.lower[i:stop]) != words:
            return None
        if any(self.sentence_start[t] for t in range(i + 1, stop)):
            return None
        return stop

    def standing(self, sites: list[_LexSite]) -> Counter[str]:
        """Originals of the lexicon that occur in the page outside every site."""
        covered = [False] * len(self.tokens)
        for site in sites:
            for token in range(site.first, site.last):
                covered[token] = True
        found: Counter[str] = Counter()
        for i, word in enumerate(self.lower):
            for words, original in self.model.originals_by_first_word.get(word, ()):
                stop = self._match(i, words)
                if stop is not None and not any(covered[i:stop]):
                    found[original] += 1
        return found

    # ------------------------------------------------------------------ scoring

    def _words_at(self, token: int) -> list[str]:
        return self.reading.get(token, [self.lm_words[token]])

    def window_gain(self, site: _LexSite, words: tuple[str, ...]) -> float:
        """n-gram log P of the site restored to ``words`` (and the two words after) minus
        that of the site as written, given the two words before, neighbours as assigned."""
        ngram = self.model.ngram
        if ngram is None:
            return 0.0
        history: list[str] = []
        token = site.first
        while len(history) < 2:
            if token == 0 or self.sentence_start[token]:
                history.insert(0, "<s>")
                break
            token -= 1
            history[:0] = self._words_at(token)
        tail: list[str] = []
        token = site.last
        while len(tail) < 2:
            if token >= len(self.tokens) or self.sentence_start[token]:
                tail.append("</s>")
                break
            tail.extend(self._words_at(token))
            token += 1
        history = history[-2:]
        spun = self.lm_words[site.first : site.last]
        return ngram.chain_logprob(history, [*words, *tail]) - ngram.chain_logprob(
            history, [*spun, *tail]
        )

    def score_groups(
        self, groups: dict[str, list[_LexSite]], standing: Counter[str]
    ) -> list[tuple[float, str, list[tuple[float, float, str]]]]:
        """Each group's options (score, n-gram part, original), best first; best groups first."""
        model = self.model
        k = COUNT_SMOOTHING
        scored = []
        for key, members in groups.items():
            form = model.forms[key]
            options = []
            for original, count in form.originals.items():
                prior = math.log((count + k) / (form.unchanged + k))
                if standing.get(original):
                    prior += model.skip_cost.get(original, 0.0)
                words = tuple(model.original_words[original])
                lm = sum(self.window_gain(site, words) for site in members)
                pooled = lm / len(members)
                options.append((prior + model.lm_weight * pooled, pooled, original))
            options.sort(key=lambda option: (-option[0], option[2]))
            scored.append((options[0][0], key, options))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored

    def assign(
        self,
        groups: dict[str, list[_LexSite]],
        scored: list[tuple[float, str, list[tuple[float, float, str]]]],
    ) -> list[tuple[str, str, float, float, list[_LexSite]]]:
        """Greedy: best groups first, each its best option still free (one original per
        line), sites overlapping a better group's left; sets `reading`."""
        model = self.model
        taken: set[str] = set()
        used = [False] * len(self.tokens)
        self.reading = {}
        chosen = []
        for _best, key, options in scored:
            for score, lm, original in options:
                if score <= model.group_bar:
                    break
                if model.exclusive and original in taken:
                    continue
                sites = [site for site in groups[key] if not any(used[site.first : site.last])]
                if not sites:
                    break
                taken.add(original)
                words = list(model.original_words[original])
                for site in sites:
                    for token in range(site.first, site.last):
                        used[token] = True
                        self.reading[token] = []
                    self.reading[site.first] = words
                chosen.append((key, original, score, lm, sites))
                break
        return chosen

    def run(self) -> SpinnerAnalysis:
        sites = self.find_sites()
        standing = self.standing(sites)
        groups: dict[str, list[_LexSite]] = {}
        for site in sites:
            groups.setdefault(site.form, []).append(site)
        chosen: list[tuple[str, str, float, float, list[_LexSite]]] = []
        for _ in range(max(1, self.model.sweeps)):
            previous = [(key, original) for key, original, *_ in chosen]
            chosen = self.assign(groups, self.score_groups(groups, standing))
            if [(key, original) for key, original, *_ in chosen] == previous:
                break
        # The page under this spinner against the page as written: the groups' gains, and
        # for every line whose original stands and was not restored, that it was skipped.
        restored = {original for _, original, *_ in chosen}
        log_odds = sum(score for _, _, score, _, _ in chosen) + sum(
            self.model.skip_cost[original] for original in standing if original not in restored
        )
        edits: list[SpinnerEdit] = []
        if log_odds > self.model.page_margin:
            edits = self.edits(groups, chosen, log_odds)
        return SpinnerAnalysis(edits, log_odds, len(sites), apply_edits(self.text, edits))

    def edits(self, groups, chosen, log_odds: float) -> list[SpinnerEdit]:
        page = sigmoid(log_odds)
        model = self.model
        edits = []
        for key, original, score, lm, sites in chosen:
            form = model.forms[key]
            why = (
                f"learned: '{key}' stood for '{original}' {form.originals[original]} times, "
                f"for itself {form.unchanged} times",
                f"same form restored {len(sites)} times" if len(sites) > 1 else "one occurrence",
            )
            evidence = SpinnerEvidence(
                model.rows[key], why, None if model.ngram is None else round(lm, 3)
            )
            spelling = model.spelling[original]
            for site in sites:
                surface = self.text[site.start : site.end]
                after = spelling
                if surface[:1].isupper() and after[:1].islower():
                    after = after[:1].upper() + after[1:]
                edits.append(
                    SpinnerEdit(
                        site.start,
                        site.end,
                        surface,
                        after,
                        round(page * sigmoid(score), 4),
                        evidence,
                    )
                )
        edits.sort(key=lambda edit: edit.start)
        return edits


# Penn tags a pair is inflected to, by lemminflect's universal part of speech.
_INFLECTION_TAGS = {
    "VERB": ("VB", "VBD", "VBN", "VBG", "VBZ"),
    "NOUN": ("NN", "NNS"),
    "ADJ": ("JJ", "JJR", "JJS"),
}


def _inflected_pairs(forms: dict[str, _Form]) -> list[tuple[str, str, int]]:
    """Pairs the lexicon implies but did not see: the other inflections of a one-word pair.

    Spinner dictionaries hold each inflected form on its own line, made from one lemma's
    line ("said" -> "stated", "says" -> "states"), so a traced "stated" for "said" also
    stands for "states" for "says". Each implied pair (spun, original, count) takes the
    seen pair's count divided by `INFLECTED_DISCOUNT`; forms seen spun keep their own
    counts only, and the unchanged counts still weigh an implied form ("state" is mostly
    itself). Measured on bench_learn's test pages, 4-6% of the substituted sites had a
    spun form never seen, whose original this reaches.
    """
    implied: dict[tuple[str, str], int] = {}
    for key, form in forms.items():
        if " " in key or "-" in key or "'" in key:
            continue
        for original, count in form.originals.items():
            if " " in original or not original.isalpha():
                continue
            for pos, spun_lemmas in lemmas_by_pos(key).items():
                original_lemmas = lemmas_by_pos(original).get(pos)
                tags = _INFLECTION_TAGS.get(pos)
                if not original_lemmas or not tags:
                    continue
                for spun_lemma in spun_lemmas:
                    for original_lemma in original_lemmas:
                        for tag in tags:
                            spun_form = first_inflection(spun_lemma, tag)
                            original_form = first_inflection(original_lemma, tag)
                            if (
                                spun_form
                                and original_form
                                and spun_form not in forms
                                and spun_form != original_form
                            ):
                                pair = (spun_form, original_form)
                                implied[pair] = max(implied.get(pair, 0), count)
    return [
        (spun, original, max(1, count // INFLECTED_DISCOUNT))
        for (spun, original), count in sorted(implied.items())
    ]
