"""The engine's public value types: requests in, results (with usage and trace) out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    from pad_integrations.generation.constraints import Constraint

FinishReason = Literal["stop", "length"]


class ToolCallFunction(TypedDict):
    name: str
    arguments: dict[str, Any]


class ToolCallDict(TypedDict):
    """One call in an assistant message's ``tool_calls`` (OpenAI's shape, ``arguments`` parsed)."""

    id: str | None
    type: Literal["function"]
    function: ToolCallFunction


class _MessageCore(TypedDict):
    role: str  # system, user, assistant, tool
    content: str


class EngineMessage(_MessageCore, total=False):
    """One message as the engine reads it (what the chat template renders): OpenAI's chat shape."""

    tool_calls: list[ToolCallDict]  # assistant messages that call tools
    tool_call_id: str  # tool messages: which call this is the result of
    name: str  # tool messages: the tool's name


@dataclass(frozen=True)
class SamplingSettings:
    """How the next token is picked and when decoding stops (as transformers' ``GenerationConfig`` or
    vLLM's ``SamplingParams``, for this engine).

    ``do_sample=False`` takes the argmax of the strategy's scores, and ``temperature``/``top_p``/``top_k``
    are not used; ``do_sample=True`` samples from them after transformers' warpers. Front ends that speak
    OpenAI's convention ("temperature 0 means greedy") build theirs with :meth:`from_temperature`.
    """

    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    stop: str | Sequence[str] | None = None

    @classmethod
    def from_temperature(cls, temperature: float | None, **fields: Any) -> SamplingSettings:
        """The OpenAI / LangChain / LlamaIndex convention, decided here once: temperature 0 or None
        decodes greedily, above 0 samples at that temperature."""
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))):
            raise TypeError(f"temperature must be a number, got {temperature!r}")
        if temperature is not None and temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        return cls(do_sample=bool(temperature), temperature=float(temperature) if temperature else 1.0, **fields)

    @classmethod
    def split(
        cls, options: Mapping[str, Any], base: SamplingSettings | None = None
    ) -> tuple[SamplingSettings, dict[str, Any]]:
        """``generate(**options)``: the sampling fields among ``options`` (over ``base``), and the rest,
        which are the strategy's parameters."""
        mine = {k: v for k, v in options.items() if k in SAMPLING_FIELDS}
        rest = {k: v for k, v in options.items() if k not in SAMPLING_FIELDS}
        settings = base if base is not None else cls()
        if not isinstance(settings, SamplingSettings):
            raise TypeError(f"sampling must be a SamplingSettings, got {type(settings).__name__}")
        return (dataclasses.replace(settings, **mine) if mine else settings), rest

    def check(self) -> None:
        """Refuse values the loop cannot honour (ValueError/TypeError naming the field)."""
        n = self.max_new_tokens
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"max_new_tokens must be an int >= 0, got {n!r}")
        if self.do_sample:
            if not isinstance(self.temperature, (int, float)) or not self.temperature > 0:
                raise ValueError(f"temperature must be > 0 when sampling, got {self.temperature!r}")
            if not isinstance(self.top_p, (int, float)) or not 0 < self.top_p <= 1:
                raise ValueError(f"top_p must be in (0, 1], got {self.top_p!r}")
            if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
                raise ValueError(f"top_k must be an int >= 0, got {self.top_k!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise TypeError(f"seed must be an int or None, got {self.seed!r}")


SAMPLING_FIELDS = frozenset(f.name for f in dataclasses.fields(SamplingSettings))


@dataclass(init=False)
class GenerationRequest:
    """One request of :meth:`GuidedGenerator.generate_batch`: what to answer, how to steer, how to sample.

    ``GenerationRequest(messages, preference, "amulet", SamplingSettings(max_new_tokens=64))``; the sampling
    fields may also be given by name (``GenerationRequest(messages, max_new_tokens=64, seed=1)``), over
    ``sampling`` when both are given.
    """

    messages: Sequence[Mapping[str, Any]]
    preference: Any
    strategy: str
    sampling: SamplingSettings
    tools: Sequence[Mapping[str, Any]] | None
    strategy_params: dict[str, Any]
    constraint: Constraint | None
    """A grammar the output must follow (JSON schema, forced tool call): docs/engine.md."""

    def __init__(
        self,
        messages: Sequence[Mapping[str, Any]],
        preference: Any = None,
        strategy: str = "amulet",
        sampling: SamplingSettings | None = None,
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        strategy_params: Mapping[str, Any] | None = None,
        constraint: Constraint | None = None,
        **sampling_fields: Any,
    ) -> None:
        unknown = set(sampling_fields) - SAMPLING_FIELDS
        if unknown:
            raise TypeError(f"unknown GenerationRequest argument(s) {sorted(unknown)}")
        self.messages = messages
        self.preference = preference
        self.strategy = strategy
        self.sampling, _ = SamplingSettings.split(sampling_fields, sampling)
        self.tools = tools
        self.strategy_params = dict(strategy_params or {})
        self.constraint = constraint


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
