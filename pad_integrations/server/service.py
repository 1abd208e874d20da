"""The completion logic behind the routes: profile in, batched decode, turn observed afterwards."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request

from pad_integrations.runtime.decode_queue import get_decode_queue
from pad_integrations.runtime.recording import recorder_for
from pad_integrations.server.admission import Admission, Job, QueueFullError
from pad_integrations.server.http import APIError
from pad_integrations.server.protocol import MAX_USER_ID_CHARS, ChatCompletionRequest
from pad_integrations.tools import ToolCall, parse_tool_calls

if TYPE_CHECKING:
    from memory import PreferenceMemory, Profile
    from pad_integrations.generation import GenerationResult, GuidedGenerator


@dataclass(frozen=True)
class ServerConfig:
    """Limits and defaults of one server process."""

    model_id: str | None = None  # the name clients pass as ``model``; default: the model directory's name
    strategy: str = "amulet"
    max_tokens: int = 256  # when the request sets none
    max_pending: int = 64  # requests in progress beyond which new ones get 429
    max_batch: int | None = None  # rows per decode; None keeps the shared decode queue's own limit
    max_body_bytes: int = 1 << 20
    retry_after_s: int = 1
    api_key: str | None = None

    def __post_init__(self) -> None:
        from pad_integrations.generation import make_strategy

        make_strategy(self.strategy)  # ValueError naming the known strategies
        if self.max_tokens < 1 or self.max_body_bytes < 1 or self.retry_after_s < 0:
            raise ValueError("max_tokens and max_body_bytes must be positive, retry_after_s not negative")


def default_model_id(model_name: str) -> str:
    """A local directory is served under its base name; a hub id as it is."""
    path = Path(model_name)
    return path.name if path.is_absolute() or path.exists() else model_name


def checked_user(user_id: str) -> str:
    if not user_id.strip() or len(user_id) > MAX_USER_ID_CHARS:
        raise APIError(400, f"user id must be 1 to {MAX_USER_ID_CHARS} characters", param="user_id")
    return user_id


class ChatService:
    """The completion logic behind the routes: profile in, batched decode, turn observed afterwards."""

    def __init__(self, generator: GuidedGenerator, memory: PreferenceMemory, config: ServerConfig) -> None:
        self.generator = generator
        self.memory = memory
        self.config = config
        self.model_id = config.model_id or default_model_id(generator.model_name)
        self._check_reward_model(config.strategy)
        self.decode_queue = get_decode_queue(generator)
        if config.max_batch is not None:
            self.decode_queue.max_batch_size = config.max_batch
        self.admission = Admission(self.decode_queue, config.max_pending)
        self.turns = recorder_for(memory)

    def _check_reward_model(self, strategy: str, **params: Any) -> None:
        """The strategy's reward model must be loaded (a ConfigurationError, i.e. a 400, names what is missing)."""
        from pad_integrations.errors import ConfigurationError
        from pad_integrations.generation import make_strategy

        kind = make_strategy(strategy, **params).reward_model_kind
        loaded = {"persrm": getattr(self.generator, "persrm", None),
                  "sequence": getattr(self.generator, "sequence_rm", None)}
        if kind is not None and loaded.get(kind) is None:
            what = "a PersRM (--reward-model)" if kind == "persrm" else "a sequence-classification reward model"
            raise ConfigurationError(f"strategy {strategy!r} needs {what}, and this server has none")

    def _check_model(self, model: str) -> None:
        if model not in (self.model_id, self.generator.model_name):
            raise APIError(
                404,
                f"The model {model!r} does not exist; this server serves {self.model_id!r}.",
                param="model",
                code="model_not_found",
                type="not_found_error",
            )

    async def settled(self, user_id: str) -> None:
        """Wait until the memory has taken in this user's earlier turns (read-your-writes)."""
        await asyncio.to_thread(self.turns.wait_for, user_id)

    async def profile(self, user_id: str) -> Profile:
        await self.settled(user_id)
        return await self.memory.aprofile(user_id)

    async def start(self, body: ChatCompletionRequest) -> tuple[Job, dict[str, Any], list[dict[str, Any]]]:
        """Validate, read the user's profile and queue the request. Returns (job, pad info, messages)."""
        from pad_integrations.generation import GenerationRequest, make_strategy

        self._check_model(body.model)
        messages = body.engine_messages()
        strategy = body.strategy or self.config.strategy
        params = dict(body.strategy_params or {})
        profile = await self.profile(body.user) if body.user else None
        preference = profile if profile is not None and profile.preferences else None
        try:
            # Fail before anything is queued (or streamed), with the engine's own message.
            strategy_params = {k: v for k, v in params.items() if k != "prompt_style"}
            if preference is None:
                make_strategy(strategy, **strategy_params)  # with no preference no reward model is read
            else:
                self._check_reward_model(strategy, **strategy_params)
        except (ValueError, TypeError) as exc:
            raise APIError(400, str(exc), param="strategy") from None
        tools = body.offered_tools
        prompt_tokens = await asyncio.to_thread(self.generator.count_tokens, messages, tools)
        room = self.generator.context_window - prompt_tokens
        if room < 1:
            raise APIError(
                400,
                f"The conversation is {prompt_tokens} tokens; the model's context window is "
                f"{self.generator.context_window}.",
                param="messages",
                code="context_length_exceeded",
            )
        temperature = body.temperature if body.temperature is not None else 0.0
        request = GenerationRequest(
            messages=messages,
            preference=preference,
            strategy=strategy,
            max_new_tokens=min(body.token_limit or self.config.max_tokens, room),
            do_sample=temperature > 0,
            temperature=temperature if temperature > 0 else 1.0,
            top_p=body.top_p if body.top_p is not None else 1.0,
            top_k=body.top_k or 0,
            seed=body.seed,
            stop=body.stop,
            tools=tools,
            strategy_params=params,
        )
        try:
            job = self.admission.submit(request, stream=body.stream)
        except QueueFullError as exc:
            raise APIError(429, str(exc), type="rate_limit_error", code="server_busy",
                           headers={"Retry-After": str(self.config.retry_after_s)}) from None
        except RuntimeError as exc:  # the decode queue was closed: the process is shutting down
            raise APIError(503, str(exc), type="server_error", code="shutting_down",
                           headers={"Retry-After": str(self.config.retry_after_s)}) from None
        info = {"strategy": strategy, "user": body.user}
        return job, info, messages

    def finished(
        self, body: ChatCompletionRequest, messages: list[dict], result: GenerationResult, info: dict
    ) -> dict[str, Any]:
        """Schedule the observation of the finished turn; return the pad info with what guided it."""
        if body.user:
            reply, _ = split_tool_calls(result.text, body.offered_tools)
            self.turns.record(body.user, new_turn(messages, reply))
        applied = getattr(result.trace, "preferences", None) or []
        return {**info, "preferences_applied": [{"text": t, "weight": w} for t, w in applied]}


def new_turn(messages: list[dict[str, Any]], reply: str) -> list[dict[str, Any]]:
    """What a request adds to the conversation: the user messages after the last assistant turn, and the reply.

    Clients resend the whole history with every request; observing only the new part stores each
    message once. System messages are the application's, not the user's, and are not observed.
    """
    start = 0
    for i, message in enumerate(messages):
        if message["role"] == "assistant":
            start = i + 1
    new = [{"role": "user", "content": m["content"]} for m in messages[start:] if m["role"] == "user"]
    return [*new, {"role": "assistant", "content": reply}]


def split_tool_calls(text: str, tools: list[dict] | None) -> tuple[str, list[ToolCall]]:
    return parse_tool_calls(text, tools) if tools else (text, [])



def get_service(request: Request) -> ChatService:
    """The app's service (a FastAPI dependency: routes take it from the app state, not from closures)."""
    service: ChatService = request.app.state.service
    return service
