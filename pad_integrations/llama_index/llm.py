"""The LlamaIndex LLM: ``from pad_integrations.llama_index import PADLLM``.

A thin adapter over the engine and the memory, like :mod:`pad_integrations.langchain`: LlamaIndex
messages become the engine's dicts (the model's own chat template renders them), the user's stored
preferences steer decoding, and each finished turn is recorded in their memory.

- Per user: ``llm.for_user("alice")`` (a cheap copy sharing the weights), ``user_context("alice")``
  around an engine or agent call, or ``user_id=`` on a direct call.
- Function calling (``FunctionCallingLLM``): tools render through the chat template; tool-call markup
  is parsed by :mod:`pad_integrations.tools`.
- Async methods await the shared decode queue and never block the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pad_integrations._extras import require

require("llama_index.core", "llama-index", "pad_integrations.llama_index")

from llama_index.core.base.llms.types import (  # noqa: E402
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    ImageBlock,
    LLMMetadata,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback  # noqa: E402
from llama_index.core.llms.function_calling import FunctionCallingLLM  # noqa: E402
from llama_index.core.llms.llm import ToolSelection  # noqa: E402
from pydantic import AliasChoices, ConfigDict, Field, field_validator  # noqa: E402

from pad_integrations.runtime.bridge import ResultStream  # noqa: E402
from pad_integrations.runtime.decode_queue import get_decode_queue  # noqa: E402
from pad_integrations.runtime.engines import dtype_name, get_generator  # noqa: E402
from pad_integrations.runtime.recording import RecordMode, new_turn, recorder_for, resolve_memory  # noqa: E402
from pad_integrations.runtime.requests import steered_request, with_system_instruction  # noqa: E402
from pad_integrations.runtime.users import check_user_id, current_user  # noqa: E402
from pad_integrations.tools import StreamEvent, ToolCall, ToolCallStreamParser, parse_tool_calls  # noqa: E402

if TYPE_CHECKING:
    from llama_index.core.tools import BaseTool

    from pad_integrations.generation import GenerationResult, GuidedGenerator
    from pad_integrations.generation.types import EngineMessage, ToolCallDict

__all__ = ["PADLLM", "to_engine_messages"]

_ROLES = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}


def _arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"tool-call arguments are not valid JSON: {arguments!r}") from exc
    if not isinstance(arguments, dict):
        raise ValueError(f"tool-call arguments must be a JSON object, got {arguments!r}")
    return arguments


def _tool_calls_of(message: ChatMessage) -> list[ToolCallDict]:
    """Tool calls of an assistant message, from ToolCallBlocks or OpenAI-style additional_kwargs."""
    calls: list[tuple[Any, Any, Any]] = [
        (block.tool_call_id, block.tool_name, block.tool_kwargs)
        for block in message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    for raw in message.additional_kwargs.get("tool_calls") or []:
        item = raw if isinstance(raw, dict) else raw.model_dump()
        fn = item.get("function") or {}
        calls.append((item.get("id"), fn.get("name"), fn.get("arguments")))
    return [ToolCall(name, _arguments(arguments), call_id).to_message_dict() for call_id, name, arguments in calls]


def to_engine_messages(messages: Sequence[ChatMessage]) -> list[EngineMessage]:
    """LlamaIndex chat messages -> the engine's dicts (tool calls and tool results included)."""
    out: list[EngineMessage] = []
    for message in messages:
        if not isinstance(message, ChatMessage):
            raise TypeError(f"expected LlamaIndex ChatMessage objects, got {type(message).__name__}")
        role = _ROLES.get(MessageRole(message.role))
        if role is None:
            raise ValueError(f"unsupported message role {message.role!r}")
        if any(isinstance(b, ImageBlock) for b in message.blocks):
            raise ValueError("image content is not supported: this is a text model")
        text = "".join(b.text for b in message.blocks if isinstance(b, TextBlock))
        item: EngineMessage = {"role": role, "content": text}
        if role == "assistant":
            calls = _tool_calls_of(message)
            if calls:
                item["tool_calls"] = calls
        if role == "tool":
            call_id = message.additional_kwargs.get("tool_call_id")
            if call_id:
                item["tool_call_id"] = call_id
            name = message.additional_kwargs.get("name")
            if name:
                item["name"] = name
        out.append(item)
    return out


