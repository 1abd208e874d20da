"""Scoring k candidate next tokens with a sequence-level reward model, from one cached prefix.

ARGS scores every candidate continuation ``context + candidate`` with a sequence classifier. Done
naively that is k full passes per step. Here the classifier's backbone keeps a KV cache of the prefix,
and the k candidates go through one forward of k single tokens that all sit at the same position and
see the prefix but not each other (a tree attention mask). The candidates are then dropped from the
cache; the chosen token is fed at the next step together with the next candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import DynamicCache, PreTrainedModel

from pad_integrations.errors import ModelLoadError
from pad_integrations.generation.batch import merge_caches, merge_masks, padded


class SequenceRewardScorer:
    """Wraps an ``AutoModelForSequenceClassification``; ``label`` picks the reward among its outputs."""

    def __init__(self, model: PreTrainedModel, pad_token_id: int = 0, label: int = 0) -> None:
        self.model = model.eval()
        self.backbone = model.base_model
        head = getattr(model, "score", None) or getattr(model, "classifier", None)
        if head is None or self.backbone is model:
            raise ModelLoadError(f"{type(model).__name__} has no backbone/score head this scorer understands")
        self.head: torch.nn.Module = head
        num_labels = int(getattr(model.config, "num_labels", 1))
        if not 0 <= label < num_labels:
            raise ValueError(f"label {label} out of range for a reward model with {num_labels} output(s)")
        self.label = label
        self.pad_token_id = pad_token_id
        embeddings = model.get_input_embeddings()
        self.vocab_size = (
            int(embeddings.num_embeddings) if isinstance(embeddings, torch.nn.Embedding) else int(model.config.vocab_size)
        )
        self.cache: DynamicCache | None = None
        self.attention_mask = torch.zeros(0, 0, dtype=torch.long)
        self.next_position = torch.zeros(0, dtype=torch.long)
        self.pending: torch.Tensor | None = None
        self.has_pending: torch.Tensor | None = None  # per row: whether ``pending`` holds a real token
        self._todo: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._cursor = 0

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def prefill(self, sequences: Sequence[Sequence[int]]) -> None:
        self.begin(sequences)
        self.advance(None)

    def begin(self, sequences: Sequence[Sequence[int]]) -> None:
        """Start a prefill of ``sequences``; :meth:`advance` encodes it, in one go or in column chunks."""
        ids, mask = padded(sequences, self.pad_token_id)
        ids, mask = ids.to(self.device), mask.to(self.device)
        self._todo = (ids, mask, (mask.cumsum(-1) - 1).clamp(min=0))
        self._cursor = 0
        self.cache = DynamicCache(config=self.model.config)
        self.attention_mask = mask[:, :0]
        self.next_position = mask.sum(-1)
        self.pending = self.has_pending = None

    @property
    def prefilling(self) -> bool:
        return self._todo is not None

    @property
    def columns_left(self) -> int:
        return 0 if self._todo is None else int(self._todo[0].shape[1]) - self._cursor

    @torch.inference_mode()
    def advance(self, columns: int | None) -> None:
        """Encode the next ``columns`` prefill columns (all that are left: None)."""
        assert self._todo is not None, "advance() without begin()"
        ids, mask, positions = self._todo
        start = self._cursor
        end = ids.shape[1] if columns is None else min(ids.shape[1], start + max(1, columns))
        out = self.backbone(
            input_ids=ids[:, start:end],
            attention_mask=mask[:, :end],
            position_ids=positions[:, start:end],
            past_key_values=self.cache,
            use_cache=True,
        )
        self.cache = out.past_key_values
        self.attention_mask = mask[:, :end]
        self._cursor = end
        if end == ids.shape[1]:
            self._todo = None

    def step(self, tokens: torch.Tensor) -> None:
        """Record the chosen tokens; they enter the cache with the next candidates (one forward)."""
        self.pending = tokens.to(self.device)
        self.has_pending = torch.ones(len(tokens), dtype=torch.bool, device=self.device)

    def merge(self, other: SequenceRewardScorer) -> None:
        """Append ``other``'s sequences (a finished prefill). Its rows have no pending token: where this batch
        has some, theirs is a pad that the next :meth:`score` masks out and never counts."""
        assert self.cache is not None and other.cache is not None and not other.prefilling
        self.attention_mask, width = merge_masks(self.attention_mask, other.attention_mask)
        merge_caches(self.cache, other.cache, width)
        self.next_position = torch.cat([self.next_position, other.next_position])
        if self.pending is not None or other.pending is not None:
            mine, theirs = self._pending_or_pad(), other._pending_or_pad()
            self.pending = torch.cat([mine[0], theirs[0]])
            self.has_pending = torch.cat([mine[1], theirs[1]])

    def _pending_or_pad(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = int(self.next_position.shape[0])
        if self.pending is None or self.has_pending is None:
            return (
                torch.full((n,), self.pad_token_id, dtype=torch.long, device=self.device),
                torch.zeros(n, dtype=torch.bool, device=self.device),
            )
        return self.pending, self.has_pending

    @torch.inference_mode()
    def score(self, candidates: torch.Tensor) -> torch.Tensor:
        """Rewards ``[S, k]`` of ``prefix + candidate`` for every sequence and candidate."""
        assert self.cache is not None
        n, k = candidates.shape
        candidates = candidates.to(self.device)
        extra = 0 if self.pending is None else 1
        ids = candidates if self.pending is None else torch.cat([self.pending[:, None], candidates], dim=-1)
        q = k + extra
        dtype = next(self.model.parameters()).dtype
        # Which new token may see which: the pending token itself; each candidate itself and the pending one
        # (unless the row has none: a row that joined since the last step carries a masked pad there).
        new = torch.eye(q, dtype=torch.bool, device=self.device).expand(n, 1, q, q).clone()
        has = (
            torch.zeros(n, dtype=torch.long, device=self.device)
            if self.has_pending is None
            else self.has_pending.long()
        )
        if extra:
            new[:, 0, :, 0] = self.has_pending[:, None] if self.has_pending is not None else True
            new[:, 0, 0, 0] = True
        allowed = torch.cat([self.attention_mask.bool()[:, None, None, :].expand(n, 1, q, -1), new], dim=-1)
        mask = torch.zeros(allowed.shape, dtype=dtype, device=self.device).masked_fill(
            ~allowed, torch.finfo(dtype).min
        )
        positions = (self.next_position + has)[:, None] + torch.zeros(q, dtype=torch.long, device=self.device)
        if extra:
            positions[:, 0] = self.next_position
        out = self.backbone(
            input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=self.cache, use_cache=True
        )
        rewards = self.head(out.last_hidden_state[:, extra:])[..., self.label].float()
        self.cache = out.past_key_values
        self.cache.crop(-k)  # the candidates leave; the pending token stays (masked where it was a pad)
        if extra:
            self.attention_mask = torch.cat([self.attention_mask, has[:, None].to(self.attention_mask.dtype)], dim=-1)
            self.next_position = self.next_position + has
        self.pending = self.has_pending = None
        return rewards

    def select(self, keep: torch.Tensor) -> None:
        assert self.cache is not None
        keep = keep.to(self.device)
        self.cache.batch_select_indices(keep)
        self.attention_mask = self.attention_mask[keep]
        self.next_position = self.next_position[keep]
        if self.pending is not None:
            self.pending = self.pending[keep]
        if self.has_pending is not None:
            self.has_pending = self.has_pending[keep]

    @torch.inference_mode()
    def full_reward(self, ids: Sequence[int]) -> float:
        """The reward of one whole sequence, computed without a cache (for references and tests)."""
        return last_position_reward(self.model, ids, self.label)


@torch.inference_mode()
def last_position_reward(model: PreTrainedModel, ids: Sequence[int], label: int = 0) -> float:
    """A sequence classifier's reward read at the last position.

    HF's own pooling picks the last token that is not the pad token, so a sequence ending in the pad id
    (which a candidate may be) would be scored without it; reading the last position avoids that.
    """
    device = next(model.parameters()).device
    hidden = model.base_model(input_ids=torch.tensor([list(ids)], device=device)).last_hidden_state[:, -1]
    head = getattr(model, "score", None) or getattr(model, "classifier", None)
    if head is None:
        raise ModelLoadError(f"{type(model).__name__} has no score head this scorer understands")
    return float(head(hidden)[0, label])


def is_sequence_classifier(model: Any) -> bool:
    return isinstance(model, PreTrainedModel) and type(model).__name__.endswith("ForSequenceClassification")
