"""Trace a page to the originals it copies, with the passages side by side.

Two steps:

1. *Find sources.* The page's anchors (names, acronyms, numbers — what a
   spinner leaves alone, see `unspin.tracing.fingerprint`) are looked up in the
   index's inverted postings; the documents sharing the rarest anchors become
   candidates, and each candidate is scored by the estimated share of the
   page's anchors it contains (bottom-k containment from its stored sketch).
   Candidates sharing too few anchors are dropped before any text is read.
2. *Align passages.* For each reported source, sentences of the page and of
   the source are paired by the overlap of their word bigrams and content
   words (a third of the words may be synonyms, the rest still line up), and
   runs of consecutive pairs are merged into passages with character offsets:
   `page_*` into the traced text, `source_*` into the source's full text
   (title, blank line, body).

A match's score, in [0, 1], is the mean of the page's anchor share found in
the source and the page's text share aligned with it: 0.6-1.0 for spun full
copies, under 0.5 for unrelated articles, even on the same story.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Any

from unspin.text import TRACING_STOP_WORDS, WORD_RE
from unspin.tracing.fingerprint import Sketch, anchor_hashes
from unspin.tracing.index import IndexedSketch, SourceIndex

DEFAULT_THRESHOLD = 0.5
"""Minimum match score. On the development set (100,000 distractors) 0.24 % of spun copies
score under it and no clean unrelated article over it; see `docs/benchmarks.md`."""

MIN_SHARED_ANCHORS = 3
"""A match must rest on at least this many shared anchors, not on one lucky name."""

MIN_ANCHOR_SHARE = 1 / 3
"""Candidates whose anchor share is under this fraction of the threshold are not aligned.
A spinner that also replaces capitalised words ("Monday" -> "Weekday") leaves a copy
only 0.2-0.25 of the page's anchors; at half the threshold such copies were lost."""

WEAK_ANCHOR_SHARE = 1 / 2
"""Candidates under this fraction of the threshold are aligned only while nothing has
matched: aligning them on every page cost a quarter more time (measured)."""

CANDIDATE_POOL = 50
"""Candidates re-scored from their sketches per query."""

ALIGNED_CANDIDATES = 6
"""How many candidates beyond top_k (best by anchors first) may have their text aligned."""

SEQUENTIAL_ACCEPT = 0.4
"""A page sentence whose overlap with the source sentence after the previous pair's reaches
this is paired with it without looking further (copies keep the order)."""

PASSAGE_MIN_SIMILARITY = 0.3
"""Sentence pairs below this word overlap (Dice) are not reported as copied..."""

IN_ORDER_MIN_SIMILARITY = 0.2
"""...unless the page sentence before was paired with the source sentence before: spinning
that changes half the words leaves such in-order sentences at 0.2-0.3."""

DISTINCTIVE_SENTENCES = 5
"""Page sentences find source sentences through features held by at most this many of them."""

SENTENCE_CANDIDATES = 5
"""Source sentences (most distinctive features shared, plus the one after the previous
match) whose exact similarity is computed for each page sentence."""

MIN_BIGRAM_SHARE = 0.15
"""Cheap gate before sentence alignment: share of the page's word bigrams found anywhere in
the source. Spun full copies measure >= 0.35, the closest unrelated wikinews article <= 0.16."""

FULL_CREDIT_SIMILARITY = 0.4
"""A copied sentence at or above this overlap counts fully towards coverage, one below it
in proportion: a spun copy's sentences sit around 0.45, a paraphrase on the same story lower."""

_SENTENCE_RE = re.compile(r"[^\n.!?]*(?:[.!?]+[\"'”’)\]]*(?=\s|$)|\n|$)|[^\n]+")


@dataclass
class Passage:
    """A stretch of the page copied from a stretch of the source (character offsets)."""

    page_start: int
    page_end: int
    source_start: int
    source_end: int
    similarity: float


