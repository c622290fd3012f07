"""Scoring for `unspin bench`: documents, spans, restoration, calibration.

Everything here is a pure function of plain data (texts, offsets, scores), so each
figure can be checked on hand-made cases where the right answer is known.

Tokens are words (letters/digits, with inner hyphens or apostrophes) and single
punctuation characters; the same tokenizer is used for span overlap, untouched
tokens and edit distance so the three figures count the same things.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any, Protocol

from unspin.engine.results import apply_edits
from unspin.text import HYPHENATED_WORD_OR_MARK_RE


def tokenize(text: str) -> list[tuple[int, int, str]]:
    """Tokens of `text` as (start, end, token) with character offsets."""
    return [(m.start(), m.end(), m.group()) for m in HYPHENATED_WORD_OR_MARK_RE.finditer(text)]


def token_strings(text: str) -> list[str]:
    return [m.group() for m in HYPHENATED_WORD_OR_MARK_RE.finditer(text)]


# --------------------------------------------------------------------------- documents


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula; ties count half.

    None when one class is absent (the area is undefined then, not 0.5).
    """
    if len(scores) != len(labels):
        raise ValueError("scores and labels differ in length")
    n_pos = sum(1 for label in labels if label)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average_rank = (i + j) / 2 + 1  # ranks are 1-based; a tie group shares the mean rank
        for k in range(i, j + 1):
            ranks[order[k]] = average_rank
        i = j + 1
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_points(scores: Sequence[float], labels: Sequence[bool]) -> list[tuple[float, float]]:
    """(false-positive rate, true-positive rate) at every distinct threshold, from (0, 0) to (1, 1)."""
    n_pos = sum(1 for label in labels if label)
    n_neg = len(labels) - n_pos
    points = [(0.0, 0.0)]
    if n_pos == 0 or n_neg == 0:
        return points + [(1.0, 1.0)]
    pairs = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    tp = fp = 0
    i = 0
    while i < len(pairs):
        threshold = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == threshold:
            tp += pairs[i][1]
            fp += not pairs[i][1]
            i += 1
        points.append((fp / n_neg, tp / n_pos))
    return points


def fpr_at_recall(
    scores: Sequence[float], labels: Sequence[bool], recall: float
) -> tuple[float, float] | None:
    """False-positive rate at the highest threshold whose recall reaches `recall`.

    A document counts as flagged when its score is >= the threshold, so tied scores
    are flagged together (a ranking cannot split them). Returns (fpr, threshold), or
    None without positives or negatives.
    """
    n_pos = sum(1 for label in labels if label)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    pairs = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    tp = fp = 0
    i = 0
    while i < len(pairs):
        threshold = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == threshold:
            tp += pairs[i][1]
            fp += not pairs[i][1]
            i += 1
        if tp / n_pos >= recall - 1e-12:
            return fp / n_neg, threshold
    raise AssertionError("unreachable: recall reaches 1 at the lowest threshold")


@dataclass
class PRF:
    """Counts behind precision / recall / F1, so runs can be pooled before dividing."""

    tp: int = 0
    predicted: int = 0
    actual: int = 0

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.predicted + other.predicted, self.actual + other.actual)

    @property
    def precision(self) -> float | None:
        return self.tp / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.actual if self.actual else None

    @property
    def f1(self) -> float | None:
        # F1 = 2TP / (predicted + actual); defined as long as anything was predicted or expected.
        total = self.predicted + self.actual
        return 2 * self.tp / total if total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "predicted": self.predicted,
            "actual": self.actual,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def binary_prf(predicted: Sequence[bool], labels: Sequence[bool]) -> PRF:
    """Document-level counts for flags (the engine's own threshold) against labels."""
    tp = sum(1 for p, y in zip(predicted, labels, strict=True) if p and y)
    return PRF(tp=tp, predicted=sum(map(bool, predicted)), actual=sum(map(bool, labels)))


@dataclass
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_score: float | None
    positive_rate: float | None


