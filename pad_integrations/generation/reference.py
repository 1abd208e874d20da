"""The naive reference loop: what the official PAD and Amulet code do, for parity tests and benchmarks.

No KV cache, no batching: every step re-encodes each context's whole prefix separately (batch of 1, so
no padding question arises) and greedily takes the argmax of the same strategy's scores. The engine must
choose exactly the same tokens, only faster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch

from pad_integrations.generation.sequence_reward import last_position_reward
from pad_integrations.generation.strategies import StepView, Strategy, normalised_weights


@torch.inference_mode()
def reference_generate(
    model: Any,
    contexts: Mapping[str, Sequence[int]],
    strategy: Strategy,
    *,
    weights: Sequence[float] = (),
    max_new_tokens: int,
    eos_token_ids: Iterable[int] = (),
    reward_model: Any = None,
    sequence_reward_model: Any = None,
    reward_label: int = 0,
) -> list[int]:
    """Greedy new token ids (EOS excluded) for ``contexts`` under ``strategy``, recomputing everything."""
    n_prefs = len(weights)
    eos = set(eos_token_ids)
    w = torch.tensor([normalised_weights(list(weights))] if n_prefs else [[1.0]], dtype=torch.float32)
    generated: list[int] = []
    for _ in range(max_new_tokens):
        view = StepView(
            logits={name: _last_logits(model, contexts[name], generated) for name in strategy.contexts(n_prefs)},
            rm_logits={
                name: _last_logits(reward_model, contexts[name], generated) for name in strategy.rm_contexts(n_prefs)
            }
            if reward_model is not None
            else {},
            weights=w,
            generated=[list(generated)],
        )
        if sequence_reward_model is not None:
            # ARGS the official way: one full reward-model pass per candidate continuation.
            (name,) = strategy.rm_contexts(n_prefs)
            candidates = strategy.candidates(view, n_prefs)[1][0].tolist()  # type: ignore[attr-defined]
            view.candidate_rewards = torch.tensor([[
                last_position_reward(sequence_reward_model, [*contexts[name], *generated, c], reward_label)
                for c in candidates
            ]])
        token = int(strategy.scores(view, n_prefs).argmax(dim=-1)[0])
        if token in eos:
            break
        generated.append(token)
    return generated


def _last_logits(model: Any, prefix: Sequence[int], generated: list[int]) -> torch.Tensor:
    device = next(model.parameters()).device
    ids = torch.tensor([[*prefix, *generated]], dtype=torch.long, device=device)
    return model(input_ids=ids).logits[:, -1, :].float()
