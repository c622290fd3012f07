"""The language models: the pocketsphinx trigram (always) and the causal LM (marked `model`)."""

from __future__ import annotations

from functools import lru_cache

import pytest

from unspin.resources.lm import (
    BACKENDS,
    DEFAULT_BACKEND,
    LN_BASE,
    LOGZERO,
    OOV_LOGPROB,
    NGramLM,
    _changed_span,
    _diff_bounds,
    _pack_row,
    default_ngram,
    resolve_backend,
)


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


@lru_cache(maxsize=1)
def _pocketsphinx_model():
    import pocketsphinx

    return pocketsphinx.NGramModel.readfile(pocketsphinx.get_model_path("en-us/en-us.lm.bin"))


def _pocketsphinx_value(ngram: NGramLM, word: str, *history: str) -> float:
    """The value straight from pocketsphinx's binding, no memo: what every path must return
    (`ngram` reads the same file, through the C extension when it is built)."""
    raw = _pocketsphinx_model().prob([word, *reversed(history[-2:])])
    return OOV_LOGPROB if raw <= LOGZERO // 2 else max(raw * LN_BASE, OOV_LOGPROB)


def test_unknown_word_floor_holds_for_every_history(ngram: NGramLM) -> None:
    # `value_of` answers an unknown scored word without asking pocketsphinx: that is only
    # right if pocketsphinx gives the floor whatever the history (known or unknown words).
    for history in [(), ("the",), ("<s>",), ("said", "the"), ("<s>", "officials"), ("qqzx", "of")]:
        assert _pocketsphinx_value(ngram, "xyzzyqwv", *history) == OOV_LOGPROB
        assert ngram.logprob("xyzzyqwv", *history) == OOV_LOGPROB
    # ... and a known word after an unknown one is still asked (not floored).
    assert ngram.logprob("the", "xyzzyqwv") == _pocketsphinx_value(ngram, "the", "xyzzyqwv")
    assert ngram.logprob("the", "xyzzyqwv") > OOV_LOGPROB


def test_memo_generations_stay_bounded_and_exact(monkeypatch) -> None:
    # A tiny bound forces many rotations: every value must still be pocketsphinx's, and the
    # two generations never hold more than the bound each.
    import unspin.resources.lm as lm

    monkeypatch.setattr(lm, "NGRAM_CACHE_ENTRIES", 5)
    model = NGramLM()
    words = [
        "officials",
        "said",
        "the",
        "old",
        "building",
        "was",
        "evacuated",
        "on",
        "monday",
        "after",
        "a",
        "gas",
        "leak",
    ]
    for _round in range(3):
        for i, word in enumerate(words):
            history = tuple(words[max(0, i - 2) : i])
            assert model.logprob(word, *history) == _pocketsphinx_value(model, word, *history)
            assert len(model._cache) <= 5 and len(model._older) <= 5
    # The hot loops' inline read sees the newest generation (rebound at each rotation).
    key = (words[-1], words[-3], words[-2])
    assert model.cached(key) == model.value_of(key)
    assert model.window_logprob(words, 0, len(words) + 1) == default_ngram().window_logprob(
        words, 0, len(words) + 1
    )


def test_converted_copy_is_named_by_content_and_old_copies_go(tmp_path) -> None:
    # Named by size and file time, every reinstall of the model package made another 540 MB
    # copy of the same model (12 piled up).  Same content, another time: the same name.
    import os

    from unspin.resources.lm import converted_name, remove_legacy_copies

    first, second = tmp_path / "a" / "model.gguf", tmp_path / "b" / "model.gguf"
    for path, stamp in ((first, 1_700_000_000), (second, 1_800_000_000)):
        path.parent.mkdir()
        path.write_bytes(b"GGUF" + bytes(range(256)) * 9000)
        os.utime(path, (stamp, stamp))
    assert converted_name(first) == converted_name(second)
    changed = tmp_path / "c.gguf"
    changed.write_bytes(b"GGUF" + bytes(range(255, -1, -1)) * 9000)
    assert converted_name(changed) != converted_name(first)
    root = tmp_path / "lm"
    size = first.stat().st_size
    legacy = root / f"model-{size}-1796612382"
    current = root / converted_name(first)
    other_model = root / f"other-{size}-1796612382"
    for folder in (legacy, current, other_model):
        folder.mkdir(parents=True)
    remove_legacy_copies(root, first)
    assert not legacy.exists() and current.exists() and other_model.exists()