def reliability(
    probabilities: Sequence[float], labels: Sequence[bool], bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]: mean predicted probability vs observed rate of spun documents."""
    sums = [0.0] * bins
    hits = [0] * bins
    counts = [0] * bins
    for probability, label in zip(probabilities, labels, strict=True):
        index = min(int(probability * bins), bins - 1) if probability > 0 else 0
        sums[index] += probability
        hits[index] += bool(label)
        counts[index] += 1
    return [
        ReliabilityBin(
            low=b / bins,
            high=(b + 1) / bins,
            count=counts[b],
            mean_score=sums[b] / counts[b] if counts[b] else None,
            positive_rate=hits[b] / counts[b] if counts[b] else None,
        )
        for b in range(bins)
    ]


def expected_calibration_error(
    probabilities: Sequence[float], labels: Sequence[bool], bins: int = 10
) -> float | None:
    """ECE: bin-size-weighted mean |observed rate - mean probability| over the reliability bins."""
    total = len(probabilities)
    if total == 0:
        return None
    return sum(
        b.count / total * abs(b.positive_rate - b.mean_score)
        for b in reliability(probabilities, labels, bins)
        if b.count
    )


# --------------------------------------------------------------------------- spans and edits


@dataclass(frozen=True)
class Site:
    """One true substitution: where it is in the spun text and what it replaced."""

    spun_start: int
    spun_end: int
    original_start: int
    original_end: int
    original: str
    spun: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Site:
        return cls(
            spun_start=int(data["spun_start"]),
            spun_end=int(data["spun_end"]),
            original_start=int(data["original_start"]),
            original_end=int(data["original_end"]),
            original=str(data["original"]),
            spun=str(data["spun"]),
        )


class EditLike(Protocol):
    start: int
    end: int
    after: str


@dataclass(frozen=True)
class TextEdit:
    """A replacement of text[start:end] by `after` (the shape every restorer's edits have)."""

    start: int
    end: int
    after: str


def _as_edits(edits: Iterable[EditLike]) -> list[TextEdit]:
    result = sorted(
        (TextEdit(int(e.start), int(e.end), str(e.after)) for e in edits),
        key=lambda e: (e.start, e.end),
    )
    for edit in result:
        if edit.end < edit.start:
            raise ValueError(f"edit [{edit.start}, {edit.end}) ends before it starts")
    for previous, edit in zip(result, result[1:], strict=False):
        if edit.start < previous.end:
            raise ValueError(
                f"edits overlap: [{previous.start}, {previous.end}) and [{edit.start}, {edit.end})"
            )
    return result


def _overlaps(start: int, end: int, other_start: int, other_end: int) -> bool:
    """Whether two half-open ranges share a character; an empty range (an insertion) overlaps
    a range it falls strictly inside, or an empty range at the same point."""
    if start == end:
        return other_start < start < other_end or (other_start == other_end == start)
    if other_start == other_end:
        return start < other_start < end
    return start < other_end and other_start < end


def _covered_tokens(
    tokens: Sequence[tuple[int, int, str]], ends: Sequence[int], start: int, end: int
) -> list[int]:
    """Indices of the tokens that share a character with [start, end) (bisect on token ends;
    an empty range touches only a token it falls strictly inside, as in `_overlaps`)."""
    index = bisect_right(ends, start)
    if start == end:
        return [index] if index < len(tokens) and tokens[index][0] < start else []
    covered = []
    while index < len(tokens) and tokens[index][0] < end:
        covered.append(index)
        index += 1
    return covered


def _coverage(
    tokens: Sequence[tuple[int, int, str]], ranges: Iterable[tuple[int, int]]
) -> set[int]:
    ends = [token_end for _, token_end, _ in tokens]
    covered: set[int] = set()
    for start, end in ranges:
        covered.update(_covered_tokens(tokens, ends, start, end))
    return covered


def span_overlap(
    text: str,
    predicted: Iterable[tuple[int, int]],
    actual: Iterable[tuple[int, int]],
) -> PRF:
    """Token-overlap counts: tokens touched by predicted spans vs tokens of true spun spans."""
    tokens = tokenize(text)
    in_predicted = _coverage(tokens, predicted)
    in_actual = _coverage(tokens, actual)
    return PRF(tp=len(in_predicted & in_actual), predicted=len(in_predicted), actual=len(in_actual))


def token_edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance over token lists.

    rapidfuzz's C implementation is used when installed (articles are ~600 tokens and
    the bench compares thousands of pairs); otherwise a plain dynamic programme after
    trimming the common prefix and suffix, which gives the same number.
    """
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:  # rapidfuzz is optional; the fallback is exact, only slower
        pass
    else:
        return int(Levenshtein.distance(list(a), list(b)))
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b:
        return max(len(a), len(b))
    previous = list(range(len(b) + 1))
    for i, token_a in enumerate(a, 1):
        current = [i]
        for j, token_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token_a != token_b))
            )
        previous = current
    return previous[-1]


@dataclass
class RestorationCounts:
    """Per-document restoration counts; added together over a set before dividing."""

    documents: int = 0
    sites: int = 0
    exact: int = 0
    tokens: int = 0
    untouched_tokens: int = 0
    untouched_changed: int = 0
    edits: int = 0
    distance_spun: int = 0
    distance_restored: int = 0
    distance_documents: int = 0
    changed_documents: int = 0

    def __add__(self, other: RestorationCounts) -> RestorationCounts:
        return RestorationCounts(
            **{key: getattr(self, key) + getattr(other, key) for key in asdict(self)}
        )

    @property
    def exact_share(self) -> float | None:
        return self.exact / self.sites if self.sites else None

    @property
    def untouched_changed_share(self) -> float | None:
        return self.untouched_changed / self.untouched_tokens if self.untouched_tokens else None

    @property
    def distance_reduction(self) -> float | None:
        """1 - ED(restored, original) / ED(spun, original), pooled over the set's documents."""
        if not self.distance_spun:
            return None
        return 1 - self.distance_restored / self.distance_spun

    @property
    def edits_per_1000_tokens(self) -> float | None:
        return 1000 * self.edits / self.tokens if self.tokens else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)
        data.update(
            exact_share=self.exact_share,
            untouched_changed_share=self.untouched_changed_share,
            distance_reduction=self.distance_reduction,
            edits_per_1000_tokens=self.edits_per_1000_tokens,
        )
        return data


