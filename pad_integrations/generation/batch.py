"""One KV cache over many left-padded sequences, advanced one token per sequence per step.

Every context of every request is one sequence of the batch, so a guided step over two contexts costs
one batch-of-2 forward, not two forwards. Position ids count real tokens only, so left padding changes
nothing; finished sequences are pruned from the cache, and columns that became padding for every
remaining sequence are dropped with them.

Continuous batching adds two moves: a prefill may run in column chunks across several calls
(:meth:`CachedBatch.begin` then :meth:`CachedBatch.advance`), so a long prompt never costs one huge
forward; and a freshly prefilled batch joins a running one (:meth:`CachedBatch.merge`): the shorter of
the two is left-padded in the sequence dimension (KV and attention mask), then both are concatenated
along the batch. Explicit positions make the padding invisible to the model.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, cast

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


def padded(sequences: Sequence[Sequence[int]], pad_token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(ids, mask)`` of the sequences, left padded to the longest."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        if seq:
            ids[i, width - len(seq) :] = torch.as_tensor(seq, dtype=torch.long)
            mask[i, width - len(seq) :] = 1
    return ids, mask


def mergeable(cache: Any) -> bool:
    """True when every layer is a plain DynamicLayer (sliding windows and the like keep their own layout)."""
    return cache is not None and all(type(layer) is DynamicLayer for layer in cache.layers)


def _left_pad(t: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - t.shape[dim]
    if missing <= 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


def merge_caches(a: DynamicCache, b: DynamicCache, width: int) -> None:
    """Append ``b``'s sequences to ``a`` along the batch, both left-padded to ``width`` positions."""
    if not (mergeable(a) and mergeable(b)) or len(a.layers) != len(b.layers):
        raise NotImplementedError("only caches of plain DynamicLayers can be merged")
    for la, lb in zip(cast(list[DynamicLayer], a.layers), cast(list[DynamicLayer], b.layers), strict=True):
        assert la.keys is not None and la.values is not None and lb.keys is not None and lb.values is not None
        la.keys = torch.cat([_left_pad(la.keys, width, -2), _left_pad(lb.keys, width, -2)], dim=0)
        la.values = torch.cat([_left_pad(la.values, width, -2), _left_pad(lb.values, width, -2)], dim=0)


def merge_masks(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The two attention masks stacked, the shorter left-padded with zeros; and the common width."""
    width = max(a.shape[1], b.shape[1])
    return torch.cat([_left_pad(a, width, 1), _left_pad(b, width, 1)], dim=0), width


class CachedBatch:
    """A model (HF causal LM or PersRM) plus the cache, mask and positions of the sequences it runs."""

    def __init__(self, model: Any, pad_token_id: int) -> None:
        self.model = model
        self.pad_token_id = pad_token_id
        self.cache: DynamicCache | None = None
        self.attention_mask = torch.zeros(0, 0, dtype=torch.long)
        self.next_position = torch.zeros(0, dtype=torch.long)
        self._todo: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._cursor = 0

    @property
    def size(self) -> int:
        return int(self.next_position.shape[0])

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def prefill(self, sequences: Sequence[Sequence[int]]) -> torch.Tensor:
        """Encode the sequences (left padded); return last-position logits ``[S, V]`` in float32."""
        self.begin(sequences)
        logits = self.advance(None)
        assert logits is not None
        return logits

    def begin(self, sequences: Sequence[Sequence[int]]) -> None:
        """Start a prefill of ``sequences``; :meth:`advance` encodes it, in one go or in column chunks."""
        ids, mask = padded(sequences, self.pad_token_id)
        device = self.device
        ids, mask = ids.to(device), mask.to(device)
        self._todo = (ids, mask, (mask.cumsum(-1) - 1).clamp(min=0))
        self._cursor = 0
        self.cache = DynamicCache(config=self.model.config)
        self.attention_mask = mask[:, :0]
        self.next_position = mask.sum(-1)

    @property
    def prefilling(self) -> bool:
        return self._todo is not None

    @property
    def columns_left(self) -> int:
        """Prefill columns not encoded yet (0 once the prefill is done)."""
        return 0 if self._todo is None else int(self._todo[0].shape[1]) - self._cursor

    @torch.inference_mode()
    def advance(self, columns: int | None) -> torch.Tensor | None:
        """Encode the next ``columns`` prefill columns (all that are left: None); the last-position logits
        once the prefill is complete, else None."""
        assert self._todo is not None, "advance() without begin()"
        ids, mask, positions = self._todo
        start = self._cursor
        end = ids.shape[1] if columns is None else min(ids.shape[1], start + max(1, columns))
        self.attention_mask = mask[:, :end]
        logits = self._forward(ids[:, start:end], positions[:, start:end])
        self._cursor = end
        if end < ids.shape[1]:
            return None
        self._todo = None
        return logits

    def merge(self, other: CachedBatch) -> None:
        """Append ``other``'s sequences (a finished prefill of the same model) after this batch's."""
        assert self.cache is not None and other.cache is not None and not other.prefilling
        self.attention_mask, width = merge_masks(self.attention_mask, other.attention_mask)
        merge_caches(self.cache, other.cache, width)
        self.next_position = torch.cat([self.next_position, other.next_position])

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
