"""Per-user, decoding-time personalization of local Hugging Face models.

``import pad_integrations`` is light: torch and transformers load when the engine is first used.
The LangChain and LlamaIndex adapters live in ``pad_integrations.langchain`` and
``pad_integrations.llama_index`` and need their extras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "GuidedGenerator": "pad_integrations.generation",
    "GenerationRequest": "pad_integrations.generation",
    "GenerationResult": "pad_integrations.generation",
    "SamplingSettings": "pad_integrations.generation",
}

if TYPE_CHECKING:
    from pad_integrations.generation import (
        GenerationRequest,
        GenerationResult,
        GuidedGenerator,
        SamplingSettings,
    )

__all__ = ["GenerationRequest", "GenerationResult", "GuidedGenerator", "SamplingSettings", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pad_integrations' has no attribute {name!r}")
