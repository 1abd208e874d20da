"""The engine's public value types: requests in, results (with usage and trace) out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pad_integrations.generation.constraints import Constraint

FinishReason = Literal["stop", "length"]


@dataclass
class GenerationRequest:
    """One request of :meth:`GuidedGenerator.generate_batch`; the fields are ``generate``'s arguments."""

    messages: Sequence[Mapping[str, Any]]
    preference: Any = None
    strategy: str = "amulet"
    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    stop: str | Sequence[str] | None = None
    tools: Sequence[Mapping[str, Any]] | None = None
    strategy_params: dict[str, Any] = field(default_factory=dict)
    constraint: Constraint | None = None
    """A grammar the output must follow (JSON schema, forced tool call): docs/engine.md."""


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class TokenTrace:
    """How guidance moved one chosen token.

    ``base_rank``: 0-based rank of the chosen token under the unguided distribution (0 = the token the
    unguided model would have picked greedily). ``kl``: KL(guided ‖ unguided) in nats at this step.
    Both are None when the strategy runs no unguided context (``prompt`` with one preference).
    """

    token_id: int
    text: str
    base_rank: int | None
    kl: float | None


@dataclass
class Trace:
    """What a request was steered by: the strategy, its parameters, the preferences, and per-token effects."""

    strategy: str
    preferences: list[tuple[str, float]]
    params: dict[str, Any]
    tokens: list[TokenTrace] = field(default_factory=list)

    @property
    def moved_tokens(self) -> int:
        """How many chosen tokens were not the unguided model's greedy choice."""
        return sum(1 for t in self.tokens if t.base_rank)

    @property
    def mean_kl(self) -> float | None:
        kls = [t.kl for t in self.tokens if t.kl is not None]
        return sum(kls) / len(kls) if kls else None


@dataclass
class GenerationResult:
    text: str
    token_ids: list[int]
    usage: Usage
    trace: Trace
    finish_reason: FinishReason