@dataclass
class Match:
    """A candidate source of the page."""

    source_id: str
    score: float
    title: str
    url: str | None
    passages: list[Passage] = field(default_factory=list)
    shared_anchors: int = 0


@dataclass
class TraceResult:
    """Ranked sources, best first; empty when nothing clears the threshold."""

    matches: list[Match]
    page_anchors: int = 0

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    def to_dict(self) -> dict[str, Any]:
        return {"matches": [asdict(match) for match in self.matches]}


def trace(
    text: str,
    index: SourceIndex,
    *,
    top_k: int = 5,
    threshold: float = DEFAULT_THRESHOLD,
) -> TraceResult:
    """Rank the indexed originals that `text` copies, with the copied passages of each.

    A match's `score` is the mean of two shares of the page, each in [0, 1]:
    its anchors (IDF-weighted) that the source contains, and its sentences
    (by length) that align with a sentence of the source. `threshold` is the
    minimum score reported.
    """
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    page_hashes = anchor_hashes(text)
    if not page_hashes:
        return TraceResult([], 0)
    pool, frequency, documents = index.candidates(page_hashes, limit=CANDIDATE_POOL)
    weight = {
        token: math.log(1 + documents / (1 + frequency.get(token, 0))) for token in page_hashes
    }
    by_anchor: list[tuple[float, int, IndexedSketch]] = []
    for candidate in index.sketches(rowid for rowid, _ in pool):
        estimate, hits = _weighted_containment(candidate.sketch, weight)
        # A copy's own sentences decide the rest of its score; a candidate sharing
        # few of the page's anchors would need a near-perfect text match to reach it.
        if hits >= MIN_SHARED_ANCHORS and estimate >= threshold * MIN_ANCHOR_SHARE:
            by_anchor.append((estimate, hits, candidate))
    by_anchor.sort(key=lambda item: (-item[0], -item[1], item[2].source_id))

    if not by_anchor:
        return TraceResult([], len(page_hashes))
    page = _PageSentences(text)
    matches: list[Match] = []
    for estimate, hits, candidate in by_anchor[: ALIGNED_CANDIDATES + top_k]:
        # Coverage is at most 1: stop once no remaining candidate can reach the
        # threshold or displace the k-th best match (candidates come best first).
        ceiling = (estimate + 1) / 2
        if ceiling < threshold or (len(matches) >= top_k and ceiling <= matches[top_k - 1].score):
            break
        if matches and estimate < threshold * WEAK_ANCHOR_SHARE:
            break  # weak-anchor candidates are a fallback for pages nothing else matched
        source = index.get_by_rowid(candidate.rowid)
        if source is None:  # replaced by a writer since the lookup
            continue
        # The bigram gate only saves time on unrelated candidates; one whose anchors
        # alone reach the threshold is aligned straight away.
        passages, coverage = page.align(source.full_text, gate=estimate < threshold)
        score = round((estimate + coverage) / 2, 4)
        # A source whose text cannot be lined up with the page is not its source,
        # however many names they share.
        if passages and score >= threshold:
            matches.append(
                Match(
                    source_id=candidate.source_id,
                    score=score,
                    title=candidate.title,
                    url=candidate.url,
                    passages=passages,
                    shared_anchors=hits,
                )
            )
            matches.sort(key=lambda match: (-match.score, match.source_id))
    return TraceResult(matches[:top_k], len(page_hashes))


def _weighted_containment(sketch: Sketch, weight: dict[int, float]) -> tuple[float, int]:
    """IDF-weighted share of page anchors in the sketched document, and the shared count.

    Only page anchors in the sketch's hash range are comparable (bottom-k
    containment estimate, see `unspin.tracing.fingerprint`).
    """
    members = set(sketch.hashes)
    total = shared = 0.0
    hits = 0
    for token, token_weight in weight.items():
        if sketch.limit is not None and token > sketch.limit:
            continue
        total += token_weight
        if token in members:
            shared += token_weight
            hits += 1
    return (shared / total if total else 0.0), hits


