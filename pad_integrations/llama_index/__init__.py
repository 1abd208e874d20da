"""LlamaIndex integration: ``from pad_integrations.llama_index import PADLLM, PADEmbedding, PreferencesMemoryBlock``.

- :class:`PADLLM` (:mod:`.llm`): a ``FunctionCallingLLM`` steered per user at decoding time;
- :class:`PreferencesMemoryBlock` (:mod:`.memory_block`): a user's stored preferences in a LlamaIndex ``Memory``;
- :class:`PADEmbedding` (:mod:`.embedding`): a local embedding (mean-pooled hidden states) for offline indexes.
"""

from __future__ import annotations

from pad_integrations._extras import require

require("llama_index.core", "llama-index", "pad_integrations.llama_index")

from pad_integrations.llama_index.embedding import PADEmbedding  # noqa: E402
from pad_integrations.llama_index.llm import PADLLM, to_engine_messages  # noqa: E402
from pad_integrations.llama_index.memory_block import PreferencesMemoryBlock  # noqa: E402

__all__ = ["PADLLM", "PADEmbedding", "PreferencesMemoryBlock", "to_engine_messages"]
