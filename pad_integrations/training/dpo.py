"""Batching encoded turns, response log-likelihoods, and the DPO loss."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from pad_integrations.training.data import Encoded


@dataclass(frozen=True)
class Batch:
    """Right-padded ids, attention mask, and a mask of the positions whose next token is a response token."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    target_mask: torch.Tensor


def collate(items: Sequence[Encoded], pad_id: int) -> Batch:
    width = max(len(e.ids) for e in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(items), width), dtype=torch.long)
    target = torch.zeros((len(items), width - 1), dtype=torch.bool)
    for row, e in enumerate(items):
        ids[row, : len(e.ids)] = torch.tensor(e.ids)
        attn[row, : len(e.ids)] = 1
        target[row, e.n_prompt - 1 : len(e.ids) - 1] = True  # position t predicts token t+1
    return Batch(ids, attn, target)


def token_logprobs(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """log p(token t+1 | ≤ t) for every position (B × (T-1)), zero outside the response."""
    device = next(model.parameters()).device
    ids = batch.input_ids.to(device)
    logits = model(input_ids=ids, attention_mask=batch.attention_mask.to(device)).logits[:, :-1]
    logp = torch.log_softmax(logits.float(), dim=-1)
    picked = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return picked * batch.target_mask.to(device)


def response_logprobs(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """Summed log-likelihood of each row's response tokens (B)."""
    return token_logprobs(model, batch).sum(-1)


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """-log σ(β[(log πθ(y_w) − log πref(y_w)) − (log πθ(y_l) − log πref(y_l))]) and its diagnostics."""
    chosen_reward = beta * (policy_chosen - ref_chosen)
    rejected_reward = beta * (policy_rejected - ref_rejected)
    margin = chosen_reward - rejected_reward
    loss = -F.logsigmoid(margin).mean()
    metrics = {
        "reward_accuracy": float((margin > 0).float().mean()),
        "reward_margin": float(margin.detach().mean()),
    }
    return loss, metrics
