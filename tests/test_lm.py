"""The language models: the pocketsphinx trigram (always) and the causal LM (marked `model`)."""

from __future__ import annotations

import pytest

from unspin.resources.lm import OOV_LOGPROB, NGramLM, _diff_bounds, default_ngram


@pytest.fixture(scope="module")
def ngram() -> NGramLM:
    return default_ngram()


def test_ngram_prefers_fluent_english(ngram: NGramLM) -> None:
    fluent = ["the", "foreign", "minister", "said"]
    spun = ["the", "international", "minister", "mentioned"]
    assert ngram.window_logprob(fluent, 0, 5) > ngram.window_logprob(spun, 0, 5) + 5


def test_ngram_history_order_is_oldest_first(ngram: NGramLM) -> None:
    # P(minister | the foreign) is high; P(the | minister foreign) is not.
    assert ngram.logprob("minister", "the", "foreign") > ngram.logprob("the", "minister", "foreign")


def test_ngram_unknown_words_get_the_floor(ngram: NGramLM) -> None:
    assert ngram.logprob("xyzzyqwv") == OOV_LOGPROB
    assert not ngram.known("xyzzyqwv")
    assert ngram.known("said")


def test_window_logprob_sums_sequence_logprobs(ngram: NGramLM) -> None:
    words = ["officials", "said", "the", "building", "was", "evacuated"]
    total = sum(ngram.sequence_logprobs(words)) + ngram.logprob("</s>", words[-2], words[-1])
    assert ngram.window_logprob(words, 0, len(words) + 1) == pytest.approx(total)


def test_window_logprob_of_every_window_matches_the_padded_definition(ngram: NGramLM) -> None:
    # The window is computed in place (no padded copy); every window must still equal the
    # padded definition, sentence start and end included, cache hit or miss.
    words = ["rescuers", "said", "the", "old", "building", "was", "evacuated"]
    padded = ["<s>", "<s>", *words, "</s>"]

    def reference(start: int, end: int) -> float:
        total = 0.0
        for i in range(start + 2, min(end, len(words) + 1) + 2):
            h2, h1 = padded[i - 2], padded[i - 1]
            history = (h1,) if h2 == h1 == "<s>" else (h2, h1)
            total += ngram.logprob(padded[i], *history)
        return total

    for start in range(len(words) + 1):
        for end in range(start, len(words) + 3):
            assert ngram.window_logprob(words, start, end) == pytest.approx(reference(start, end))
    assert ngram.cached(("said", "<s>", "rescuers")) == ngram.logprob("said", "<s>", "rescuers")


def test_diff_bounds() -> None:
    assert _diff_bounds([1, 2, 3, 4], [1, 2, 9, 4]) == (2, 1)
    assert _diff_bounds([1, 2, 3], [1, 2, 3]) == (3, 0)
    assert _diff_bounds([1, 5, 6, 4], [1, 7, 4]) == (1, 1)


@pytest.mark.model
@pytest.mark.slow
def test_causal_lm_scores_variants() -> None:
    from unspin.resources.lm import ModelUnavailable, load_causal_lm

    try:
        lm = load_causal_lm("default")
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    base = "The Deputy Foreign Minister said the US positions got here as no surprise."
    gains = lm.variant_gains(
        base,
        [base.replace("got here", "came"), base.replace("surprise", "xylophone"), base],
    )
    assert gains[0] > 3  # the original reads better
    assert gains[1] < -3  # nonsense reads worse
    assert gains[2] == 0.0
    scored = lm.score(base)
    assert len(scored.token_ids) == len(scored.logprobs)
    assert all(lp <= 0 for lp in scored.logprobs)
