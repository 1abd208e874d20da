"""Guards: small, composable post-processing of a strategy's scores that keeps guided text fluent.

Contrast strategies (``linear``, ``amulet``) extrapolate ``z = x + k·(x − x_base)``; on a small model that
extrapolation also rewards tokens neither context finds plausible (it leaves the question, echoes the
preference text) and, once a phrase scores well, keeps re-choosing it (loops). Each guard fixes one of
these and is a strategy parameter that can be switched off, which restores the strategy's faithful
scores exactly (tests/test_strategies.py checks that):

- ``nucleus`` (float in (0, 1] or None): only tokens inside the top-p nucleus of the preference-prompted
  policy ``x`` may be chosen (the Linear Alignment code's own variant, ``model.py:45-48``). transformers'
  ``TopPLogitsWarper`` computes the nucleus.
- ``repetition_penalty`` (float >= 1, 1 = off): transformers' ``RepetitionPenaltyLogitsProcessor`` over the
  ids generated so far (the prompt is not penalised: an answer must be free to reuse the question's words).
- ``no_repeat_ngram`` (int >= 0, 0 = off): transformers' ``NoRepeatNGramLogitsProcessor`` over the ids
  generated so far: no n-gram of the answer occurs twice (unless that would exclude every candidate).

Order: the n-gram ban first (also removing banned tokens from the anchor, so the nucleus is the policy's
nucleus among the allowed tokens and never empty), then the nucleus, then the repetition penalty.

The repetition guards act on ``log_softmax(scores)``, not on raw contrast scores: a per-row constant does
not change the argmax or the sampling distribution, and it makes every score negative, so the
processor's sign-dependent rule (multiply negatives, divide positives) always pushes a repeated token down.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor, TopPLogitsWarper

NEG_INF = float("-inf")

GUARDS_OFF: dict[str, Any] = {"nucleus": None, "repetition_penalty": 1.0, "no_repeat_ngram": 0}
"""Guard parameters that leave a strategy's scores untouched."""


def validate_guards(name: str, params: Mapping[str, Any]) -> None:
    """Raise ValueError with a clear message for a bad guard parameter of strategy ``name``."""
    nucleus = params.get("nucleus")
    if nucleus is not None and not (_number(nucleus) and 0 < nucleus <= 1):
        raise ValueError(f"{name}: nucleus must be in (0, 1] or None, got {nucleus!r}")
    penalty = params.get("repetition_penalty", 1.0)
    if not (_number(penalty) and penalty >= 1.0):
        raise ValueError(f"{name}: repetition_penalty must be a number >= 1 (1 = off), got {penalty!r}")
    n = params.get("no_repeat_ngram", 0)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{name}: no_repeat_ngram must be an int >= 0 (0 = off), got {n!r}")


def nucleus_mask(scores: torch.Tensor, anchor_logp: torch.Tensor, top_p: float) -> torch.Tensor:
    """``scores`` with every token outside the top-``top_p`` nucleus of ``anchor_logp`` set to -inf.

    The anchor's most likely token is always inside (``TopPLogitsWarper`` keeps at least one token), so a
    row is never left without a candidate.
    """
    outside = torch.isneginf(TopPLogitsWarper(float(top_p))(None, anchor_logp.clone()))
    return scores.masked_fill(outside, NEG_INF)


def _by_length(generated: Sequence[Sequence[int]]) -> dict[int, list[int]]:
    """Row indices grouped by how many ids they generated (rows of one batch usually share a length)."""
    groups: dict[int, list[int]] = {}
    for i, ids in enumerate(generated):
        groups.setdefault(len(ids), []).append(i)
    return groups


def _apply_processor(scores: torch.Tensor, generated: Sequence[Sequence[int]], processor: Any) -> torch.Tensor:
    out = scores.clone()
    for length, rows in _by_length(generated).items():
        if length == 0:
            continue
        ids = torch.tensor([list(generated[i]) for i in rows], dtype=torch.long, device=scores.device)
        index = torch.tensor(rows, dtype=torch.long, device=scores.device)
        out[index] = processor(ids, out.index_select(0, index))
    return out


def repetition_penalty(scores: torch.Tensor, generated: Sequence[Sequence[int]], penalty: float) -> torch.Tensor:
    """HF's repetition penalty over each row's generated ids, on ``log_softmax(scores)``."""
    logp = torch.log_softmax(scores, dim=-1)
    return _apply_processor(logp, generated, RepetitionPenaltyLogitsProcessor(float(penalty)))


def no_repeat_ngram(scores: torch.Tensor, generated: Sequence[Sequence[int]], n: int) -> torch.Tensor:
    """HF's no-repeat-n-gram ban over each row's generated ids (banned tokens get -inf)."""
    return _apply_processor(scores, generated, NoRepeatNGramLogitsProcessor(int(n)))


def apply_guards(
    scores: torch.Tensor,
    params: Mapping[str, Any],
    *,
    anchor_logp: torch.Tensor | None,
    generated: Sequence[Sequence[int]] | None,
) -> torch.Tensor:
    """Apply the guards ``params`` switches on, in a fixed order (n-gram ban, nucleus, repetition penalty).

    With every guard off (``GUARDS_OFF``) the very tensor ``scores`` is returned. ``anchor_logp`` is the
    preference-prompted policy's log-probs (needed by ``nucleus``); ``generated`` the ids each row has
    generated so far (needed by the repetition guards; the engine fills ``StepView.generated``).
    """
    nucleus = params.get("nucleus")
    penalty = float(params.get("repetition_penalty", 1.0))
    n = int(params.get("no_repeat_ngram", 0))
    # ``anchor`` is set exactly when the nucleus guard is on, ``history`` when a repetition guard is.
    anchor: torch.Tensor | None = None
    top_p = 1.0 if nucleus is None else float(nucleus)
    if top_p < 1.0:
        if anchor_logp is None:
            raise ValueError("the nucleus guard needs the preference-prompted log-probs")
        anchor = anchor_logp
    history: Sequence[Sequence[int]] = ()
    if penalty != 1.0 or n:
        if generated is None:
            raise ValueError("the repetition guards need the generated ids (StepView.generated)")
        history = generated
    if n:
        # The ban goes first and into the anchor too, so the nucleus is taken over the tokens that are still
        # allowed: a confident policy whose only nucleus token is banned still leaves its next best choice.
        before = scores
        scores = no_repeat_ngram(scores, history, n)
        scores = _keep_rows_with_a_choice(before, scores)
        if anchor is not None:
            anchor = anchor.masked_fill(torch.isneginf(scores) & ~torch.isneginf(before), NEG_INF)
    if anchor is not None:
        scores = nucleus_mask(scores, anchor, top_p)
    if penalty != 1.0:
        scores = repetition_penalty(scores, history, penalty)
    return scores


def _keep_rows_with_a_choice(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """A guard never leaves a row without a candidate: such a row keeps its scores from before the guard."""
    empty = torch.isneginf(after).all(dim=-1, keepdim=True)
    return torch.where(empty, before, after)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
