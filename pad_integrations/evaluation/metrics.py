"""Answer-level measurements that do not look at the preference: fluency, on-topic, repetition.

- ``answer_logprobs``: the summed log-probability of an answer's own token ids under the base model,
  given a context (a question, with or without a preference as the system message). Left padding with
  positions counted over real tokens, so batching changes nothing; only the answer positions go
  through the LM head.
- fluency: per-token NLL of the answer (``-logp / n``).
- on-topic: the answer is at least 3 words long and the unsteered model finds it more likely after its
  own question than after every one of ``k`` other questions of the same split (a likelihood-ratio test
  that never reads the preference: a styled answer is equally unlikely after every question, so the
  style cancels; an answer that leaves its question, echoes the preference or says nothing fails).
- repetition: the share of an answer's word trigrams that repeat an earlier trigram of the same answer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import torch

from pad_integrations.evaluation.judges import words


def repetition_rate(text: str, n: int = 3) -> float:
    """Share of word n-grams (lowercased) that already occurred earlier in ``text`` (0 if it has none)."""
    ws = [w.lower() for w in words(text)]
    grams = [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


@torch.inference_mode()
def answer_logprobs(
    model: torch.nn.Module,
    contexts: Sequence[Sequence[int]],
    answers: Sequence[Sequence[int]],
    pad_token_id: int,
    batch_size: int = 32,
) -> list[tuple[float, int]]:
    """``(sum of log p(answer tokens | context), number of answer tokens)`` per pair; empty answers -> (0, 0)."""
    if len(contexts) != len(answers):
        raise ValueError("contexts and answers differ in length")
    device = next(model.parameters()).device
    out: list[tuple[float, int]] = [(0.0, 0)] * len(answers)
    order = sorted((i for i in range(len(answers)) if answers[i]), key=lambda i: len(contexts[i]) + len(answers[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        seqs = [list(contexts[i]) + list(answers[i]) for i in idx]
        width = max(len(s) for s in seqs)
        keep = max(len(answers[i]) for i in idx) + 1
        ids = torch.full((len(idx), width), pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, width - len(s) :] = torch.as_tensor(s, dtype=torch.long)
            mask[r, width - len(s) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits
        logp = torch.log_softmax(logits.float(), dim=-1)  # [b, keep, V]: positions width-keep .. width-1
        for r, i in enumerate(idx):
            n = len(answers[i])
            # Position width-1-n predicts the first answer token; width-2 predicts the last.
            pred = logp[r, keep - 1 - n : keep - 1]
            target = ids[r, width - n :]
            out[i] = (float(pred.gather(-1, target[:, None]).sum()), n)
    return out


def distractors(n_questions: int, index: int, k: int, seed: int = 0) -> list[int]:
    """``k`` other question indices for question ``index`` (deterministic; same for every strategy)."""
    others = [j for j in range(n_questions) if j != index]
    rng = random.Random(f"distractors:{seed}:{index}")
    return rng.sample(others, min(k, len(others)))


def bootstrap_ci(
    values: Sequence[float], clusters: Sequence[object] | None = None, n_boot: int = 1000, seed: int = 0,
) -> tuple[float, float, float]:
    """Mean and 95 % percentile-bootstrap interval, resampling whole clusters (questions) when given.

    Answers to one question are correlated, so resampling questions, not answers, keeps the interval honest.
    """
    vals = [float(v) for v in values]
    if not vals:
        return (math.nan, math.nan, math.nan)
    mean = sum(vals) / len(vals)
    groups: dict[object, list[float]] = {}
    for i, v in enumerate(vals):
        groups.setdefault(clusters[i] if clusters is not None else i, []).append(v)
    sums = [(sum(g), len(g)) for g in groups.values()]
    rng = random.Random(seed)
    means = []
    for _ in range(n_boot):
        pick = [sums[rng.randrange(len(sums))] for _ in sums]
        total, count = sum(p[0] for p in pick), sum(p[1] for p in pick)
        means.append(total / count)
    means.sort()
    return (mean, means[int(0.025 * n_boot)], means[min(n_boot - 1, int(0.975 * n_boot))])
