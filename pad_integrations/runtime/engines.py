"""Process-wide shared engines: one loaded ``GuidedGenerator`` per (model, reward model, device, dtype).

LangChain rebuilds a chat model object on every ``configurable_fields`` call and LlamaIndex copies
LLMs per user, so weights cannot live on the adapter objects: they live here, keyed by what makes
them different, and every copy finds the same engine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pad_integrations.runtime import decode_queue

if TYPE_CHECKING:
    import torch

    from pad_integrations.generation import GuidedGenerator


def default_model_path() -> str:
    """The default model (used when no ``model`` is given)."""
    from pad_integrations import demo

    return str(demo.model_path())


@dataclass(frozen=True)
class EngineKey:
    model: str
    reward_model: str | None = None
    device: str | None = None
    dtype: str | None = None


_engines: dict[EngineKey, GuidedGenerator] = {}
_engines_lock = threading.Lock()
_key_locks: dict[EngineKey, threading.Lock] = {}


def get_generator(
    model: str | None = None,
    reward_model: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
) -> GuidedGenerator:
    """The process-wide engine for these settings, loaded on first use (once, even under races)."""
    key = EngineKey(model or default_model_path(), reward_model, device, dtype)
    engine = _engines.get(key)
    if engine is not None:
        return engine
    with _engines_lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    # Loading takes seconds; hold only this key's lock so other models can load meanwhile.
    with key_lock:
        engine = _engines.get(key)
        if engine is None:
            from pad_integrations.generation import GuidedGenerator

            engine = GuidedGenerator.from_pretrained(
                key.model, reward_model=key.reward_model, device=key.device, dtype=_torch_dtype(key.dtype)
            )
            _engines[key] = engine
    return engine


def _torch_dtype(dtype: str | None) -> torch.dtype | None:
    if dtype is None or dtype == "auto":
        return None
    import torch

    resolved = getattr(torch, dtype, None)
    if not isinstance(resolved, torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r}; use e.g. 'float32', 'bfloat16' or 'float16'")
    return resolved


def clear() -> None:
    """Forget every cached engine and close its decode queue (tests, or freeing memory); running decodes
    finish normally."""
    with _engines_lock:
        decode_queue.close_all()
        _engines.clear()
        _key_locks.clear()
