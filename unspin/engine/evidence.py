"""Evidence as data: what supports a candidate or an edit, from the source to the output.

Like ftfy's `fix_and_explain`, the engine returns its reasons as values a program can read
(`source`, `relation`, `resources`, `weight`) with a `detail` line for people, instead of
strings that callers would have to parse back.
"""

from __future__ import annotations

from dataclasses import dataclass
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
