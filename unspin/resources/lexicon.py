"""Learned lexicons: a spinner's substitutions mined from traced pages (`unspin learn`).

A lexicon counts, for each spun form, which original it replaced and how often
(``pairs``), and how often the same form was seen *unchanged* in traced pages
(``unchanged``): "agency" may be a spun form of "firm" and a word in its own right,
and only both counts together say how much to trust the substitution.

File format (UTF-8, tab-separated, documented in docs/engine.md "Learned lexicons")::

    # unspin lexicon v1
    # pages<TAB>152
    spun<TAB>original<TAB>count<TAB>unchanged
    agency<TAB>firm<TAB>12<TAB>40
    agency<TAB>bureau<TAB>1<TAB>40
    investigate<TAB>look into<TAB>3<TAB>0
    the<TAB><TAB>0<TAB>5120

- the first line is the header that `unspin.resources.load_lexical` recognises;
- ``# pages`` gives how many traced pages the lexicon was learned from;
- one row per (spun, original) pair; ``unchanged`` repeats the spun form's count on
  each of its rows; a row with an empty original only carries an unchanged count
  (every single word seen unchanged is kept, so that a word that becomes a spun form
  in a later crawl already has its count, see `unspin.learning`);
- spun and original phrases are lower case unless their capitals matter (a
  capitalised word inside a sentence, an acronym): "Weekday" -> "Monday".

A `Lexicon` is also a `unspin.resources.LexicalResource`: ``entries()`` yields
``[original, spun1, spun2, ...]`` lines like a spinner dictionary (most frequent
spun form first), so that a lexicon already works as ``--dict``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from unspin.resources.dictionary import DictionaryError, SpinnerDictionary

__all__ = ["HEADER", "Lexicon", "LexiconError", "is_lexicon_file"]

HEADER = "# unspin lexicon v1"
_COLUMNS = ("spun", "original", "count", "unchanged")


class LexiconError(DictionaryError):
    """A lexicon file that cannot be read; the message is one line with the line number."""


def is_lexicon_file(path: str | Path) -> bool:
    """Whether ``path`` starts with the lexicon header (any ``# unspin lexicon`` version)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(HEADER) + 3)
    except OSError:
        return False
    return start.removeprefix(b"\xef\xbb\xbf").startswith(b"# unspin lexicon")


@dataclass
class Lexicon:
    """Spun form -> original -> times seen; spun form -> times seen unchanged; pages."""

    pairs: dict[str, dict[str, int]] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    name: str = "lexicon"
    _forward: dict[str, list[str]] | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ counting

    def add_pair(self, spun: str, original: str, count: int = 1) -> None:
        originals = self.pairs.setdefault(spun, {})
        originals[original] = originals.get(original, 0) + count
        self._forward = None

    def add_unchanged(self, form: str, count: int = 1) -> None:
        self.unchanged[form] = self.unchanged.get(form, 0) + count

    def merge(self, other: Lexicon) -> Lexicon:
        """Add ``other``'s counts and pages to this lexicon (in place); returns self."""
        for spun, originals in other.pairs.items():
            for original, count in originals.items():
                self.add_pair(spun, original, count)
        for form, count in other.unchanged.items():
            self.add_unchanged(form, count)
        self.pages += other.pages
        return self

    @property
    def pair_count(self) -> int:
        """Substitutions seen in all (sum of the pair counts)."""
        return sum(sum(originals.values()) for originals in self.pairs.values())

    def best(self, spun: str) -> str | None:
        """The original seen most often for ``spun`` (ties: alphabetical), or None."""
        originals = self.pairs.get(spun)
        if not originals:
            return None
        return min(originals, key=lambda original: (-originals[original], original))

    def share(self, spun: str, original: str) -> float:
        """Of all sightings of ``spun`` in traced pages (substituted or unchanged), the
        share where it stood for ``original``."""
        originals = self.pairs.get(spun, {})
        seen = sum(originals.values()) + self.unchanged.get(spun, 0)
        return originals.get(original, 0) / seen if seen else 0.0

    def inverse(self) -> Iterator[tuple[str, list[tuple[str, int]]]]:
        """(spun form, [(original, count), ...] most frequent first) for every spun form."""
        for spun in sorted(self.pairs):
            originals = self.pairs[spun]
            yield spun, sorted(originals.items(), key=lambda item: (-item[1], item[0]))

    # --------------------------------------------------- as a lexical resource

    def to_spinner_dictionary(
        self, *, min_count: int = 1, min_share: float = 0.0
    ) -> SpinnerDictionary:
        """Forward lines ``[original, spun1, spun2, ...]`` (most frequent spun form first).

        Pairs seen under ``min_count`` times, or whose `share` is under ``min_share``,
        are left out. Lines with more words come first, as spinners order them.
        """
        forward: dict[str, dict[str, int]] = {}
        for spun, originals in self.pairs.items():
            for original, count in originals.items():
                if count >= min_count and self.share(spun, original) >= min_share:
                    forward.setdefault(original, {})[spun] = count
        lines = [
            [original, *sorted(spuns, key=lambda spun: (-spuns[spun], spun))]
            for original, spuns in sorted(forward.items())
        ]
        lines.sort(key=lambda line: -len(line[0].split()))
        return SpinnerDictionary(self.name, lines)

    def entries(self) -> Iterator[list[str]]:
        """Each original with its spun forms, ``[original, spun1, ...]`` (LexicalResource)."""
        yield from self.to_spinner_dictionary().entries()

    def alternatives(self, phrase: str) -> list[str]:
        """Spun forms seen for the original ``phrase`` (case-insensitive; LexicalResource)."""
        if self._forward is None:
            merged: dict[str, list[str]] = {}
            for head, *spuns in self.to_spinner_dictionary().lines:
                bucket = merged.setdefault(head.lower(), [])
                bucket.extend(spun for spun in spuns if spun not in bucket)
            self._forward = merged
        return list(self._forward.get(" ".join(phrase.split()).lower(), ()))

    # ------------------------------------------------------------- reading, writing

    def dumps(self) -> str:
        """The lexicon as text in the v1 format (rows sorted, so files diff well)."""
        out = [HEADER, f"# pages\t{self.pages}", "\t".join(_COLUMNS)]
        for spun, originals in self.inverse():
            unchanged = self.unchanged.get(spun, 0)
            out.extend(f"{spun}\t{original}\t{count}\t{unchanged}" for original, count in originals)
        out.extend(
            f"{form}\t\t0\t{count}"
            for form, count in sorted(self.unchanged.items())
            if form not in self.pairs and count
        )
        return "\n".join(out) + "\n"

    def write(self, path: str | Path) -> None:
        """Write the lexicon to ``path`` (UTF-8), replacing it atomically."""
        path = Path(path)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(self.dumps(), encoding="utf-8")
        partial.replace(path)

    @classmethod
    def loads(cls, text: str, *, name: str = "lexicon", source: str = "<string>") -> Lexicon:
        """Parse a lexicon's text; raises LexiconError naming the first bad line."""
        lines = text.removeprefix("\ufeff").splitlines()
        if not lines or not lines[0].startswith("# unspin lexicon"):
            raise LexiconError(f"{source}: not an unspin lexicon (no {HEADER!r} header)")
        if lines[0].strip() != HEADER:
            raise LexiconError(f"{source}:1: unsupported lexicon version {lines[0].strip()!r}")
        lexicon = cls(name=name)
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            if line.startswith("#"):
                key, _, value = line[1:].strip().partition("\t")
                if key == "pages":
                    lexicon.pages = _count(value, source, number)
                continue
            cells = line.split("\t")
            if tuple(cells) == _COLUMNS:
                continue
            if len(cells) != 4 or not cells[0]:
                raise LexiconError(
                    f"{source}:{number}: expected spun<TAB>original<TAB>count<TAB>unchanged: "
                    f"{line[:60]!r}"
                )
            spun, original, count, unchanged = cells
            if original:
                lexicon.add_pair(spun, original, _count(count, source, number))
            lexicon.unchanged[spun] = _count(unchanged, source, number)
        lexicon.unchanged = {form: n for form, n in lexicon.unchanged.items() if n}
        return lexicon

    @classmethod
    def read(cls, path: str | Path) -> Lexicon:
        """Read a lexicon file (see the module docstring for the format)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LexiconError(f"{path}: cannot read lexicon: {exc}") from None
        return cls.loads(text, name=path.stem, source=str(path))

    load = read  # like SpinnerDictionary.load(path)


def _count(value: str, source: str, number: int) -> int:
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise LexiconError(f"{source}:{number}: not a count: {value!r}")
    return count