logger = logging.getLogger(__name__)


@dataclass
class _Prepared:
    engine: GuidedGenerator
    request: Any
    user_id: str | None
    guidance: list[tuple[str, float]]
    tools: list[dict[str, Any]] | None


class PADLLM(FunctionCallingLLM):
    """A local Hugging Face chat model steered per user at decoding time, for LlamaIndex.

    The user's stored preferences (``memory``) steer every token; each finished turn is recorded back
    into the memory. The user comes from ``user_id=`` on the call, ``llm.for_user("alice")`` (a cheap
    copy sharing the weights), ``pad_integrations.runtime.user_context("alice")`` around an engine or
    agent call, or the ``user_id`` field. Works as ``Settings.llm``, in query and chat engines, and in
    agents (ReAct and function calling).

    Setup:
        .. code-block:: bash

            pip install "pad-integrations[llama-index]"

    Instantiate:
        .. code-block:: python

            from pad_integrations.llama_index import PADLLM

            llm = PADLLM(model=None, strategy="amulet", memory="sqlite:///prefs.db", max_tokens=256)

    Invoke:
        .. code-block:: python

            from llama_index.core.llms import ChatMessage

            response = llm.chat([ChatMessage(role="user", content="What is tea?")], user_id="alice")
            response.message.content
            response.raw["preferences"]          # what steered this answer
            llm.complete("What is tea?").text    # completion API: the prompt is one user turn

    Stream:
        .. code-block:: python

            for part in llm.for_user("alice").stream_chat([ChatMessage(role="user", content="Hi")]):
                print(part.delta, end="")

        ``achat``/``astream_chat`` await the shared decode queue and never block the event loop.

    Tools:
        .. code-block:: python

            from llama_index.core.tools import FunctionTool

            def get_weather(city: str) -> str:
                '''Get the current weather in a city.'''
                return "sunny"

            tool = FunctionTool.from_defaults(get_weather)
            response = llm.chat_with_tools([tool], user_msg="Weather in Paris?", tool_required=True)
            llm.get_tool_calls_from_response(response)   # [ToolSelection(tool_name="get_weather", ...)]

        The model's chat template must render tools; ``tool_required=True`` (or ``tool_choice``) decodes
        under a tool-call grammar, so the call is always well formed.
    """

    # Unknown arguments are an error, never silently ignored; model_name / max_new_tokens are aliases.
    model_config = ConfigDict(
        arbitrary_types_allowed=True, protected_namespaces=(), extra="forbid", populate_by_name=True
    )

    model: str | None = Field(
        default=None,
        validation_alias=AliasChoices("model", "model_name"),
        description="Hub id or local directory of the chat model (also model_name=); None: the default model "
        "(SmolLM2-135M-Instruct).",
    )
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed to from_pretrained (revision, attn_implementation, trust_remote_code, ...).",
    )
    strategy: str = Field(
        default="amulet",
        description="How preferences steer decoding: base, prompt, linear, amulet, pad (needs reward_model), "
        "args (needs a sequence-classification reward_model). Per call: strategy=.",
    )
    strategy_params: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameters of the strategy (e.g. {'r': 2.0} for linear); merged with a call's strategy_params=.",
    )
    reward_model: str | None = Field(
        default=None, description="Directory of a PersRM (for pad) or a sequence classifier (for args)."
    )
    device: str | None = Field(
        default=None, description="Torch device for the weights (cuda, mps, auto: the first available); None: CPU."
    )
    dtype: Any = Field(
        default=None, description="Weights dtype: a torch.dtype, its name, or auto (the checkpoint's); None: float32."
    )
    memory: Any = Field(
        default=None,
        description="Where preferences are read and turns recorded: a PreferenceMemory, a database URL, or None.",
    )
    user_id: str | None = Field(default=None, description="The user this copy speaks for (see for_user).")
    record: RecordMode = Field(
        default="background",
        description="How finished turns reach the memory: background (off the request path, in order), "
        "inline (before the call returns) or off.",
    )
    temperature: float | None = Field(default=None, description="0 or None decodes greedily; above 0 samples.")
    top_p: float = Field(default=1.0, description="Nucleus sampling mass (1.0: no cut); used only when sampling.")
    top_k: int = Field(default=0, description="Sample among the top_k most likely tokens only (0: no limit).")
    seed: int | None = Field(default=None, description="Random seed for sampling (same seed, same text).")
    max_tokens: int = Field(
        default=256, validation_alias=AliasChoices("max_tokens", "max_new_tokens"),
        description="Most tokens to generate per reply (also max_new_tokens=).",
    )
    stop: list[str] | None = Field(default=None, description="Stop strings; merged with a call's stop=.")
    context_window: int | None = Field(default=None, description="Override the model's context window.")

    @field_validator("dtype", mode="before")
    @classmethod
    def _dtype_name(cls, value: Any) -> str | None:
        return dtype_name(value)

    @classmethod
    def class_name(cls) -> str:
        return "PADLLM"

    # -- engine, user, memory -------------------------------------------------------------------

    def engine(self) -> GuidedGenerator:
        """The shared engine (weights load once per process, on first use)."""
        return get_generator(self.model, self.reward_model, self.device, self.dtype, model_kwargs=self.model_kwargs)

    @property
    def metadata(self) -> LLMMetadata:
        engine = self.engine()
        window = engine.context_window
        if self.context_window is not None:
            window = min(window, self.context_window)
        return LLMMetadata(
            context_window=window,
            num_output=self.max_tokens,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=engine.model_name,
        )

    def for_user(self, user_id: str) -> PADLLM:
        """A copy that speaks for ``user_id``; it shares the weights and the memory."""
        return self.model_copy(update={"user_id": check_user_id(user_id)})

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every recorded turn is stored in memory."""
        memory = resolve_memory(self.memory)
        if memory is not None:
            recorder_for(memory).flush(timeout)

    def _prepare(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> _Prepared:
        kwargs = dict(kwargs)
        user_id = check_user_id(kwargs.pop("user_id", None) or self.user_id or current_user())
        tools = kwargs.pop("tools", None) or None
        tool_required = bool(kwargs.pop("tool_required", False))
        temperature = kwargs.pop("temperature", self.temperature)
        max_tokens = kwargs.pop("max_tokens", self.max_tokens)
        settings: dict[str, Any] = {k: kwargs.pop(k) for k in ("top_p", "top_k", "seed", "strategy") if k in kwargs}
        strategy_params = {**self.strategy_params, **kwargs.pop("strategy_params", {})}
        stop = kwargs.pop("stop", None)
        # tool_choice (FunctionAgent's initial_tool_choice): "required"/"any" or a tool's name forces a call,
        # as tool_required does; "auto"/"none"/None leave the choice to the model.
        tool_choice = kwargs.pop("tool_choice", None)
        if tools and isinstance(tool_choice, str) and tool_choice not in ("auto", "none"):
            tool_required = True
            if tool_choice not in ("required", "any"):
                tools = [t for t in tools if t.get("function", {}).get("name") == tool_choice]
                if not tools:
                    raise ValueError(f"tool_choice {tool_choice!r} is not one of the tools given")
        # LlamaIndex threads a few of its own arguments through to the LLM; they carry no decoding meaning.
        for name in ("formatted", "verbose", "allow_parallel_tool_calls"):
            kwargs.pop(name, None)
        if kwargs:
            raise TypeError(f"PADLLM got unexpected keyword arguments: {sorted(kwargs)}")
        if not messages:
            raise ValueError("messages must not be empty")
        engine_messages = to_engine_messages(messages)
        # tool_required is a guarantee: the reply decodes under the tool-call grammar. Otherwise the model
        # may answer in text, but a call it opens is a whole, valid call (ToolCallTriggerConstraint).
        from pad_integrations.generation.constraints import (
            Constraint,
            ToolCallConstraint,
            ToolCallTriggerConstraint,
        )

        constraint: Constraint | None = None
        if tools and tool_required:
            constraint = ToolCallConstraint(tools)
            engine_messages = with_system_instruction(
                engine_messages, "Answer by calling one of the tools."
            )
        elif tools:
            constraint = ToolCallTriggerConstraint(tools)
        engine = self.engine()
        request, guidance = steered_request(
            self, engine, engine_messages, user_id=user_id, settings=settings, temperature=temperature,
            max_tokens=max_tokens, stop=stop, tools=tools, strategy_params=strategy_params, constraint=constraint,
        )
        return _Prepared(engine, request, user_id, guidance, tools)

    def _submit(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], on_delta: Any = None) -> Any:
        prepared = self._prepare(messages, kwargs)
        future = get_decode_queue(prepared.engine).submit(prepared.request, on_delta)
        return prepared, future

    def _response(self, prepared: _Prepared, result: GenerationResult) -> ChatResponse:
        if result.finish_reason == "length" and prepared.request.constraint is not None:
            # structured_predict returns only the object: say here that the budget cut the reply short.
            logger.warning(
                "the reply was closed early to fit max_tokens (finish_reason='length'); its values may be cut "
                "short: raise max_tokens"
            )
        content, calls = parse_tool_calls(result.text, prepared.tools) if prepared.tools else (result.text, [])
        message = _assistant_message(content, calls)
        return ChatResponse(message=message, raw=self._raw(prepared, result), additional_kwargs=_usage(result))

    def _raw(self, prepared: _Prepared, result: GenerationResult) -> dict[str, Any]:
        return {
            "model_name": prepared.engine.model_name,
            "strategy": result.trace.strategy,
            "preferences": [{"text": t, "weight": w} for t, w in (result.trace.preferences or prepared.guidance)],
            "finish_reason": result.finish_reason,
            "usage": _usage(result),
        }

    def _record(self, prepared: _Prepared, messages: Sequence[ChatMessage], reply: ChatMessage) -> None:
        memory = resolve_memory(self.memory)
        if memory is None or prepared.user_id is None or self.record == "off":
            return
        turn = [*new_turn(messages, lambda m: _ROLES.get(MessageRole(m.role))), reply]
        recorder_for(memory).record(prepared.user_id, turn, self.record)

    async def _arecord(self, prepared: _Prepared, messages: Sequence[ChatMessage], reply: ChatMessage) -> None:
        if self.record == "inline":
            await asyncio.to_thread(self._record, prepared, messages, reply)
        else:
            self._record(prepared, messages, reply)

    # -- chat -------------------------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        prepared, future = self._submit(messages, kwargs)
        response = self._response(prepared, future.result())
        self._record(prepared, messages, response.message)
        return response

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        prepared, future = await asyncio.to_thread(self._submit, messages, kwargs)
        response = self._response(prepared, await asyncio.wrap_future(future))
        await self._arecord(prepared, messages, response.message)
        return response

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        results = ResultStream()
        prepared, future = self._submit(messages, kwargs, on_delta=results.on_delta)
        results.attach(future)

        def gen() -> ChatResponseGen:
            stream = _ResponseStream(self, prepared)
            try:
                for delta in results.deltas():
                    yield from stream.feed(delta)
            finally:
                results.cancel()  # the caller stopped iterating: the decode drops the row at its next step
            yield from stream.finish(results.result())
            self._record(prepared, messages, stream.message)

        return gen()

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        results = ResultStream(asyncio.get_running_loop())
        prepared, future = await asyncio.to_thread(self._submit, messages, kwargs, results.on_delta)
        results.attach(future)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            stream = _ResponseStream(self, prepared)
            try:
                async for delta in results.adeltas():
                    for response in stream.feed(delta):
                        yield response
            finally:
                results.cancel()  # the caller stopped iterating: the decode drops the row at its next step
            for response in stream.finish(results.result()):
                yield response
            await self._arecord(prepared, messages, stream.message)

        return gen()

    # -- completion: the prompt is one user turn, rendered with the chat template ---------------

    @staticmethod
    def _as_messages(prompt: str) -> list[ChatMessage]:
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        return [ChatMessage(role=MessageRole.USER, content=prompt)]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return _completion(self.chat(self._as_messages(prompt), **kwargs))

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return _completion(await self.achat(self._as_messages(prompt), **kwargs))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        responses = self.stream_chat(self._as_messages(prompt), **kwargs)
        return (_completion(r) for r in responses)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        responses = await self.astream_chat(self._as_messages(prompt), **kwargs)

        async def gen() -> AsyncGenerator[CompletionResponse, None]:
            async for response in responses:
                yield _completion(response)

        return gen()

    # -- function calling -------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        specs = [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]
        return {"messages": messages, "tools": specs or None, "tool_required": tool_required, **kwargs}

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if not allow_parallel_tool_calls:
            calls = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
            if len(calls) > 1:
                response.message.blocks = [
                    b for b in response.message.blocks if not isinstance(b, ToolCallBlock)
                ] + calls[:1]
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        selections = [
            ToolSelection(
                tool_id=block.tool_call_id or "",
                tool_name=block.tool_name,
                tool_kwargs=block.tool_kwargs if isinstance(block.tool_kwargs, dict) else {},
            )
            for block in response.message.blocks
            if isinstance(block, ToolCallBlock)
        ]
        if not selections and error_on_no_tool_call:
            raise ValueError(f"expected at least one tool call, got: {response.message.content!r}")
        return selections



def _usage(result: GenerationResult) -> dict[str, int]:
    return {
        "prompt_tokens": result.usage.input_tokens,
        "completion_tokens": result.usage.output_tokens,
        "total_tokens": result.usage.total_tokens,
    }


def _assistant_message(content: str, calls: Sequence[ToolCall]) -> ChatMessage:
    blocks: list[Any] = [TextBlock(text=content)] if content or not calls else []
    blocks += [ToolCallBlock(tool_call_id=c.id, tool_name=c.name, tool_kwargs=c.arguments) for c in calls]
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)


def _completion(response: ChatResponse) -> CompletionResponse:
    return CompletionResponse(
        text=response.message.content or "",
        delta=response.delta,
        raw=response.raw,
        additional_kwargs=response.additional_kwargs,
    )


class _ResponseStream:
    """Text deltas -> cumulative ChatResponses; tool-call markup is held back and parsed."""

    def __init__(self, llm: PADLLM, prepared: _Prepared) -> None:
        self.llm = llm
        self.prepared = prepared
        self.parser = ToolCallStreamParser(prepared.tools) if prepared.tools else None
        self.text = ""
        self.calls: list[ToolCall] = []
        self.message = ChatMessage(role=MessageRole.ASSISTANT, content="")

    def _responses(self, events: Sequence[Any]) -> list[ChatResponse]:
        out = []
        for event in events:
            if event.tool_call is not None:
                self.calls.append(event.tool_call)
                delta = ""
            elif event.text:
                self.text += event.text
                delta = event.text
            else:
                continue
            out.append(ChatResponse(message=_assistant_message(self.text, self.calls), delta=delta))
        return out

    def feed(self, delta: str) -> list[ChatResponse]:
        if self.parser is None:
            return self._responses([StreamEvent(text=delta)])
        return self._responses(self.parser.feed(delta))

    def finish(self, result: GenerationResult) -> list[ChatResponse]:
        out = self._responses(self.parser.finish()) if self.parser is not None else []
        if self.parser is not None:
            # Whitespace around removed markup is trimmed, as in the non-streamed reply.
            self.text = self.text.strip() if self.calls else self.text
        self.message = _assistant_message(self.text, self.calls)
        out.append(
            ChatResponse(
                message=self.message,
                delta="",
                raw=self.llm._raw(self.prepared, result),
                additional_kwargs=_usage(result),
            )
        )
        return out
