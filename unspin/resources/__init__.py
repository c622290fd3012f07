"""One small interface for every lexical resource unspin uses.

Thesauri (Moby, WordNet, MyThes), the reversed PPS tortured-phrase list and users'
spinner dictionaries all look the same to the rest of unspin: an ordered series of
groups ``[head, alt1, alt2, ...]`` plus a case-insensitive forward lookup. The
detector, the restorer and the spinner simulator therefore never care where a
synonym came from, which is what lets benchmarks spin with one resource and restore
with another ("unseen").

Loading is lazy and cached: importing this package reads no data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = [
    "BUILTIN_LEXICAL",
    "LexicalResource",
    "ResourceUnavailable",
    "available_lexical",
    "load_lexical",
]

# Built-in resource names, in the order they are listed to users.
BUILTIN_LEXICAL: tuple[str, ...] = ("moby", "wordnet", "mythes", "pps")


class ResourceUnavailable(RuntimeError):
    """A resource is not installed here; the message says what to install."""


@runtime_checkable
class LexicalResource(Protocol):
    """What every thesaurus or spinner dictionary offers.

    ``name`` is "moby", "wordnet", "mythes", "pps" or the file stem of a user
    dictionary. ``entries()`` yields each line/group in file order as
    ``[head, alt1, alt2, ...]`` (phrases allowed); ``alternatives(phrase)`` is the
    forward lookup: what a spinner could put in place of ``phrase`` (case-insensitive,
    empty list when unknown).
    """

    name: str

    def entries(self) -> Iterator[list[str]]: ...

    def alternatives(self, phrase: str) -> list[str]: ...


def load_lexical(name_or_path: str | Path, *, strict: bool = False) -> LexicalResource:
    """A built-in resource by name, a learned lexicon (`unspin learn`, recognised by its
    ``# unspin lexicon`` header) or a spinner-dictionary file (pipe, spintax or CSV).

    A dictionary file's malformed lines are skipped (listed in its ``skipped``) unless
    ``strict``. Raises ResourceUnavailable when a built-in is not installed or the name is neither
    a built-in nor an existing file; raises ``unspin.resources.dictionary.DictionaryError``
    (a ValueError) for a file that cannot be parsed.
    """
    from unspin.resources import lexical

    text = str(name_or_path)
    if not isinstance(name_or_path, Path) and text.lower() in lexical.BUILTIN_LOADERS:
        return lexical.load_builtin(text.lower())
    path = Path(name_or_path)
    if path.is_file():
        from unspin.resources.dictionary import SpinnerDictionary
        from unspin.resources.lexicon import Lexicon, is_lexicon_file

        if is_lexicon_file(path):
            return Lexicon.read(path)
        return SpinnerDictionary.load(path, strict=strict)
    raise ResourceUnavailable(
        f"unknown lexical resource {text!r}: not a built-in "
        f"({', '.join(lexical.BUILTIN_LOADERS)}) and no such file"
    )


def available_lexical() -> list[str]:
    """Built-in resource names whose data is installed on this machine."""
    from unspin.resources import lexical

    return [name for name in BUILTIN_LEXICAL if lexical.is_installed(name)]
