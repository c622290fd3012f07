"""A spinner simulator, for building benchmarks only.

It reproduces how thesaurus-based auto-spinners (WordPress auto-spinner plugins, The
Best Spinner-style dictionaries) rewrite an article:

- dictionary lines are applied in order, so a multi-word phrase listed before its
  words wins; text already replaced is never replaced again;
- a line's head is looked for as a whole word in its lower-case and Capitalised
  forms (and as written); a Capitalised match gets a Capitalised replacement;
- every match of a line is replaced by one random *other* entry of the line, the same
  choice for every occurrence in the article;
- a line with a single entry leaves ``{word}`` behind, as spinners that emit spintax
  and fail to resolve it do.

``mode="random"`` is the simpler SpinBot-like behaviour: each occurrence of a word or
phrase the dictionary knows is replaced with probability ``rate`` by an alternative
drawn independently each time.

Every substitution carries its character offsets in the original and in the spun
text, so scoring needs no re-alignment.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from unspin.resources.dictionary import SpinnerDictionary
from unspin.text import HYPHENATED_WORD_RE, SPINNER_WORD_RE

__all__ = ["MODES", "SpunDocument", "Substitution", "spin"]

MODES = ("dictionary", "random")
DEFAULT_RANDOM_RATE = 0.3


@dataclass
class Substitution:
    """One replaced span: ``original[original_start:original_end] == original_text``."""

    original: str
    spun: str
    original_start: int
    original_end: int
    spun_start: int
    spun_end: int


@dataclass
class SpunDocument:
    """A spun text with the original it came from and every substitution made."""

    id: str
    source_id: str
    dictionary: str | None
    original: str
    text: str
    substitutions: list[Substitution] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSONL record: id, source_id, dictionary, original, text, substitutions."""
        return {
            "id": self.id,
            "source_id": self.source_id,
            "dictionary": self.dictionary,
            "original": self.original,
            "text": self.text,
            "substitutions": [asdict(sub) for sub in self.substitutions],
        }

    @classmethod
    def from_dict(cls, record: dict) -> SpunDocument:
        """Read back a record written by `to_dict` (e.g. a dev-set line)."""
        return cls(
            id=record["id"],
            source_id=record.get("source_id", record["id"]),
            dictionary=record.get("dictionary"),
            original=record["original"],
            text=record["text"],
            substitutions=[Substitution(**sub) for sub in record.get("substitutions", [])],
        )

    def substituted_word_fraction(self) -> float:
        """Share of the original's words that lie inside a substituted span."""
        words = [match.span() for match in HYPHENATED_WORD_RE.finditer(self.original)]
        if not words:
            return 0.0
        spans = [(sub.original_start, sub.original_end) for sub in self.substitutions]
        inside = 0
        index = 0
        for start, end in words:
            while index < len(spans) and spans[index][1] <= start:
                index += 1
            if index < len(spans) and spans[index][0] <= start and end <= spans[index][1]:
                inside += 1
        return inside / len(words)


