"""Text primitives shared by every stage: one tokenizer, one sentence splitter, the
inflection and capitalisation helpers, the function-word list, the cache folder and the
one-line error message.

Why one module: the engine, tracing, the learner and the spinner model must agree on what a
word is and where it starts, or their offsets and alignments drift apart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Words, numbers (with inner separators), spintax groups, and single punctuation marks.
TOKEN_RE = re.compile(
    r"\{[^{}\n]{1,200}\}"  # spintax leftover, kept whole
    r"|[A-Za-z\u00C0-\u024F]+(?:['\u2019\-][A-Za-z\u00C0-\u024F]+)*"  # words, incl. don't, co-operation
    r"|\d+(?:[.,:]\d+)*"  # numbers
    r"|\S"  # anything else, one character at a time
)
SENTENCE_END = {".", "!", "?"}
# Other views of a word, each for one kind of work:
# - a word as an auto-spinner matches it (between \w boundaries: "known" in "well-known"):
#   the simulator, spinner dictionaries and the spinner model must agree with each other;
SPINNER_WORD_RE = re.compile(r"\w+")
# - a word with its inner apostrophes ("don't"), for tracing and for aligning a page with its
#   source; with ``|[^\w\s]`` (WORD_OR_MARK_RE) punctuation marks are tokens of their own;
WORD_RE = re.compile(r"\w+(?:['\u2019]\w+)*")
WORD_OR_MARK_RE = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]")
# - a word with its inner apostrophes and hyphens ("co-operation"), for scoring restorations.
HYPHENATED_WORD_RE = re.compile(r"\w+(?:['\u2019\-]\w+)*")
HYPHENATED_WORD_OR_MARK_RE = re.compile(r"\w+(?:['\u2019\-]\w+)*|[^\w\s]")


@dataclass(slots=True)
class Token:
    """One token with its character offsets into the input text."""

    text: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.text[0].isalpha()

    @property
    def lower(self) -> str:
        return self.text.lower()


def adjacent(text: str, left: Token, right: Token) -> bool:
    """Whether two tokens are separated by exactly one space (words of one phrase)."""
    return text[left.end : right.start] == " "


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def sentences(text: str) -> list[list[Token]]:
    """Split into sentences: after . ! ? followed by a capital/quote/digit, and at blank lines."""
    tokens = tokenize(text)
    result: list[list[Token]] = []
    current: list[Token] = []
    for index, token in enumerate(tokens):
        if current and "\n" in text[current[-1].end : token.start]:
            result.append(current)
            current = []
        current.append(token)
        if token.text in SENTENCE_END:
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or following.text[0].isupper() or following.text in "\"'\u201c(":
                result.append(current)
                current = []
    if current:
        result.append(current)
    return result


# --------------------------------------------------------------------------------------------
# Capitalisation and inflection


def match_case(candidate: str, spun: str) -> str:
    """Give `candidate` the capitalisation pattern of the spun text it replaces."""
    if spun.isupper() and len(spun) > 1:
        return candidate.upper()
    spun_words = spun.split()
    if len(spun_words) > 1 and all(w[0].isupper() for w in spun_words if w[0].isalpha()):
        return " ".join(w[:1].upper() + w[1:] for w in candidate.split())
    if spun[:1].isupper():
        return candidate[:1].upper() + candidate[1:]
    return candidate


@lru_cache(maxsize=200_000)
def word_tags(word: str) -> tuple[tuple[str, str, str], ...]:
    """(upos, lemma, penn_tag) readings of a surface word, from lemminflect's tables."""
    from lemminflect import getAllInflections, getAllLemmas

    readings: list[tuple[str, str, str]] = []
    lower = word.lower()
    for upos, lemmas in getAllLemmas(lower).items():
        for lemma in lemmas:
            for tag, forms in getAllInflections(lemma, upos=upos).items():
                if lower in forms:
                    readings.append((upos, lemma, tag))
    return tuple(readings)


@lru_cache(maxsize=200_000)
def lemmas_of(word: str) -> tuple[str, ...]:
    from lemminflect import getAllLemmas

    found: list[str] = []
    for lemmas in getAllLemmas(word.lower()).values():
        for lemma in lemmas:
            if lemma not in found:
                found.append(lemma)
    return tuple(found)


@lru_cache(maxsize=400_000)
def inflect_like(candidate: str, spun: str) -> tuple[str, ...]:
    """Forms of the one-word `candidate` carrying the tag(s) the spun word carries.

    "say" / "said" like "mentioned" -> ("said",); a spun base form keeps the candidate's base.
    Unknown words yield the candidate unchanged so nothing is silently dropped.
    """
    readings = word_tags(spun)
    if not readings:
        return (candidate,)
    cand_lemmas = lemmas_by_pos(candidate.lower())
    forms: list[str] = []
    for upos, _lemma, tag in readings:
        lemmas = cand_lemmas.get(upos) or ((candidate.lower(),) if not cand_lemmas else ())
        for lemma in lemmas:
            for form in inflections(lemma, tag):
                if form not in forms:
                    forms.append(form)
    return tuple(forms) or (candidate,)


# lemminflect deep-copies its tables on every call; the same lemmas and tags recur across
# candidates of different spun words, so both lookups are cached here (its inflection
# calls were a fifth of detect's time in a profile of ten dev articles).
@lru_cache(maxsize=200_000)
def lemmas_by_pos(word: str) -> dict[str, tuple[str, ...]]:
    from lemminflect import getAllLemmas

    return {upos: tuple(lemmas) for upos, lemmas in getAllLemmas(word).items()}


