"""Learn a spinner's dictionary from a crawl: trace pages, align them with their sources,
mine the substitutions (`unspin learn`).

Content farms spin many pages with one dictionary, and a crawl holds many of those
pages together with their sources. Every traced (page, source) pair, aligned word by
word, shows the spinner's substitutions: spun phrase -> original phrase. Counted over
many pages they give the spinner's inverse dictionary, which restores pages whose
source is *not* in the index (see docs/engine.md, "Learned lexicons").

How a pair is aligned. Tracing already pairs the page's sentences with the source's
and merges runs of pairs into passages (`unspin.tracing.Passage`); each passage is then
aligned word by word with `difflib.SequenceMatcher` on lower-cased tokens. Why this and
not one diff of the whole texts: the passages skip what the page adds (ads, widgets,
boilerplate) and survive reordered paragraphs, which a single diff would misalign, and
they keep the diff's quadratic worst case to a paragraph; they cost nothing more, the
trace computed them. Why difflib and not a learned aligner: a spinner keeps word order
and replaces phrases in place, so a longest-matching-block diff recovers the replaced
runs exactly; a diff's 'replace' opcode of at most ``max_words`` words a side is one
substitution (a longer one is a rewrite, not a spinner's swap, and is ignored).

Adjacent substitutions ("big firm" -> "large agency") come out of the diff as one run;
when both sides have the same number of words the run is also counted word by word
("large" -> "big", "agency" -> "firm"), since a spinner's lines are mostly single words.

Unchanged counts (how often a form stands in page and source at the same aligned
place): every word and every phrase of up to ``max_words`` words of the diff's 'equal'
runs is counted while learning. What is kept in the lexicon: every single word (a word
that becomes a spun form only in a later crawl, under ``--update``, then already has its
count), and the phrases that are spun forms. A phrase that becomes a spun form only in a
later crawl starts its unchanged count then (keeping every phrase of every crawl would
make the lexicon grow with the crawl rather than with the spinner's vocabulary).
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from unspin.engine.evidence import Evidence
from unspin.engine.results import Edit
from unspin.resources.lexicon import Lexicon
from unspin.text import FUNCTION_WORDS, WORD_OR_MARK_RE
from unspin.tracing import DEFAULT_THRESHOLD, Passage, align_passages, trace

if TYPE_CHECKING:
    from unspin.tracing.index import SourceIndex

__all__ = [
    "MAX_PHRASE_WORDS",
    "LearnReport",
    "learn",
    "merge_mined",
    "mine_aligned",
    "mine_page",
    "restore_from_source",
]

MAX_PHRASE_WORDS = 4
"""A replaced run longer than this on either side is a rewrite, not one substitution."""

_SENTENCE_END = frozenset(".!?")
# A line where at least this share of the words of 4+ letters are capitalised is a title:
# its capitals do not mark names.
_TITLE_SHARE = 0.6


@dataclass
class _Tokens:
    """A text's tokens: lower-cased keys (what the diff compares), lexicon keys (lower
    case unless the capitals matter), character spans, and which tokens are words."""

    keys: list[str]
    forms: list[str]
    starts: list[int]
    ends: list[int]
    words: list[bool]

    @classmethod
    def of(cls, text: str) -> _Tokens:
        keys: list[str] = []
        forms: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        words: list[bool] = []
        title_lines = _title_lines(text)
        initial = True  # the next word starts a sentence
        previous_end = line = 0
        for match in WORD_OR_MARK_RE.finditer(text):
            token = match.group()
            start = match.start()
            breaks = text.count("\n", previous_end, start)
            if breaks:
                initial = True
                line += breaks
            is_word = token[0].isalnum() or token[0] == "_"
            lower = token.lower().replace("’", "'")  # typographic apostrophes are no swap
            if is_word:
                loose = initial or line in title_lines
                # Capitals matter inside a sentence ("Monday") and beyond a first letter
                # ("NASA", "iPhone"); a sentence's first word or a title's are lower-cased.
                tail = token[1:] if loose else token
                forms.append(token if tail != tail.lower() else lower)
                initial = False
            else:
                forms.append(token)
                if token in _SENTENCE_END:
                    initial = True
            keys.append(lower)
            starts.append(start)
            ends.append(match.end())
            words.append(is_word)
            previous_end = match.end()
        return cls(keys, forms, starts, ends, words)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Token range covering the characters [start, end)."""
        return bisect_left(self.starts, start), bisect_left(self.starts, end)