def spin(
    text: str,
    dictionary: SpinnerDictionary,
    *,
    seed: int | str = 0,
    rate: float | None = None,
    mode: str = "dictionary",
    id: str = "",
    source_id: str | None = None,
) -> SpunDocument:
    """Spin ``text`` with ``dictionary``; deterministic for a given ``seed``.

    In dictionary mode ``rate`` (default 1.0) is the probability that a matching
    line is applied at all; in random mode (default rate 0.3) it is the probability
    that each known occurrence is replaced.
    """
    if mode not in MODES:
        raise ValueError(f"unknown spin mode {mode!r} (use {' or '.join(MODES)})")
    if rate is None:
        rate = 1.0 if mode == "dictionary" else DEFAULT_RANDOM_RATE
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be between 0 and 1, got {rate}")
    rng = random.Random(seed)
    taken = bytearray(len(text))  # 1 where a substitution already sits
    replacements: list[tuple[int, int, str]] = []

    tokens: dict[str, list[tuple[int, int]]] = {}
    for match in SPINNER_WORD_RE.finditer(text):
        tokens.setdefault(match.group(), []).append(match.span())

    for number in _candidate_lines(tokens, dictionary):
        head, *alternatives = dictionary.lines[number]
        others = [alt for alt in alternatives if alt.lower() != head.lower()]
        matches = [
            span
            for span in _head_spans(text, tokens, dictionary, number)
            if taken.find(1, span[0], span[1]) < 0
        ]
        if not matches:
            continue
        if mode == "dictionary":
            if rate < 1.0 and rng.random() >= rate:
                continue
            choice = rng.choice(others) if others else None
            chosen = [(match, choice) for match in matches]
        else:
            chosen = [
                (match, rng.choice(others) if others else None)
                for match in matches
                if rng.random() < rate
            ]
        for (start, end), choice in chosen:
            surface = text[start:end]
            spun = "{" + surface + "}" if choice is None else _match_case(choice, surface)
            replacements.append((start, end, spun))
            taken[start:end] = b"\x01" * (end - start)

    return _assemble(text, replacements, dictionary.name, id, source_id)


def _candidate_lines(
    tokens: dict[str, list[tuple[int, int]]], dictionary: SpinnerDictionary
) -> list[int]:
    """Line numbers, in dictionary order, whose head's words all occur in the text."""
    by_first_word = dictionary.lines_by_first_word()
    words = {word.lower() for word in tokens}
    numbers: set[int] = set()
    for word in words:
        numbers.update(
            number for number, head_words in by_first_word.get(word, ()) if head_words <= words
        )
    return sorted(numbers)


def _head_spans(
    text: str,
    tokens: dict[str, list[tuple[int, int]]],
    dictionary: SpinnerDictionary,
    number: int,
) -> list[tuple[int, int]]:
    """Where line ``number``'s head occurs, as `SpinnerDictionary.head_pattern` matches it.

    A one-word head (most lines) is looked up among the text's word tokens, which
    is the same whole-word match without compiling and running a pattern a line.
    """
    head = dictionary.lines[number][0]
    lower = head.lower()
    forms = dict.fromkeys([head, lower, lower[:1].upper() + lower[1:]])
    if SPINNER_WORD_RE.fullmatch(head):
        return sorted(span for form in forms for span in tokens.get(form, ()))
    pattern = dictionary.head_pattern(number)
    if not SPINNER_WORD_RE.match(head):  # starts with punctuation (".22 caliber"): scan the text
        return [match.span() for match in pattern.finditer(text)]
    # A phrase can only start where a token equals its first word: try the pattern
    # there (lookbehind still sees the text before), not across the whole text.
    first_words = {SPINNER_WORD_RE.match(form).group() for form in forms}
    starts = sorted(start for word in first_words for start, _ in tokens.get(word, ()))
    spans: list[tuple[int, int]] = []
    for start in starts:
        if spans and start < spans[-1][1]:
            continue  # inside the previous match, as finditer would skip it
        match = pattern.match(text, start)
        if match:
            spans.append(match.span())
    return spans


def _match_case(replacement: str, surface: str) -> str:
    if surface[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _assemble(
    text: str,
    replacements: list[tuple[int, int, str]],
    dictionary_name: str,
    id: str,
    source_id: str | None,
) -> SpunDocument:
    pieces: list[str] = []
    substitutions: list[Substitution] = []
    cursor = 0
    length = 0
    for start, end, spun in sorted(replacements):
        pieces.append(text[cursor:start])
        length += start - cursor
        substitutions.append(
            Substitution(
                original=text[start:end],
                spun=spun,
                original_start=start,
                original_end=end,
                spun_start=length,
                spun_end=length + len(spun),
            )
        )
        pieces.append(spun)
        length += len(spun)
        cursor = end
    pieces.append(text[cursor:])
    return SpunDocument(
        id=id,
        source_id=id if source_id is None else source_id,
        dictionary=dictionary_name,
        original=text,
        text="".join(pieces),
        substitutions=substitutions,
    )