def test_diff_bounds() -> None:
    assert _diff_bounds([1, 2, 3, 4], [1, 2, 9, 4]) == (2, 1)
    assert _diff_bounds([1, 2, 3], [1, 2, 3]) == (3, 0)
    assert _diff_bounds([1, 5, 6, 4], [1, 7, 4]) == (1, 1)


def test_backend_choice_argument_then_environment_then_default(monkeypatch) -> None:
    monkeypatch.delenv("UNSPIN_LM_BACKEND", raising=False)
    assert resolve_backend() == DEFAULT_BACKEND == "transformers"
    monkeypatch.setenv("UNSPIN_LM_BACKEND", "LlamaCpp")
    assert resolve_backend() == "llamacpp"
    assert resolve_backend("transformers") == "transformers"
    monkeypatch.setenv("UNSPIN_LM_BACKEND", "onnx")
    with pytest.raises(ValueError, match="unknown LM backend 'onnx'"):
        resolve_backend()


def test_changed_span_covers_the_change_and_the_tail() -> None:
    base = [0, 10, 11, 12, 13, 14, 15, 16]
    longer = [0, 10, 20, 21, 12, 13, 14, 15, 16]  # token 11 -> 20 21
    span = _changed_span(base, longer, tail=2)
    assert (span.start, span.stop, span.base_stop) == (2, 6, 5)
    # A change at token 1 never scores the BOS token 0.
    assert _changed_span(base, [0, 9, *base[2:]], tail=0).start == 1


BASE_SENTENCE = (
    "The Deputy Foreign Minister said the US positions got here as no surprise to the "
    "government in Moscow, adding that talks would continue next week."
)
SWAPS = [
    ("got here", "came"),
    ("surprise", "xylophone"),
    ("said", "mentioned"),
    ("Foreign", "International"),
    ("government", "authorities"),
    ("adding", "including"),
    ("talks", "discussions"),
    ("continue", "proceed"),
    ("next week.", "next week"),  # a change in the last token: the tail runs off the end
    ("The Deputy", "Deputy"),  # the first word after BOS
    ("talks would continue", "discussions would proceed"),
]
VARIANTS = [BASE_SENTENCE.replace(a, b, 1) for a, b in SWAPS] + [BASE_SENTENCE]


def test_packed_row_lets_each_variant_see_only_its_own_context() -> None:
    # Three variants of the base [0, 10, 11, 12, 13] packed in one row after the base: the
    # base's rows predict each first changed token, tokens the variants share after that
    # are laid out once, and no token sees another variant's tokens.
    torch = pytest.importorskip("torch")
    base = [0, 10, 11, 12, 13]
    spans = [
        _changed_span(base, [0, 10, 20, 12, 13], tail=1),  # scores 20 12
        _changed_span(base, [0, 10, 11, 30, 13], tail=0),  # scores 30
        _changed_span(base, [0, 10, 20, 12, 99], tail=0),  # scores 20 12 99: extends the first
    ]
    row = _pack_row(spans, [0, 1, 2], base)
    assert row.input_ids == [0, 10, 11, 12, 13, 20, 12]
    assert row.positions == [0, 1, 2, 3, 4, 2, 3]
    assert row.picks == [[(1, 20), (5, 12)], [(2, 30)], [(1, 20), (5, 12), (6, 99)]]
    assert row.base_picks == [(0, 10), (1, 11), (2, 12), (3, 13)]
    seen = row.mask(torch, torch.float32)[0, 0] == 0
    assert seen[:5, :5].equal(torch.ones(5, 5, dtype=torch.bool).tril())  # the base: causal
    assert seen[5].nonzero().flatten().tolist() == [0, 1, 5]  # base 0-1, then itself
    assert seen[6].nonzero().flatten().tolist() == [0, 1, 5, 6]
    # Without the base in the row, the columns before the row are the cached base tokens,
    # and each variant's path starts with the base token before its change.
    cached = _pack_row(spans, [0, 1, 2], None)
    assert cached.cached == 2
    assert cached.input_ids == [10, 20, 11, 12]
    assert cached.positions == [1, 2, 2, 3]
    assert cached.picks == [[(0, 20), (1, 12)], [(2, 30)], [(0, 20), (1, 12), (3, 99)]]
    seen = cached.mask(torch, torch.float32)[0, 0] == 0
    assert seen.shape == (4, 6)
    assert seen[1].nonzero().flatten().tolist() == [0, 2, 3]  # cached 0, rows 0-1
    assert seen[2].nonzero().flatten().tolist() == [0, 1, 4]  # cached 0-1, itself
    assert seen[3].nonzero().flatten().tolist() == [0, 2, 3, 5]


