"""What the engine never edits, and where it wants more evidence.

Names (a spinner leaves "Sergei Ryabkov" alone, and thesauri would happily "correct" it),
technical terms, URLs and e-mail addresses are protected; quotations and headlines get a
larger margin, because their grammar is unusual to a language model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from unspin.resources.relations import RelationIndex
from unspin.resources.rules import phrase_rules
from unspin.text import SENTENCE_END, STOPWORDS, URL_RE, Token, adjacent, lemmas_of

_QUOTED_RE = re.compile(r"[\"\u201c]([^\"\u201c\u201d\n]{1,2000})[\"\u201d]")


def url_ranges(text: str) -> list[tuple[int, int]]:
    """URLs and e-mail addresses: never edited."""
    return [(m.start(), m.end()) for m in URL_RE.finditer(text)]


def quoted_ranges(text: str) -> list[tuple[int, int]]:
    """Quotations: a quoted speaker's grammar needs a larger margin."""
    return [(m.start(), m.end()) for m in _QUOTED_RE.finditer(text)]


def name_mask(
    word_tokens: Sequence[Token], relations: RelationIndex, text: str | None = None
) -> list[bool]:
    """Protect names: capitalised words no resource knows, acronyms, and the capitalised
    words right next to them ("Bill Clinton", "Minister Sergei Ryabkov").  Capitalised
    common words elsewhere stay open: spinners do change "Foreign Minister".

    A surname ending a run of three capitalised words makes the first of them a title
    ("Governor Bill Richardson", "Governor Alexander Pimentel"), protected too, since the
    given name is often a word a thesaurus knows.  For this, "surname" means a word
    lemminflect's lexicon of common words does not know: WordNet lists famous people
    ("Richardson").  The price: a two-word title before a surname ("Prime Minister
    Netanyahu") is protected whole, so a spun "Prime Curate Netanyahu" stays."""
    n = len(word_tokens)
    rules = phrase_rules()
    capital = [t.text[:1].isupper() and t.is_word for t in word_tokens]
    acronym = [t.text.isupper() and len(t.text) > 1 for t in word_tokens]
    uncommon = [
        capital[i]
        and not acronym[i]
        and t.lower not in STOPWORDS
        and t.lower not in rules
        and not lemmas_of(t.lower)
        for i, t in enumerate(word_tokens)
    ]
    unknown = [
        acronym[i] or (uncommon[i] and t.lower not in relations) for i, t in enumerate(word_tokens)
    ]
    mask = list(unknown)
    for i in range(n):
        if unknown[i]:
            for j in (i - 1, i + 1):
                if 0 <= j < n and capital[j]:
                    mask[j] = True
        if (
            uncommon[i]
            and i >= 2
            and not (i + 1 < n and capital[i + 1])  # ends the run: the surname's place
            and capital[i - 1]  # the given name ("Bill", "Alexander")
            and capital[i - 2]
            and (
                text is None
                or (
                    adjacent(text, word_tokens[i - 2], word_tokens[i - 1])
                    and adjacent(text, word_tokens[i - 1], word_tokens[i])
                )
            )
        ):
            mask[i - 2] = mask[i - 1] = mask[i] = True
    return mask


def term_mask(word_tokens: Sequence[Token], terms: frozenset[str]) -> list[bool]:
    """Protect technical terms: words inside a phrase that a term list has as an original
    ("loss function", "training image").  On clean paper-mill-style abstracts the news
    trigram otherwise "corrected" them ("loss function" -> "loss go")."""
    mask = [False] * len(word_tokens)
    if not terms:
        return mask
    lower = [t.lower for t in word_tokens]
    for first in range(len(lower)):
        for size in (2, 3, 4):
            if " ".join(lower[first : first + size]) in terms:
                for i in range(first, min(first + size, len(lower))):
                    mask[i] = True
    return mask


def is_headline(text: str, tokens: Sequence[Token]) -> bool:
    """A paragraph of its own without final punctuation: a title, headline or caption."""
    if not tokens or tokens[-1].text in SENTENCE_END or tokens[-1].text in "\"\u201d'\u2019)":
        return False
    before = text[: tokens[0].start]
    after = text[tokens[-1].end :]
    starts_paragraph = not before.strip() or "\n\n" in before[len(before.rstrip()) :]
    ends_paragraph = not after.strip() or after.lstrip(" \t").startswith(("\n\n", "\r\n\r\n"))
    return starts_paragraph and ends_paragraph
