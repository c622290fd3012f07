"""Spin-resistant fingerprints: the "anchor" tokens a spinner leaves alone.

A spinner swaps common content words for thesaurus entries ("said" ->
"mentioned", "surprise" -> "shock"). What it almost never touches are names,
acronyms and numbers: a synonym dictionary has no entry for "Magnitogorsk",
"FSB" or "1,000". We call those tokens *anchors*: numbers, and capitalised
words that do not open a sentence (a sentence-initial capital says nothing
about the word). Their set identifies an article even after a third of its
words were changed.

An index cannot afford every anchor of every document (≤ 2 KB per document),
so each document keeps a *bottom-k sketch*: the `SKETCH_SIZE` anchors with the
smallest hash values. Because the hash order is the same for every document,
the sketch of a source and the anchors of a page can be compared without the
source's full anchor set: for every anchor hashed at or below the sketch's
largest value, "is in the source" is exactly "is in the sketch". That gives an
unbiased estimate of how much of the page's anchor set is contained in the
source (Broder's containment estimator), which is what tracing needs — a page
may copy part of a source, or add boilerplate around it.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

SKETCH_SIZE = 64
"""Anchors kept per indexed document (the bottom-k sketch size)."""

WORD_RE = re.compile(r"[^\W\d_](?:[\w'’\-]*\w)?|\d+(?:[.,:]\d+)*", re.UNICODE)

# Words that are capitalised mid-sentence for grammar rather than meaning.
_CAPITALISED_FUNCTION_WORDS = frozenset(
    {"i", "i'm", "i've", "i'll", "i'd", "mr", "mrs", "ms", "dr"}
)

# Characters that may sit between a sentence end and the next word.
_OPENERS = "\"'“‘([{«—–- \t"

_SENTENCE_END = ".!?:;\n\r…"


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the text with its character span."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Words and numbers with their character offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(text)]


def _opens_sentence(text: str, start: int) -> bool:
    """True when nothing but openers separates this position from a sentence end."""
    position = start - 1
    while position >= 0 and text[position] in _OPENERS:
        position -= 1
    return position < 0 or text[position] in _SENTENCE_END


def normalize_number(token: str) -> str:
    """ "1,000" and "1000" are the same anchor; a trailing separator is not part of it."""
    return token.replace(",", "")


def is_number(token: str) -> bool:
    return token[0].isdigit()


def anchor_terms(text: str) -> list[str]:
    """Anchors of `text` in reading order, normalised (lower case, numbers without commas).

    Anchors are numbers and capitalised words that do not open a sentence,
    paragraph or quotation. Function words that English capitalises ("I",
    "Mr") are skipped.
    """
    anchors: list[str] = []
    for match in WORD_RE.finditer(text):
        word = match.group()
        if word[0].isdigit():
            anchors.append(normalize_number(word))
            continue
        if not word[0].isupper():
            continue
        lowered = word.lower()
        if lowered in _CAPITALISED_FUNCTION_WORDS:
            continue
        if _opens_sentence(text, match.start()):
            continue
        anchors.append(lowered)
    return anchors


def term_hash(term: str) -> int:
    """A stable signed 32-bit hash (SQLite stores it in 4 bytes; Python's hash() is salted)."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def anchor_hashes(text: str) -> set[int]:
    """The set of hashed anchors of `text`."""
    return {term_hash(term) for term in set(anchor_terms(text))}


@dataclass(frozen=True, slots=True)
class Sketch:
    """Bottom-k sketch of a document's anchor set.

    `limit` is the largest hash kept when the document had more than `size`
    anchors (the sketch is then a sample), or None when it holds every anchor.
    """

    hashes: tuple[int, ...]
    limit: int | None
    anchor_count: int

    def containment_of(self, page_hashes: Iterable[int]) -> tuple[float, int, int]:
        """Estimated share of the page's anchors that the sketched document contains.

        Returns (estimate, hits, comparable): `comparable` page anchors lie in
        the sketch's hash range, `hits` of them are in the sketch.
        """
        members = set(self.hashes)
        if self.limit is None:
            comparable = list(page_hashes)
        else:
            comparable = [value for value in page_hashes if value <= self.limit]
        if not comparable:
            return 0.0, 0, 0
        hits = sum(1 for value in comparable if value in members)
        return hits / len(comparable), hits, len(comparable)


def make_sketch(hashes: Iterable[int], size: int = SKETCH_SIZE) -> Sketch:
    ordered = sorted(set(hashes))
    if len(ordered) <= size:
        return Sketch(tuple(ordered), None, len(ordered))
    kept = ordered[:size]
    return Sketch(tuple(kept), kept[-1], len(ordered))


def pack_hashes(hashes: Iterable[int]) -> bytes:
    """Store a sketch as 4-byte big-endian signed integers."""
    values = tuple(hashes)
    return struct.pack(f">{len(values)}i", *values)


def unpack_hashes(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(blob) // 4}i", blob)


def iter_chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
