"""ChatPAD on real tiny models: messages, usage, stop strings, streaming, batching, async, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableField

from pad_integrations import runtime
from pad_integrations.errors import InvalidRequestError
from pad_integrations.langchain import ChatPAD, to_engine_messages

HELLO = [SystemMessage("Be brief."), HumanMessage("Tell me about the cat.")]


@pytest.fixture
def chat(tiny_model_dir: Path) -> ChatPAD:
    return ChatPAD(model=str(tiny_model_dir), strategy="amulet", max_tokens=12)


def test_message_conversion_keeps_tool_calls_and_results() -> None:
    messages = [
        SystemMessage("sys"),
        HumanMessage([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]),
        AIMessage("", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1", "type": "tool_call"}]),
        ToolMessage("boom", tool_call_id="c1", name="f", status="error"),
    ]
    assert to_engine_messages(messages) == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "ab"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}],
        },
        {"role": "tool", "content": "Error: boom", "tool_call_id": "c1", "name": "f"},
    ]
    with pytest.raises(ValueError, match="image"):
        to_engine_messages([HumanMessage([{"type": "image", "url": "http://x/y.png"}])])


def test_invoke_returns_only_new_tokens_with_exact_usage(chat: ChatPAD) -> None:
    reply = chat.invoke(HELLO)
    engine = chat.engine()
    assert isinstance(reply, AIMessage)
    assert reply.usage_metadata["input_tokens"] == engine.count_tokens(to_engine_messages(HELLO))
    assert 0 < reply.usage_metadata["output_tokens"] <= 12
    assert reply.usage_metadata["total_tokens"] == (
        reply.usage_metadata["input_tokens"] + reply.usage_metadata["output_tokens"]
    )
    assert reply.response_metadata["model_name"] == engine.model_name
    assert reply.response_metadata["strategy"] == "amulet"
    assert reply.response_metadata["preferences"] == []
    assert "Tell me about the cat" not in reply.content
    assert chat.get_num_tokens_from_messages(HELLO) == reply.usage_metadata["input_tokens"]


def _stop_inside(text: str) -> str:
    """A stop string that occurs in the middle of ``text`` (greedy decoding makes it reproducible)."""
    stripped = text.strip()
    assert len(stripped) >= 4, f"need a longer reply to place a stop string, got {text!r}"
    middle = len(text) // 2
    return text[middle:middle + 2]


def test_stop_strings_are_honoured_on_every_path(chat: ChatPAD) -> None:
    full = chat.invoke(HELLO).content
    stop = _stop_inside(full)
    expected = full[: full.index(stop)]
    assert chat.invoke(HELLO, stop=[stop]).content == expected
    assert "".join(c.content for c in chat.stream(HELLO, stop=[stop])) == expected
    assert [m.content for m in chat.batch([HELLO, HELLO], stop=[stop])] == [expected, expected]
    assert ChatPAD(model=chat.model, max_tokens=12, stop=[stop]).invoke(HELLO).content == expected


async def test_async_paths_honour_stop_strings(chat: ChatPAD) -> None:
    full = (await chat.ainvoke(HELLO)).content
    stop = _stop_inside(full)
    expected = full[: full.index(stop)]
    assert (await chat.ainvoke(HELLO, stop=[stop])).content == expected
    assert "".join([c.content async for c in chat.astream(HELLO, stop=[stop])]) == expected
    assert [m.content for m in await chat.abatch([HELLO, HELLO], stop=[stop])] == [expected, expected]


def test_stream_matches_invoke_with_usage_on_one_chunk(chat: ChatPAD) -> None:
    whole = chat.invoke(HELLO)
    chunks = list(chat.stream(HELLO))
    assert "".join(c.content for c in chunks) == whole.content
    assert len(chunks) > 2
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert sum(1 for c in chunks if c.response_metadata.get("model_name")) == 1
    assert chunks[-1].chunk_position == "last"
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.usage_metadata == whole.usage_metadata


def test_streaming_flag_and_callbacks_see_every_token(chat: ChatPAD) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    seen: list[str] = []

    class Tokens(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: object) -> None:
            seen.append(token)

    streaming = ChatPAD(model=chat.model, max_tokens=12, streaming=True)
    reply = streaming.invoke(HELLO, config={"callbacks": [Tokens()]})
    assert isinstance(reply, AIMessage)
    assert reply.content == chat.invoke(HELLO).content
    assert "".join(seen) == reply.content and len(seen) > 2
    assert reply.usage_metadata["output_tokens"] > 0


def test_batch_is_one_batched_decode(chat: ChatPAD) -> None:
    prompts = [HELLO, [HumanMessage("Write python code.")], [HumanMessage("Say thank you.")]]
    singles = [chat.invoke(p).content for p in prompts]
    queue = runtime.get_decode_queue(chat.engine())
    before = queue.decodes
    replies = chat.batch(prompts)
    assert queue.decodes - before == 1
    assert [r.content for r in replies] == singles


async def test_abatch_is_one_batched_decode(chat: ChatPAD) -> None:
    prompts = [HELLO, [HumanMessage("Write python code.")], [HumanMessage("Say thank you.")]]
    singles = [(await chat.ainvoke(p)).content for p in prompts]
    queue = runtime.get_decode_queue(chat.engine())
    before = queue.decodes
    replies = await chat.abatch(prompts)
    assert queue.decodes - before == 1
    assert [r.content for r in replies] == singles


def test_batch_with_a_bad_input_fails_only_that_input(chat: ChatPAD) -> None:
    replies = chat.batch([HELLO, [SystemMessage("only a system message")]], return_exceptions=True)
    assert isinstance(replies[0], AIMessage) and replies[0].content
    assert isinstance(replies[1], ValueError)


async def test_async_calls_leave_the_event_loop_free(chat: ChatPAD) -> None:
    ticks = 0

    async def tick_until(task: asyncio.Task) -> None:
        nonlocal ticks
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)

    for call in (chat.ainvoke(HELLO), _drain(chat.astream(HELLO))):
        ticks = 0
        task = asyncio.ensure_future(call)
        await asyncio.gather(task, tick_until(task))
        assert ticks > 1, "the event loop was blocked while the model decoded"


async def _drain(stream) -> list[AIMessageChunk]:
    return [c async for c in stream]


def test_weights_are_shared_by_copies_and_configurable_fields(chat: ChatPAD) -> None:
    engine = chat.engine()
    copy = chat.model_copy(update={"strategy": "base"})
    assert copy.engine() is engine
    configurable = chat.configurable_fields(strategy=ConfigurableField(id="strategy"))
    reply = configurable.invoke(HELLO, config={"configurable": {"strategy": "linear"}})
    assert reply.response_metadata["strategy"] == "linear"
    assert ChatPAD(model=chat.model).engine() is engine


def test_chain_with_prompt_template_and_per_call_settings(chat: ChatPAD) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You help with {topic}."), ("human", "{question}")])
    reply = (prompt | chat.bind(strategy="prompt", max_tokens=4)).invoke(
        {"topic": "cooking", "question": "What is rice?"}
    )
    assert reply.response_metadata["strategy"] == "prompt"
    assert reply.usage_metadata["output_tokens"] <= 4


def test_templates_without_system_role_and_repeated_roles(tiny_no_system_dir: Path, tiny_llama_dir: Path) -> None:
    messages = [
        SystemMessage("sys one"), SystemMessage("sys two"), HumanMessage("hi"), HumanMessage("again"),
        AIMessage("hello"), AIMessage("there"), HumanMessage("bye"),
    ]
    for model_dir in (tiny_no_system_dir, tiny_llama_dir):
        reply = ChatPAD(model=str(model_dir), max_tokens=5).invoke(messages)
        assert reply.usage_metadata["output_tokens"] > 0


def test_model_override_per_call(chat: ChatPAD, tiny_llama_dir: Path) -> None:
    reply = chat.invoke(HELLO, model=str(tiny_llama_dir))
    assert reply.response_metadata["model_name"] == str(tiny_llama_dir)


def test_bad_input_gets_clear_errors(chat: ChatPAD) -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        chat.invoke(HELLO, temprature=0.5)
    with pytest.raises(TypeError, match="user_id"):
        chat.invoke(HELLO, user_id=42)
    with pytest.raises(ValueError, match="stop"):
        chat.invoke(HELLO, stop=[""])
    with pytest.raises(ValueError, match="tool_choice"):
        chat.bind_tools([_magic], tool_choice="not_a_tool")
    with pytest.raises(ValueError, match="method"):
        chat.with_structured_output({"title": "X", "type": "object", "properties": {}}, method="xml")
    with pytest.raises(TypeError, match="memory"):
        ChatPAD(model=chat.model, memory=object()).invoke(HELLO, user_id="u")


def _magic(input: int) -> int:
    """Apply a magic function to an input."""
    return input + 2


def test_bound_tools_reach_the_chat_template(chat: ChatPAD) -> None:
    plain = chat.get_num_tokens_from_messages(HELLO)
    assert chat.get_num_tokens_from_messages(HELLO, tools=[_magic]) > plain
    reply = chat.bind_tools([_magic]).invoke(HELLO)
    assert reply.usage_metadata["input_tokens"] == chat.get_num_tokens_from_messages(HELLO, tools=[_magic])
    # tool_choice="none" offers no tools at all.
    none = chat.bind_tools([_magic], tool_choice="none").invoke(HELLO)
    assert none.usage_metadata["input_tokens"] == plain


def test_structured_output_methods_prompt_and_report_failures(chat: ChatPAD) -> None:
    from pydantic import BaseModel

    class Joke(BaseModel):
        """A joke."""

        setup: str
        punchline: str

    plain = chat.get_num_tokens_from_messages(HELLO)
    for method in ("function_calling", "json_schema", "json_mode"):
        # 3 tokens cannot hold a whole joke: a clear error naming the minimum, never a silent None.
        short = chat.model_copy(update={"max_tokens": 3})
        with pytest.raises(InvalidRequestError, match="shortest answer"):
            short.with_structured_output(Joke, method=method, include_raw=True).invoke(HELLO)
        roomy = chat.model_copy(update={"max_tokens": 96})
        out = roomy.with_structured_output(Joke, method=method, include_raw=True).invoke(HELLO)
        assert isinstance(out["raw"], AIMessage)
        # The schema (as a tool or as an instruction) reached the prompt.
        assert out["raw"].usage_metadata["input_tokens"] > plain
        if method == "json_mode":
            # Any JSON object is admitted: it parses into a Joke or the failure is reported, never dropped.
            assert (out["parsed"] is None) == (out["parsing_error"] is not None)
        else:
            # The schema itself is enforced: a Joke comes back within the budget.
            assert isinstance(out["parsed"], Joke), out


def test_tools_reach_a_template_without_tool_syntax_through_the_fallback(tiny_llama_dir: Path) -> None:
    # The tiny Llama 3 template has no tools section: the documented Hermes fallback shows the tools
    # (generation/tool_template.py) instead of dropping them silently.
    chat = ChatPAD(model=str(tiny_llama_dir), max_tokens=4)
    plain = chat.invoke(HELLO).usage_metadata["input_tokens"]
    with_tools = chat.bind_tools([_magic]).invoke(HELLO)
    assert with_tools.usage_metadata["input_tokens"] > plain
    assert "<tool_call>" not in with_tools.content  # auto mode: text, or a whole call parsed out
