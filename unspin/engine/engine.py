"""The engine: finds substituted phrases and chooses their most likely originals.

For every sentence:

1. candidates (`unspin.engine.candidates`, from the sources in `unspin.engine.sources`):
   thesaurus relations re-inflected to the spun word's tag, phrase rules, spintax leftovers,
   user spinner dictionaries, listed variants and reassembled terms;
2. fast pass: the pocketsphinx trigram model scores each candidate against the spun text on
   the words it changes plus two following words, and a beam decodes each sentence jointly;
3. document verdict (`unspin.engine.calibration`) from the fast pass: edits are made only on
   pages judged spun (spintax repairs always);
4. decision: with a causal LM, the few best candidates per site are re-scored as sentence
   variants (shared prefix cached); the edit is made when LM gain + n-gram gain + prior
   clears a margin.

False edits are worse than missed ones, so margins are set on clean text (docs/engine.md).
The engine is read-only once built: the page being decoded lives in a `PageState` made per
call, so one engine serves many threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from unspin.engine.calibration import features, spin_probability
from unspin.engine.candidates import Candidate, gather
from unspin.engine.config import EngineConfig
from unspin.engine.decoding import Decision, Decoder, PageState, is_typical_rule_edit, sigmoid
from unspin.engine.evidence import Evidence
from unspin.engine.language import ENGLISH, text_language
from unspin.engine.lexicon_model import LexiconModel
from unspin.engine.protect import (
    is_headline,
    name_mask,
    quoted_ranges,
    term_mask,
    url_ranges,
)
from unspin.engine.results import (
    Detection,
    Restoration,
    detection_from_analysis,
    restoration_from_analysis,
)
from unspin.engine.sources import CandidateSource
from unspin.engine.sources.dictionary import SpinnerDictionarySource
from unspin.engine.sources.lexicon import LexiconSource
from unspin.engine.sources.rules import PhraseRuleSource
from unspin.engine.sources.spintax import SpintaxSource
from unspin.engine.sources.terms import TermSource
from unspin.engine.sources.thesaurus import ThesaurusSource
from unspin.engine.sources.variants import ListedVariantSource
from unspin.engine.spinner_model import SpinnerModel
from unspin.resources.dictionary import SpinnerDictionary
from unspin.resources.lexicon import Lexicon
from unspin.resources.relations import RelationIndex
from unspin.text import Token, sentences


@dataclass
class Analysis:
    """What one pass over a text found; detection and restoration are views of it."""

    decisions: list[Decision]
    words: int
    ngram_logprob: float
    spintax: int
    sites: int
    probability: float = 0.0
    verdict_features: dict[str, float] = field(default_factory=dict)  # what `probability` saw
    language: str | None = None  # the text's language; None when too short to tell


@dataclass
class SentenceState:
    """One sentence of the page being decoded: its words, candidates and fast-pass edits."""

    tokens: list[Token]
    word_tokens: list[Token]
    words: list[str]
    scored: list[tuple[float, Candidate]]
    in_quote: list[bool]
    logprob: float
    spintax: int
    sites: int
    fast: list[Decision] = field(default_factory=list)
    headline: bool = False


def _as_spinner_dictionary(resource: object) -> SpinnerDictionary | None:
    """The spinner dictionary a loaded `--dict` resource is, if it is one.

    A learned lexicon is not read as a dictionary: its line order and rates are unknown and
    the spinner model would leave its counts unused ("agency" -> "firm", seen 5 times and
    never unchanged, was left); it has its own page model (`LexiconModel`) and candidate
    source.
    """
    return resource if isinstance(resource, SpinnerDictionary) else None


def ngram_word(token: Token) -> str:
    """The n-gram model's view of a token: lower case; numbers as a number word."""
    if token.text[:1].isdigit():
        return "ten"  # the ASR model spells numbers; any number word keeps the context sane
    return token.lower


def _is_wordlike(text: str) -> bool:
    return text[:1].isalnum() or text.startswith("{")