def _delta_site(site: Site) -> int:
    return (site.original_end - site.original_start) - (site.spun_end - site.spun_start)


def _delta_edit(edit: TextEdit) -> int:
    return len(edit.after) - (edit.end - edit.start)


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _exact_sites(
    original: str,
    restored: str,
    sites: Sequence[Site],
    edits: Sequence[TextEdit],
) -> int:
    """How many sites read exactly as the original once the edits are applied.

    Sites and the edits that overlap them are grouped transitively (one edit may
    restore several adjacent substitutions, or reach into untouched text around a
    site); a group's restored text is compared, case-insensitively and with
    whitespace normalised, with the original text of the same stretch, and every
    site of the group shares the verdict.
    """
    # Sweep over sites and edits by start; an interval joins the current group when it
    # starts before the group ends (or both are empty at the same point). Every
    # interval of earlier groups ends before the group starts, so running sums of
    # their length changes map the group's start into the original and restored texts.
    intervals = sorted(
        [(s.spun_start, s.spun_end, 0, s) for s in sites] + [(e.start, e.end, 1, e) for e in edits],
        key=lambda item: (item[0], item[1], item[2]),
    )
    exact = 0
    site_shift = edit_shift = 0
    index = 0
    while index < len(intervals):
        start, end = intervals[index][0], intervals[index][1]
        members = [intervals[index]]
        index += 1
        while index < len(intervals):
            next_start, next_end = intervals[index][0], intervals[index][1]
            if next_start < end or (next_start == next_end == start == end):
                members.append(intervals[index])
                end = max(end, next_end)
                index += 1
            else:
                break
        group_sites = [item[3] for item in members if item[2] == 0]
        group_edits = [item[3] for item in members if item[2] == 1]
        site_delta = sum(map(_delta_site, group_sites))
        edit_delta = sum(map(_delta_edit, group_edits))
        if group_sites:
            original_start = start + site_shift
            restored_start = start + edit_shift
            original_text = original[original_start : original_start + end - start + site_delta]
            restored_text = restored[restored_start : restored_start + end - start + edit_delta]
            if _normalise(original_text) == _normalise(restored_text):
                exact += len(group_sites)
        site_shift += site_delta
        edit_shift += edit_delta
    return exact


