"""Every tuning constant of the engine, as data: `EngineConfig`.

Natural-log units.  Each field says why it has its value; docs/engine.md and
docs/benchmarks.md say how the values were measured.  Benchmarks try another value with
`Engine(config=EngineConfig(...))` or `dataclasses.replace(config, name=value)`, never by
patching module globals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class EngineConfig:
    """How candidates are weighed and decoded.  Frozen: one engine, one setting, any thread."""

    # An edit must beat the spun text by this much before other evidence.
    thesaurus_prior: float = -3.0
    # Per extra resource agreeing on the relation.
    source_bonus: float = 0.75
    # A user spinner dictionary lists exactly this substitution (log-prior, once a page is spun).
    user_dict_prior: float = 8.0
    # A learned lexicon's pair: this plus the log-odds of its counts (sources/lexicon.py).
    # Measured (bench_learn, WordNet-spun, 150 traced pages): 1.5 restores 47.6% of sites
    # and changes 2.0% of untouched words; 3: 49.1% / 2.65%; 5: 50.8% / 3.97%.
    lexicon_prior: float = 1.5
    # ...when the spun word heads a line of that dictionary itself (the spinner would have
    # replaced it, so it is more likely an original the spinner skipped).
    head_dict_prior: float = 0.0
    # n-gram engine: bias towards shorter text, per word removed.
    length_penalty: float = 1.5
    # n-gram-only engine: accept when gain + prior > this.
    ngram_margin: float = 4.0
    # ...when decoding a page already judged spun (the agreement-weighted second pass).
    spun_pass_margin: float = 4.0
    # On a page already judged spun (n-gram engine) a thesaurus candidate only one resource
    # knows pays this much more; one that every resource knowing the spun word relates to it
    # (at least two) this much less.  Tuned on the WordNet- and MyThes-spun dev sets only; the
    # Moby-spun set is the held-out check.
    spun_single_source_cost: float = 2.5
    spun_agreement_bonus: float = 1.5
    # Causal engine: sites whose n-gram score + prior passes this are re-scored.
    prefilter: float = 1.0
    # Causal engine: accept when combined score > this (set on dev data).
    causal_margin: float = 4.0
    # Weight of the n-gram gain next to the causal-LM gain.
    ngram_weight_with_lm: float = 0.5
    # Extra margin inside quotations (and, with the causal LM, in headlines).
    quote_margin: float = 3.0
    # Edits only above this document-level spin probability, except spintax repairs.  (Edits
    # 10 nats above the margin used to pass too: on 180 clean-article runs they were 5 of the
    # 7 changed documents, against 0.1 points of restoration.)
    spun_gate: float = 0.7
    # Per extra word of a multi-word spun phrase found in a resource.
    phrase_bonus: float = 2.0
    # On a page judged spun, a phrase rule of several words with at least this log-prior is
    # as specific as a listed phrase ("give attention to"); rules with lower priors are
    # ordinary English too often ("by way of" -> "by" changed untouched words).
    rule_typical: float = -1.5
    # A page whose fast pass took a typical multi-word rule edit ("got here" -> "came") was
    # spun by a tool that uses phrase rules: its other rule forms with at least
    # `rule_family_min` get this much more ("right here", "in search of": neither occurs in
    # the 294 clean dev articles; "had been", "can be" occur 69 and 63 times and stay below).
    rule_family_bonus: float = 2.0
    rule_family_min: float = -2.0
    # "a excessive" is grammar a spinner broke: a candidate restoring agreement with the
    # article gains this much; one breaking it pays it.
    article_agreement: float = 3.0
    # A two-word phrase reached through a synonym of one of its words ("irregular woodland"
    # -> "irregular forest", listed for "random forest") costs this much more than a listed
    # phrase; only on pages judged spun.
    hop_cost: float = 1.5
    # Synonyms per word tried for such a hop.
    hop_synonyms: int = 12
    # Resources whose groups are an original term and its tortured variants.
    term_lists: frozenset[str] = frozenset({"pps"})
    # Candidates kept per spun phrase, most resources agreeing first (40 -> 25: 1.5x faster
    # detection for 0.2 points of restoration; 15 loses 1.3 points for 1.8x).
    max_candidates_per_span: int = 25
    # Candidates per site re-scored by the causal LM.
    top_per_site: int = 2
    # Adjacent sites decoded jointly by the causal LM.
    max_cluster: int = 3
    # Sentence variants the causal LM scores per document (cost bound).
    causal_budget: int = 200
    # Beam over a sentence's lattice: hypotheses kept, candidates per position entering it,
    # and the floor below which a candidate's own gain minus cost never enters.
    beam_width: int = 8
    beam_options: int = 6
    beam_prune: float = -12.0
    # A spintax leftover ("{word}") is certain: repaired even on pages judged clean.
    spintax_prior: float = 20.0

    @classmethod
    def names(cls) -> list[str]:
        """The field names, for command lines that set one (`unspin bench --set`)."""
        return [f.name for f in fields(cls)]

    def with_settings(self, settings: Iterable[str]) -> EngineConfig:
        """A copy with `name=value` settings applied, each value read as the field's type.

        Raises ValueError naming the field when a name is unknown or a value does not parse.
        """
        changes: dict[str, object] = {}
        for item in settings:
            name, sep, value = item.partition("=")
            name = name.strip().lower()
            if not sep or name not in self.names():
                raise ValueError(
                    f"no engine setting {name!r} (use one of: {', '.join(self.names())})"
                )
            current = getattr(self, name)
            try:
                if isinstance(current, frozenset):
                    changes[name] = frozenset(v.strip() for v in value.split("|") if v.strip())
                else:
                    changes[name] = type(current)(value.strip())
            except ValueError:
                raise ValueError(
                    f"engine setting {name} takes a {type(current).__name__}, not {value!r}"
                ) from None
        return replace(self, **changes)