def _title_lines(text: str) -> set[int]:
    """Numbers of the lines written in title case ("Dozens Dead After Blast"): no final
    full stop, and most words of four letters or more capitalised."""
    found = set()
    for number, line in enumerate(text.split("\n")):
        if line.rstrip().endswith((".", "!", "?")):
            continue
        long_words = [word for word in re.findall(r"\w+", line) if len(word) >= 4]
        if len(long_words) >= 2:
            capitalised = sum(word[0].isupper() for word in long_words)
            if capitalised / len(long_words) >= _TITLE_SHARE:
                found.add(number)
    return found


def _phrase_ok(tokens: _Tokens, start: int, end: int, max_words: int) -> bool:
    """A run of 1..max_words words, no punctuation."""
    return 0 < end - start <= max_words and all(tokens.words[k] for k in range(start, end))


def _has_digit(tokens: _Tokens, start: int, end: int) -> bool:
    return any(ch.isdigit() for k in range(start, end) for ch in tokens.keys[k])


def _substitution(
    page: _Tokens, source: _Tokens, i1: int, i2: int, j1: int, j2: int, max_words: int
) -> bool:
    """Whether page[i1:i2] in place of source[j1:j2] looks like a spinner's swap: words
    only, at most ``max_words`` a side, and not a number changed for another ("40" for
    "48" is a different version of the text; "12 months" for "year" is a swap)."""
    return (
        _phrase_ok(page, i1, i2, max_words)
        and _phrase_ok(source, j1, j2, max_words)
        and not (_has_digit(page, i1, i2) and _has_digit(source, j1, j2))
    )


