"""Supervised next-token training on assistant turns (used to build the demo base model)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from pad_integrations.training.data import Encoded
from pad_integrations.training.dpo import collate, token_logprobs
from pad_integrations.training.loop import LoopConfig, run_loop


def train_sft(
    model: torch.nn.Module,
    encoded: Sequence[Encoded],
    pad_id: int,
    config: LoopConfig,
    *,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
) -> list[dict[str, float]]:
    """Minimise the mean negative log-likelihood of the response tokens; return the loss history."""

    def loss_fn(indices: list[int]) -> tuple[torch.Tensor, dict[str, float]]:
        batch = collate([encoded[i] for i in indices], pad_id)
        nll = -token_logprobs(model, batch).sum() / batch.target_mask.sum()
        return nll, {}

    return run_loop(name="sft", module=model, params=list(model.named_parameters()), n_items=len(encoded),
                    loss_fn=loss_fn, config=config, checkpoint_dir=checkpoint_dir, resume=resume,
                    progress=progress, lengths=[len(e.ids) for e in encoded])
