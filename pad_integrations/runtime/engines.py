"""Process-wide shared engines: one loaded ``GuidedGenerator`` per (model, reward model, device, dtype).

LangChain rebuilds a chat model object on every ``configurable_fields`` call and LlamaIndex copies
LLMs per user, so weights cannot live on the adapter objects: they live here, keyed by what makes
them different, and every copy finds the same engine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    model_kwargs: str = "{}"  # from_pretrained keywords, as sorted JSON (hashable)


_engines: dict[EngineKey, GuidedGenerator] = {}
_engines_lock = threading.Lock()
_key_locks: dict[EngineKey, threading.Lock] = {}


def get_generator(
    model: str | None = None,
    reward_model: str | None = None,
    device: str | None = None,
    dtype: Any = None,
    *,
    model_kwargs: Mapping[str, Any] | None = None,
) -> GuidedGenerator:
    """The process-wide engine for these settings, loaded on first use (once, even under races).

    ``device="auto"`` is the first of cuda, mps and cpu available; ``dtype`` a ``torch.dtype``, its name
    or ``"auto"``; ``model_kwargs`` go to ``from_pretrained`` (``revision``, ``trust_remote_code``, ...).
    """
    try:
        kwargs_key = json.dumps(dict(model_kwargs or {}), sort_keys=True)
    except TypeError as exc:
        raise ValueError(f"model_kwargs must hold plain JSON values: {exc}") from None
    key = EngineKey(model or default_model_path(), reward_model, resolve_device(device), dtype_name(dtype), kwargs_key)
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
                key.model, reward_model=key.reward_model, device=key.device, dtype=_torch_dtype(key.dtype),
                model_kwargs=json.loads(key.model_kwargs),
            )
            _engines[key] = engine
    return engine


def dtype_name(dtype: Any) -> str | None:
    """A dtype setting as a name: None, "auto", or a torch dtype's name ("float32", "bfloat16", ...)."""
    if dtype is None or dtype == "auto":
        return dtype
    if isinstance(dtype, str):
        _torch_dtype(dtype)  # refuse an unknown name now
        return dtype
    import torch

    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    raise ValueError(f"dtype must be a torch.dtype, its name or 'auto', got {type(dtype).__name__}")


def resolve_device(device: str | None) -> str | None:
    """``"auto"``: cuda when available, else mps, else cpu; anything else unchanged."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def _torch_dtype(dtype: str | None) -> torch.dtype | str | None:
    if dtype is None or dtype == "auto":
        return dtype  # "auto": the checkpoint's own dtype (transformers reads it from the config)
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
