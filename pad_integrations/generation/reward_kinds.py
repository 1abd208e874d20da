"""Reward models as the decode loop sees them: kinds a strategy asks for by name, and what each adds to a step.

A strategy declares ``reward_model_kind`` (and the contexts the reward model reads, ``rm_contexts``); the
engine holds at most one loaded model per kind. Each kind knows how to run its model beside the base
model (its own cache, advanced with the same tokens) and what it puts into the step's
:class:`~pad_integrations.generation.strategies.StepView`:

- ``persrm`` (:class:`NextTokenRewardModel`): a causal LM (the PersRM) read like the base model, with
  next-token logits of its own contexts -> ``view.rm_logits``.
- ``sequence`` (:class:`CandidateRewardModel`): a sequence classifier that scores the candidate tokens
  the strategy names each step (``candidates()``) -> ``view.candidate_rewards``.

A new kind is a new subclass here (and a way to load it); the loop does not change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import torch

from pad_integrations.generation.batch import CachedBatch
from pad_integrations.generation.sequence_reward import SequenceRewardScorer
from pad_integrations.generation.strategies import StepView, Strategy

if TYPE_CHECKING:
    from pad_integrations.generation.loop import Batch, Group


class ModelRunner(Protocol):
    """A model plus the cache of the sequences it runs (``CachedBatch``, ``SequenceRewardScorer``)."""

    def prefill(self, sequences: Sequence[Sequence[int]]) -> torch.Tensor | None: ...

    def step(self, tokens: torch.Tensor) -> torch.Tensor | None: ...

    def select(self, keep: torch.Tensor) -> None: ...

    # Continuous batching: a prefill in column chunks, then the fresh runner joins a running one.
    def begin(self, sequences: Sequence[Sequence[int]]) -> None: ...

    def advance(self, columns: int | None) -> torch.Tensor | None: ...

    @property
    def prefilling(self) -> bool: ...

    @property
    def columns_left(self) -> int: ...

    def merge(self, other: Any) -> None: ...


@runtime_checkable
class ProposesCandidates(Protocol):
    """A strategy that names, each step, the candidate tokens a sequence-level reward model should score."""

    def candidates(self, view: StepView, n_prefs: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scores, token ids)``, both ``[n, k]``."""
        ...


class RewardModelKind(ABC):
    """One loaded reward model of one kind."""

    kind: ClassVar[str]
    requirement: ClassVar[str]  # what to pass when a strategy needs this kind and none is loaded

    def __init__(self, model: Any) -> None:
        self.model = model

    def check_strategy(self, strategy: Strategy) -> None:
        """Refuse a strategy that cannot work with this kind (TypeError naming what it lacks)."""
        return None

    @abstractmethod
    def new_runner(self, pad_token_id: int) -> ModelRunner:
        """A fresh runner for one decode."""

    @abstractmethod
    def contribute(self, groups: Sequence[Group], batch: Batch) -> None:
        """Put this step's outputs into the views of ``groups`` (the groups whose strategy reads this kind)."""


class NextTokenRewardModel(RewardModelKind):
    """A causal LM reward model (the PersRM) with next-token logits per context, in its own KV cache."""

    kind = "persrm"
    requirement = "a PersRM: GuidedGenerator(..., reward_model=...)"

    def new_runner(self, pad_token_id: int) -> ModelRunner:
        return CachedBatch(self.model, pad_token_id)

    def contribute(self, groups: Sequence[Group], batch: Batch) -> None:
        logits = batch.logits
        for group in groups:
            names = group.index[self.kind]
            group.view.rm_logits = {} if logits is None else {n: logits.index_select(0, i) for n, i in names.items()}


class CandidateRewardModel(RewardModelKind):
    """A sequence classifier scoring ``prefix + candidate`` for the candidates each strategy names."""

    kind = "sequence"
    requirement = (
        "a sequence-classification reward model: "
        "GuidedGenerator(..., reward_model=<AutoModelForSequenceClassification or its path>)"
    )

    def __init__(self, model: Any, label: int = 0) -> None:
        super().__init__(model)
        self.label = label

    def check_strategy(self, strategy: Strategy) -> None:
        if not isinstance(strategy, ProposesCandidates):
            raise TypeError(f"strategy {strategy.name!r} reads a {self.kind} reward model but names no candidates()")

    def new_runner(self, pad_token_id: int) -> ModelRunner:
        return SequenceRewardScorer(self.model, pad_token_id, self.label)

    def contribute(self, groups: Sequence[Group], batch: Batch) -> None:
        runner = batch.runner
        assert isinstance(runner, SequenceRewardScorer)
        wanted: dict[int, torch.Tensor] = {}
        for group in groups:
            assert isinstance(group.strategy, ProposesCandidates)  # checked when the request was planned
            candidates = group.strategy.candidates(group.view, group.n_prefs)[1]
            for j, row in enumerate(group.rows):
                wanted[row.index] = candidates[j]
        if not wanted:
            return
        width = max(len(c) for c in wanted.values())
        # Groups may ask for different k: pad by repeating a candidate, then keep each group's own k.
        padded = torch.stack(
            [torch.cat([c, c[-1:].expand(width - len(c))]) for c in (wanted[o] for o in batch.owner)]
        )
        rewards = runner.score(padded)
        for group in groups:
            (slots,) = group.index[self.kind].values()
            group.view.candidate_rewards = rewards.index_select(0, slots)[:, : len(wanted[group.rows[0].index])]


REWARD_MODEL_KINDS: dict[str, type[RewardModelKind]] = {
    cls.kind: cls for cls in (NextTokenRewardModel, CandidateRewardModel)
}


def requirement(kind: str) -> str:
    """What a strategy that reads ``kind`` needs, in words (for the error when it is missing)."""
    known = REWARD_MODEL_KINDS.get(kind)
    return known.requirement if known is not None else f"a reward model of kind {kind!r}"