def _diff(
    page: _Tokens, source: _Tokens, passage: Passage
) -> Iterable[tuple[str, int, int, int, int]]:
    """The word diff of one passage: opcodes with absolute token indices."""
    p0, p1 = page.span(passage.page_start, passage.page_end)
    s0, s1 = source.span(passage.source_start, passage.source_end)
    matcher = SequenceMatcher(None, page.keys[p0:p1], source.keys[s0:s1], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        yield tag, p0 + i1, p0 + i2, s0 + j1, s0 + j2


def _mine_tokens(
    page: _Tokens,
    source: _Tokens,
    passages: Iterable[Passage],
    lexicon: Lexicon,
    unchanged: Counter[str],
    max_words: int,
) -> None:
    for passage in passages:
        for tag, i1, i2, j1, j2 in _diff(page, source, passage):
            if tag == "equal":
                _count_unchanged(page, i1, i2, unchanged, max_words)
            elif tag == "replace" and _substitution(page, source, i1, i2, j1, j2, max_words):
                spun = " ".join(page.forms[i1:i2])
                original = " ".join(source.forms[j1:j2])
                lexicon.add_pair(spun, original)
                if i2 - i1 == j2 - j1 > 1:  # adjacent one-word substitutions, likely
                    for k in range(i2 - i1):
                        lexicon.add_pair(page.forms[i1 + k], source.forms[j1 + k])
            elif tag in ("delete", "insert"):
                _mine_extension(page, source, i1, i2, j1, j2, lexicon, max_words)


def _mine_extension(
    page: _Tokens,
    source: _Tokens,
    i1: int,
    i2: int,
    j1: int,
    j2: int,
    lexicon: Lexicon,
    max_words: int,
) -> None:
    """Words only one side has: a substitution that kept the original word inside its
    replacement ("federal" -> "federal official", "information" -> "selective
    information"). Which neighbour it belongs to is unknown, so both readings are counted
    (the wrong one rarely recurs, and the unchanged counts weigh it down)."""
    # The extra words (on one side; the other side's range is empty).
    if i1 != i2 and not _phrase_ok(page, i1, i2, max_words - 1):
        return
    if j1 != j2 and not _phrase_ok(source, j1, j2, max_words - 1):
        return
    # The word before (and after) the extra words, the same on both sides.
    for page_span, source_span in (((i1 - 1, i2), (j1 - 1, j2)), ((i1, i2 + 1), (j1, j2 + 1))):
        before = page_span[0] == i1 - 1
        page_word = page_span[0] if before else page_span[1] - 1
        source_word = source_span[0] if before else source_span[1] - 1
        if not (0 <= page_word < len(page.keys) and 0 <= source_word < len(source.keys)):
            continue
        if page.keys[page_word] != source.keys[source_word]:
            continue
        if page.keys[page_word] in FUNCTION_WORDS:  # spinners leave "the", "of"... alone
            continue
        if _substitution(page, source, *page_span, *source_span, max_words):
            lexicon.add_pair(
                " ".join(page.forms[page_span[0] : page_span[1]]),
                " ".join(source.forms[source_span[0] : source_span[1]]),
            )


def _count_unchanged(
    tokens: _Tokens, start: int, end: int, unchanged: Counter[str], max_words: int
) -> None:
    """Count every word and phrase of up to ``max_words`` words in tokens[start:end]."""
    forms, words = tokens.forms, tokens.words
    run: list[str] = []
    for k in range(start, end + 1):
        if k < end and words[k]:
            run.append(forms[k])
            continue
        for size in range(1, min(max_words, len(run)) + 1):
            unchanged.update(" ".join(run[i : i + size]) for i in range(len(run) - size + 1))
        run = []


def mine_aligned(
    page: str,
    source: str,
    passages: Iterable[Passage] | None = None,
    *,
    max_words: int = MAX_PHRASE_WORDS,
) -> Lexicon:
    """The substitutions of one (page, source) pair, as a lexicon of that pair alone.

    ``passages`` are the copied passages (from `unspin.tracing.trace` or
    `unspin.tracing.align_passages`); by default the two texts are taken as one aligned
    passage (a sentence and its spun copy, say). The lexicon's ``unchanged`` counts
    every word and phrase (up to ``max_words`` words) seen unchanged; ``pages`` is 1.
    """
    if passages is None:
        passages = [_whole(page, source)]
    lexicon = Lexicon(pages=1)
    unchanged: Counter[str] = Counter()
    _mine_tokens(_Tokens.of(page), _Tokens.of(source), passages, lexicon, unchanged, max_words)
    lexicon.unchanged = dict(unchanged)
    return lexicon


def _whole(page: str, source: str) -> Passage:
    return Passage(0, len(page), 0, len(source), 1.0)


@dataclass
class LearnReport:
    """What one `learn` run read, traced and mined, and the resulting lexicon."""

    pages_read: int = 0
    pages_traced: int = 0
    pairs_mined: int = 0
    distinct_spun_forms: int = 0
    seconds: float = 0.0
    lexicon: Lexicon = field(default_factory=Lexicon)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pages_read": self.pages_read,
            "pages_traced": self.pages_traced,
            "pairs_mined": self.pairs_mined,
            "distinct_spun_forms": self.distinct_spun_forms,
            "lexicon_pages": self.lexicon.pages,
            "seconds": round(self.seconds, 3),
        }


def learn(
    pages: Iterable[Any],
    index: SourceIndex,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    lexicon: Lexicon | None = None,
    max_words: int = MAX_PHRASE_WORDS,
) -> LearnReport:
    """Trace each page against ``index`` and mine the substitutions of those whose best
    source scores at least ``threshold``.

    ``pages`` are texts or objects with a ``full_text`` (`unspin.extraction.Article`).
    The counts are added to ``lexicon`` (an existing one, for ``--update``) or to a new
    one. A page that does not trace contributes nothing, not even unchanged counts.
    """
    started = time.perf_counter()
    lexicon = lexicon if lexicon is not None else Lexicon()
    learned = Lexicon()
    unchanged: Counter[str] = Counter()
    report = LearnReport(lexicon=lexicon)
    for page in pages:
        text = page if isinstance(page, str) else page.full_text
        report.pages_read += 1
        if _mine_traced(text, index, threshold, learned, unchanged, max_words):
            report.pages_traced += 1
    learned.pages = report.pages_traced
    learned.unchanged = unchanged
    report.pairs_mined = learned.pair_count
    merge_mined(lexicon, learned)
    report.distinct_spun_forms = len(lexicon.pairs)
    report.seconds = time.perf_counter() - started
    return report