class Engine:
    """Holds the loaded resources and models; build once, reuse from any number of threads."""

    def __init__(
        self,
        *,
        lexical: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        dictionaries: Sequence[str | Path] = (),
        model: str | None = "default",
        device: str | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        from unspin.resources import available_lexical, load_lexical
        from unspin.resources.lexical import BUILTIN_LOADERS
        from unspin.resources.lm import check_causal_lm, default_ngram
        from unspin.resources.relations import builtin_index

        self.config = config or EngineConfig()
        names = list(available_lexical() if lexical is None else lexical)
        excluded = {name.lower() for name in exclude}
        self.lexical_names = [
            n for n in names if n.lower() not in excluded and n.split("-")[0] not in excluded
        ]
        self.relations = RelationIndex()
        for name in self.lexical_names:
            if name.lower() in BUILTIN_LOADERS:
                self.relations.add_index(builtin_index(name.lower()))
            else:
                self.relations.add_resource(Path(name).stem, load_lexical(name).entries())
        self.user = RelationIndex()
        self.dictionary_names: list[str] = []
        self.ngram = default_ngram()
        # A known spinner's dictionary (or a learned one) is modelled exactly: the spinner
        # model decides a page it explains; the generic decode keeps the dictionary as a prior
        # for pages it does not.
        self.spinner_models: list[tuple[str, SpinnerModel | LexiconModel]] = []
        self.lexicons: list[Lexicon] = []
        for path in dictionaries:
            resource = load_lexical(Path(path))
            name = getattr(resource, "name", Path(path).stem)
            self.dictionary_names.append(name)
            if isinstance(resource, Lexicon):
                resource.name = name
                self.lexicons.append(resource)  # weighed by its counts: LexiconSource
                # ...and decided page by page under the spinner's constraints.
                self.spinner_models.append((name, LexiconModel(resource, self.ngram)))
                continue
            self.user.add_resource(name, resource.entries())
            spinner = _as_spinner_dictionary(resource)
            if spinner is not None and spinner.lines:
                self.spinner_models.append((name, SpinnerModel(spinner, self.ngram)))
        self.model_name = None if model in (None, "none") else model
        self.device = device
        # The causal LM is loaded on first use (restoring a page judged spun): detection and
        # clean pages never pay its seconds of loading. Its absence is found out now.
        self._causal = None
        self._causal_lock = threading.Lock()
        if self.model_name is not None:
            check_causal_lm(self.model_name)
        self.decoder = Decoder(self.ngram, self.config)
        self.terms = TermSource(self.relations, self.config)
        # Where candidates come from, in the order their proposals are merged.  A new source
        # is one module in unspin/engine/sources/ and one line here.
        self.sources: list[CandidateSource] = [
            SpintaxSource(self.config),
            PhraseRuleSource(),
            SpinnerDictionarySource(self.user, self.config),
            LexiconSource(self.lexicons, self.config),
            ThesaurusSource(self.relations, self.ngram, self.config),
            ListedVariantSource(self.relations, self.config),
            self.terms,
        ]

    @property
    def causal(self):
        """The causal LM (loaded on first use), or None for the n-gram engine."""
        if self.model_name is None:
            return None
        with self._causal_lock:
            if self._causal is None:
                from unspin.resources.lm import load_causal_lm

                self._causal = load_causal_lm(self.model_name, self.device)
        return self._causal

    # ------------------------------------------------------------------ public API

    def detect(self, text: str) -> Detection:
        # Detection needs only the fast pass: the causal LM is for choosing restorations.
        return detection_from_analysis(self, self.analyse(text, restore=False))

    def restore(self, text: str) -> Restoration:
        return restoration_from_analysis(text, self.analyse(text), explain=False)

    def restore_and_explain(self, text: str) -> Restoration:
        return restoration_from_analysis(text, self.analyse(text), explain=True)

    def candidates(self, text: str) -> list[list[Candidate]]:
        """Every candidate of every sentence of `text`, before any scoring (for inspection)."""
        protected = url_ranges(text)
        return [
            gather(
                text,
                words,
                self.sources,
                protected_ranges=protected,
                protected_words=self.protected_words(words, text),
                config=self.config,
            )
            for words in (
                [t for t in sentence if _is_wordlike(t.text)] for sentence in sentences(text)
            )
        ]

    def protected_words(self, word_tokens: Sequence[Token], text: str) -> list[bool]:
        """Names and technical terms of a sentence: never edited."""
        return [
            name or term
            for name, term in zip(
                name_mask(word_tokens, self.relations, text),
                term_mask(word_tokens, self.terms.terms),
                strict=True,
            )
        ]

    # ------------------------------------------------------------------ analysis

    def analyse(
        self, text: str, *, use_causal: bool | None = None, restore: bool = True
    ) -> Analysis:
        """Decide every edit in `text` (character offsets into `text`).

        Two stages.  The fast n-gram pass scores every candidate of every sentence and gives
        the document-level spin probability.  Only when that says "spun" are edits made
        (confirmed by the causal LM when one is loaded): a clean article comes back
        unchanged, which matters more than the odd substitution in a page that is barely
        spun.  Spintax leftovers are always repaired.

        A text in another language than English is not analysed (no edits, probability 0,
        `Analysis.language` says which): every model here is English, and even a loaded
        spinner dictionary needs the language model to choose among its lines.
        """
        language = text_language(text)
        if language not in (None, ENGLISH):
            return Analysis([], len(text.split()), 0.0, 0, 0, language=language)
        config = self.config
        decoder = self.decoder
        has_causal = self.model_name is not None
        causal = (has_causal if use_causal is None else use_causal) and has_causal and restore
        if self.spinner_models:
            # A loaded spinner that explains the page decides every edit: the generic decode
            # below would be thrown away, so it is not run (it cost as much again).
            explained = self._spinner_decisions(text, causal)
            if explained is not None:
                analysis = _explained_analysis(text, *explained)
                analysis.language = language
                return analysis
        protected = url_ranges(text)
        quoted = quoted_ranges(text)
        neutral_state = PageState()  # the verdict is made with user-dictionary bonuses off
        edit_state = PageState(dictionary_on=True)
        states: list[SentenceState] = []
        fast: list[Decision] = []
        # What the page-level verdict counts: a sentence repeated verbatim (a photo credit
        # "Image: Paul Budd." under every picture) is counted once, since a page is no
        # more spun for repeating a line (one clean article was judged spun on its eight
        # credits).  Repeats are still edited like their first occurrence.
        counted: list[Decision] = []
        seen: set[str] = set()
        words = 0
        total_lp = 0.0
        spintax = 0
        for sentence in sentences(text):
            state = self._sentence_state(text, sentence, protected, quoted)
            states.append(state)
            line = text[sentence[0].start : sentence[-1].end] if sentence else ""
            repeated = line in seen
            seen.add(line)
            if not repeated:
                words += len(state.words)
                total_lp += state.logprob
                spintax += state.spintax
            chosen = decoder.decide_ngram(state.words, state.scored, state.in_quote, neutral_state)
            neutral = [decoder.decision(text, state.word_tokens, *item) for item in chosen]
            fast.extend(neutral)
            if not repeated:
                counted.extend(neutral)
            state.fast = neutral
            if self.dictionary_names and state.scored:
                chosen = decoder.decide_ngram(state.words, state.scored, state.in_quote, edit_state)
                state.fast = [decoder.decision(text, state.word_tokens, *item) for item in chosen]
        analysis = Analysis(fast, words, total_lp, spintax, sum(s.sites for s in states))
        analysis.language = language
        analysis.verdict_features = features(
            Analysis(counted, words, total_lp, spintax, analysis.sites)
        )
        analysis.probability = spin_probability(analysis.verdict_features)
        rule_family = any(is_typical_rule_edit(d, config) for d in counted)
        if analysis.probability < config.spun_gate:
            analysis.decisions = [d for d in fast if d.certain]
        elif self.dictionary_names and not causal:
            # The user dictionary's prior dominates; the agreement weighting was tuned
            # without one and measured worse with one (seen protocol).
            analysis.decisions = [d for state in states for d in state.fast]
        elif not causal:
            analysis.decisions = self._redecide_spun(text, states, rule_family)
        else:
            analysis.decisions = self._decide_causal(text, states, rule_family)
        return analysis

    def _spinner_decisions(
        self, text: str, causal: bool = False
    ) -> tuple[float, list[Decision]] | None:
        """The edits of the loaded spinner that best explains the page, with its log-odds
        against the page being clean; None when none explains it (its page margin).

        With ``causal``, the causal LM (loaded on first use) decides the close calls of the
        spinner that explains the page; with several spinners, of the best one only."""
        provider = (lambda: self.causal) if causal else None
        alone = len(self.spinner_models) == 1
        best = None
        for name, model in self.spinner_models:
            result = model.analyse(text, provider if alone else None)
            if result.edits and (best is None or result.page_log_odds > best[1].page_log_odds):
                best = (name, result, model)
        if best is None:
            return None
        name, result, model = best
        if provider is not None and not alone:
            result = model.analyse(text, provider)
        decisions = []
        for edit in result.edits:
            margin = edit.evidence.lm_margin
            evidence = Evidence(
                "spinner-model",
                f"dictionary {name}, line {edit.evidence.line + 1}: "
                + "; ".join(edit.evidence.constraints),
                "inverse",
                (name,),
                None if margin is None else round(margin, 3),
            )
            decisions.append(
                Decision(
                    edit.start,
                    edit.end,
                    edit.before,
                    edit.after,
                    result.page_log_odds,
                    edit.confidence,
                    [evidence],
                )
            )
        return result.page_log_odds, decisions

    def _redecide_spun(
        self, text: str, states: list[SentenceState], rule_family: bool
    ) -> list[Decision]:
        """Decode a page already judged spun again, weighing how many resources agree.

        The fast pass treats every thesaurus candidate alike because its edits feed the
        document verdict.  On a spun page, measured on the dev sets, a candidate that two
        resources relate to the spun word is right far more often than a false edit, one
        that a single resource knows is mostly a wrong synonym or a false edit; shifting
        the priors accordingly restores more and changes fewer untouched words.
        """
        page = PageState(spun_pass=True, page_spun=True, rule_family=rule_family)
        decisions: list[Decision] = []
        for state in states:
            if not state.scored:
                continue
            chosen = self.decoder.decide_ngram(state.words, state.scored, state.in_quote, page)
            decisions.extend(self.decoder.decision(text, state.word_tokens, *c) for c in chosen)
        return decisions

    def _decide_causal(
        self, text: str, states: list[SentenceState], rule_family: bool
    ) -> list[Decision]:
        """Re-score a spun page's proposals with the causal LM, within its variant budget."""
        page = PageState(
            dictionary_on=bool(self.dictionary_names), page_spun=True, rule_family=rule_family
        )
        decisions: list[Decision] = []
        budget = self.config.causal_budget
        for state in states:
            if not state.scored:
                continue
            chosen = None
            if budget > 0:
                # Headline grammar ("Earthquake injures 25 people") is as unusual to the
                # causal LM as a quotation ("injures" -> "gets" in `make demo`): the same
                # extra margin.  Not for the n-gram engine: there it cost restorations in
                # spun titles and removed no false edit (dev sets).
                in_quote = [True] * len(state.words) if state.headline else state.in_quote
                chosen, used = self.decoder.decide_causal(
                    self.causal,
                    text,
                    state.tokens,
                    state.word_tokens,
                    state.words,
                    state.scored,
                    in_quote,
                    page,
                    budget,
                )
                budget -= used
            if chosen is None:
                # Out of causal-LM budget for this document: keep the fast verdicts.
                decisions.extend(state.fast)
                continue
            decisions.extend(
                self.decoder.decision(text, state.word_tokens, *item, causal=True)
                for item in chosen
            )
        return decisions

    def _sentence_state(self, text, tokens: list[Token], protected, quoted) -> SentenceState:
        word_tokens = [t for t in tokens if _is_wordlike(t.text)]
        words = [ngram_word(t) for t in word_tokens]
        logprob = self.ngram.window_logprob(words, 0, len(words))  # without </s>
        spintax = sum(1 for t in word_tokens if t.text.startswith("{"))
        candidates = gather(
            text,
            word_tokens,
            self.sources,
            protected_ranges=protected,
            protected_words=self.protected_words(word_tokens, text),
            config=self.config,
        )
        scored = list(zip(self.decoder.ngram_scores(words, candidates), candidates, strict=True))
        sites = len({(c.first, c.last) for c in candidates})
        in_quote = [any(a <= t.start < b for a, b in quoted) for t in word_tokens]
        state = SentenceState(tokens, word_tokens, words, scored, in_quote, logprob, spintax, sites)
        state.headline = is_headline(text, tokens)
        return state


def _explained_analysis(text: str, odds: float, decisions: list[Decision]) -> Analysis:
    """The analysis of a page a loaded spinner explains: its edits, its page log-odds as
    the probability; the generic pass's n-gram totals and verdict features are not made."""
    words = sum(1 for sentence in sentences(text) for t in sentence if _is_wordlike(t.text))
    spintax = sum(1 for d in decisions if d.before.startswith("{"))
    analysis = Analysis(decisions, words, 0.0, spintax, len(decisions))
    analysis.probability = sigmoid(odds)
    return analysis


_DEFAULT: Engine | None = None
_DEFAULT_LOCK = threading.Lock()


def default_engine() -> Engine:
    """The process-wide default engine, built on first use (thread-safe)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            from unspin.resources.lm import ModelUnavailable

            try:
                _DEFAULT = Engine()
            except ModelUnavailable:
                # No causal LM installed: the n-gram engine still works, with lower recall.
                _DEFAULT = Engine(model=None)
        return _DEFAULT
