"""LangChain chat model: ``from pad_integrations.langchain import ChatPAD``.

A thin adapter: LangChain messages become the engine's message dicts, the user is resolved per call,
their stored preferences steer decoding, and the finished turn is recorded in their memory. Decoding,
chat templates and stop strings belong to the engine (:mod:`pad_integrations.generation`); tool-call
markup parsing to :mod:`pad_integrations.tools`.

Every path (invoke, stream, batch and their async forms) goes through one decode queue per model
(:mod:`pad_integrations.runtime.decode_queue`), so ``batch([...])`` is one batched decode and concurrent
callers share decodes instead of fighting over the model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, cast

from pad_integrations._extras import require

require("langchain_core", "langchain", "pad_integrations.langchain")

from langchain_core.callbacks import (  # noqa: E402
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LangSmithParams  # noqa: E402
from langchain_core.language_models.base import LanguageModelInput  # noqa: E402
from langchain_core.messages import (  # noqa: E402
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata  # noqa: E402
from langchain_core.messages.tool import tool_call, tool_call_chunk  # noqa: E402
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser  # noqa: E402
from langchain_core.output_parsers.openai_tools import (  # noqa: E402
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult  # noqa: E402
from langchain_core.runnables import (  # noqa: E402
    Runnable,
    RunnableConfig,
    RunnableMap,
    RunnablePassthrough,
    ensure_config,
)
from langchain_core.runnables.config import get_config_list  # noqa: E402
from langchain_core.tools import BaseTool  # noqa: E402
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool  # noqa: E402
from langchain_core.utils.pydantic import is_basemodel_subclass  # noqa: E402
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator  # noqa: E402

from pad_integrations.runtime.bridge import ResultStream  # noqa: E402
from pad_integrations.runtime.decode_queue import batch_group, get_decode_queue, group_member  # noqa: E402
from pad_integrations.runtime.engines import dtype_name, get_generator  # noqa: E402
from pad_integrations.runtime.recording import RecordMode, new_turn, recorder_for, resolve_memory  # noqa: E402
from pad_integrations.runtime.requests import steered_request, with_system_instruction  # noqa: E402
from pad_integrations.runtime.users import check_user_id, current_user  # noqa: E402
from pad_integrations.tools import (  # noqa: E402
    StreamEvent,
    ToolCall,
    ToolCallStreamParser,
    arguments_json,
    parse_tool_calls,
)

# The engine (torch + transformers, seconds to import) loads when a model is first used, not on import:
# these names are annotations here, and the constraint classes are imported where a call needs them.
if TYPE_CHECKING:
    from pad_integrations.generation import Constraint, GenerationRequest, GenerationResult, GuidedGenerator
    from pad_integrations.generation.types import EngineMessage

__all__ = ["ChatPAD", "to_engine_messages"]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "developer": "system"}
# Keyword arguments LangChain itself threads through to the model; they carry no decoding meaning.
_LANGCHAIN_KWARGS = frozenset({"ls_structured_output_format", "structured_output_format", "stream"})


def _text_of(content: str | list[str | dict[str, Any]]) -> str:
    """The text of a message's content; non-text blocks are refused (the model reads text only)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") in ("tool_use", "tool_call", "reasoning", "thinking"):
            continue  # carried by ``tool_calls`` or not part of the visible conversation
        else:
            raise ValueError(f"content blocks of type {block.get('type')!r} are not supported: this is a text model")
    return "".join(parts)


def to_engine_messages(messages: Sequence[BaseMessage]) -> list[EngineMessage]:
    """LangChain messages -> the engine's dicts (tool calls and tool results included)."""
    out: list[EngineMessage] = []
    for message in messages:
        if not isinstance(message, BaseMessage):
            raise TypeError(f"expected LangChain messages, got {type(message).__name__}")
        role = message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type)
        if role is None:
            raise ValueError(f"unsupported message type {message.type!r}")
        item: EngineMessage = {"role": role, "content": _text_of(message.content)}
        if isinstance(message, AIMessage) and message.tool_calls:
            item["tool_calls"] = [
                ToolCall(tc["name"], tc["args"], tc.get("id")).to_message_dict() for tc in message.tool_calls
            ]
        if isinstance(message, ToolMessage):
            item["tool_call_id"] = message.tool_call_id
            if message.name:
                item["name"] = message.name
            if message.status == "error" and not item["content"].lower().startswith("error"):
                item["content"] = "Error: " + item["content"]
        out.append(item)
    return out


