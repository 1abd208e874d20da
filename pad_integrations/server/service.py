"""The completion logic behind the routes: profile in, batched decode, turn observed afterwards."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request

from pad_integrations.errors import QueueClosedError
from pad_integrations.runtime.decode_queue import Scheduler, SchedulerConfig, get_decode_queue
from pad_integrations.runtime.recording import new_turn as recorded_new_turn
from pad_integrations.runtime.recording import recorder_for
from pad_integrations.runtime.requests import build_request, sampling_settings, with_system_instruction
from pad_integrations.server.admission import (
    Admission,
    Job,
    QueueFullError,
    Slot,
    TokenBound,
    chat_message_count,
    message_texts,
)
from pad_integrations.server.auth import acting_as
from pad_integrations.server.http import APIError
from pad_integrations.server.protocol import ChatCompletionRequest
from pad_integrations.tools import ToolCall, parse_tool_calls

if TYPE_CHECKING:
    from memory import PreferenceMemory, Profile
    from pad_integrations.generation import GenerationResult, GuidedGenerator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerConfig:
    """Limits and defaults of one server process."""

    model_id: str | None = None  # the name clients pass as ``model``; default: the model directory's name
    strategy: str = "amulet"
    max_tokens: int = 256  # when the request sets none
    max_pending: int = 64  # requests in progress beyond which new ones get 429
    max_batch: int | None = None  # rows per decode; None keeps the shared decode queue's own limit
    scheduler: Scheduler = "continuous"  # the decode queue's mode: "continuous" or "batch" (SchedulerConfig.mode)
    # The decode queue's other SchedulerConfig limits; None keeps the queue's own (docs/engine.md, "Scheduling").
    max_tokens_in_flight: int | None = None
    max_prefill_tokens: int | None = None
    max_request_tokens: int | None = None  # per-request budget: prompt tokens of every context + new tokens
    max_body_bytes: int = 1 << 20
    retry_after_s: int = 1
    # API keys (pad_integrations.server.auth) from the memory's database; False: every request acts as
    # anyone (``pad serve --no-auth``, loopback only).
    auth: bool = True
    auth_max_failures: int = 20  # failed key attempts per client address in the window, then 429
    auth_window_s: float = 60.0

    def __post_init__(self) -> None:
        from pad_integrations.generation import make_strategy

        make_strategy(self.strategy)  # ValueError naming the known strategies
        if self.max_tokens < 1 or self.max_body_bytes < 1 or self.retry_after_s < 0:
            raise ValueError("max_tokens and max_body_bytes must be positive, retry_after_s not negative")
        if self.auth_max_failures < 1 or not self.auth_window_s > 0:
            raise ValueError("auth_max_failures must be at least 1 and auth_window_s positive")
        if self.scheduler not in ("continuous", "batch"):
            raise ValueError(f"scheduler must be 'continuous' or 'batch', not {self.scheduler!r}")
        self.scheduler_config(SchedulerConfig())  # ValueError for a limit out of range, at configuration time

    def scheduler_config(self, current: SchedulerConfig) -> SchedulerConfig:
        """``current`` (the decode queue's settings) with this server's mode and the limits it sets."""
        limits = {
            name: value
            for name in ("max_tokens_in_flight", "max_prefill_tokens", "max_request_tokens")
            if (value := getattr(self, name)) is not None
        }
        return dataclasses.replace(current, mode=self.scheduler, **limits)


def default_model_id(model_name: str) -> str:
    """A local directory is served under its base name; a hub id as it is."""
    path = Path(model_name)
    return path.name if path.is_absolute() or path.exists() else model_name


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
        scheduler = config.scheduler_config(self.decode_queue.scheduler)
        if scheduler != self.decode_queue.scheduler:
            self.decode_queue.scheduler = scheduler
        self.admission = Admission(self.decode_queue, config.max_pending)
        self.namespace = memory.namespace  # where requests act unless their key or header says otherwise
        self._memories: dict[str, PreferenceMemory] = {memory.namespace: memory}
        self._memories_lock = threading.Lock()
        # Built once (decodes the vocabulary): refuses surely-too-long prompts before tokenizing them.
        self.token_bound = TokenBound(generator.tokenizer)

    def _check_reward_model(self, strategy: str, **params: Any) -> None:
        """The strategy's reward model must be loaded (a ConfigurationError, i.e. a 400, names what is missing):
        the engine's own check, run before anything is queued."""
        self.generator.check_strategy(strategy, **params)

    def _check_model(self, model: str) -> None:
        if model not in (self.model_id, self.generator.model_name):
            raise APIError(
                404,
                f"The model {model!r} does not exist; this server serves {self.model_id!r}.",
                param="model",
                code="model_not_found",
                type="not_found_error",
            )

    def _memory_for(self, namespace: str) -> PreferenceMemory:
        with self._memories_lock:
            memory = self._memories.get(namespace)
            if memory is None:
                memory = self._open_namespace(namespace)
                self._memories[namespace] = memory
            return memory

    def _open_namespace(self, namespace: str) -> PreferenceMemory:
        """The memory of another namespace on the same database (namespaces come from keys the admin made,
        so there are few): a sibling sharing the home memory's engine, extractors and limits."""
        return self.memory.for_namespace(namespace)

    async def memory_in(self, namespace: str) -> PreferenceMemory:
        """The memory serving ``namespace`` (opened on first use, off the event loop)."""
        memory = self._memories.get(namespace)
        return memory if memory is not None else await asyncio.to_thread(self._memory_for, namespace)

    def memories(self) -> list[PreferenceMemory]:
        with self._memories_lock:
            return list(self._memories.values())

    def flush(self) -> None:
        """Every finished turn of every namespace reaches its memory (at shutdown)."""
        for memory in self.memories():
            recorder_for(memory).flush()

    async def settled(self, namespace: str, user_id: str) -> PreferenceMemory:
        """Wait until the memory has taken in this user's earlier turns, whichever worker served them
        (read-your-writes); returns it."""
        memory = await self.memory_in(namespace)

        def settle() -> None:
            recorder_for(memory).wait_for(user_id)
            # A turn another worker (a Ray Serve replica) answered may still be unread there: read it here.
            memory.read_pending(user_id)

        await asyncio.to_thread(settle)
        return memory

    async def profile(self, namespace: str, user_id: str) -> Profile:
        memory = await self.settled(namespace, user_id)
        return await memory.aprofile(user_id)

    def _check_strategy(self, strategy: str, params: dict[str, Any]) -> dict[str, Any]:
        """The strategy and its parameters, validated by the strategy (each parameter has a range), so an
        out-of-range value is a 400 before any work. Returns the parameters the strategy reads."""
        from pad_integrations.generation import STRATEGIES, make_strategy

        if strategy not in STRATEGIES:
            raise APIError(400, f"unknown strategy {strategy!r}; available: {', '.join(sorted(STRATEGIES))}",
                           param="strategy")
        strategy_params = {k: v for k, v in params.items() if k != "prompt_style"}
        try:
            make_strategy(strategy, **strategy_params)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise APIError(400, str(exc), param="strategy_params") from None
        return strategy_params

    def _check_length(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, instruction: str | None
    ) -> None:
        """Cheap: a conversation whose characters and template markers alone (with the tools and the format
        instruction that the prompt will carry) need more tokens than the window is refused untokenized."""
        texts = [*message_texts(messages, tools), instruction or ""]
        at_least = self.token_bound.at_least(texts, chat_message_count(messages))
        if at_least > self.generator.context_window:
            raise APIError(
                400,
                f"The conversation is at least {at_least} tokens; the model's context window is "
                f"{self.generator.context_window}.",
                param="messages",
                code="context_length_exceeded",
            )

    def _reserve(self) -> Slot:
        try:
            return self.admission.reserve()
        except QueueFullError as exc:
            raise APIError(429, str(exc), type="rate_limit_error", code="server_busy",
                           headers={"Retry-After": str(self.config.retry_after_s)}) from None

    async def start(
        self, body: ChatCompletionRequest, request: Any
    ) -> tuple[Job, dict[str, Any], list[dict[str, Any]]]:
        """Validate, authorize, admit, read the user's profile and queue the request.

        The order is the point: everything cheap first (model, who may act as whom, strategy parameter
        ranges, the character bound on the length), then an admission slot (429 when full), and only
        with a slot the profile read, the grammar and the tokenizer. Returns (job, pad info, messages).
        """
        self._check_model(body.model)
        namespace, user = acting_as(request, body.user, default_namespace=self.namespace)
        messages = body.engine_messages()
        strategy = body.strategy or self.config.strategy
        params = dict(body.strategy_params or {})
        strategy_params = self._check_strategy(strategy, params)
        tools = body.offered_tools
        self._check_length(messages, tools, body.instruction)
        slot = self._reserve()
        try:
            job = await self._admitted(body, slot, namespace, user, messages, strategy, params, strategy_params)
        except BaseException:
            slot.release()
            raise
        info = {"strategy": strategy, "user": user, "namespace": namespace}
        return job, info, messages

    async def _admitted(
        self,
        body: ChatCompletionRequest,
        slot: Slot,
        namespace: str,
        user: str | None,
        messages: list[dict[str, Any]],
        strategy: str,
        params: dict[str, Any],
        strategy_params: dict[str, Any],
    ) -> Job:
        """The expensive part of :meth:`start`, holding an admission slot."""
        profile = await self.profile(namespace, user) if user else None
        preference = profile if profile is not None and profile.preferences else None
        if preference is not None:
            try:
                self._check_reward_model(strategy, **strategy_params)  # only read with a preference
            except (ValueError, TypeError) as exc:
                raise APIError(400, str(exc), param="strategy") from None
        tools = body.offered_tools
        try:  # the grammar's cost grows with the schema and the tools: with a slot, off the event loop
            constraint = await asyncio.to_thread(body.build_constraint)
        except ValueError as exc:
            raise APIError(400, str(exc), param="tools" if tools else "response_format") from None
        if body.instruction:  # response_format / forced tool: say what the grammar will hold the reply to
            messages = with_system_instruction(messages, body.instruction)
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
        sampling = sampling_settings(
            max_tokens=min(body.token_limit or self.config.max_tokens, room),
            temperature=body.temperature,
            top_p=body.top_p,
            top_k=body.top_k,
            seed=body.seed,
            stop=body.stop,
        )
        request = build_request(
            messages, profile=preference, strategy=strategy, sampling=sampling, tools=tools, strategy_params=params,
            constraint=constraint,
        )
        try:
            return slot.submit(request, stream=body.stream)
        except QueueClosedError as exc:  # the process is shutting down
            raise APIError(503, str(exc), type="server_error", code="shutting_down",
                           headers={"Retry-After": str(self.config.retry_after_s)}) from None

    async def _store_turn(self, memory: PreferenceMemory, user: str, turn: list[dict[str, Any]]) -> None:
        """Commit the turn (durable when this returns), then read it for preferences off the request path;
        the user's next request waits for that reading (read-your-writes)."""
        turn = [m for m in turn if str(m.get("content") or "").strip()]
        if not turn:  # nothing said (e.g. an empty reply to tool results only): nothing to store
            return
        ids = await asyncio.to_thread(memory.commit_turn, user, turn)

        def read() -> None:
            try:
                memory.read_turn(user, ids)
            except Exception:  # the turn stays pending in the database; the next start resumes it
                logger.exception("reading a stored turn failed; it stays pending and is resumed later")

        recorder_for(memory).submit(user, read)

    async def finished(
        self, body: ChatCompletionRequest, messages: list[dict], result: GenerationResult, info: dict
    ) -> dict[str, Any]:
        """Store the finished turn durably, then return the pad info with what guided it.

        Called before the answer (or the stream's last chunk) goes out: a turn is acknowledged only once
        its messages are committed, so a crash after the acknowledgement cannot lose it. A turn that
        cannot be stored is a 503 (the client may retry) rather than an answer the memory never saw.
        """
        user = info.get("user")
        if user:
            reply, _ = split_tool_calls(result.text, body.offered_tools)
            memory = await self.memory_in(info["namespace"])
            try:
                await self._store_turn(memory, user, new_turn(messages, reply))
            except Exception as exc:
                logger.exception("storing a finished turn failed; it is not acknowledged")
                raise APIError(503, f"the answer could not be stored ({type(exc).__name__}); retry",
                               type="server_error", code="turn_not_stored",
                               headers={"Retry-After": str(self.config.retry_after_s)}) from None
        applied = getattr(result.trace, "preferences", None) or []
        extra = {k: v for k, v in info.items() if k != "namespace"}
        return {**extra, "preferences_applied": [{"text": t, "weight": w} for t, w in applied]}


def new_turn(messages: list[dict[str, Any]], reply: str) -> list[dict[str, Any]]:
    """What a request adds to the conversation: its user messages (the shared rule of what is new,
    :func:`pad_integrations.runtime.recording.new_turn`), and the reply. Tool results are not observed."""
    new = [{"role": "user", "content": m["content"]} for m in recorded_new_turn(messages, itemgetter("role"))
           if m["role"] == "user"]
    return [*new, {"role": "assistant", "content": reply}]


def split_tool_calls(text: str, tools: list[dict] | None) -> tuple[str, list[ToolCall]]:
    return parse_tool_calls(text, tools) if tools else (text, [])



def get_service(request: Request) -> ChatService:
    """The app's service (a FastAPI dependency: routes take it from the app state, not from closures)."""
    service: ChatService = request.app.state.service
    return service
