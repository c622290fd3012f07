"""The compiled n-gram hot path (unspin/_trigram.c) gives exactly what the Python code gives.

Every comparison is `==`, not approx: the engine's decisions depend on the exact numbers, and
the C code promises the same sums in the same order and the same tie-breaking.  The Python
reference is the same classes with UNSPIN_PURE_PYTHON=1.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("unspin._trigram", reason="the C extension was not built (no C compiler?)")

from unspin.engine import Engine  # noqa: E402
from unspin.engine.candidates import Candidate  # noqa: E402
from unspin.engine.config import EngineConfig  # noqa: E402
from unspin.engine.decoding import Decoder, PageState  # noqa: E402
from unspin.resources.lm import NGramLM  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Common words, rare ones, and words the model does not know (several, told apart).
VOCABULARY = [
    "the",
    "a",
    "of",
    "to",
    "said",
    "minister",
    "foreign",
    "deputy",
    "positions",
    "came",
    "as",
    "no",
    "surprise",
    "court",
    "case",
    "was",
    "tossed",
    "out",
    "due",
    "to",
    "insufficient",
    "evidence",
    "but",
    "an",
    "appeal",
    "by",
    "prosecutors",
    "fixed",
    "chance",
    "jury",
    "qqzxv",
    "wbblt",
    "xyzzyq",
    "th'",
    "ascribable",
    "woo",
    "encase",
]


@pytest.fixture(scope="module")
def models() -> tuple[NGramLM, NGramLM]:
    """(compiled, pure Python) on the same model file."""
    compiled = NGramLM()
    assert compiled.compiled is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNSPIN_PURE_PYTHON", "1")
        pure = NGramLM()
    assert pure.compiled is None
    return compiled, pure


def _sentence(rng: random.Random, low: int = 1, high: int = 14) -> list[str]:
    return [rng.choice(VOCABULARY) for _ in range(rng.randint(low, high))]


def test_every_lookup_is_pocketsphinx_value(models) -> None:
    compiled, pure = models
    trigram = compiled.compiled
    rng = random.Random(1)
    for _ in range(3000):
        word, h1, h2 = (rng.choice([*VOCABULARY, "<s>", "</s>"]) for _ in range(3))
        w, i1, i2 = compiled.ids([word, h1, h2])
        assert trigram.prob(w) == pure.logprob(word)
        assert trigram.prob(w, i1) == pure.logprob(word, h1)
        assert trigram.prob(w, i1, i2) == pure.logprob(word, h2, h1)
        assert compiled.known(word) == pure.known(word)
        # ...and the model's own entry points, which go through the extension
        assert compiled.logprob(word, h2, h1) == pure.logprob(word, h2, h1)
    assert compiled._model is None  # the model file is read once, by the extension


def test_windows_equal_the_python_windows(models) -> None:
    compiled, pure = models
    rng = random.Random(2)
    for _ in range(300):
        words = _sentence(rng)
        for start in range(-1, len(words) + 2):
            end = rng.randint(start, len(words) + 3)
            assert compiled.window_logprob(words, start, end) == pure.window_logprob(
                words, start, end
            )


def test_the_lookup_memo_spreads_its_keys() -> None:
    # The memo's slot once ignored the scored word's bits: every unigram, and every word
    # asked in one context, probed one chain (3x slower detect, same values).  Thousands of
    # distinct words alone and in one context must stay close to their home slots.
    import pocketsphinx
    from unspin._trigram import Trigram

    model = pocketsphinx.get_model_path("en-us/en-us.lm.bin")
    trigram = Trigram(pocketsphinx._pocketsphinx.__file__, model, -14.0, 1e-4, -536870912)
    the, said = trigram.wid("the"), trigram.wid("said")
    words = [w for w in range(0, 130_000, 20) if trigram.known(w)]
    assert len(words) > 3000
    for word in words:
        trigram.prob(word)
        trigram.prob(word, the)
        trigram.prob(word, the, said)
    entries, longest = trigram.memo_stats()
    assert entries == 3 * len(words)
    assert longest < 64


def test_unknown_words_get_distinct_ids_but_the_model_value(models) -> None:
    compiled, _pure = models
    ids = compiled.ids(["qqzxv", "wbblt", "qqzxv", "the"])
    assert ids[0] == ids[2] and ids[0] != ids[1] and min(ids[:3]) < -1 and ids[3] >= 0
    trigram = compiled.compiled
    # Any unknown history word is the model's one unknown id: the same value.
    assert trigram.prob(ids[3], ids[0]) == trigram.prob(ids[3], ids[1]) == trigram.prob(ids[3], -1)


def _candidates(rng: random.Random, words: list[str]) -> list[Candidate]:
    found = {}
    for _ in range(rng.randint(1, 3 * len(words))):
        first = rng.randrange(len(words))
        last = min(len(words) - 1, first + rng.choice([0, 0, 0, 1, 2]))
        text = " ".join(rng.choice(VOCABULARY) for _ in range(rng.choice([1, 1, 2, 3])))
        if rng.random() < 0.3:
            text = text.capitalize()
        cand = Candidate(first, last, text, prior=rng.choice([0.0, -1.0, 1.5, 2.0]))
        found.setdefault(cand.key, cand)
    return list(found.values())


@pytest.mark.parametrize("width", [EngineConfig().beam_width, 2, 1])
def test_candidate_gains_and_beam_equal_the_python_decoder(models, width: int) -> None:
    # A narrow beam prunes often, so hypotheses that the C code told apart wrongly (or
    # merged) would change the path.
    compiled, pure = models
    config = EngineConfig(beam_width=width)
    fast, slow = Decoder(compiled, config), Decoder(pure, config)
    state = PageState()
    rng = random.Random(3)
    chosen_any = 0
    for _ in range(400):
        words = _sentence(rng, 2, 16)
        candidates = _candidates(rng, words)
        gains = fast.ngram_scores(words, candidates)
        assert gains == slow.ngram_scores(words, candidates)
        scored = list(zip(gains, candidates, strict=True))
        in_quote = [rng.random() < 0.1 for _ in words]
        for margin in (-4.0, 1.0, 4.0):
            path = fast.beam(words, scored, in_quote, margin, state)
            assert [c.key for c in path] == [
                c.key for c in slow.beam(words, scored, in_quote, margin, state)
            ]
            chosen_any += bool(path)
        assert fast.decide_ngram(words, scored, in_quote, state) == slow.decide_ngram(
            words, scored, in_quote, state
        )
    assert chosen_any > 100  # the comparison covered paths with edits, not only empty ones


def test_unknown_words_are_separate_hypotheses_when_the_beam_prunes(models) -> None:
    # Two unknown replacements of "court" score alike; the Python beam keys hypotheses by
    # their words, so they fill a beam of two and push the unchanged reading out, although
    # it would win at the end.  C code that merged all unknown words into one id would keep
    # the unchanged reading: find a prior where the two beams differ, and compare.
    compiled, pure = models
    words = ["the", "minister", "said", "court", "today"]
    found = 0
    for step in range(600):
        cands = [
            Candidate(3, 3, "qqzxv", prior=step / 20),
            Candidate(3, 3, "wbblt", prior=step / 20),
        ]
        narrow, wide = EngineConfig(beam_width=2), EngineConfig(beam_width=10)
        scored = list(zip(Decoder(pure, narrow).ngram_scores(words, cands), cands, strict=True))
        args = (words, scored, [False] * 5, 0.0, PageState())
        python_narrow = [c.text for c in Decoder(pure, narrow).beam(*args)]
        if python_narrow == ["qqzxv"] and Decoder(pure, wide).beam(*args) == []:
            found += 1
            assert [c.text for c in Decoder(compiled, narrow).beam(*args)] == python_narrow
    assert found  # the case exists for this model


def test_engine_output_is_the_same_with_and_without_the_extension(monkeypatch) -> None:
    text = (EXAMPLES / "spun-dump.txt").read_text(encoding="utf-8")
    compiled = Engine(model=None).analyse(text)
    monkeypatch.setenv("UNSPIN_PURE_PYTHON", "1")
    monkeypatch.setattr("unspin.resources.lm.default_ngram", NGramLM)  # not the shared one
    engine = Engine(model=None)
    assert engine.ngram.compiled is None
    pure = engine.analyse(text)
    assert compiled.decisions and compiled.probability == pure.probability
    assert [(d.start, d.end, d.after, d.score, d.alternatives) for d in compiled.decisions] == [
        (d.start, d.end, d.after, d.score, d.alternatives) for d in pure.decisions
    ]


def test_bad_input_raises_instead_of_crashing(models) -> None:
    compiled, _pure = models
    trigram = compiled.compiled
    ids = compiled.ids(["the", "minister", "said"])
    with pytest.raises(IndexError):
        trigram.beam(ids, [(2, 5, [1], 0.0)], 8)
    with pytest.raises(IndexError):
        trigram.gains(ids, [(-1, 0, [1])], 1.5)
    with pytest.raises(TypeError):
        trigram.window(["the"], 0, 2)
    from pocketsphinx import _pocketsphinx
    from unspin._trigram import Trigram

    with pytest.raises(OSError, match="could not read"):
        Trigram(_pocketsphinx.__file__, "/nonexistent/model.bin", -14.0, 1e-4, -536870912)
    with pytest.raises(OSError, match="cannot open"):
        Trigram("/nonexistent/lib.so", "/nonexistent/model.bin", -14.0, 1e-4, -536870912)


def test_a_pocketsphinx_without_the_c_api_falls_back_to_python(monkeypatch) -> None:
    # Another pocketsphinx build might not export its C API: the engine must still work.
    import unspin._trigram

    def refuse(*_args):
        raise OSError("does not export the pocketsphinx n-gram API")

    monkeypatch.setattr(unspin._trigram, "Trigram", refuse)
    with pytest.warns(UserWarning, match="hot path unavailable"):
        model = NGramLM()
    assert model.compiled is None
    assert model.window_logprob(["the", "minister", "said"], 0, 4) < 0