def _as_message(message: Any) -> BaseMessage:
    """A message in any form ``convert_to_messages`` takes (dict, (role, text) pair, str)."""
    from langchain_core.messages import convert_to_messages

    return convert_to_messages([message])[0]


def _runtime_user() -> str | None:
    """The user in a LangGraph runtime context (``create_agent(..., context_schema=...)``), if any."""
    try:
        from langgraph.runtime import get_runtime
    except ImportError:
        return None
    try:
        context = get_runtime().context
    except Exception:  # outside a graph run: no runtime
        return None
    if isinstance(context, Mapping):
        return context.get("user_id")
    return getattr(context, "user_id", None)


def _config_user(config: RunnableConfig | None) -> str | None:
    """The user in run metadata, then in ``configurable``."""
    config = ensure_config(config)
    for source in (config.get("metadata") or {}, config.get("configurable") or {}):
        if source.get("user_id") is not None:
            return source["user_id"]
    return None


ToolChoice = Literal["auto", "none", "any", "required"] | str | bool | dict | None


def _forced_tool(tool_choice: ToolChoice, tools: list[dict[str, Any]]) -> str | None:
    """The tool a ``tool_choice`` requires ("any"/"required"/True with one tool, or a name), else None."""
    if tool_choice in (None, "auto", "none", False):
        return None
    if isinstance(tool_choice, dict):
        tool_choice = tool_choice.get("function", {}).get("name") or tool_choice.get("name")
    names = [t["function"]["name"] for t in tools]
    if tool_choice in ("any", "required", True):
        return names[0] if len(names) == 1 else None
    if tool_choice not in names:
        raise ValueError(f"tool_choice {tool_choice!r} is not one of the bound tools {names}")
    return str(tool_choice)


@dataclass
class _Prepared:
    """Everything one call needs, resolved before decoding."""

    engine: GuidedGenerator
    request: GenerationRequest
    user_id: str | None
    guidance: list[tuple[str, float]]
    tools: list[dict[str, Any]] | None
    response_format: dict[str, Any] | None