# -- passage alignment ---------------------------------------------------------------------------


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (or line) spans of `text`, trimmed of surrounding whitespace."""
    return _sentences(text)[0]


def _sentences(text: str) -> tuple[list[tuple[int, int]], list[set[str | tuple[str, str]]]]:
    """Sentence spans of `text` and each sentence's features: its content words and word
    bigrams.  One pass, with the splitting, trimming and set building done in C: on long
    pages this is most of a trace's time."""
    lower = text.lower()
    if len(lower) != len(text):  # a few characters lower-case to two ("İ"): slice first
        lower = None
    findall = WORD_RE.findall
    spans: list[tuple[int, int]] = []
    features: list[set[str | tuple[str, str]]] = []
    for match in _SENTENCE_RE.finditer(text):
        piece = match.group()
        stripped = piece.strip()
        if not stripped:
            continue
        start = match.start() + len(piece) - len(piece.lstrip())
        end = start + len(stripped)
        words = findall(lower, start, end) if lower is not None else findall(stripped.lower())
        if not words:
            continue
        feature = set(words) - TRACING_STOP_WORDS
        feature.update(zip(words, words[1:], strict=False))
        spans.append((start, end))
        features.append(feature)
    return spans, features


def _bigram_set(text: str) -> set[tuple[str, str]]:
    """Word bigrams of a whole text, built in C-speed steps (the alignment gate)."""
    words = WORD_RE.findall(text.lower())
    return set(zip(words, words[1:], strict=False))


