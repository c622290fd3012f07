"""Baselines every bench report carries: doing nothing, and exact lookup of tortured phrases.

Both speak the same small protocol as the engine (`detect(text)`, `restore(text)`) and
return the engine's own Detection / Restoration objects, so the runner (or anything
else that takes an engine) treats them exactly like unspin itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from unspin.detection import Detection, Span
from unspin.restoration import Edit, Restoration, apply_edits
from unspin.text import HYPHENATED_WORD_OR_MARK_RE


class NoOpRestorer:
    """Never detects, never edits: the floor every figure is compared with."""

    name = "no-op"
    resources: frozenset[str] = frozenset()

    def detect(self, text: str) -> Detection:
        return Detection(spun=False, score=0.0, spans=[])

    def restore(self, text: str) -> Restoration:
        return Restoration(text=text, original=text, edits=[])


@dataclass(frozen=True)
class TorturedEntry:
    """One usable line of the PPS list: a tortured phrase, its correction if the list
    gives one, and context words the PPS query requires in the same document."""

    phrase: tuple[str, ...]
    correction: str | None
    context: tuple[tuple[str, ...], ...] = ()


def _key(text: str) -> tuple[str, ...]:
    return tuple(token.casefold() for token in HYPHENATED_WORD_OR_MARK_RE.findall(text))


def parse_pps_line(line: str) -> TorturedEntry | None:
    """Read one line of TorturePhrases_Estimator's list, which holds PPS search fingerprints.

    A line is a tortured phrase, optionally `AND` further terms. When there is exactly
    one further term with as many words as the phrase it is the correct wording
    ("profound learning AND deep learning"); otherwise the further terms are context
    the Problematic Paper Screener requires in the same paper ("thick woods AND
    learning"), which keeps ordinary phrases from matching everywhere. Lines with
    OR / NOT / proximity operators are query syntax we do not evaluate: skipped.
    """
    line = line.strip()
    if not line or line == "Tortured Phrases":
        return None
    if re.search(r"\bOR\b|\bNOT\b|~|\(\s*\w+\s+OR\b", line):
        return None
    parts = [part.strip() for part in line.split(" AND ") if part.strip()]
    phrase = _key(parts[0])
    if not phrase:
        return None
    rest = parts[1:]
    if len(rest) == 1 and len(_key(rest[0])) == len(phrase) and _key(rest[0]) != phrase:
        return TorturedEntry(phrase=phrase, correction=rest[0])
    return TorturedEntry(phrase=phrase, correction=None, context=tuple(_key(term) for term in rest))


@lru_cache(maxsize=1)
def load_pps_entries() -> dict[tuple[str, ...], list[TorturedEntry]]:
    """Every usable entry of the installed PPS list, keyed by the tortured phrase's tokens."""
    try:
        listing = resources.files("TorturePhrases_Estimator") / "tortured_phrases_list.txt"
        text = listing.read_text(encoding="utf-8", errors="replace")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise RuntimeError(
            "the tortured-phrase list is not installed: pip install TorturePhrases_Estimator"
        ) from exc
    entries: dict[tuple[str, ...], list[TorturedEntry]] = {}
    for line in dict.fromkeys(text.splitlines()):  # the list repeats most lines
        entry = parse_pps_line(line)
        if entry is not None and entry not in entries.get(entry.phrase, []):
            entries.setdefault(entry.phrase, []).append(entry)
    return entries


def _match_case(replacement: str, model: str) -> str:
    """Give the replacement the capitalisation pattern of the text it replaces."""
    if model.isupper() and len(model) > 1:
        return replacement.upper()
    if model[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


class TorturedPhraseLookup:
    """Exact lookup of the known tortured phrases that `TorturePhrases_Estimator` ships.

    Detects when any listed phrase occurs (with its PPS context terms, if any); the
    score is the hit rate squashed into [0, 1): 1 - exp(-200 * hits / tokens), so one
    hit in a 600-token article gives about 0.28 and five give about 0.81. Restores
    the phrases whose correct wording the list gives. It knows only the PPS list, so
    its results count as *seen* on sets spun with the `pps` dictionary.
    """

    name = "tortured-lookup"
    resources: frozenset[str] = frozenset({"pps"})

    def __init__(self, entries: dict[tuple[str, ...], list[TorturedEntry]] | None = None):
        self.entries = load_pps_entries() if entries is None else entries
        self.longest = max((len(key) for key in self.entries), default=0)
        self.context_longest = max(
            (len(term) for group in self.entries.values() for e in group for term in e.context),
            default=0,
        )

    def _hits(self, text: str) -> tuple[list[tuple[int, int, TorturedEntry]], int]:
        tokens = [
            (m.start(), m.end(), m.group().casefold())
            for m in HYPHENATED_WORD_OR_MARK_RE.finditer(text)
        ]
        words = [token for _, _, token in tokens]
        present = None  # n-grams of the document, built only if some entry needs context
        hits = []
        i = 0
        while i < len(tokens):
            matched = 0
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                candidates = self.entries.get(tuple(words[i : i + size]))
                if not candidates:
                    continue
                for entry in candidates:
                    if entry.context:
                        if present is None:
                            present = _ngrams(words, self.context_longest)
                        if not all(term in present[len(term)] for term in entry.context):
                            continue
                    hits.append((tokens[i][0], tokens[i + size - 1][1], entry))
                    matched = size
                    break
                if matched:
                    break
            i += matched or 1
        return hits, len(tokens)

    def detect(self, text: str) -> Detection:
        hits, token_count = self._hits(text)
        score = 1 - math.exp(-200 * len(hits) / token_count) if token_count else 0.0
        spans = [
            Span(
                start=start,
                end=end,
                text=text[start:end],
                # The list gives no correct wording for most phrases: no suggestion then.
                suggestion=_match_case(entry.correction, text[start:end])
                if entry.correction
                else "",
                confidence=1.0,
                evidence=["listed tortured phrase (PPS)"],
            )
            for start, end, entry in hits
        ]
        return Detection(spun=bool(hits), score=score, spans=spans)

    def restore(self, text: str) -> Restoration:
        hits, _ = self._hits(text)
        edits = []
        for start, end, entry in hits:
            if entry.correction is None:
                continue
            before = text[start:end]
            after = _match_case(entry.correction, before)
            if after != before:
                edits.append(Edit(start, end, before, after, 1.0, ["listed tortured phrase (PPS)"]))
        return Restoration(text=apply_edits(text, edits), original=text, edits=edits)


def _ngrams(words: list[str], longest: int) -> dict[int, set[tuple[str, ...]]]:
    return {
        size: {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}
        for size in range(1, longest + 1)
    }


def baseline_systems() -> list[Any]:
    """The baselines every report includes, in report order."""
    return [NoOpRestorer(), TorturedPhraseLookup()]
