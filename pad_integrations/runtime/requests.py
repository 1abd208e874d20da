"""The one place that turns per-call settings and a user's profile into an engine request.

Every front end (LangChain, LlamaIndex, the server, the CLI) builds its ``GenerationRequest`` here, so
defaults, checks and the meaning of each setting are decided once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pad_integrations.runtime.profiles import guidance_of, read_profile
from pad_integrations.runtime.recording import resolve_memory

if TYPE_CHECKING:
    from pad_integrations.generation import Constraint, GenerationRequest, GuidedGenerator


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


def build_request(
    messages: list[dict[str, Any]],
    *,
    guidance: list[tuple[str, float]],
    strategy: str,
    max_tokens: int,
    temperature: float | None,
    top_p: float,
    top_k: int,
    seed: int | None,
    stop: list[str] | None,
    tools: list[dict[str, Any]] | None,
    strategy_params: dict[str, Any],
    constraint: Constraint | None = None,
) -> GenerationRequest:
    """The engine request for adapter-level settings: temperature 0/None decodes greedily."""
    from pad_integrations.generation import GenerationRequest

    if max_tokens is None or int(max_tokens) < 1:
        raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    if temperature is not None and temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    return GenerationRequest(
        messages=messages,
        preference=guidance or None,
        strategy=strategy,
        max_new_tokens=int(max_tokens),
        do_sample=bool(temperature),
        temperature=float(temperature) if temperature else 1.0,
        top_p=float(top_p),
        top_k=int(top_k),
        seed=seed,
        stop=stop,
        tools=tools or None,
        strategy_params=dict(strategy_params),
        constraint=constraint,
    )


def with_system_instruction(messages: list[dict[str, Any]], instruction: str) -> list[dict[str, Any]]:
    """Append an instruction to the system message (the engine folds it in where templates lack one)."""
    if messages and messages[0]["role"] == "system":
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}".strip()}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


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


def steered_request(
    adapter: Any,
    engine: Any,
    engine_messages: list[dict[str, Any]],
    *,
    user_id: str | None,
    settings: dict[str, Any],
    temperature: float | None,
    max_tokens: int,
    stop: Any,
    tools: list[dict[str, Any]] | None,
    strategy_params: dict[str, Any],
    constraint: Any = None,
) -> tuple[Any, list[tuple[str, float]]]:
    """The engine request both adapters build: the user's stored preferences plus per-call settings
    over the adapter's fields (``memory``, ``strategy``, ``top_p``, ``top_k``, ``seed``, ``stop``).

    Returns the request and the guidance applied (for response metadata).
    """
    memory = resolve_memory(adapter.memory)
    profile = read_profile(memory, user_id) if memory is not None and user_id is not None else None
    guidance = guidance_of(profile)
    check_tools_supported(engine, tools)
    request = build_request(
        engine_messages,
        guidance=guidance,
        strategy=settings.get("strategy", adapter.strategy),
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=settings.get("top_p", adapter.top_p),
        top_k=settings.get("top_k", adapter.top_k),
        seed=settings.get("seed", adapter.seed),
        stop=merge_stops(adapter.stop, stop),
        tools=tools,
        strategy_params=strategy_params,
        constraint=constraint,
    )
    return request, guidance
