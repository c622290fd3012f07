"""Choosing edits: a beam over each sentence's lattice of candidates under the n-gram model,
and, on pages judged spun, a re-scoring of the proposals with the causal LM.

Everything that depends on the page being decoded lives in `PageState`, made fresh for
each call; a `Decoder` holds only read-only models and settings, so one decoder (and one
engine) serves many threads at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from unspin.engine.candidates import Candidate
from unspin.engine.config import EngineConfig
from unspin.engine.evidence import Evidence
from unspin.resources.lm import CausalLM, NGramLM
from unspin.text import Token


@dataclass
class PageState:
    """What the engine knows of the page being decoded; one per call, never shared."""

    dictionary_on: bool = False  # user-dictionary bonuses apply (the page is judged spun)
    spun_pass: bool = False  # the agreement-weighted second n-gram pass of a spun page
    page_spun: bool = False  # the page is judged spun (phrase rules count as listed phrases)
    rule_family: bool = False  # ...and its fast pass took a typical multi-word rule edit


@dataclass
class Decision:
    """One chosen edit with everything that supports it."""

    start: int
    end: int
    before: str
    after: str
    score: float
    confidence: float
    evidence: list[Evidence]
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    candidate: Candidate | None = None  # what was chosen, with its typed evidence

    @property
    def certain(self) -> bool:
        """A spintax leftover: repaired even on pages judged clean."""
        return self.candidate is not None and self.candidate.certain

    @property
    def dictionaries(self) -> set[str]:
        """The user spinner dictionaries that list this substitution."""
        return {
            name
            for e in self.evidence
            if e.source in ("dictionary", "lexicon", "spinner-model")
            for name in e.resources
        }


def prior(cand: Candidate, state: PageState, config: EngineConfig) -> float:
    """The candidate's log-prior on this page.

    The user-dictionary bonus counts only once the page is judged spun, so that a big
    dictionary cannot make a clean page look spun; phrase rules and agreement between
    resources weigh more on a page already judged spun.
    """
    value = cand.prior + (cand.bonus if state.dictionary_on else 0.0)
    if state.page_spun and cand.rule_words > 1 and cand.prior >= config.rule_typical:
        value += config.phrase_bonus * (cand.rule_words - 1)
    if state.rule_family and cand.rule_words > 1 and cand.prior >= config.rule_family_min:
        value += config.rule_family_bonus
    if cand.hop and not state.page_spun:
        return -50.0  # a guess this indirect is only for pages already judged spun
    if state.spun_pass and cand.resources == 1 and not cand.listed_term:
        value -= config.spun_single_source_cost
    elif state.spun_pass and cand.resources >= max(2, cand.knowing):
        # Every resource that knows the spun word relates the candidate to it.  Tuned with
        # two resources loaded; with more, two agreeing out of three is no longer enough
        # (measured: more false edits in the seen protocol, where three are loaded).
        value += config.spun_agreement_bonus
    return value


def is_typical_rule_edit(decision: Decision, config: EngineConfig) -> bool:
    """Whether an edit came from a multi-word phrase rule at or above `rule_typical`."""
    cand = decision.candidate
    return (
        cand is not None
        and " " in decision.before
        and cand.rule_prior is not None
        and cand.rule_prior >= config.rule_typical
    )


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, value))))


class Decoder:
    """The n-gram and causal-LM decisions for one sentence at a time (read-only, shareable)."""

    def __init__(self, ngram: NGramLM, config: EngineConfig) -> None:
        self.ngram = ngram
        self.config = config

    # ------------------------------------------------------------------ n-gram scoring

    def ngram_score(
        self, words: list[str], candidate: Candidate, old_cache: dict | None = None
    ) -> float:
        """Log-prob gain of the candidate on the words it changes and the two after them
        (all a trigram can see); `old_cache` keeps the spun text's side per site."""
        first, last = candidate.first, candidate.last
        new = candidate.text.lower().split()
        old_span = last - first + 1
        old = None if old_cache is None else old_cache.get((first, last))
        if old is None:
            old = self.ngram.window_logprob(words, first, last + 1 + 2)
            if old_cache is not None:
                old_cache[(first, last)] = old
        # Only the two words before (history) and two after matter: score a local window
        # (starting at the sentence start when the site is near it, so padding stays right).
        left = max(0, first - 2)
        local = words[left:first] + new + words[last + 1 : last + 3]
        offset = first - left
        fresh = self.ngram.window_logprob(local, offset, offset + len(new) + 2)
        return fresh - old - self.config.length_penalty * (old_span - len(new))

    def ngram_scores(self, words: list[str], candidates: Sequence[Candidate]) -> list[float]:
        """`ngram_score` of every candidate of a sentence (in C when the model is compiled)."""
        compiled = self.ngram.compiled
        if compiled is None:
            old_cache: dict[tuple[int, int], float] = {}
            return [self.ngram_score(words, c, old_cache) for c in candidates]
        phrase_ids = self.ngram.phrase_ids
        spans = [(c.first, c.last, phrase_ids(c.text)) for c in candidates]
        return compiled.gains(self.ngram.ids(words), spans, self.config.length_penalty)

    def sentence_logprob(self, words: list[str]) -> float:
        return self.ngram.window_logprob(words, 0, len(words) + 1)

    def beam(self, words, scored, in_quote, margin: float, state: PageState) -> list[Candidate]:
        """Best joint reading of a sentence under the n-gram model (a beam over the lattice).

        Every position either keeps its word or takes one candidate starting there; each edit
        pays `margin - prior`, so an edit survives only when the words around it become more
        probable by more than that.  Adjacent substitutions are decoded jointly: "counterfeit
        consciousness" -> "artificial intelligence" wins as a pair even when neither word wins
        alone.  Returns the chosen candidates.
        """
        config = self.config
        options: dict[int, list[tuple[float, Candidate, float]]] = {}
        quote_margin, length_penalty = config.quote_margin, config.length_penalty
        for gain, cand in scored:  # every candidate of the sentence: kept lean
            first = cand.first
            penalty = margin + (quote_margin if in_quote[first] else 0.0)
            length_bonus = -length_penalty * (cand.last - first + 1 - len(cand.text.split()))
            cost = prior(cand, state, config) - penalty + length_bonus
            bucket = options.get(first)
            if bucket is None:
                bucket = options[first] = []
            bucket.append((gain + cost, cand, cost))
        kept: list[tuple[Candidate, float]] = []  # each position's best, in position order
        for items in options.values():
            items.sort(key=itemgetter(0), reverse=True)  # stable, like key=-value
            kept.extend(
                (cand, cost)
                for value, cand, cost in items[: config.beam_options]
                if value > config.beam_prune
            )
        if not kept:
            return []
        compiled = self.ngram.compiled
        if compiled is not None:
            # The same search in C (unspin/_trigram.c), over word ids.
            phrase_ids = self.ngram.phrase_ids
            chosen = compiled.beam(
                self.ngram.ids(words),
                [(cand.first, cand.last, phrase_ids(cand.text), cost) for cand, cost in kept],
                config.beam_width,
            )
            return [kept[i][0] for i in chosen]
        pruned: dict[int, list[tuple[Candidate, list[str], float]]] = {}
        for cand, cost in kept:
            pruned.setdefault(cand.first, []).append((cand, cand.text.lower().split(), cost))
        n = len(words)
        # hypotheses waiting at each position: (h2, h1) -> (score, edits)
        pending: list[dict[tuple[str, str], tuple[float, tuple[Candidate, ...]]]] = [
            {} for _ in range(n + 1)
        ]
        pending[0][("<s>", "<s>")] = (0.0, ())
        logprob = self.ngram.logprob
        value_of = self.ngram.value_of
        cached = self.ngram.cached
        width = config.beam_width

        def push(pos, h2, h1, score, edits):
            bucket = pending[pos]
            old = bucket.get((h2, h1))
            if old is None or score > old[0]:
                bucket[(h2, h1)] = (score, edits)

        for pos in range(n):
            bucket = pending[pos]
            if len(bucket) > width:
                best = sorted(bucket.items(), key=lambda kv: -kv[1][0])[:width]
                bucket = dict(best)
            word = words[pos]
            options_here = pruned.get(pos, ())
            for (h2, h1), (score, edits) in bucket.items():
                # The n-gram cache is read inline (its key is (word, *history)): this loop
                # runs for every hypothesis at every word of every sentence.
                key = (word, h1) if h2 == "<s>" and h1 == "<s>" else (word, h2, h1)
                value = cached(key)
                push(
                    pos + 1,
                    h1,
                    word,
                    score + (value_of(key) if value is None else value),
                    edits,
                )
                for cand, new_words, cost in options_here:
                    s2, a, b = score + cost, h2, h1
                    for w in new_words:
                        key = (w, b) if a == "<s>" and b == "<s>" else (w, a, b)
                        value = cached(key)
                        s2 += value_of(key) if value is None else value
                        a, b = b, w
                    push(cand.last + 1, a, b, s2, (*edits, cand))
            pending[pos] = {}
        final = []
        for (h2, h1), (score, edits) in pending[n].items():
            final.append((score + logprob("</s>", h2, h1), edits))
        final.sort(key=lambda x: -x[0])
        return list(final[0][1]) if final else []

    @staticmethod
    def words_with(words, candidates) -> list[str]:
        result = []
        cursor = 0
        for cand in sorted(candidates, key=lambda c: c.first):
            result.extend(words[cursor : cand.first])
            result.extend(cand.text.lower().split())
            cursor = cand.last + 1
        result.extend(words[cursor:])
        return result

    def alternatives(self, site_scored, cand, state: PageState, limit: int = 3):
        """The best other candidates of `cand`'s site; `site_scored` is that site's (gain,
        candidate) pairs, in the sentence's order."""
        same = [(g + prior(c, state, self.config), c) for g, c in site_scored]
        same.sort(key=lambda x: -x[0])
        return [(c.text, round(v, 2)) for v, c in same if c is not cand][:limit]

    # ------------------------------------------------------------------ decisions

    def decide_ngram(self, words, scored, in_quote, state: PageState):
        """(candidate, score, alternatives) for each edit of the n-gram beam's best reading."""
        config = self.config
        margin = config.spun_pass_margin if state.spun_pass else config.ngram_margin
        path = self.beam(words, scored, in_quote, margin, state)
        if not path:
            return []
        full = self.sentence_logprob(self.words_with(words, path))
        by_site: dict[tuple[int, int], list] = {}
        for item in scored:
            by_site.setdefault((item[1].first, item[1].last), []).append(item)
        chosen = []
        for cand in path:
            others = [c for c in path if c is not cand]
            without = self.sentence_logprob(self.words_with(words, others))
            length_bonus = -config.length_penalty * (
                cand.last - cand.first + 1 - len(cand.text.split())
            )
            score = full - without + prior(cand, state, config) + length_bonus
            chosen.append(
                (cand, score, self.alternatives(by_site[cand.first, cand.last], cand, state))
            )
        return chosen

    def decide_causal(
        self,
        lm: CausalLM,
        text: str,
        tokens: Sequence[Token],
        word_tokens: Sequence[Token],
        words: list[str],
        scored,
        in_quote: list[bool],
        state: PageState,
        budget: int = 10**9,
    ):
        """Re-score the n-gram proposals with the causal LM `lm`, adjacent sites as one cluster.

        Returns ((candidate, score, alternatives) list, variants scored), or (None, 0) when
        the sentence would need more than `budget` variants.
        """
        config = self.config
        proposals = self.beam(words, scored, in_quote, config.prefilter, state)
        if not proposals:
            return [], 0
        start, end = tokens[0].start, tokens[-1].end
        # Clusters: proposals whose spans are at most one word apart.
        proposals.sort(key=lambda c: c.first)
        clusters: list[list[Candidate]] = [[proposals[0]]]
        for cand in proposals[1:]:
            if cand.first - clusters[-1][-1].last <= 2 and len(clusters[-1]) < config.max_cluster:
                clusters[-1].append(cand)
            else:
                clusters.append([cand])
        by_site: dict[tuple[int, int], list[Candidate]] = {}
        for _gain, cand in sorted(scored, key=lambda x: -(x[0] + prior(x[1], state, config))):
            by_site.setdefault((cand.first, cand.last), []).append(cand)
        top = config.top_per_site
        variants: list[tuple[int, tuple[Candidate, ...]]] = []
        for index, cluster in enumerate(clusters):
            choices = []
            for cand in cluster:
                site = by_site.get((cand.first, cand.last), [cand])
                choices.append([cand] + [c for c in site if c is not cand][: top - 1])
            # Each site's alternatives alone, the n-gram's joint reading, and for two sites
            # every combination: enough to let a pair win where neither wins alone, without
            # the cost of a full product over long runs of substitutions.
            for site_choices in choices:
                variants.extend((index, (c,)) for c in site_choices)
            # A phrase over these words that the n-gram beam passed over ("a irregular
            # woodland": "second" for one word beat "random forest" for both, since the news
            # trigram does not know the term) gets its own variant.
            lo, hi = cluster[0].first, cluster[-1].last
            variants.extend((index, (c,)) for c in _overlapping(by_site, cluster, lo, hi, top))
            if len(cluster) > 1:
                variants.append((index, tuple(cluster)))
            if len(cluster) == 2:
                variants.extend((index, (a, b)) for a in choices[0] for b in choices[1])
        seen = set()
        unique = []
        for index, picked in variants:
            key = tuple(c.key for c in picked)
            if key not in seen:
                seen.add(key)
                unique.append((index, picked))
        if len(unique) > budget:
            return None, 0
        texts = [_apply_candidates(text, word_tokens, list(p), start, end) for _i, p in unique]
        # The LM serialises its own calls (it keeps the last prefix's key/value cache).
        lm_gains = lm.variant_gains(text[start:end], texts)
        base_ngram = self.sentence_logprob(words)
        best: dict[int, tuple[float, tuple[Candidate, ...]]] = {}
        scores_by_variant = {}
        for (index, picked), lm_gain in zip(unique, lm_gains, strict=True):
            ngram_gain = self.sentence_logprob(self.words_with(words, picked)) - base_ngram
            cost = 0.0
            for cand in picked:
                # No length correction here: the causal LM compares whole sentences, and a
                # spun phrase being longer than its original is part of why it reads worse.
                margin = config.causal_margin + (
                    config.quote_margin if in_quote[cand.first] else 0.0
                )
                cost += prior(cand, state, config) - margin
            total = lm_gain + config.ngram_weight_with_lm * ngram_gain + cost
            scores_by_variant[tuple(c.key for c in picked)] = total
            if total > 0 and (index not in best or total > best[index][0]):
                best[index] = (total, picked)
        chosen = []
        for total, picked in best.values():
            for cand in picked:
                # Alternatives at this site: the best variants that differ only here.
                alts = []
                for other in by_site.get((cand.first, cand.last), [])[:top]:
                    if other is cand:
                        continue
                    value = scores_by_variant.get(
                        tuple((o if c is cand else c).key for c in picked for o in [other])
                    )
                    if value is not None:
                        alts.append((other.text, round(value, 2)))
                share = total / len(picked) + config.causal_margin
                chosen.append((cand, share, alts))
        return chosen, len(unique)

    def decision(
        self, text, word_tokens, cand: Candidate, score: float, alts, causal: bool = False
    ) -> Decision:
        """An edit with its confidence and evidence, in character offsets of `text`."""
        start = word_tokens[cand.first].start
        end = word_tokens[cand.last].end
        margin = self.config.causal_margin if causal else self.config.ngram_margin
        confidence = round(sigmoid(0.6 * (score - margin) + 0.5), 4)
        kind = "causal LM + n-gram" if causal else "n-gram"
        scorer = Evidence(
            "causal" if causal else "ngram",
            f"{kind} gain {score:+.1f} (margin {margin:.1f})",
            weight=round(score, 3),
        )
        evidence = list({e.detail: e for e in sorted(cand.evidence, key=_order)}.values())
        return Decision(
            start,
            end,
            text[start:end],
            cand.text,
            score,
            confidence,
            [*evidence, scorer],
            alts,
            cand,
        )


def _order(evidence: Evidence) -> tuple[str, float]:
    return (evidence.detail, -(evidence.weight or 0.0))


def _overlapping(by_site, cluster, lo: int, hi: int, top: int) -> list[Candidate]:
    """The best multi-word candidate at each site that overlaps the cluster's words
    without being one of its sites."""
    sites = {(c.first, c.last) for c in cluster}
    return [
        candidates[0]
        for (first, last), candidates in by_site.items()
        if last > first and first <= hi and last >= lo and (first, last) not in sites
    ][:top]


def _apply_candidates(text, word_tokens, candidates, start, end) -> str:
    """The sentence text [start, end) with the candidates' replacements applied."""
    pieces = []
    cursor = start
    for cand in sorted(candidates, key=lambda c: c.first):
        a, b = word_tokens[cand.first].start, word_tokens[cand.last].end
        pieces.append(text[cursor:a])
        pieces.append(cand.text)
        cursor = b
    pieces.append(text[cursor:end])
    return "".join(pieces)
