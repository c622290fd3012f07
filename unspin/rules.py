"""Phrase rules: function-word and multi-word swaps that no thesaurus lists the other way round.

On a real spun news page about a third of the substitutions are of this kind ("got here" for
"came", "the place" for "where", "will likely be" for "will be").  The table lives in
`unspin/data/phrase_rules.tsv` (documented there); a rule only proposes a candidate with a
log-prior, and the language models decide whether the context prefers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]


@dataclass(frozen=True, slots=True)
class PhraseRule:
    spun: str
    original: str
    log_prior: float


@lru_cache(maxsize=1)
def phrase_rules() -> dict[str, tuple[PhraseRule, ...]]:
    """Rules keyed by the lower-case spun phrase."""
    table: dict[str, list[PhraseRule]] = {}
    text = resources.files("unspin.data").joinpath("phrase_rules.tsv").read_text(encoding="utf-8")
    for line_number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(
                f"phrase_rules.tsv line {line_number}: expected 3 tab-separated fields"
            )
        spun, original, prior = parts[0].strip().lower(), parts[1].strip().lower(), float(parts[2])
        table.setdefault(spun, []).append(PhraseRule(spun, original, prior))
    # Spinners write small numbers as digits ("2" for "two"); news style spells them out.
    for value, word in enumerate(NUMBER_WORDS[:10]):
        if value >= 2:
            table.setdefault(str(value), []).append(PhraseRule(str(value), word, -3.0))
    return {key: tuple(rules) for key, rules in table.items()}


def max_rule_words() -> int:
    return max(key.count(" ") + 1 for key in phrase_rules())
