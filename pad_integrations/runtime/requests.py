"""The one place that turns per-call settings and a user's profile into an engine request.

Every front end (LangChain, LlamaIndex, the server, the CLI) builds its ``GenerationRequest`` here, so
defaults, checks and the meaning of each setting are decided once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from pad_integrations.runtime.profiles import guidance_of, read_profile
from pad_integrations.runtime.recording import resolve_memory

if TYPE_CHECKING:
    from pad_integrations.generation import Constraint, GenerationRequest, GuidedGenerator, SamplingSettings


def merge_stops(*groups: str | Sequence[str] | None) -> list[str] | None:
    """Instance and per-call stop strings as one list (None when there are none)."""
    merged: list[str] = []
    for group in groups:
        for stop in [group] if isinstance(group, str) else group or ():
            if not isinstance(stop, str) or not stop:
                raise ValueError(f"stop strings must be non-empty strings, got {stop!r}")
            if stop not in merged:
                merged.append(stop)
    return merged or None


def sampling_settings(
    *,
    max_tokens: int,
    temperature: float | None,
    top_p: float | None = None,
    top_k: int | None = None,
    seed: int | None = None,
    stop: str | Sequence[str] | None = None,
) -> SamplingSettings:
    """Front-end settings (OpenAI / LangChain / LlamaIndex names) as the engine's sampling settings.

    ``max_tokens`` must be at least 1; temperature 0 or None decodes greedily
    (:meth:`SamplingSettings.from_temperature`); ``top_p``/``top_k`` None mean no nucleus / top-k cut.
    """
    from pad_integrations.generation import SamplingSettings

    if max_tokens is None or isinstance(max_tokens, bool) or int(max_tokens) < 1:
        raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    return SamplingSettings.from_temperature(
        temperature,
        max_new_tokens=int(max_tokens),
        top_p=float(top_p) if top_p is not None else 1.0,
        top_k=int(top_k) if top_k is not None else 0,
        seed=seed,
        stop=stop,
    )


def build_request(
    messages: Sequence[Mapping[str, Any]],
    *,
    profile: Any,
    strategy: str,
    sampling: SamplingSettings,
    tools: list[dict[str, Any]] | None = None,
    strategy_params: dict[str, Any] | None = None,
    constraint: Constraint | None = None,
) -> GenerationRequest:
    """The engine request: the user's profile (a ``memory.Profile``, or None for no user) steers through
    its guidance; a profile with no active preference steers nothing."""
    from pad_integrations.generation import GenerationRequest

    return GenerationRequest(
        messages,
        guidance_of(profile) or None,
        strategy,
        sampling,
        tools=tools or None,
        strategy_params=dict(strategy_params or {}),
        constraint=constraint,
    )


M = TypeVar("M", bound=Mapping[str, Any])  # a message dict (EngineMessage, or a server's plain dict)


def with_system_instruction(messages: Sequence[M], instruction: str) -> list[M]:
    """Append an instruction to the system message (the engine folds it in where templates lack one)."""
    if messages and messages[0]["role"] == "system":
        first = cast(M, {**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}".strip()})
        return [first, *messages[1:]]
    return [cast(M, {"role": "system", "content": instruction}), *messages]


_PROBE_TOOL = {
    "type": "function",
    "function": {"name": "pad_probe_tool", "description": "probe", "parameters": {"type": "object", "properties": {}}},
}
_renders_tools: dict[int, bool] = {}


def renders_tools(engine: GuidedGenerator) -> bool:
    """Whether the model's chat template shows tool definitions to the model (checked once per engine).

    Templates without tool support drop ``tools=`` silently; the adapters refuse tools for them rather
    than let the model answer as if no tools had been offered.
    """
    known = _renders_tools.get(id(engine))
    if known is None:
        probe = [{"role": "user", "content": "hi"}]
        known = engine.count_tokens(probe, tools=[_PROBE_TOOL]) > engine.count_tokens(probe)
        _renders_tools[id(engine)] = known
    return known


def check_tools_supported(engine: GuidedGenerator, tools: Sequence[Any] | None) -> None:
    if tools and not renders_tools(engine):
        raise ValueError(
            f"the chat template of {engine.model_name!r} does not render tools, so the model would never "
            "see them; use a model whose template supports tools (e.g. Qwen2.5, Llama 3.1, Hermes)"
        )


class AdapterDefaults(Protocol):
    """The fields ChatPAD and PADLLM share, read as the defaults of each call."""

    memory: Any  # a PreferenceMemory, a database URL or None (resolve_memory)
    strategy: str
    top_p: float
    top_k: int
    seed: int | None
    stop: list[str] | None


def steered_request(
    adapter: AdapterDefaults,
    engine: GuidedGenerator,
    engine_messages: Sequence[Mapping[str, Any]],
    *,
    user_id: str | None,
    settings: dict[str, Any],
    temperature: float | None,
    max_tokens: int,
    stop: str | Sequence[str] | None,
    tools: list[dict[str, Any]] | None,
    strategy_params: dict[str, Any],
    constraint: Constraint | None = None,
) -> tuple[GenerationRequest, list[tuple[str, float]]]:
    """The engine request both adapters build: the user's stored preferences plus per-call settings
    over the adapter's fields (``memory``, ``strategy``, ``top_p``, ``top_k``, ``seed``, ``stop``).

    Returns the request and the guidance applied (for response metadata).
    """
    memory = resolve_memory(adapter.memory)
    profile = read_profile(memory, user_id) if memory is not None and user_id is not None else None
    check_tools_supported(engine, tools)
    sampling = sampling_settings(
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=settings.get("top_p", adapter.top_p),
        top_k=settings.get("top_k", adapter.top_k),
        seed=settings.get("seed", adapter.seed),
        stop=merge_stops(adapter.stop, stop),
    )
    request = build_request(
        engine_messages,
        profile=profile,
        strategy=settings.get("strategy", adapter.strategy),
        sampling=sampling,
        tools=tools,
        strategy_params=strategy_params,
        constraint=constraint,
    )
    return request, guidance_of(profile)
