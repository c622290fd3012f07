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
NUMBER_WORDS_SET = frozenset(
    NUMBER_WORDS
    + ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    + ["hundred", "hundreds", "thousand", "thousands", "million", "millions", "dozen", "dozens"]
)


# A spun phrase ending in this marker matches only when a number follows it ("a few 200 people"
# -> "about 200 people", while "a few people" is ordinary English).
NUMBER_MARKER = "#"


@dataclass(frozen=True, slots=True)
class PhraseRule:
    spun: str
    original: str
    log_prior: float
    before_number: bool = False  # only when the next token is a number (digits or number word)

    def applies(self, next_word: str | None) -> bool:
        """Whether the rule's right context holds, given the word after the spun phrase."""
        return not self.before_number or (next_word is not None and is_number(next_word))


def is_number(word: str) -> bool:
    """Digits ("200", "1,000") or a number word ("twenty")."""
    return word[:1].isdigit() or word.lower() in NUMBER_WORDS_SET


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
        before_number = spun.endswith(" " + NUMBER_MARKER)
        if before_number:
            spun = spun[: -len(NUMBER_MARKER)].strip()
        table.setdefault(spun, []).append(PhraseRule(spun, original, prior, before_number))
    # Spinners write small numbers as digits ("2" for "two"); news style spells them out.
    for value, word in enumerate(NUMBER_WORDS[:10]):
        if value >= 2:
            table.setdefault(str(value), []).append(PhraseRule(str(value), word, -3.0))
    return {key: tuple(rules) for key, rules in table.items()}


def max_rule_words() -> int:
    return max(key.count(" ") + 1 for key in phrase_rules())
