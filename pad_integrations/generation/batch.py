"""One KV cache over many left-padded sequences, advanced one token per sequence per step.

Every context of every request is one sequence of the batch, so a guided step over two contexts costs
one batch-of-2 forward, not two forwards. Position ids count real tokens only, so left padding changes
nothing; finished sequences are pruned from the cache, and columns that became padding for every
remaining sequence are dropped with them.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class CachedBatch:
    """A model (HF causal LM or PersRM) plus the cache, mask and positions of the sequences it runs."""

    def __init__(self, model: Any, pad_token_id: int) -> None:
        self.model = model
        self.pad_token_id = pad_token_id
        self.cache: DynamicCache | None = None
        self.attention_mask = torch.zeros(0, 0, dtype=torch.long)
        self.next_position = torch.zeros(0, dtype=torch.long)

    @property
    def size(self) -> int:
        return int(self.next_position.shape[0])

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def prefill(self, sequences: Sequence[Sequence[int]]) -> torch.Tensor:
        """Encode the sequences (left padded); return last-position logits ``[S, V]`` in float32."""
        width = max(len(s) for s in sequences)
        device = self.device
        ids = torch.full((len(sequences), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for i, seq in enumerate(sequences):
            if seq:
                ids[i, width - len(seq) :] = torch.as_tensor(seq, dtype=torch.long)
                mask[i, width - len(seq) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        self.cache = DynamicCache(config=self.model.config)
        self.attention_mask = mask
        self.next_position = mask.sum(-1)
        return self._forward(ids, positions)

    @torch.inference_mode()
    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Append one token per sequence (``[S]``); return the next last-position logits ``[S, V]``."""
        ones = torch.ones((self.size, 1), dtype=self.attention_mask.dtype, device=self.attention_mask.device)
        self.attention_mask = torch.cat([self.attention_mask, ones], dim=-1)
        positions = self.next_position[:, None]
        self.next_position = self.next_position + 1
        return self._forward(tokens.to(self.attention_mask.device)[:, None], positions)

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the sequences at indices ``keep`` (a pruned row stops costing compute)."""
        assert self.cache is not None
        keep = keep.to(self.attention_mask.device)
        self.cache.batch_select_indices(keep)
        self.attention_mask = self.attention_mask[keep]
        self.next_position = self.next_position[keep]
        # Left columns that are padding for every remaining sequence are dead weight in attention.
        live = self.attention_mask.any(dim=0).nonzero()
        first = int(live[0]) if len(live) else 0
        # Exactly DynamicLayer: subclasses (sliding windows) keep their own layout.
        layers = [layer for layer in self.cache.layers if isinstance(layer, DynamicLayer) and type(layer) is DynamicLayer]
        if first and len(layers) == len(self.cache.layers):
            self.attention_mask = self.attention_mask[:, first:]
            for layer in layers:
                if layer.keys is not None and layer.values is not None and layer.keys.dim() == 4:
                    layer.keys = layer.keys[..., first:, :]
                    layer.values = layer.values[..., first:, :]

    def _forward(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        out = self.model(
            input_ids=ids,
            attention_mask=self.attention_mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **cache_kwargs(self.model, self.cache),
        )
        self.cache = returned_cache(out)
        return out.logits[:, -1, :].float()


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    """The cache argument under the name this model's ``forward`` takes.

    transformers 5.24 renamed ``past_key_values`` to ``cache`` (the old name warns, and goes in 5.40);
    earlier versions (this project pins 5.23; 4.46+ is supported) only know ``past_key_values``.
    """
    kind: Any = type(model)
    name = _CACHE_ARG.get(kind)
    if name is None:
        params = inspect.signature(kind.forward).parameters
        name = _CACHE_ARG[kind] = "cache" if "cache" in params else "past_key_values"
    return {name: cache}


def returned_cache(output: Any) -> Any:
    """The cache a forward returned: ``output.cache`` (transformers >= 5.24) or ``output.past_key_values``."""
    cache = output.get("cache") if hasattr(output, "get") else getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


_CACHE_ARG: dict[type, str] = {}  # model class -> the name its forward takes the cache under