@lru_cache(maxsize=200_000)
def inflections(lemma: str, tag: str) -> tuple[str, ...]:
    from lemminflect import getInflection

    return tuple(getInflection(lemma, tag=tag) or ())


def first_inflection(lemma: str, tag: str) -> str | None:
    """The first form lemminflect gives `lemma` with Penn `tag` ("say", "VBD" -> "said")."""
    forms = inflections(lemma, tag)
    return forms[0] if forms else None


def normal_phrase(text: str) -> str:
    """A phrase as dictionaries key it: lower case, one space between words."""
    return " ".join(text.split()).lower()


def inflect_phrase_like(candidate: str, spun: str) -> tuple[str, ...]:
    """Re-inflect a phrase candidate: the first word carries a verb's tense, the last a noun's number."""
    cand_words = candidate.split()
    spun_words = spun.split()
    if len(cand_words) == 1 and len(spun_words) == 1:
        return inflect_like(candidate, spun)
    results: list[str] = []
    first_tags = {tag for upos, _l, tag in word_tags(spun_words[0]) if upos == "VERB"}
    if first_tags and first_tags != {"VB"} and first_tags != {"VB", "VBP"}:
        for form in inflect_like(cand_words[0], spun_words[0]):
            results.append(" ".join([form, *cand_words[1:]]))
    last_tags = {tag for upos, _l, tag in word_tags(spun_words[-1]) if upos == "NOUN"}
    if last_tags == {"NNS"}:
        for form in inflect_like(cand_words[-1], spun_words[-1]):
            results.append(" ".join([*cand_words[:-1], form]))
    return tuple(dict.fromkeys(results)) or (candidate,)


# The word lists, all here so that they are read together (tests/test_layout.py checks that
# the narrower ones are drawn from FUNCTION_WORDS).

# Closed-class English words (determiners, pronouns, prepositions, conjunctions,
# auxiliaries and modals, particles, common adverbs of degree/time). A hand list
# because the stop lists at hand (justext, trafilatura) are frequency lists that
# also contain content words such as "said" or "year", which spinners do swap.
FUNCTION_WORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anybody anyone anything anyway
    anywhere are around as at be became because become becomes been before beforehand
    behind being below beside besides between beyond both but by can cannot could did do
    does doing done down during each either else elsewhere enough etc even ever every
    everybody everyone everything everywhere except few for from further had has have
    having he hence her here hers herself him himself his how however i if in indeed into
    is it its itself just least less many may me meanwhile might mine more moreover most
    mostly much must my myself neither never nevertheless next no nobody none noone nor
    not nothing now nowhere of off often on once one only onto or other others otherwise
    our ours ourselves out over own per perhaps please quite rather same shall she should
    since so some somebody someone something sometime sometimes somewhere still such than
    that the their theirs them themselves then thence there thereafter thereby therefore
    therein thereupon these they this those though through throughout thru thus to
    together too toward towards under unless until up upon us very via was we well were
    what whatever when whence whenever where whereafter whereas whereby wherein whereupon
    wherever whether which while whither who whoever whole whom whose why will with
    within without would yet you your yours yourself yourselves
    mr mrs ms dr st
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

# Function words: spinners leave them, so they carry the sentence skeleton in
# bigrams, but alone they say nothing about which sentence is which.
_TRACING_STOP_WORD_TEXT = (
    "a about above after again against all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each few for from "
    "further had has have having he her here hers herself him himself his how i if in into is "
    "it its itself just me more most my no nor not now of off on once only or other our ours "
    "out over own same she should so some such than that the their theirs them then there "
    "these they this those through to too under until up very was we were what when where "
    "which while who whom why will with would you your said says say"
)
TRACING_STOP_WORDS = frozenset(_TRACING_STOP_WORD_TEXT.split())

# Function words: thesaurus relations of these are noise ("the" -> "th'"); only phrase rules
# propose replacements for them.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "yet",
        "as",
        "if",
        "than",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "having",
        "it",
        "its",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "me",
        "him",
        "her",
        "them",
        "us",
        "my",
        "your",
        "his",
        "their",
        "our",
        "who",
        "whom",
        "whose",
        "which",
        "what",
        "when",
        "where",
        "why",
        "how",
        "not",
        "no",
        "all",
        "any",
        "some",
        "each",
        "every",
        "both",
        "either",
        "neither",
        "one",
        "s",
        "t",
    ]
)
ARTICLES = frozenset({"a", "an", "the"})
URL_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+")


def cache_dir() -> Path:
    """Where built indexes, dictionaries and converted models are cached (the one rule):
    `$UNSPIN_CACHE_DIR`, else `$XDG_CACHE_HOME/unspin`, else `~/.cache/unspin`."""
    own = os.environ.get("UNSPIN_CACHE_DIR")
    if own:
        return Path(own)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "unspin"


def one_line(error: BaseException) -> str:
    """An exception as one line for a user: its message, or its type when it has none."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def error_message(error: BaseException) -> str:
    """One line for the user: the message of our own errors, the type too for others.

    ValueErrors (ExtractionError among them) and timeouts carry messages written for users;
    any other exception is shown with its type, since its message alone may not say much.
    """
    text = one_line(error)
    if isinstance(error, ValueError | TimeoutError) and str(error).strip():
        return text
    return f"{type(error).__name__}: {text}" if str(error).strip() else text
