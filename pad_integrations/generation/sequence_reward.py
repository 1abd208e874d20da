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

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def prefill(self, sequences: Sequence[Sequence[int]]) -> None:
        width = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for i, seq in enumerate(sequences):
            ids[i, width - len(seq) :] = torch.as_tensor(seq, dtype=torch.long)
            mask[i, width - len(seq) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        out = self.backbone(
            input_ids=ids,
            attention_mask=mask,
            position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
            past_key_values=DynamicCache(config=self.model.config),
            use_cache=True,
        )
        self.cache = out.past_key_values
        self.attention_mask = mask
        self.next_position = mask.sum(-1)
        self.pending = None

    def step(self, tokens: torch.Tensor) -> None:
        """Record the chosen tokens; they enter the cache with the next candidates (one forward)."""
        self.pending = tokens.to(self.device)

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
        # Which new token may see which: the pending token itself; each candidate itself and the pending one.
        new = torch.eye(q, dtype=torch.bool, device=self.device)
        if extra:
            new[:, 0] = True
        allowed = torch.cat(
            [self.attention_mask.bool()[:, None, None, :].expand(n, 1, q, -1), new.expand(n, 1, q, q)], dim=-1
        )
        mask = torch.zeros(allowed.shape, dtype=dtype, device=self.device).masked_fill(
            ~allowed, torch.finfo(dtype).min
        )
        positions = self.next_position[:, None] + torch.tensor([0] * extra + [extra] * k, device=self.device)
        out = self.backbone(
            input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=self.cache, use_cache=True
        )
        rewards = self.head(out.last_hidden_state[:, extra:])[..., self.label].float()
        self.cache = out.past_key_values
        self.cache.crop(-k)  # the candidates leave; the pending token stays
        if extra:
            ones = torch.ones((n, 1), dtype=self.attention_mask.dtype, device=self.device)
            self.attention_mask = torch.cat([self.attention_mask, ones], dim=-1)
            self.next_position = self.next_position + 1
        self.pending = None
        return rewards

    def select(self, keep: torch.Tensor) -> None:
        assert self.cache is not None
        keep = keep.to(self.device)
        self.cache.batch_select_indices(keep)
        self.attention_mask = self.attention_mask[keep]
        self.next_position = self.next_position[keep]
        if self.pending is not None:
            self.pending = self.pending[keep]

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
