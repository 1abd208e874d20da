"""On-disk cache of what the memory's readers derive from their fixed training files.

Every process used to embed about 4,000 training sentences and fit two classifiers before its first
reading (about 20 CPU-seconds: the first ``observe`` of ``pad serve``, ``pad chat``, each example and each
test subprocess paid it). The result depends only on the training text, the fit settings and the
encoder's numerics, so it is stored once under the user's cache and loaded after that.

The key is the sha256 of: a format version, the caller's kind and key parts (the training rows, the fit
settings), and the encoder's **fingerprint**: the model file's sha256, whether it is quantized, and the
vectors it gives for three probe texts on this machine (one longer than any truncation). A different
model, torch build, CPU kernel or truncation that moves a single bit of those vectors gives another key,
so a cached array is only ever reused where recomputing it would give the same numbers (as far as three
probes can tell: a change that spares them, such as new pooling for one length only, needs
``FORMAT_VERSION`` raised). Files are ``.npz`` read with ``allow_pickle=False`` and
written atomically (a temporary file, then ``os.replace``), so concurrent processes and a crash mid-write
leave either a whole file or none.

``PAD_MEMORY_CACHE_DIR`` moves the cache (default ``$XDG_CACHE_HOME/pad-integrations/memory``, else
``~/.cache/...``); ``PAD_MEMORY_CACHE_DIR=off`` turns it off. An unwritable cache only costs the time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT_VERSION = "1"
# Two short sentences and one past any truncation length, so a change in how long inputs are cut is seen too.
PROBES = (
    "I really like quiet mornings with a good book.",
    "Please never mention my ex again.",
    " ".join(f"word{i}" for i in range(400)),
)


def cache_dir() -> Path | None:
    """Where cached arrays live, or None when caching is off."""
    configured = os.environ.get("PAD_MEMORY_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "0", "off", "none") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pad-integrations" / "memory"


def encoder_fingerprint(encoder: Any) -> str | None:
    """What the encoder's vectors depend on, or None for an encoder this cache does not know (a test's
    hashed encoder: not worth caching, and nothing vouches for its determinism)."""
    from memory.embedding import SHA256, SentenceEncoder

    if not isinstance(encoder, SentenceEncoder):
        return None
    vectors = encoder.encode(list(PROBES))
    digest = hashlib.sha256(f"{SHA256}|quantize={encoder.quantize}|".encode())
    digest.update(vectors.tobytes())
    return digest.hexdigest()


def cached_arrays(
    kind: str, parts: Sequence[str], encoder: Any, build: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """``build()``'s arrays (a dict of numpy arrays), from the cache when the same ``kind``, ``parts`` and
    encoder built them before; built and stored otherwise."""
    import numpy as np

    directory = cache_dir()
    fingerprint = encoder_fingerprint(encoder) if directory is not None else None
    if directory is None or fingerprint is None:
        return build()
    digest = hashlib.sha256(f"{FORMAT_VERSION}\0{kind}\0{fingerprint}".encode())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8"))
    path = directory / f"{kind}-{digest.hexdigest()[:40]}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        pass
    except Exception as exc:  # a damaged or foreign file: rebuild and replace it
        logger.warning("memory cache %s unreadable (%s); rebuilding it", path, exc)
    arrays = build()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{kind}-", suffix=".npz.tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.info("memory cache not written (%s); the next process builds %s again", exc, kind)
    return arrays


class CorpusEncoder:
    """``encode`` of fixed corpora (concept examples, their words) through the cache, keyed by the exact
    texts, so no code that chooses the texts can leave a stale entry behind."""

    def __init__(self, encoder: Any, kind: str) -> None:
        self.encoder = encoder
        self.kind = kind

    def encode(self, texts: Sequence[str]) -> Any:
        import json

        texts = list(texts)
        key = json.dumps(texts, ensure_ascii=False)
        return cached_arrays(self.kind, [key], self.encoder, lambda: {"v": self.encoder.encode(texts)})["v"]