def _mine_traced(
    text: str,
    index: SourceIndex,
    threshold: float,
    lexicon: Lexicon,
    unchanged: Counter[str],
    max_words: int,
) -> bool:
    """Trace ``text``; if its best source passes ``threshold``, add the pair's substitutions
    to ``lexicon`` and every form seen unchanged to ``unchanged``. Whether it traced."""
    best = trace(text, index, top_k=1, threshold=threshold).best
    if best is None:
        return False
    source = index.get(best.source_id)
    if source is None:  # removed by a writer since the trace
        return False
    _mine_tokens(
        _Tokens.of(text), _Tokens.of(source.full_text), best.passages, lexicon, unchanged, max_words
    )
    return True


def mine_page(
    text: str,
    index: SourceIndex,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_words: int = MAX_PHRASE_WORDS,
) -> Lexicon | None:
    """The substitutions of one page traced against ``index``: the map step of `learn`.

    None when the page's best source scores under ``threshold``; else a lexicon of this
    page alone (``pages`` 1) whose ``unchanged`` counts every word and phrase seen
    unchanged, like `mine_aligned`. Merge such lexicons with `merge_mined`, which keeps
    the unchanged counts the way `learn` does (`unspin batch --learn` runs this per page
    in its workers and merges in the driver).
    """
    lexicon = Lexicon(pages=1)
    unchanged: Counter[str] = Counter()
    if not _mine_traced(text, index, threshold, lexicon, unchanged, max_words):
        return None
    lexicon.unchanged = dict(unchanged)
    return lexicon


def merge_mined(lexicon: Lexicon, mined: Lexicon) -> Lexicon:
    """Add ``mined`` (raw counts of `mine_page` or `mine_aligned`, or their merge) to
    ``lexicon``; returns ``lexicon``.

    Pairs and pages are added; of the unchanged counts, every word's is kept, and a
    phrase's only when the phrase is a spun form of the result (module docstring).
    """
    lexicon.merge(Lexicon(pairs=mined.pairs, pages=mined.pages))
    for form, count in mined.unchanged.items():
        if " " not in form or form in lexicon.pairs:
            lexicon.add_unchanged(form, count)
    return lexicon


def restore_from_source(
    page: str,
    source: str,
    passages: Iterable[Passage] | None = None,
    *,
    source_id: str = "",
    max_words: int = MAX_PHRASE_WORDS,
) -> list[Edit]:
    """Edits giving the page's aligned passages back the source's wording.

    Each substituted run (a diff 'replace' of at most ``max_words`` words a side, inside
    a copied passage) becomes an `Edit` of the page with the source's words, their first
    letter's case matched to the page's, evidence of source "source" (naming ``source_id``
    and the passage's similarity) and as confidence the
    passage's similarity raised towards 1 (a passage aligned at 0.45 is a sure copy;
    the diff inside it is exact). Applying them (`unspin.restoration.apply_edits`) gives
    the page with the source's wording where it was copied. ``passages`` default to
    `unspin.tracing.align_passages` of the two texts.
    """
    if passages is None:
        passages = align_passages(page, source)
    page_tokens, source_tokens = _Tokens.of(page), _Tokens.of(source)
    edits: list[Edit] = []
    for passage in passages:
        confidence = round(min(1.0, 0.5 + passage.similarity), 4)
        evidence = Evidence(
            "source",
            f"the source{' ' + source_id if source_id else ''} has this wording here "
            f"(copied passage, similarity {passage.similarity:.2f})",
            resources=(source_id,) if source_id else (),
            weight=round(passage.similarity, 4),
        )
        for tag, i1, i2, j1, j2 in _diff(page_tokens, source_tokens, passage):
            if tag != "replace" or not _substitution(
                page_tokens, source_tokens, i1, i2, j1, j2, max_words
            ):
                continue
            start, end = page_tokens.starts[i1], page_tokens.ends[i2 - 1]
            before = page[start:end]
            after = source[source_tokens.starts[j1] : source_tokens.ends[j2 - 1]]
            if before[:1].isupper() and after[:1].islower():  # a sentence's first word
                after = after[:1].upper() + after[1:]
            edits.append(Edit(start, end, before, after, confidence, [evidence]))
    return edits