def _load(backend: str):
    from unspin.resources.lm import ModelUnavailable, load_causal_lm

    try:
        return load_causal_lm("default", backend=backend)
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_causal_lm_scores_variants(backend: str) -> None:
    lm = _load(backend)
    gains = lm.variant_gains(BASE_SENTENCE, VARIANTS)
    assert gains[0] > 3  # the original reads better
    assert gains[1] < -3  # nonsense reads worse
    assert gains[-1] == 0.0
    scored = lm.score(BASE_SENTENCE)
    assert len(scored.token_ids) == len(scored.logprobs)
    assert all(lp <= 0 for lp in scored.logprobs)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_variant_gains_equal_scoring_each_variant_in_full(backend: str) -> None:
    # The batched, prefix-cached path must give what scoring each whole variant gives.
    lm = _load(backend)
    batched = lm.variant_gains(BASE_SENTENCE, VARIANTS)
    base = lm.score(BASE_SENTENCE)
    for variant, gain in zip(VARIANTS, batched, strict=True):
        scored = lm.score(variant)
        span = _changed_span(base.token_ids, scored.token_ids, 4)
        full = sum(scored.logprobs[span.start : span.stop]) - sum(
            base.logprobs[span.start : span.base_stop]
        )
        assert gain == pytest.approx(full, abs=1e-3), variant


@pytest.mark.model
@pytest.mark.slow
def test_packing_in_many_calls_or_on_a_cached_base_gives_the_same_gains(monkeypatch) -> None:
    # transformers packs a sentence and its variants in one forward call; split into many
    # calls (a few tokens each, on the cached base) or after the base was scored on its own,
    # the gains must not change.
    from unspin.resources import lm as lm_module

    lm = _load("transformers")
    lm.backend._base_ids = None
    one_call = lm.variant_gains(BASE_SENTENCE, VARIANTS)
    lm.score(BASE_SENTENCE)  # the base is now cached: the variants are packed on top of it
    assert lm.variant_gains(BASE_SENTENCE, VARIANTS) == pytest.approx(one_call, abs=1e-3)
    monkeypatch.setattr(lm_module, "PACK_TOKENS", 6)
    lm.backend._base_ids = None
    assert lm.variant_gains(BASE_SENTENCE, VARIANTS) == pytest.approx(one_call, abs=1e-3)


@pytest.mark.model
@pytest.mark.slow
def test_backends_agree_on_the_default_model() -> None:
    # Q4_1 weights (llama.cpp) and their float32 de-quantisation (transformers) are the same
    # model up to rounding: the gains must agree in sign and roughly in size.
    transformers_gains = _load("transformers").variant_gains(BASE_SENTENCE, VARIANTS)
    llamacpp_gains = _load("llamacpp").variant_gains(BASE_SENTENCE, VARIANTS)
    for a, b in zip(transformers_gains, llamacpp_gains, strict=True):
        assert a == pytest.approx(b, abs=1.0)


@pytest.mark.model
@pytest.mark.slow
def test_local_model_directory_loads_through_transformers(tmp_path) -> None:
    # The Hugging Face path (id or local directory) on what the packages ship: the default
    # GGUF saved as a transformers folder scores exactly as the GGUF does.
    from unspin.resources.lm import CausalLM

    gguf = _load("transformers")
    gguf.backend.model.save_pretrained(tmp_path)
    gguf.backend.tokenizer.save_pretrained(tmp_path)
    folder = CausalLM(str(tmp_path))
    assert folder.backend_name == "transformers"
    assert folder.variant_gains(BASE_SENTENCE, VARIANTS) == pytest.approx(
        gguf.variant_gains(BASE_SENTENCE, VARIANTS), abs=1e-3
    )
    with pytest.raises(ValueError, match="llama.cpp runs .gguf files only"):
        CausalLM(str(tmp_path), backend="llamacpp")


@pytest.mark.model
@pytest.mark.slow
def test_article_pass_in_chunks_equals_one_pass(monkeypatch) -> None:
    # transformers scores a long text in PASS_CHUNK-token chunks on top of the cache.
    from unspin.resources import lm as lm_module

    lm = _load("transformers")
    text = " ".join([BASE_SENTENCE] * 12)  # ~370 tokens: two chunks
    lm.backend._base_ids = None
    chunked = lm.score(text)
    assert len(chunked.token_ids) > lm_module.PASS_CHUNK
    monkeypatch.setattr(lm_module, "PASS_CHUNK", 4096)
    lm.backend._base_ids = None
    whole = lm.score(text)
    assert chunked.token_ids == whole.token_ids
    assert chunked.logprobs == pytest.approx(whole.logprobs, abs=1e-3)