class ChatPAD(BaseChatModel):
    """A local Hugging Face chat model steered per user at decoding time (PAD, Amulet, linear alignment).

    The user's stored preferences (``memory``) steer every token; each finished turn is recorded back
    into the memory. The user comes from ``user_id=`` on the call (or ``.bind``), run metadata,
    ``configurable``, the LangGraph runtime context, ``pad_integrations.runtime.user_context``, or the
    ``user_id`` field, in that order. With no user, memory is neither read nor written.

    Setup:
        .. code-block:: bash

            pip install "pad-integrations[langchain]"

    Instantiate:
        .. code-block:: python

            from pad_integrations.langchain import ChatPAD

            llm = ChatPAD(
                model=None,                       # the default model, or a hub id / local directory
                strategy="amulet",                # base, prompt, linear, amulet, pad (needs reward_model), args
                memory="sqlite:///prefs.db",      # a memory.PreferenceMemory or a database URL
                temperature=0,                    # 0 or None: greedy
                max_tokens=256,
            )

    Invoke:
        .. code-block:: python

            msg = llm.invoke("I prefer short answers. What is tea?", user_id="alice")
            msg.content
            msg.response_metadata["preferences"]   # what steered this answer: [{"text", "weight"}]
            msg.usage_metadata                     # exact token counts

    Stream:
        .. code-block:: python

            for chunk in llm.stream("What is tea?", user_id="alice"):
                print(chunk.text, end="")

        ``batch``/``abatch`` run as one batched decode; async methods never block the event loop.

    Tool calling:
        .. code-block:: python

            from pydantic import BaseModel, Field

            class GetWeather(BaseModel):
                '''Get the current weather in a city.'''
                city: str = Field(description="The city, e.g. Paris")

            llm_with_tools = llm.bind_tools([GetWeather], tool_choice="any")  # "any" forces a call
            llm_with_tools.invoke("Weather in Paris?").tool_calls
            # [{"name": "GetWeather", "args": {"city": "Paris"}, "id": "call_...", "type": "tool_call"}]

        The model's chat template must render tools (Qwen2.5, Llama 3.1, Hermes); forced calls decode
        under a tool-call grammar, so they are always well formed.

    Structured output:
        .. code-block:: python

            class Answer(BaseModel):
                text: str
                confidence: float

            llm.with_structured_output(Answer).invoke("What is tea?")

    Each field below is a default that a call (or ``.bind``) may override where it says so.
    """

    # An unknown argument is an error, never silently ignored (asking for another model must not give
    # the default one); ``model_name`` and ``max_new_tokens`` are accepted spellings of two fields.
    model_config = ConfigDict(
        arbitrary_types_allowed=True, protected_namespaces=(), extra="forbid", populate_by_name=True
    )

    model: str | None = Field(default=None, validation_alias=AliasChoices("model", "model_name"))
    """Hub id or local directory of the chat model; None means the default model (SmolLM2-135M-Instruct).
    Also accepted as ``model_name=``. A call may pass ``model=`` to use another one (loaded once per
    process)."""

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Passed to ``from_pretrained`` of the model and tokenizer (``revision``, ``attn_implementation``,
    ``trust_remote_code``, ...); values must be plain JSON values."""

    strategy: str = "amulet"
    """How preferences steer decoding: ``base`` (no steering), ``prompt`` (preference in the system
    prompt), ``linear`` (linear alignment), ``amulet`` (Amulet), ``pad`` (PAD; needs ``reward_model``),
    ``args`` (ARGS; needs a sequence-classification ``reward_model``). Per call: ``strategy=``."""

    strategy_params: dict[str, Any] = Field(default_factory=dict)
    """Parameters of the strategy (e.g. ``{"r": 2.0}`` for linear, ``{"alpha": 2.0, "T": 60}`` for amulet,
    ``{"w": 1.0, "k": 10}`` for pad); merged with a call's ``strategy_params=``."""

    reward_model: str | None = None
    """Directory of a reward model: a PersRM (adapter or full model) for ``pad``, or a sequence classifier
    for ``args``. None: strategies that need one are refused."""

    device: str | None = None
    """Torch device for the weights (``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"auto"``: the first of cuda,
    mps, cpu available); None: CPU."""

    dtype: Any = None
    """Weights dtype: a ``torch.dtype`` or its name (``"float32"``, ``"bfloat16"``, ``"float16"``), or
    ``"auto"`` (the checkpoint's own); None: float32."""

    @field_validator("dtype", mode="before")
    @classmethod
    def _dtype_name(cls, value: Any) -> str | None:
        return dtype_name(value)

    memory: Any = None
    """Where preferences are read and turns recorded: a ``memory.PreferenceMemory``, a database URL
    (one shared memory per URL per process), or None (no personalization)."""

    user_id: str | None = None
    """The user when a call names none (lowest priority; see the class docstring for the order)."""

    record: RecordMode = "background"
    """How finished turns reach the memory: ``"background"`` (off the request path, in order; the user's
    next call waits for them), ``"inline"`` (before the call returns) or ``"off"``."""

    temperature: float | None = None
    """Sampling temperature; 0 or None decodes greedily, above 0 samples. Per call: ``temperature=``."""

    top_p: float = 1.0
    """Nucleus sampling: keep the smallest set of tokens whose probability reaches ``top_p`` (1.0: all).
    Used only when sampling. Per call: ``top_p=``."""

    top_k: int = 0
    """Sample among the ``top_k`` most likely tokens only (0: no limit). Used only when sampling."""

    seed: int | None = None
    """Random seed for sampling; the same seed, input and settings give the same text."""

    max_tokens: int = Field(default=256, validation_alias=AliasChoices("max_tokens", "max_new_tokens"))
    """Most tokens to generate (the reply stops earlier at an end-of-turn or a stop string)."""

    stop: list[str] | None = None
    """Stop strings: the reply ends before the first one; merged with a call's ``stop=``."""

    streaming: bool = False
    """Whether ``invoke`` streams internally (LangChain's flag; callbacks then get each token)."""

    # LangChain's common chat-model arguments, accepted so generic code can pass them; documented as
    # having nothing to act on here rather than silently swallowed by a catch-all.
    timeout: float | None = None
    """Accepted for LangChain's common interface; the model runs in-process, so there is no request to
    time out (bound a reply with ``max_tokens``)."""

    max_retries: int | None = None
    """Accepted for LangChain's common interface; a local model has no transient network failures to retry."""

    api_key: str | None = Field(default=None, repr=False)
    """Accepted for LangChain's common interface; a local model needs no key."""

    @property
    def _llm_type(self) -> str:
        return "pad"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "strategy": self.strategy,
            "strategy_params": self.strategy_params,
            "reward_model": self.reward_model,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "max_tokens": self.max_tokens,
        }

    @property
    def model_name(self) -> str:
        return self.model or "SmolLM2-135M-Instruct"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="pad",
            ls_model_name=str(kwargs.get("model") or self.model_name),
            ls_model_type="chat",
            ls_max_tokens=int(kwargs.get("max_tokens") or self.max_tokens),
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = float(temperature)
        if stop or self.stop:
            params["ls_stop"] = list(stop or self.stop or [])
        return params

    # -- engine, memory, user ------------------------------------------------------------------

    def engine(self, model: str | None = None) -> GuidedGenerator:
        """The shared engine (weights load once per process, on first use)."""
        return get_generator(
            model or self.model, self.reward_model, self.device, self.dtype, model_kwargs=self.model_kwargs
        )

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every recorded turn is stored in memory."""
        memory = resolve_memory(self.memory)
        if memory is not None:
            recorder_for(memory).flush(timeout)

    def _user_kwargs(self, config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Pin the user into the call kwargs at the public entry points, so every path (and the LLM
        cache key) sees the same user."""
        if kwargs.get("user_id") is None:
            user = _config_user(config) or _runtime_user()
            if user is not None:
                kwargs = {**kwargs, "user_id": user}
        return kwargs

    def _resolve_user(self, kwargs: dict[str, Any], run_manager: Any) -> str | None:
        user = kwargs.pop("user_id", None)
        if user is None and run_manager is not None:
            user = (getattr(run_manager, "metadata", None) or {}).get("user_id")
        if user is None:
            user = _config_user(None) or _runtime_user() or current_user() or self.user_id
        return check_user_id(user)

    def _prepare(
        self, messages: list[BaseMessage], stop: list[str] | None, run_manager: Any, kwargs: dict[str, Any]
    ) -> _Prepared:
        kwargs = dict(kwargs)
        user_id = self._resolve_user(kwargs, run_manager)
        engine = self.engine(kwargs.pop("model", None))
        tools = kwargs.pop("tools", None)
        tool_choice = kwargs.pop("tool_choice", None)
        response_format = kwargs.pop("response_format", None)
        kwargs.pop("parallel_tool_calls", None)
        temperature = kwargs.pop("temperature", self.temperature)
        max_tokens = kwargs.pop("max_tokens", self.max_tokens)
        settings: dict[str, Any] = {k: kwargs.pop(k) for k in ("top_p", "top_k", "seed", "strategy") if k in kwargs}
        strategy_params = {**self.strategy_params, **kwargs.pop("strategy_params", {})}
        unknown = set(kwargs) - _LANGCHAIN_KWARGS
        if unknown:
            raise TypeError(f"ChatPAD got unexpected keyword arguments: {sorted(unknown)}")
        if not messages:
            raise ValueError("messages must not be empty")

        engine_messages = to_engine_messages(messages)
        if tool_choice == "none":
            tools = None
        forced = _forced_tool(tool_choice, tools) if tools else None
        # The instruction tells the model what to write; the constraint guarantees it is well formed.
        from pad_integrations.generation import (
            JSONSchemaConstraint,
            ToolCallConstraint,
            ToolCallTriggerConstraint,
        )

        constraint: Constraint | None = None
        if forced is not None:
            tools = [t for t in tools if t["function"]["name"] == forced]
            engine_messages = with_system_instruction(
                engine_messages, f"Answer by calling the tool {forced!r} with the arguments it needs."
            )
            constraint = ToolCallConstraint(tools)
        elif tools and tool_choice in ("any", "required", True):
            engine_messages = with_system_instruction(
                engine_messages, "Answer by calling one of the tools."
            )
            constraint = ToolCallConstraint(tools)
        if response_format is not None:
            engine_messages = with_system_instruction(engine_messages, _response_format_instruction(response_format))
            if constraint is None:
                constraint = JSONSchemaConstraint(response_format.get("schema"))
        elif tools and constraint is None:
            # tool_choice "auto": the model may answer in text, but a call it opens is a whole, valid call.
            constraint = ToolCallTriggerConstraint(tools)

        request, guidance = steered_request(
            self, engine, engine_messages, user_id=user_id, settings=settings, temperature=temperature,
            max_tokens=max_tokens, stop=stop, tools=tools, strategy_params=strategy_params, constraint=constraint,
        )
        return _Prepared(engine, request, user_id, guidance, tools or None, response_format)

    def _metadata(self, prepared: _Prepared, result: GenerationResult) -> dict[str, Any]:
        return {
            "model_name": prepared.engine.model_name,
            "model_provider": "pad",
            "strategy": result.trace.strategy,
            "preferences": [{"text": t, "weight": w} for t, w in (result.trace.preferences or prepared.guidance)],
            "finish_reason": result.finish_reason,
        }

    @staticmethod
    def _usage(result: GenerationResult) -> UsageMetadata:
        return UsageMetadata(
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            total_tokens=result.usage.total_tokens,
        )

    def _to_message(self, prepared: _Prepared, result: GenerationResult) -> AIMessage:
        content, calls = (
            parse_tool_calls(result.text, prepared.tools) if prepared.tools else (result.text, [])
        )
        return AIMessage(
            content=content,
            tool_calls=[tool_call(name=c.name, args=c.arguments, id=c.id) for c in calls],
            usage_metadata=self._usage(result),
            response_metadata=self._metadata(prepared, result),
        )

    def _record(self, prepared: _Prepared, messages: list[BaseMessage], reply: BaseMessage) -> Any:
        memory = resolve_memory(self.memory)
        if memory is None or prepared.user_id is None or self.record == "off":
            return None
        turn = [*new_turn(messages, lambda m: _ROLES.get(m.type, m.type)), reply]
        return recorder_for(memory).record(prepared.user_id, turn, self.record)

    # -- the public entry points pin the user before LangChain's machinery runs -------------------

    def invoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        return super().invoke(input, config, stop=stop, **self._user_kwargs(config, kwargs))

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        return await super().ainvoke(input, config, stop=stop, **self._user_kwargs(config, kwargs))

    def stream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        return super().stream(input, config, stop=stop, **self._user_kwargs(config, kwargs))

    def astream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        return super().astream(input, config, stop=stop, **self._user_kwargs(config, kwargs))

    def batch(
        self, inputs: list[LanguageModelInput], config: RunnableConfig | list[RunnableConfig] | None = None,
        *, return_exceptions: bool = False, **kwargs: Any,
    ) -> list[AIMessage]:
        configs, group_size = _batch_configs(config, len(inputs))
        if group_size is None:
            return super().batch(inputs, configs, return_exceptions=return_exceptions, **kwargs)
        with batch_group(group_size):
            return super().batch(inputs, configs, return_exceptions=return_exceptions, **kwargs)

    async def abatch(
        self, inputs: list[LanguageModelInput], config: RunnableConfig | list[RunnableConfig] | None = None,
        *, return_exceptions: bool = False, **kwargs: Any,
    ) -> list[AIMessage]:
        configs, group_size = _batch_configs(config, len(inputs))
        if group_size is None:
            return await super().abatch(inputs, configs, return_exceptions=return_exceptions, **kwargs)
        with batch_group(group_size):
            return await super().abatch(inputs, configs, return_exceptions=return_exceptions, **kwargs)

    # -- BaseChatModel hooks ---------------------------------------------------------------------

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        prepared, future = self._submit(messages, stop, run_manager, kwargs)
        message = self._to_message(prepared, future.result())
        self._record(prepared, messages, message)
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        prepared, future = await asyncio.to_thread(self._submit, messages, stop, run_manager, kwargs)
        message = self._to_message(prepared, await asyncio.wrap_future(future))
        await self._arecord(prepared, messages, message)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _submit(
        self, messages: list[BaseMessage], stop: list[str] | None, run_manager: Any, kwargs: dict[str, Any],
        on_delta: Callable[[str], None] | None = None,
    ) -> tuple[_Prepared, Any]:
        with group_member():
            prepared = self._prepare(messages, stop, run_manager, kwargs)
            future = get_decode_queue(prepared.engine).submit(prepared.request, on_delta)
        return prepared, future

    async def _arecord(self, prepared: _Prepared, messages: list[BaseMessage], reply: BaseMessage) -> None:
        if self.record == "inline":
            await asyncio.to_thread(self._record, prepared, messages, reply)
        else:
            self._record(prepared, messages, reply)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        results = ResultStream()
        prepared, future = self._submit(messages, stop, run_manager, kwargs, on_delta=results.on_delta)
        results.attach(future)
        assembler = _ChunkAssembler(self, prepared)
        try:
            for delta in results.deltas():
                yield from self._emit(assembler.feed(delta), run_manager)
        finally:
            results.cancel()  # the caller stopped iterating: the decode drops the row at its next step
        yield from self._emit(assembler.finish(results.result()), run_manager)
        self._record(prepared, messages, assembler.final_message())

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        results = ResultStream(asyncio.get_running_loop())
        prepared, future = await asyncio.to_thread(
            self._submit, messages, stop, run_manager, kwargs, results.on_delta
        )
        results.attach(future)
        assembler = _ChunkAssembler(self, prepared)
        try:
            async for delta in results.adeltas():
                for chunk in assembler.feed(delta):
                    if run_manager:
                        await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                    yield chunk
        finally:
            results.cancel()  # the caller stopped iterating: the decode drops the row at its next step
        for chunk in assembler.finish(results.result()):
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        await self._arecord(prepared, messages, assembler.final_message())

    @staticmethod
    def _emit(
        chunks: list[ChatGenerationChunk], run_manager: CallbackManagerForLLMRun | None
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in chunks:
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    def get_num_tokens_from_messages(
        self, messages: Sequence[Any], tools: Sequence[Any] | None = None
    ) -> int:
        """Prompt length: the engine renders the chat template and counts its tokens (exact). A list the
        template refuses on its own (``trim_messages`` counts partial lists: only a system message, a
        tool result without its call) is counted message by message with the model's tokenizer."""
        openai_tools = [convert_to_openai_tool(t) for t in tools] if tools else None
        engine = self.engine()
        converted = [m if isinstance(m, BaseMessage) else _as_message(m) for m in messages]
        if not converted:
            return 0
        try:
            return engine.count_tokens(to_engine_messages(converted), tools=openai_tools)
        except ValueError:
            per_message = [f"{m.type}\n{m.text if hasattr(m, 'text') else m.content}" for m in converted]
            return sum(len(engine.tokenizer.encode(t, add_special_tokens=False)) + 3 for t in per_message)

    def get_token_ids(self, text: str) -> list[int]:
        """The model's own tokenizer (never a download of GPT-2's, LangChain's default)."""
        return list(self.engine().tokenizer.encode(text, add_special_tokens=False))

    def _get_llm_string(self, stop: list[str] | None = None, **kwargs: Any) -> str:
        """The LLM cache key: the settings, plus a fingerprint of the user's profile, so a changed
        profile is never answered from the cache."""
        base = super()._get_llm_string(stop=stop, **kwargs)
        memory = resolve_memory(self.memory)
        user = kwargs.get("user_id") or _runtime_user() or current_user() or self.user_id
        user_id = check_user_id(user) if memory is not None else None
        if memory is None or user_id is None:
            return base
        from pad_integrations.runtime.profiles import guidance_of, read_profile

        guidance = guidance_of(read_profile(memory, user_id))
        return f"{base}---profile:{json.dumps([user, guidance])}"

    # -- tools and structured output --------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: ToolChoice = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer ``tools``; the chat template renders them and the reply's tool calls are parsed.

        ``tool_choice``: "auto"/None (the model decides), "none", "any"/"required", or a tool name.
        """
        formatted = [convert_to_openai_tool(t) for t in tools]
        _forced_tool(tool_choice, formatted)  # validate now, not at call time
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: Literal["function_calling", "json_schema", "json_mode"] = "function_calling",
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Replies parsed into ``schema`` (Pydantic class, TypedDict, JSON schema or OpenAI tool dict).

        ``function_calling`` forces a call of a tool shaped like the schema; ``json_schema`` asks for a
        JSON object following the schema; ``json_mode`` for any JSON object (schema optional).
        """
        kwargs.pop("strict", None)
        if kwargs:
            raise ValueError(f"unsupported arguments: {sorted(kwargs)}")
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        ls_format = {"kwargs": {"method": method}, "schema": schema}
        if method == "function_calling":
            if schema is None:
                raise ValueError("function_calling needs a schema")
            name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools([schema], tool_choice=name, ls_structured_output_format=ls_format)
            parser: Runnable = (
                PydanticToolsParser(tools=[cast(type[BaseModel], schema)], first_tool_only=True)
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
        elif method in ("json_schema", "json_mode"):
            if method == "json_schema" and schema is None:
                raise ValueError("json_schema needs a schema")
            response_format: dict[str, Any] = {"type": "json_object"}
            if schema is not None:
                response_format = {"type": "json_schema", "schema": convert_to_json_schema(schema)}
            llm = self.bind(response_format=response_format, ls_structured_output_format=ls_format)
            parser = (
                PydanticOutputParser(pydantic_object=cast(type[BaseModel], schema)) if is_pydantic else JsonOutputParser()
            )
        else:
            raise ValueError(f"unknown method {method!r}; use function_calling, json_schema or json_mode")
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks([fallback], exception_key="parsing_error")



class _ChunkAssembler:
    """Turns text deltas into message chunks: text, tool-call chunks, and one final chunk with usage."""

    def __init__(self, owner: ChatPAD, prepared: _Prepared) -> None:
        self.owner = owner
        self.prepared = prepared
        self.parser = ToolCallStreamParser(prepared.tools) if prepared.tools else None
        self.chunks: list[AIMessageChunk] = []
        self.message: AIMessage | None = None

    def final_message(self) -> AIMessage:
        """The whole reply, once :meth:`finish` ran."""
        if self.message is None:
            raise RuntimeError("the stream has not finished")
        return self.message

    def _convert(self, events: list[Any]) -> list[ChatGenerationChunk]:
        out = []
        for event in events:
            if event.tool_call is not None:
                call = event.tool_call
                chunk = AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        tool_call_chunk(
                            name=call.name, args=arguments_json(call.arguments), id=call.id, index=event.index
                        )
                    ],
                )
            elif event.text:
                chunk = AIMessageChunk(content=event.text)
            else:
                continue
            self.chunks.append(chunk)
            out.append(ChatGenerationChunk(message=chunk))
        return out

    def feed(self, delta: str) -> list[ChatGenerationChunk]:
        if self.parser is None:
            return self._convert([StreamEvent(text=delta)])
        return self._convert(self.parser.feed(delta))

    def finish(self, result: GenerationResult) -> list[ChatGenerationChunk]:
        out = self._convert(self.parser.finish()) if self.parser is not None else []
        last = AIMessageChunk(
            content="",
            usage_metadata=self.owner._usage(result),
            response_metadata=self.owner._metadata(self.prepared, result),
            chunk_position="last",
        )
        self.chunks.append(last)
        out.append(ChatGenerationChunk(message=last))
        merged = self.chunks[0]
        for chunk in self.chunks[1:]:
            merged = merged + chunk
        self.message = AIMessage(
            content=merged.content,
            tool_calls=merged.tool_calls,
            usage_metadata=merged.usage_metadata,
            response_metadata=merged.response_metadata,
        )
        return out


def _response_format_instruction(response_format: Mapping[str, Any]) -> str:
    if not isinstance(response_format, Mapping) or response_format.get("type") not in ("json_object", "json_schema"):
        raise ValueError("response_format must be {'type': 'json_object'} or {'type': 'json_schema', 'schema': ...}")
    if response_format["type"] == "json_object":
        return "Reply with a single JSON object and nothing else."
    schema = json.dumps(response_format["schema"], ensure_ascii=False)
    return f"Reply with a single JSON object that follows this JSON schema, and nothing else:\n{schema}"


def _batch_configs(
    config: RunnableConfig | list[RunnableConfig] | None, n: int
) -> tuple[list[RunnableConfig], int | None]:
    """Configs that start every input at once (so all meet in one decode), and the group size.

    When the caller limits concurrency, inputs cannot all meet: no group, the queue still coalesces.
    """
    configs = get_config_list(config, n)
    if n < 2 or any(c.get("max_concurrency") for c in configs):
        return configs, None
    return [{**c, "max_concurrency": n} for c in configs], n
