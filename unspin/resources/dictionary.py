"""Spinner dictionaries: the ordered ``word|alt1|alt2`` files real spinners run on.

Three on-disk formats are read (and written):

- pipe:    ``word|alt1|alt2`` one line per group (WordPress auto-spinners, The Best Spinner);
- spintax: ``{word|alt1|alt2}`` one or more groups per line;
- csv:     ``word,alternative`` pairs (more columns are more alternatives; tab-separated
  works too); rows with the same head are merged at the first row's place.

Blank lines and lines starting with ``#`` are ignored in every format. Files are
decoded as UTF-8 line by line and, for a line that is not UTF-8, Windows-1252
(dictionaries exported by Windows spinners), so one corrupt line cannot change how
the others are read.

Files from the wild have defects (the English dictionary of a popular WordPress
auto-spinner has a line ``|five hundred``, no head, among 12,240 good ones). By
default a malformed line is skipped and recorded in `SpinnerDictionary.skipped`
(line number, reason), which callers report once (`skipped_summary`); with
``strict=True`` the first malformed line raises `DictionaryError` instead. Malformed:
no head word, a ``|`` with no alternative after it, braces in a pipe line, a
spintax line that is not ``{a|b}`` groups, an unreadable CSV row, control
characters or undecodable bytes (binary junk).

`SpinnerDictionary.from_resource` turns a thesaurus into a dictionary that looks like
the ones auto-spinners ship: no function words, each inflected form on its own line
with alternatives inflected the same way (lemminflect), multi-word phrases first, a
handful of alternatives per line. `load_spinner_dictionary` gives the built-in ones by
name ("moby", "wordnet", "mythes", "pps").
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from unspin.resources import LexicalResource, ResourceUnavailable
from unspin.text import FUNCTION_WORDS, SPINNER_WORD_RE, cache_dir, inflections, lemmas_by_pos

__all__ = [
    "FORMATS",
    "DictionaryError",
    "SpinnerDictionary",
    "REALSIZE",
    "builtin_spinner_dictionaries",
    "load_spinner_dictionary",
    "realsize_spinner_dictionary",
]

FORMATS = ("pipe", "spintax", "csv")

# A spinnable thesaurus entry: lower-case words (letters, inner hyphens/apostrophes).
_ENTRY = re.compile(r"^[a-z]+(?:['-][a-z]+)*(?: [a-z]+(?:['-][a-z]+)*)*$")
_LINE_END = re.compile(r"\r\n|\r|\n")
_SPINTAX_GROUP = re.compile(r"\{([^{}]*)\}")

# Inflection tags (Penn) generated per part of speech; the base tag comes first.
_TAGS = {
    "VERB": ("VB", "VBD", "VBN", "VBG", "VBZ"),
    "NOUN": ("NN", "NNS"),
    "ADJ": ("JJ",),
    "ADV": ("RB",),
}
# Order in which a surface form's parts of speech fill its line: a word that is
# both ("report", "said"<-"say") is spun as a verb first, then as a noun.
_POS_ORDER = ("VERB", "NOUN", "ADJ", "ADV")


class DictionaryError(ValueError):
    """A spinner dictionary file or line that cannot be read; message is one line."""


@dataclass
class SpinnerDictionary:
    """An ordered list of spinner lines ``[head, alt1, alt2, ...]``.

    Line order matters: a spinner applies lines in order, so a multi-word phrase
    listed before its words wins. A line with only a head makes a spinner leave
    ``{head}`` behind. Implements `unspin.resources.LexicalResource`.
    """

    name: str
    lines: list[list[str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """Malformed lines left out when reading: (line number, reason), in file order."""
    _index: dict[str, list[str]] | None = field(default=None, init=False, repr=False)
    _by_first_word: dict[str, list[tuple[int, frozenset[str]]]] | None = field(
        default=None, init=False, repr=False
    )
    _patterns: dict[int, re.Pattern[str]] = field(default_factory=dict, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.lines)

    def skipped_summary(self, shown: int = 3) -> str:
        """One line saying which malformed lines were skipped, e.g.
        ``skipped 1 malformed line (line 7: no head word)``; empty when none were."""
        if not self.skipped:
            return ""
        count = len(self.skipped)
        details = "; ".join(f"line {number}: {reason}" for number, reason in self.skipped[:shown])
        if count > shown:
            details += f"; {count - shown} more"
        return f"skipped {count} malformed line{'s' if count != 1 else ''} ({details})"

    def lines_by_first_word(self) -> dict[str, list[tuple[int, frozenset[str]]]]:
        """(line number, all head words) in order, by the lower-cased first word of the head.

        Lets the spinner look only at lines whose head words all occur in a document
        instead of running every line's pattern over it.
        """
        if self._by_first_word is None:
            index: dict[str, list[tuple[int, frozenset[str]]]] = {}
            for number, line in enumerate(self.lines):
                words = SPINNER_WORD_RE.findall(line[0].lower())
                if words:
                    index.setdefault(words[0], []).append((number, frozenset(words)))
            self._by_first_word = index
        return self._by_first_word

    def head_pattern(self, number: int) -> re.Pattern[str]:
        """Whole-word pattern for line ``number``'s head, as real spinners match it.

        The head is looked for as written, in lower case and Capitalised; words of a
        phrase may be separated by any whitespace. Patterns are compiled once.
        """
        pattern = self._patterns.get(number)
        if pattern is None:
            head = self.lines[number][0]
            lower = head.lower()
            forms = dict.fromkeys([head, lower, lower[:1].upper() + lower[1:]])
            alternation = "|".join(
                r"\s+".join(re.escape(word) for word in form.split())
                for form in sorted(forms, key=len, reverse=True)
            )
            pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
            self._patterns[number] = pattern
        return pattern

    def entries(self) -> Iterator[list[str]]:
        """Each line in order as a fresh list ``[head, alt1, ...]``."""
        for line in self.lines:
            yield list(line)

    def alternatives(self, phrase: str) -> list[str]:
        """The alternatives of every line whose head is ``phrase`` (case-insensitive)."""
        if self._index is None:
            merged: dict[str, dict[str, None]] = {}
            for head, *alts in self.lines:
                merged.setdefault(head.lower(), {}).update(dict.fromkeys(alts))
            self._index = {key: list(bucket) for key, bucket in merged.items()}
        return list(self._index.get(" ".join(phrase.split()).lower(), ()))

    # ------------------------------------------------------------------ reading

    @classmethod
    def load(
        cls, path: str | Path, format: str | None = None, *, strict: bool = False
    ) -> SpinnerDictionary:
        """Read a dictionary file; the format is sniffed unless given.

        Malformed lines are skipped into `skipped` unless ``strict`` (see the module
        docstring).
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DictionaryError(f"{path}: cannot read dictionary: {exc.strerror}") from None
        return cls.loads(
            _decode_lines(data), name=path.stem, format=format, source=str(path), strict=strict
        )

    @classmethod
    def loads(
        cls,
        text: str,
        *,
        name: str = "dictionary",
        format: str | None = None,
        source: str = "<string>",
        strict: bool = False,
    ) -> SpinnerDictionary:
        """Parse dictionary text (see the module docstring for the formats).

        Malformed lines are skipped and recorded in ``skipped``; with ``strict`` the
        first one raises `DictionaryError`. A text with no usable line always raises.
        """
        skipped: list[tuple[int, str]] = []
        problems = _Problems(source, strict, skipped)
        numbered = []
        # Split on line ends only: str.splitlines also breaks at control characters
        # (\x1c, \x85...) that binary junk holds, and the line numbers would drift.
        for number, line in enumerate(_LINE_END.split(text), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if _JUNK.search(stripped):
                problems.add(
                    number, "binary junk (control characters or undecodable bytes)", stripped
                )
                continue
            numbered.append((number, stripped))
        if not numbered and not skipped:
            raise DictionaryError(f"{source}: empty spinner dictionary")
        format = format or _sniff([line for _, line in numbered[:200]])
        if format not in FORMATS:
            raise DictionaryError(
                f"unknown dictionary format {format!r} (use {', '.join(FORMATS)})"
            )
        parse = {"pipe": _parse_pipe, "spintax": _parse_spintax, "csv": _parse_csv}[format]
        lines = parse(numbered, problems)
        if not lines:
            raise DictionaryError(
                f"{source}: no usable line in the spinner dictionary "
                f"({cls(name, [], sorted(skipped)).skipped_summary()})"
            )
        skipped.sort()
        return cls(name, lines, skipped)

    # ------------------------------------------------------------------ writing

    def dumps(self, format: str = "pipe") -> str:
        """The dictionary as text in ``format`` (pipe, spintax or csv pairs)."""
        if format not in FORMATS:
            raise DictionaryError(
                f"unknown dictionary format {format!r} (use {', '.join(FORMATS)})"
            )
        if format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            for head, *alts in self.lines:
                if not alts:
                    writer.writerow([head])
                for alt in alts:
                    writer.writerow([head, alt])
            return buffer.getvalue()
        out = []
        for line in self.lines:
            bad = next((entry for entry in line if set(entry) & set("|{}\n")), None)
            if bad is not None:
                raise DictionaryError(f"entry {bad!r} cannot be written in {format} format")
            joined = "|".join(line)
            out.append("{" + joined + "}" if format == "spintax" else joined)
        return "\n".join(out) + "\n"

    def save(self, path: str | Path, format: str = "pipe") -> None:
        """Write the dictionary to ``path`` in ``format`` (UTF-8)."""
        Path(path).write_text(self.dumps(format), encoding="utf-8")

    # ---------------------------------------------------------- from thesauri

    @classmethod
    def from_resource(
        cls,
        resource: LexicalResource,
        *,
        name: str | None = None,
        max_alternatives: int = 6,
        max_words: int = 3,
        inflect: bool = True,
        skip_function_words: bool = True,
        default_pos: str | None = None,
        rank_by_overlap: bool | None = None,
        candidates: int = 40,
    ) -> SpinnerDictionary:
        """A spinner dictionary built from a thesaurus, shaped like auto-spinners' own.

        - heads and alternatives are lower-case words or phrases of at most
          ``max_words`` words; heads made only of function words are skipped;
        - with ``inflect``, each group whose part of speech is known (from the
          resource, else ``default_pos``, else every part of speech lemminflect knows
          the head as a lemma) gives one line per inflected form ("said" ->
          "stated", "told" from "say"), alternatives that cannot take that part of
          speech are dropped;
        - alternatives keep the resource's order (WordNet/MyThes: sense order), or
          for resources without an order of relevance (Moby is alphabetical) are
          ranked by how close they are to the head inside the resource itself:
          first alternatives whose own group lists the head back (mutual
          synonyms), then by how many synonyms they share with the head, damped by
          the size of their own group (very polysemous words share a lot with
          everything); the best ``candidates`` go on to the part-of-speech filter;
        - at most ``max_alternatives`` per line; lines with more words come first.
        """
        groups = list(_groups_with_pos(resource))
        if rank_by_overlap is None:
            rank_by_overlap = getattr(resource, "name", "") == "moby"
        synonym_sets: dict[str, frozenset[str]] = {}
        if rank_by_overlap:
            for group, _pos in groups:
                key = group[0].lower()
                synonym_sets[key] = synonym_sets.get(key, frozenset()) | frozenset(group[1:])

        lines: dict[str, list[str]] = {}
        buckets: dict[str, dict[str, list[str]]] = {}
        for group, pos in groups:
            head = group[0]
            if not _ENTRY.match(head) or len(head.split()) > max_words:
                continue
            if skip_function_words and all(word in FUNCTION_WORDS for word in head.split()):
                continue
            kept: dict[str, None] = {}  # ordered set
            for alt in group[1:]:
                if alt == head or not _ENTRY.match(alt) or len(alt.split()) > max_words:
                    continue
                if skip_function_words and all(word in FUNCTION_WORDS for word in alt.split()):
                    continue
                kept[alt] = None
            alternatives = list(kept)
            if rank_by_overlap:
                alternatives = _rank_by_overlap(head, alternatives, synonym_sets, candidates)
            if not alternatives:
                continue
            if not inflect:
                bucket = buckets.setdefault(head, {})
                bucket.setdefault("", []).extend(alternatives)
                continue
            pos = pos or default_pos
            for part in [pos] if pos else _lemma_pos(head):
                compatible = [alt for alt in alternatives if _can_be(alt, part)]
                if not compatible and pos is None:
                    continue
                made: set[str] = set()
                for tag in _TAGS.get(part, ("",)):
                    form = _inflect(head, part, tag)
                    # A form two tags share ("talked": VBD and VBN) keeps the first
                    # tag's alternatives ("spoke", not also "spoken").
                    if form is None or form in made:
                        continue
                    made.add(form)
                    forms = [_inflect(alt, part, tag) for alt in compatible]
                    bucket = buckets.setdefault(form, {})
                    bucket.setdefault(part or "", []).extend(
                        alt for alt in forms if alt and alt != form
                    )

        for form, by_pos in buckets.items():
            merged: list[str] = []
            for part in sorted(by_pos, key=lambda p: _POS_ORDER.index(p) if p in _POS_ORDER else 9):
                for alt in by_pos[part]:
                    if alt not in merged and alt != form and len(merged) < max_alternatives:
                        merged.append(alt)
            if merged:
                lines[form] = merged[:max_alternatives]
        ordered = sorted(lines.items(), key=lambda item: -len(item[0].split()))
        return cls(
            name or getattr(resource, "name", "dictionary"),
            [[head, *alts] for head, alts in ordered],
        )


# ---------------------------------------------------------------------- parsing


def _sniff(lines: list[str]) -> str:
    if all(line.startswith("{") for line in lines):
        return "spintax"
    pipes = sum("|" in line for line in lines)
    commas = sum("," in line or "\t" in line for line in lines)
    if pipes >= commas:
        return "pipe"
    return "csv"


def _clean_entries(entries: Iterable[str]) -> list[str]:
    return [" ".join(entry.split()) for entry in entries if entry.strip()]


# Control characters (tab aside), C1 controls and the replacement character: a line
# holding any is binary junk, not words.
_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")


def _decode_lines(data: bytes) -> str:
    """UTF-8 text, each line that is not UTF-8 read as Windows-1252 (a BOM dropped).

    Line by line so that one junk line does not make a whole UTF-8 file be read as
    Windows-1252 (and its accented words garbled).
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out = []
    for raw in data.split(b"\n"):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(raw.decode("cp1252", errors="replace"))
    return "\n".join(out)


@dataclass
class _Problems:
    """Where parsers report a malformed line: raised when strict, else recorded."""

    source: str
    strict: bool
    skipped: list[tuple[int, str]]

    def add(self, number: int, reason: str, line: str) -> None:
        if self.strict:
            raise DictionaryError(f"{self.source}:{number}: {reason}: {line[:60]!r}")
        self.skipped.append((number, reason))


def _parse_pipe(numbered: list[tuple[int, str]], problems: _Problems) -> list[list[str]]:
    lines = []
    for number, line in numbered:
        if "{" in line or "}" in line:
            problems.add(number, "braces in a pipe-format line", line)
            continue
        entries = line.split("|")
        if not entries[0].strip():
            problems.add(number, "no head word", line)
            continue
        cleaned = _clean_entries(entries)
        if len(entries) > 1 and len(cleaned) == 1:
            problems.add(number, "no alternative after '|'", line)
            continue
        lines.append(cleaned)
    return lines


def _parse_spintax(numbered: list[tuple[int, str]], problems: _Problems) -> list[list[str]]:
    lines = []
    for number, line in numbered:
        groups = _SPINTAX_GROUP.findall(line)
        leftover = _SPINTAX_GROUP.sub("", line).strip()
        if not groups or leftover:
            problems.add(
                number,
                "not a spintax group {a|b|c} (nested or unbalanced braces, or text outside braces)",
                line,
            )
            continue
        found = []
        for group in groups:
            entries = group.split("|")
            cleaned = _clean_entries(entries)
            if not cleaned:
                problems.add(number, "empty spintax group", line)
                break
            if not entries[0].strip():
                problems.add(number, "spintax group has no head word", line)
                break
            if len(entries) > 1 and len(cleaned) == 1:
                problems.add(number, "no alternative after '|'", line)
                break
            found.append(cleaned)
        else:
            lines.extend(found)
    return lines


def _parse_csv(numbered: list[tuple[int, str]], problems: _Problems) -> list[list[str]]:
    delimiter = "\t" if sum("\t" in line for _, line in numbered) > len(numbered) / 2 else ","
    merged: dict[str, list[str]] = {}
    for number, line in numbered:
        try:
            row = next(csv.reader([line], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            problems.add(number, f"unreadable CSV row: {exc}", line)
            continue
        entries = _clean_entries(row)
        if not entries or not row[0].strip():
            problems.add(number, "CSV row has no head word", line)
            continue
        alts = merged.setdefault(entries[0], [])
        alts.extend(alt for alt in entries[1:] if alt not in alts)
    return [[head, *alts] for head, alts in merged.items()]


def _rank_by_overlap(
    head: str, alternatives: list[str], synonym_sets: dict[str, frozenset[str]], candidates: int
) -> list[str]:
    own = synonym_sets.get(head.lower(), frozenset())

    def closeness(alt: str) -> tuple[bool, float]:
        theirs = synonym_sets.get(alt.lower())
        if not theirs:
            return (False, 0.0)
        return (head in theirs, len(own & theirs) / (len(theirs) ** 0.5))

    # Stable sort: entries unknown to the resource as heads (mostly phrases) keep
    # their order after the ranked ones.
    ranked = sorted(alternatives, key=closeness, reverse=True)
    return ranked[:candidates]


# ------------------------------------------------------------------- inflection


def _groups_with_pos(resource: LexicalResource) -> Iterator[tuple[list[str], str | None]]:
    with_pos = getattr(resource, "entries_with_pos", None)
    if with_pos is not None:
        yield from with_pos()
    else:
        for group in resource.entries():
            yield group, None


def _key_index(phrase: list[str], pos: str) -> int:
    """Which word of a phrase carries its inflection: a verb's first, a noun's last."""
    return 0 if pos == "VERB" else len(phrase) - 1


def _lemma_pos(head: str) -> list[str]:
    """Parts of speech of which ``head`` (or a phrase's key word) is a lemma."""
    words = head.split()
    found = []
    for pos in _POS_ORDER:
        word = words[_key_index(words, pos)]
        if len(words) > 1 and pos in ("ADJ", "ADV"):
            continue
        if word in lemmas_by_pos(word).get(pos, ()):
            found.append(pos)
    return found


def _can_be(phrase: str, pos: str) -> bool:
    words = phrase.split()
    if len(words) > 1:
        return pos in ("VERB", "NOUN") and _can_be(words[_key_index(words, pos)], pos)
    return phrase in lemmas_by_pos(phrase).get(pos, ())


def _inflect(phrase: str, pos: str | None, tag: str) -> str | None:
    if not pos or tag in ("VB", "NN", "JJ", "RB", ""):
        return phrase
    words = phrase.split()
    key = _key_index(words, pos)
    forms = inflections(words[key], tag)
    if not forms:
        return None
    words[key] = forms[0]
    return " ".join(words)


# ------------------------------------------------------------------- built-ins

# Built-in spinner dictionaries and how each is made from its thesaurus.
_BUILTIN_OPTIONS: dict[str, dict] = {
    "moby": {},
    "wordnet": {},
    "mythes": {},
    # Tortured phrases are noun phrases: keep their capitals and add plurals.
    "pps": {"default_pos": "NOUN", "skip_function_words": False, "max_alternatives": 20},
    "pps-train": {"default_pos": "NOUN", "skip_function_words": False, "max_alternatives": 20},
    "pps-heldout": {"default_pos": "NOUN", "skip_function_words": False, "max_alternatives": 20},
}


def builtin_spinner_dictionaries() -> list[str]:
    """Names of the built-in spinner dictionaries installed on this machine."""
    from unspin.resources import available_lexical

    return available_lexical()


# Bump when the way built-in dictionaries are made changes, to invalidate caches.
_BUILD_VERSIONS = {"thesaurus": "2", "pps": "3"}


@cache
def _builtin(name: str) -> SpinnerDictionary:
    """Build a built-in dictionary once, then reuse it from the on-disk cache.

    Building takes tens of seconds (lemminflect over every thesaurus entry); the
    result is cached as a pipe file keyed by the source file's identity and
    `_BUILD_VERSIONS`. An unwritable cache directory only costs the rebuild.
    """
    from unspin.resources.lexical import load_builtin, source_fingerprint

    version = _BUILD_VERSIONS["pps" if name.startswith("pps") else "thesaurus"]
    key = hashlib.sha1(f"{version}|{source_fingerprint(name)}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"spinner-{name}-{key}.txt"
    if cached.is_file():
        try:
            return SpinnerDictionary.loads(
                cached.read_text(encoding="utf-8"), name=name, format="pipe"
            )
        except (OSError, DictionaryError):
            pass
    resource = load_builtin(name)
    if name.startswith("pps"):
        dictionary = _pps_dictionary(resource)
    else:
        dictionary = SpinnerDictionary.from_resource(resource, **_BUILTIN_OPTIONS[name])
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(dictionary.dumps("pipe"), encoding="utf-8")
        partial.replace(cached)
        own = re.compile(rf"spinner-{re.escape(name)}-[0-9a-f]{{16}}\.txt")
        for stale in cached.parent.glob(f"spinner-{name}-*.txt"):
            # Built by an older version or from older files ("pps-heldout" is not "pps").
            if stale != cached and own.fullmatch(stale.name):
                stale.unlink(missing_ok=True)
    except OSError:
        pass
    return dictionary


def _pps_dictionary(resource: LexicalResource) -> SpinnerDictionary:
    """PPS pairs as spinner lines, with plural lines added (lemminflect) after singulars.

    Tortured phrases keep their original capitals ("CO2 effluent"), so they bypass the
    lower-case-only filter `from_resource` applies to thesauri.
    """
    lines: dict[str, list[str]] = {}
    for head, *alts in resource.entries():
        singular = _inflect(head, "NOUN", "NN")
        for tag in ("NN", "NNS"):
            form = _inflect(head, "NOUN", tag)
            if tag == "NNS" and form == singular:
                continue  # uncountable ("artificial intelligence"): no plural line
            forms = [_inflect(alt, "NOUN", tag) for alt in alts]
            forms = [alt for alt in forms if alt and alt != form]
            if form and forms:
                merged = lines.setdefault(form, [])
                merged.extend(alt for alt in forms if alt not in merged)
    ordered = sorted(lines.items(), key=lambda item: -len(item[0].split()))
    return SpinnerDictionary(resource.name, [[head, *alts] for head, alts in ordered])


def load_spinner_dictionary(name_or_path: str | Path, *, strict: bool = False) -> SpinnerDictionary:
    """A built-in spinner dictionary by name, or a dictionary file (sniffed format).

    A file's malformed lines are skipped into ``skipped`` unless ``strict``.
    """
    text = str(name_or_path)
    if not isinstance(name_or_path, Path) and text.lower() == "rules":
        return rules_spinner_dictionary()
    if not isinstance(name_or_path, Path) and text.lower() == REALSIZE:
        return realsize_spinner_dictionary()
    if not isinstance(name_or_path, Path) and text.lower() in _BUILTIN_OPTIONS:
        return _builtin(text.lower())
    path = Path(name_or_path)
    if path.is_file():
        return SpinnerDictionary.load(path, strict=strict)
    raise ResourceUnavailable(
        f"unknown spinner dictionary {text!r}: not a built-in "
        f"({', '.join([*_BUILTIN_OPTIONS, 'rules', REALSIZE])}) and no such file"
    )


@cache
def rules_spinner_dictionary() -> SpinnerDictionary:
    """The "rule-based spinner": the phrase rules (`unspin.resources.rules`) read as spinner lines.

    Each rule says a spinner wrote *spun* for *original*, so the line is
    ``original|spun1|spun2``, one per original, in the rules' order with multi-word
    heads first (as auto-spinners order their files). A rule that holds only before a
    number ("a few #") becomes an ordinary line: a spinner has no context.
    """
    from unspin.resources.rules import phrase_rules

    grouped: dict[str, list[str]] = {}
    for rules in phrase_rules().values():
        for rule in rules:
            spun_forms = grouped.setdefault(rule.original, [])
            if rule.spun != rule.original and rule.spun not in spun_forms:
                spun_forms.append(rule.spun)
    ordered = sorted(grouped.items(), key=lambda item: -len(item[0].split()))
    return SpinnerDictionary("rules", [[head, *spun] for head, spun in ordered if spun])


# ------------------------------------------------------- the "realsize" dictionary

REALSIZE = "realsize"
# The thesaurus-made dictionaries whose agreement gives realsize's alternatives.
REALSIZE_SOURCES = ("wordnet", "mythes", "moby")
REALSIZE_LINES = 12_000
REALSIZE_ALTERNATIVES = (2, 3, 4)
_REALSIZE_VERSION = "1"


@cache
def realsize_spinner_dictionary(
    lines: int = REALSIZE_LINES, seed: int = 0, *, use_cache: bool = True
) -> SpinnerDictionary:
    """A dev dictionary with the *shape* of a real auto-spinner's, made from shipped resources.

    Real auto-spinner dictionaries (the English file of a popular WordPress plugin has
    12,240 lines) cover the few thousand words a news article is made of, with a few
    alternatives each; the thesaurus-made built-ins cover every word a thesaurus knows
    with up to six, which makes a spinner's vocabulary far broader than a real one and
    what 150 pages can teach far smaller (docs/benchmarks.md, "Learning a spinner's
    dictionary"). Made so that nothing follows any one thesaurus:

    - alternatives: for each head line of the built-in WordNet, MyThes and Moby
      dictionaries (inflected forms, function words out), the alternatives that at
      least two of the three list for that head, every word of them known to the
      pocketsphinx trigram model (a real word), ordered by how many agree, then by
      their summed rank;
    - heads: those with at least two such alternatives and every word known to the
      model, ranked by the model's probability of the head (unigram for a word, the
      trigram chain from ``<s>`` for a phrase; a general English model trained apart
      from the Wikinews dev articles), the ``lines`` most probable kept;
    - each line keeps 2, 3 or 4 alternatives, drawn per head with ``seed``;
    - lines with more words come first (as in the built-ins), then by probability.

    Deterministic; cached on disk like the built-ins (keyed by the sources' files).
    """
    from unspin.resources.lexical import source_fingerprint
    from unspin.resources.lm import default_ngram

    model = default_ngram()
    identity = "|".join(
        [_REALSIZE_VERSION, str(lines), str(seed), str(model.path)]
        + [source_fingerprint(name) for name in REALSIZE_SOURCES]
    )
    key = hashlib.sha1(identity.encode()).hexdigest()[:16]
    cached = cache_dir() / f"spinner-{REALSIZE}-{key}.txt"
    if use_cache and cached.is_file():
        try:
            return SpinnerDictionary.loads(
                cached.read_text(encoding="utf-8"), name=REALSIZE, format="pipe"
            )
        except (OSError, DictionaryError):
            pass
    sources = [_builtin(name) for name in REALSIZE_SOURCES]
    dictionary = build_agreement_dictionary(sources, model, lines=lines, seed=seed, name=REALSIZE)
    if use_cache:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(dictionary.dumps("pipe"), encoding="utf-8")
            partial.replace(cached)
        except OSError:
            pass
    return dictionary


def build_agreement_dictionary(
    sources: list[SpinnerDictionary],
    model,
    *,
    lines: int,
    seed: int = 0,
    name: str = REALSIZE,
    min_agree: int = 2,
    alternatives: tuple[int, ...] = REALSIZE_ALTERNATIVES,
) -> SpinnerDictionary:
    """The ``lines`` most probable heads of ``sources`` with the alternatives at least
    ``min_agree`` sources list for them (see `realsize_spinner_dictionary`).

    ``model`` is an n-gram model with ``known(word)`` and ``sequence_logprobs(words)``
    (`unspin.resources.lm.NGramLM`).
    """
    import random

    merged: list[dict[str, list[str]]] = []
    for source in sources:
        by_head: dict[str, list[str]] = {}
        for head, *alts in source.lines:
            bucket = by_head.setdefault(head, [])
            bucket.extend(alt for alt in alts if alt not in bucket)
        merged.append(by_head)
    known: dict[str, bool] = {}

    def real(phrase: str) -> bool:
        for word in phrase.split():
            if word not in known:
                known[word] = model.known(word)
            if not known[word]:
                return False
        return True

    agreed: dict[str, list[str]] = {}
    for head in sorted(set().union(*merged)):
        if not real(head):
            continue
        votes: dict[str, int] = {}
        ranks: dict[str, int] = {}
        for by_head in merged:
            for rank, alt in enumerate(by_head.get(head, ())):
                votes[alt] = votes.get(alt, 0) + 1
                ranks[alt] = ranks.get(alt, 0) + rank
        kept = [
            alt
            for alt in votes
            if votes[alt] >= min_agree and alt.lower() != head.lower() and real(alt)
        ]
        if len(kept) >= min(alternatives):
            agreed[head] = sorted(kept, key=lambda alt: (-votes[alt], ranks[alt], alt))
    probability = {head: sum(model.sequence_logprobs(head.split())) for head in agreed}
    chosen = sorted(agreed, key=lambda head: (-probability[head], head))[:lines]
    chosen.sort(key=lambda head: (-len(head.split()), -probability[head], head))
    out = []
    for head in chosen:
        count = random.Random(f"{seed}:{name}:{head}").choice(alternatives)
        out.append([head, *agreed[head][:count]])
    return SpinnerDictionary(name, out)
