"""Evidence as data: what supports a candidate or an edit, from the source to the output.

Like ftfy's `fix_and_explain`, the engine returns its reasons as values a program can read
(`source`, `relation`, `resources`, `weight`) with a `detail` line for people, instead of
strings that callers would have to parse back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason for a candidate or an edit.

    `source` names what produced it: a candidate source ("thesaurus", "rule", "dictionary",
    "spintax", "variant", "term", "lexicon", "spinner-model", "source") or a scorer
    ("ngram", "causal", "agreement").  `relation` is "inverse" (a spinner using the resource
    would have made exactly this swap), "forward" (the reverse pair only) or "" where
    direction means nothing.  `weight` is the log-prior or gain it contributed, in nats.
    """

    source: str
    detail: str
    relation: str = ""
    resources: tuple[str, ...] = ()
    weight: float | None = None
    # The hash, computed once: an Evidence goes into a candidate's set every time its
    # proposal is used (thousands of times an article), and the generated hash rebuilt and
    # hashed the five fields each time (a tenth of a warm detect pass).  The same value as
    # the generated one, so sets iterate in the same order.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = (self.source, self.detail, self.relation, self.resources, self.weight)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        # Rebuilt from its fields, so another process (its own string hashes) rehashes it.
        return (Evidence, (self.source, self.detail, self.relation, self.resources, self.weight))

    def __str__(self) -> str:
        return self.detail

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "relation": self.relation,
            "resources": list(self.resources),
            "detail": self.detail,
            "weight": self.weight,
        }
