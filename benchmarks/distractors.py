"""Deterministic synthetic news-like distractor documents for the tracing benchmarks.

Why synthetic: the index must hold >= 100,000 documents, and we only have 294
real originals. A random web crawl would be easy negatives; these are hard
ones, built to look like other articles on the *same stories*:

- Each distractor has a *topic* article T drawn from the pool. Between 30 % and
  60 % of its 8-24 sentences are sentences of T (at most half of T's
  sentences, shuffled), the rest are sentences of other pool articles.
- In every sentence the anchors a tracer relies on (capitalised words that do
  not open the sentence, and numbers) are rewritten: each is kept with
  probability 0.35 in T's sentences and 0.10 in the others, otherwise a name
  becomes a generated one (syllables, fixed per distractor so it recurs like a
  real name) and a number a random one of the same number of digits.
- Sentences are grouped 2-4 to a paragraph; the title is T's title rewritten
  the same way.

So a distractor shares T's topic names, its wording and sentence skeletons,
but never contains a whole original (at most half of T's sentences, and those
rewritten), which keeps the true source of a copy unambiguous.

Determinism: distractor `i` depends only on (seed, i) and the pool (its order
and content), through `random.Random(f"{seed}:{i}")`.

    python benchmarks/distractors.py --count 100000 --seed 0 > distractors.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared/data/wikinews/articles.jsonl"

_SENTENCE_RE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'”’)]*)?")
_TOKEN_RE = re.compile(r"[^\W\d_][\w'’\-]*|\d+(?:[.,]\d+)*")
_ONSETS = [
    "b",
    "br",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "st",
    "t",
    "tr",
    "v",
    "w",
    "z",
    "ch",
    "sh",
    "th",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou", "ia"]
_CODAS = ["", "", "n", "r", "l", "s", "k", "m", "th", "nd", "rk", "v"]

TOPIC_KEEP = 0.35
OTHER_KEEP = 0.10


def load_corpus(path: str | Path = DEFAULT_CORPUS) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_RE.findall(text) if len(s.strip().split()) >= 4]


def _generated_name(rng: random.Random) -> str:
    syllables = rng.choice((2, 2, 3))
    word = "".join(
        rng.choice(_ONSETS)
        + rng.choice(_VOWELS)
        + (rng.choice(_CODAS) if n == syllables - 1 else "")
        for n in range(syllables)
    )
    return word.capitalize()


class _Rewriter:
    """Rewrites the anchors of sentences for one distractor (names stay consistent within it)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.names: dict[str, str] = {}

    def sentence(self, sentence: str, keep: float) -> str:
        def replace(match: re.Match[str]) -> str:
            token = match.group()
            if match.start() == 0 or self.rng.random() < keep:
                return token
            if token[0].isdigit():
                return "".join(str(self.rng.randrange(10)) if ch.isdigit() else ch for ch in token)
            if not token[0].isupper():
                return token
            key = token.lower()
            if key not in self.names:
                self.names[key] = _generated_name(self.rng)
            name = self.names[key]
            return name.upper() if token.isupper() and len(token) > 1 else name

        return _TOKEN_RE.sub(replace, sentence)


def generate(
    count: int,
    *,
    seed: int = 0,
    pool: Sequence[dict] | None = None,
    prefix: str = "distractor",
) -> Iterator[dict]:
    """Yield `count` distractors {"id", "title", "text", "url", "date"} built from `pool`."""
    pool = list(pool if pool is not None else load_corpus())
    split = [_sentences(article["text"]) for article in pool]
    usable = [i for i, sentences in enumerate(split) if len(sentences) >= 2]
    if not usable:
        raise ValueError("the pool has no article with two or more sentences")
    for number in range(count):
        rng = random.Random(f"{seed}:{number}")
        rewriter = _Rewriter(rng)
        topic = rng.choice(usable)
        topic_sentences = split[topic]
        length = rng.randint(8, 24)
        from_topic = min(round(length * rng.uniform(0.3, 0.6)), len(topic_sentences) // 2)
        from_topic = max(from_topic, 1)
        chosen = [(s, TOPIC_KEEP) for s in rng.sample(topic_sentences, from_topic)]
        while len(chosen) < length:
            other = rng.choice(usable)
            if other != topic:
                chosen.append((rng.choice(split[other]), OTHER_KEEP))
        rng.shuffle(chosen)
        sentences = [rewriter.sentence(s, keep) for s, keep in chosen]
        paragraphs = []
        while sentences:
            size = rng.randint(2, 4)
            paragraphs.append(" ".join(sentences[:size]))
            sentences = sentences[size:]
        yield {
            "id": f"{prefix}/{seed}/{number:06d}",
            "title": rewriter.sentence(pool[topic]["title"], TOPIC_KEEP),
            "text": "\n\n".join(paragraphs),
            "url": f"https://distractor.invalid/{seed}/{number}",
            "date": f"20{rng.randint(10, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="JSONL of originals")
    parser.add_argument(
        "--exclude", nargs="*", default=[], help="ids of corpus articles not to draw from"
    )
    args = parser.parse_args(argv)
    excluded = set(args.exclude)
    pool = [a for a in load_corpus(args.corpus) if a["id"] not in excluded]
    out = sys.stdout
    for document in generate(args.count, seed=args.seed, pool=pool):
        out.write(json.dumps(document, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
