"""A local LlamaIndex embedding over the weights the LLM already loaded."""

from __future__ import annotations

import asyncio

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import Field

from pad_integrations.runtime.engines import get_generator


class PADEmbedding(BaseEmbedding):
    """A local text embedding: mean-pooled last hidden states of a causal LM, L2-normalised.

    Offline and light: it reuses the weights the LLM already loaded (the default model, SmolLM2-135M-Instruct, by default), so an
    index costs no second model. Quality follows the model: fine for demos and tests; use a trained
    embedding model for serious retrieval.
    """

    model: str | None = Field(default=None, description="Hub id or local directory; None: the default model (SmolLM2-135M-Instruct).")
    device: str | None = None
    dtype: str | None = None
    max_length: int = 512

    @classmethod
    def class_name(cls) -> str:
        return "PADEmbedding"

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import torch

        engine = get_generator(self.model, None, self.device, self.dtype)
        encoder = engine.model.base_model
        rows = [engine.tokenizer(t, truncation=True, max_length=self.max_length)["input_ids"] or [0] for t in texts]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows], device=engine.model.device)
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=engine.model.device)
        with torch.inference_mode():
            hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled.float(), dim=-1).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)
