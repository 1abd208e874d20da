"""OpenAI-compatible chatbot backend with persistent, per-user preferences (the ``server`` extra).

    pad serve --host 127.0.0.1 --port 8000 --db sqlite:///prefs.db [--model DIR] [--api-key KEY]

Endpoints: ``POST /v1/chat/completions`` (plain and streamed), ``GET /v1/models``,
``GET``/``PUT``/``DELETE /v1/users/{user_id}/preferences`` and ``GET /healthz``. The OpenAI ``user``
field picks whose preferences guide the answer; the turn is then observed by the memory.

One process holds one generator; requests go through a bounded queue to a worker thread that decodes
everything waiting in one ``generate_batch`` (see :mod:`pad_integrations.server_batching`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pad_integrations._extras import require

try:
    from fastapi import Depends, FastAPI, Query
    from fastapi import Path as PathParam
    from fastapi.responses import JSONResponse, StreamingResponse
except ImportError:
    require("fastapi", "server", "pad serve")  # raises MissingExtraError naming the extra
    raise

from pad_integrations.models_cache import get_decode_queue
from pad_integrations.profile_views import profile_json
from pad_integrations.server_http import (
    APIError,
    BodySizeLimit,
    api_key_checker,
    error_body,
    install_error_handlers,
)
from pad_integrations.server_jobs import Admission, Delta, Done, Failed, Job, QueueFullError
from pad_integrations.server_responses import DONE, ChunkWriter, completion_body, completion_id, sse
from pad_integrations.server_schemas import (
    MAX_USER_ID_CHARS,
    ChatCompletionRequest,
    PreferencesPut,
)
from pad_integrations.tools import ToolCall, ToolCallStreamParser, parse_tool_calls
from pad_integrations.user_context import recorder_for

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


def _checked_user(user_id: str) -> str:
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
            reply, _ = _split_tool_calls(result.text, body.offered_tools)
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


def _split_tool_calls(text: str, tools: list[dict] | None) -> tuple[str, list[ToolCall]]:
    return parse_tool_calls(text, tools) if tools else (text, [])


def create_app(
    generator: GuidedGenerator, memory: PreferenceMemory, config: ServerConfig | None = None
) -> FastAPI:
    """The ASGI app around a loaded ``GuidedGenerator`` and a ``PreferenceMemory``."""
    config = config or ServerConfig()
    service = ChatService(generator, memory, config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # Every finished turn reaches the memory before the process ends.
        await asyncio.to_thread(service.turns.flush)

    app = FastAPI(title="pad-integrations", version="1", lifespan=lifespan)
    app.state.service = service
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    auth = [Depends(api_key_checker(config.api_key))]

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": service.model_id,
            "requests": {"in_progress": service.admission.in_flight, "capacity": config.max_pending},
            "decodes": service.decode_queue.decodes,
        }

    @app.get("/v1/models", dependencies=auth)
    async def models() -> dict[str, Any]:
        card = {"id": service.model_id, "object": "model", "created": 0, "owned_by": "pad-integrations"}
        return {"object": "list", "data": [card]}

    @app.post("/v1/chat/completions", dependencies=auth)
    async def chat_completions(body: ChatCompletionRequest) -> Any:
        job, info, messages = await service.start(body)
        if body.stream:
            return StreamingResponse(
                _stream(service, body, job, info, messages),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        try:
            result = await job.result()
        except asyncio.CancelledError:
            job.abandon()
            raise
        content, calls = _split_tool_calls(result.text, body.offered_tools)
        extra = service.finished(body, messages, result, info)
        return JSONResponse(
            completion_body(
                id=completion_id(),
                model=service.model_id,
                created=int(time.time()),
                content=content,
                tool_calls=calls,
                finish_reason="tool_calls" if calls else result.finish_reason,
                usage=result.usage,
                extra=extra,
            )
        )

    @app.get("/v1/users/{user_id:path}/preferences", dependencies=auth)
    async def get_preferences(user_id: str = PathParam(max_length=MAX_USER_ID_CHARS)) -> dict[str, Any]:
        user_id = _checked_user(user_id)
        return profile_json(user_id, await service.profile(user_id))

    @app.put("/v1/users/{user_id:path}/preferences", dependencies=auth)
    async def put_preferences(
        body: PreferencesPut, user_id: str = PathParam(max_length=MAX_USER_ID_CHARS)
    ) -> dict[str, Any]:
        user_id = _checked_user(user_id)
        await service.settled(user_id)
        kept = {(await memory.aset_preference(user_id, p.kind, p.value, text=p.text, weight=p.weight)).id
                for p in body.preferences}
        if body.replace:
            current = await memory.aprofile(user_id)
            # `dropped` holds active preferences left out of the prompt by its size budget: replace them too.
            for pref in [*current.preferences, *current.dropped]:
                if pref.id not in kept:
                    await memory.aremove_preference(user_id, pref.id)
        return profile_json(user_id, await memory.aprofile(user_id))

    @app.delete("/v1/users/{user_id:path}/preferences", dependencies=auth)
    async def delete_preferences(
        user_id: str = PathParam(max_length=MAX_USER_ID_CHARS),
        kind: str | None = Query(default=None, max_length=64),
    ) -> dict[str, Any]:
        user_id = _checked_user(user_id)
        await service.settled(user_id)
        if kind is None:
            removed = await memory.aforget(user_id)
        else:
            removed = len(await memory.aremove_preference(user_id, kind))
        return {"user": user_id, "kind": kind, "removed": removed}

    return app


async def _stream(
    service: ChatService, body: ChatCompletionRequest, job: Job, info: dict, messages: list[dict]
) -> AsyncIterator[str]:
    """SSE events of one streamed completion. Tool-call markup is held back and sent as tool_calls deltas."""
    writer = ChunkWriter(id=completion_id(), model=service.model_id)
    tools = body.offered_tools
    parser = ToolCallStreamParser(tools) if tools else None
    calls = 0
    finished = False

    def chunks(events: list) -> list[str]:
        nonlocal calls
        out = []
        for event in events:
            if event.tool_call is not None:
                out.append(writer.tool_call(event.tool_call, event.index))
                calls += 1
            elif event.text:
                out.append(writer.text(event.text))
        return out

    try:
        yield writer.role()
        while True:
            event = await job.events.get()
            if isinstance(event, Delta):
                for chunk in chunks(parser.feed(event.text)) if parser else [writer.text(event.text)]:
                    yield chunk
            elif isinstance(event, Failed):
                logger.error("streamed generation failed: %r", event.error)
                yield sse(error_body(f"generation failed: {event.error}", type="server_error"))
                finished = True
                break
            elif isinstance(event, Done):
                for chunk in chunks(parser.finish()) if parser else []:
                    yield chunk
                result = event.result
                extra = service.finished(body, messages, result, info)
                yield writer.finish("tool_calls" if calls else result.finish_reason, extra)
                if body.include_usage:
                    yield writer.usage(result.usage)
                finished = True
                break
        yield DONE
    finally:
        if not finished:
            job.abandon()


def serve(
    *,
    model: str,
    reward_model: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    db: str | None = None,
    memory: PreferenceMemory | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    config: ServerConfig | None = None,
    log_level: str = "info",
) -> None:
    """Load the model and open the memory (``memory``, else one on ``db``), then serve until interrupted."""
    uvicorn = require("uvicorn", "server", "pad serve")
    from memory import PreferenceMemory
    from pad_integrations.models_cache import get_generator

    generator = get_generator(model, reward_model=reward_model, device=device, dtype=dtype)
    memory = memory if memory is not None else PreferenceMemory(url=db)
    config = config or ServerConfig(api_key=os.environ.get("PAD_API_KEY") or None)
    app = create_app(generator, memory, config)
    # uvicorn's 5 s keep-alive races clients that reuse a connection just as it closes (seen as rare
    # connection resets under load in the reliability suite); 60 s matches common client pools.
    uvicorn.run(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=30, timeout_keep_alive=60
    )

