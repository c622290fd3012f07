"""Which texts the engine analyses: English ones.

The n-gram model, the thesauri and the phrase rules are English, so a page in another
language looks spun from end to end: before this check, 17 of the 20 non-English pages of the
public article-extraction benchmark (Korean, Portuguese, Russian, German...) were judged spun,
and a German one got "Germany" and "Name" as restorations.  The identifier is py3langid, the
one trafilatura uses for its own language filter.
"""

from __future__ import annotations

import re

from unspin.text import FUNCTION_WORDS

ENGLISH = "en"

# Below this many words the identifier guesses ("Supply hyperlink" is not reliably English
# to it); such short texts are analysed as English, as before.
MIN_WORDS = 12

# The identifier reads this much of a long text: the language of a news page is settled
# long before, and the cost stays flat for a 10 MB page.
SAMPLE_CHARS = 6_000


# Share of a text's words that are English function words above which it is English without
# asking the identifier (whose model takes 44 MB and 0.2 s to load): spinners leave function
# words alone, so spun English keeps its share. Measured: every Wikinews dev article, spun
# or not, 0.25-0.60; English pages of the article-extraction benchmark 0.24 and up but two
# (a list, a table); its non-English pages 0.12 at most.
ENGLISH_FUNCTION_SHARE = 0.2
_LETTERS = re.compile(r"[^\W\d_]+")


def text_language(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language ("en", "de", ...), or None when the text is
    too short to tell."""
    sample = text[:SAMPLE_CHARS]
    if len(sample.split()) < MIN_WORDS and not _mostly_unspaced_script(sample):
        return None
    words = [word.lower() for word in _LETTERS.findall(sample)]
    if words and sum(word in FUNCTION_WORDS for word in words) >= ENGLISH_FUNCTION_SHARE * len(
        words
    ):
        return ENGLISH
    import py3langid  # loads its model on first use (~0.2 s), so only when a text needs it

    language, _score = py3langid.classify(sample)
    return str(language)


def _mostly_unspaced_script(sample: str) -> bool:
    """Chinese, Japanese and Thai write words without spaces: a few "words" there are a
    paragraph, long enough to identify."""
    letters = [c for c in sample if c.isalpha()]
    return len(letters) >= 40 and sum(1 for c in letters if ord(c) > 0x2E80) > len(letters) / 2


__all__ = ["ENGLISH", "MIN_WORDS", "text_language"]