def _untouched_changes(
    spun: str, sites: Sequence[Site], edits: Sequence[TextEdit]
) -> tuple[int, int, int]:
    """(tokens, untouched tokens, untouched tokens changed) of the spun text.

    Within an edit, tokens are aligned (difflib) so that an edit reaching over a
    word it leaves as it was does not count that word as changed; tokens an edit
    inserts outside every site count as changes too.
    """
    tokens = tokenize(spun)
    ends = [token_end for _, token_end, _ in tokens]
    site_tokens = _coverage(tokens, ((site.spun_start, site.spun_end) for site in sites))
    in_site = [i in site_tokens for i in range(len(tokens))]
    changed_indices: set[int] = set()
    inserted_outside = 0
    for edit in edits:
        covered = _covered_tokens(tokens, ends, edit.start, edit.end)
        before = [tokens[i][2] for i in covered]
        after = token_strings(edit.after)
        matcher = SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            if tag == "equal":
                continue
            changed_indices.update(covered[a0:a1])
            if tag == "insert" or (b1 - b0) > (a1 - a0):
                touches_site = any(
                    _overlaps(edit.start, edit.end, site.spun_start, site.spun_end)
                    for site in sites
                )
                if not touches_site:
                    inserted_outside += (b1 - b0) - (a1 - a0)
    untouched = sum(1 for flag in in_site if not flag)
    changed = sum(1 for i in changed_indices if not in_site[i]) + inserted_outside
    return len(tokens), untouched, changed


def score_restoration(
    spun: str,
    original: str,
    sites: Sequence[Site],
    edits: Iterable[EditLike],
) -> RestorationCounts:
    """Restoration counts of one document: exact sites, untouched tokens changed, token ED.

    `edits` are ranges of the spun text with their replacement; the restored text
    is the spun text with the edits applied.
    """
    edit_list = _as_edits(edits)
    restored = apply_edits(spun, edit_list)
    sites = sorted(sites, key=lambda s: (s.spun_start, s.spun_end))
    tokens, untouched, changed = _untouched_changes(spun, sites, edit_list)
    counts = RestorationCounts(
        documents=1,
        sites=len(sites),
        exact=_exact_sites(original, restored, sites, edit_list),
        tokens=tokens,
        untouched_tokens=untouched,
        untouched_changed=changed,
        edits=sum(1 for e in edit_list if spun[e.start : e.end] != e.after),
        changed_documents=int(restored != spun),
    )
    if sites:
        # Case-folded like the exactness check: the figure measures wording, not capitals.
        original_tokens = [t.casefold() for t in token_strings(original)]
        counts.distance_spun = token_edit_distance(
            [t.casefold() for t in token_strings(spun)], original_tokens
        )
        counts.distance_restored = token_edit_distance(
            [t.casefold() for t in token_strings(restored)], original_tokens
        )
        counts.distance_documents = 1
    return counts


@dataclass
class DocumentScores:
    """Scores and flags of a set of documents with their labels (spun or clean)."""

    scores: list[float] = field(default_factory=list)
    flags: list[bool] = field(default_factory=list)
    labels: list[bool] = field(default_factory=list)

    def add(self, score: float, flag: bool, label: bool) -> None:
        if not math.isfinite(score):
            raise ValueError(f"document score {score!r} is not a finite number")
        self.scores.append(float(score))
        self.flags.append(bool(flag))
        self.labels.append(bool(label))

    def extend(self, other: DocumentScores) -> None:
        self.scores += other.scores
        self.flags += other.flags
        self.labels += other.labels

    def summary(self, bins: int = 10) -> dict[str, Any]:
        """Every document-level figure of the report, as plain JSON-ready data."""
        at_threshold = binary_prf(self.flags, self.labels)
        negatives = sum(1 for label in self.labels if not label)
        false_positives = sum(
            1 for f, y in zip(self.flags, self.labels, strict=True) if f and not y
        )
        result: dict[str, Any] = {
            "positives": sum(self.labels),
            "negatives": negatives,
            "auroc": auroc(self.scores, self.labels),
            "f1": at_threshold.f1,
            "precision": at_threshold.precision,
            "recall": at_threshold.recall,
            "fpr_at_threshold": false_positives / negatives if negatives else None,
            "ece": expected_calibration_error(self.scores, self.labels, bins),
            "reliability": [asdict(b) for b in reliability(self.scores, self.labels, bins)],
        }
        for target in (0.95, 0.99):
            found = fpr_at_recall(self.scores, self.labels, target)
            result[f"fpr_at_recall_{round(target * 100)}"] = found[0] if found else None
        return result