class _PageSentences:
    """The page split once into sentences and paragraphs, aligned against each candidate."""

    def __init__(self, text: str):
        self.text = text
        self.spans, self.features = _sentences(text)
        # Paragraph number of each sentence: passages never cross a page paragraph,
        # so a reader sees the copy paragraph by paragraph.
        breaks = [m.start() for m in re.finditer(r"\n\s*\n", text)]
        self.paragraph = [bisect_left(breaks, start) for start, _ in self.spans]
        self.length = sum(end - start for start, end in self.spans)
        self.vocabulary = frozenset().union(*self.features)
        # Bigrams within sentences, for the alignment gate (no second pass over the text).
        self.bigrams = {feature for feature in self.vocabulary if type(feature) is tuple}

    def align(
        self, source: str, min_similarity: float = PASSAGE_MIN_SIMILARITY, *, gate: bool = True
    ) -> tuple[list[Passage], float]:
        """Passages copied from `source`, and the share of the page's text they cover.

        Coverage counts each copied sentence by its length, scaled down when
        its similarity is under FULL_CREDIT_SIMILARITY.

        Similarity is the Dice coefficient over content words plus word bigrams.
        Each page sentence is paired with the source sentence after the previous
        pair's when that reaches SEQUENTIAL_ACCEPT; otherwise with the best of
        those sharing its most distinctive features and that next one, at
        PASSAGE_MIN_SIMILARITY or more (IN_ORDER_MIN_SIMILARITY for the next one
        right after a pair).  Consecutive pairs within one page paragraph (both
        sides moving forward by at most three sentences, so a dropped, merged or
        split sentence does not break a run) merge into one passage.

        With `gate`, a source holding under MIN_BIGRAM_SHARE of the page's word
        bigrams is rejected before any sentence is compared (cheap for unrelated ones).
        """
        if not self.bigrams or (
            gate and len(self.bigrams & _bigram_set(source)) / len(self.bigrams) < MIN_BIGRAM_SHARE
        ):
            return [], 0.0
        source_spans, source_features = _sentences(source)
        if not self.spans or not source_spans:
            return [], 0.0
        # Source sentences are looked up by their distinctive features only (found in
        # few source sentences): counting "of the" across a long source costs most of
        # the time and finds nothing. The similarity itself is exact, on full sets.
        restricted = [features & self.vocabulary for features in source_features]
        frequency = Counter(chain.from_iterable(restricted))
        rare = {feature for feature, count in frequency.items() if count <= DISTINCTIVE_SENTENCES}
        distinctive: dict[str | tuple[str, str], list[int]] = {}
        for position, features in enumerate(restricted):
            for feature in features & rare:
                distinctive.setdefault(feature, []).append(position)
        lookup = distinctive.__getitem__
        keys = distinctive.keys()
        last = len(source_features) - 1

        pairs: list[tuple[int, int, float]] = []
        previous = -1
        for page_position, features in enumerate(self.features):
            if not features:
                continue
            next_similarity = 0.0
            if 0 <= previous < last:
                # A copy keeps the order: when the next source sentence is clearly the
                # copied one, the search for others is skipped (most of a copy's sentences).
                other = source_features[previous + 1]
                next_similarity = 2 * len(features & other) / (len(features) + len(other))
                if next_similarity >= SEQUENTIAL_ACCEPT:
                    previous += 1
                    pairs.append((page_position, previous, next_similarity))
                    continue
            hits = Counter(chain.from_iterable(map(lookup, features & keys)))
            # Ties broken by position, not by Counter order (which follows set iteration
            # order and so Python's per-process hash seed): the same page always scores the same.
            ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))
            candidates = {position for position, _ in ranked[:SENTENCE_CANDIDATES]}
            if 0 <= previous < last:
                candidates.add(previous + 1)  # a copy keeps the order: try the next one
            best_position, best_similarity = -1, 0.0
            page_size = len(features)
            for source_position in candidates:
                other = source_features[source_position]
                similarity = 2 * len(features & other) / (page_size + len(other))
                if similarity > best_similarity or (
                    similarity == best_similarity and source_position < best_position
                ):
                    best_position, best_similarity = source_position, similarity
            if best_similarity >= min_similarity:
                pairs.append((page_position, best_position, best_similarity))
                previous = best_position
            elif (
                next_similarity >= IN_ORDER_MIN_SIMILARITY
                and pairs
                and pairs[-1][0] == page_position - 1
            ):
                # Heavily spun, but right after the sentence copied before it: a run in
                # the source's order is evidence a lone weak overlap is not.
                previous += 1
                pairs.append((page_position, previous, next_similarity))

        spans = self.spans
        passages: list[Passage] = []
        run: list[tuple[int, int, float]] = []
        covered = 0.0

        def flush() -> None:
            nonlocal covered
            if not run:
                return
            lengths = [spans[p][1] - spans[p][0] for p, _, _ in run]
            covered += sum(
                n * min(1.0, s / FULL_CREDIT_SIMILARITY)
                for n, (_, _, s) in zip(lengths, run, strict=True)
            )
            similarity = sum(n * s for n, (_, _, s) in zip(lengths, run, strict=True)) / sum(
                lengths
            )
            passages.append(
                Passage(
                    page_start=spans[run[0][0]][0],
                    page_end=spans[run[-1][0]][1],
                    source_start=min(source_spans[q][0] for _, q, _ in run),
                    source_end=max(source_spans[q][1] for _, q, _ in run),
                    similarity=round(similarity, 4),
                )
            )
            run.clear()

        for pair in pairs:
            if run:
                last_page, last_source, _ = run[-1]
                if (
                    self.paragraph[pair[0]] != self.paragraph[last_page]
                    or pair[0] - last_page > 3
                    or not 0 <= pair[1] - last_source <= 3
                ):
                    flush()
            run.append(pair)
        flush()
        return passages, (covered / self.length if self.length else 0.0)


def align_passages(
    page: str, source: str, *, min_similarity: float = PASSAGE_MIN_SIMILARITY
) -> list[Passage]:
    """Passages of `page` copied from `source` (see `_PageSentences.align`)."""
    return _PageSentences(page).align(source, min_similarity)[0]
