"""PADLLM on real tiny models: chat template, streaming, async, metadata, tools, engines and agents."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import Memory
from llama_index.core.tools import FunctionTool

from pad_integrations import runtime
from pad_integrations.llama_index import PADLLM, PADEmbedding, to_engine_messages
from pad_integrations.runtime import user_context

HELLO = [
    ChatMessage(role=MessageRole.SYSTEM, content="Be brief."),
    ChatMessage(role=MessageRole.USER, content="Tell me about the cat."),
]


@pytest.fixture
def llm(tiny_model_dir: Path) -> PADLLM:
    return PADLLM(model=str(tiny_model_dir), max_tokens=12)


@pytest.fixture
def settings(llm: PADLLM, tiny_model_dir: Path):
    """Settings.llm / embed_model for one test, restored afterwards."""
    saved = (Settings._llm, Settings._embed_model)
    Settings.llm = llm
    Settings.embed_model = PADEmbedding(model=str(tiny_model_dir))
    yield Settings
    Settings._llm, Settings._embed_model = saved


def test_message_conversion_keeps_tool_calls_and_results() -> None:
    messages = [
        ChatMessage(role=MessageRole.USER, content="hi"),
        ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[ToolCallBlock(tool_call_id="c1", tool_name="f", tool_kwargs={"x": 1})],
        ),
        ChatMessage(role=MessageRole.TOOL, content="3", additional_kwargs={"tool_call_id": "c1"}),
        ChatMessage(
            role=MessageRole.ASSISTANT,
            content="",
            additional_kwargs={"tool_calls": [{"id": "c2", "function": {"name": "g", "arguments": '{"y": 2}'}}]},
        ),
    ]
    assert to_engine_messages(messages) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]},
        {"role": "tool", "content": "3", "tool_call_id": "c1"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "g", "arguments": {"y": 2}}}]},
    ]


def test_metadata_reports_the_real_context_window(llm: PADLLM) -> None:
    meta = llm.metadata
    assert meta.context_window == llm.engine().context_window == 1024
    assert meta.is_chat_model and meta.is_function_calling_model
    assert meta.num_output == 12
    assert PADLLM(model=llm.model, context_window=100).metadata.context_window == 100


def test_chat_complete_and_streams_agree(llm: PADLLM) -> None:
    reply = llm.chat(HELLO)
    usage = reply.raw["usage"]
    assert usage["prompt_tokens"] == llm.engine().count_tokens(to_engine_messages(HELLO))
    assert 0 < usage["completion_tokens"] <= 12
    assert reply.raw["model_name"] == llm.engine().model_name
    streamed = list(llm.stream_chat(HELLO))
    assert "".join(r.delta for r in streamed) == reply.message.content
    assert streamed[-1].message.content == reply.message.content
    assert streamed[-1].raw["usage"] == usage
    # complete() is one user turn rendered with the chat template.
    prompt = "Tell me about the cat."
    completion = llm.complete(prompt)
    assert completion.text == llm.chat([ChatMessage(role=MessageRole.USER, content=prompt)]).message.content
    assert "".join(r.delta for r in llm.stream_complete(prompt)) == completion.text


def test_stop_strings_on_every_path(llm: PADLLM) -> None:
    full = llm.chat(HELLO).message.content
    stop = full[len(full) // 2: len(full) // 2 + 2]
    expected = full[: full.index(stop)]
    assert llm.chat(HELLO, stop=[stop]).message.content == expected
    assert "".join(r.delta for r in llm.stream_chat(HELLO, stop=[stop])) == expected
    assert PADLLM(model=llm.model, max_tokens=12, stop=[stop]).chat(HELLO).message.content == expected


async def test_async_variants_match_and_leave_the_loop_free(llm: PADLLM) -> None:
    expected = llm.chat(HELLO).message.content
    ticks = 0

    async def tick_until(task: asyncio.Task) -> None:
        nonlocal ticks
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.ensure_future(llm.achat(HELLO))
    await asyncio.gather(task, tick_until(task))
    assert task.result().message.content == expected
    assert ticks > 1, "the event loop was blocked while the model decoded"
    stream = await llm.astream_chat(HELLO)
    assert "".join([r.delta async for r in stream]) == expected
    assert (await llm.acomplete("Tell me about the cat.")).text
    stream = await llm.astream_complete("Tell me about the cat.")
    assert [r async for r in stream][-1].raw["usage"]["completion_tokens"] > 0


def test_for_user_is_a_cheap_copy_sharing_the_weights(llm: PADLLM) -> None:
    alice = llm.for_user("alice")
    assert alice.user_id == "alice" and llm.user_id is None
    assert alice.engine() is llm.engine()
    with pytest.raises(ValueError):
        llm.for_user("  ")


def test_bad_input_gets_clear_errors(llm: PADLLM) -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        llm.chat(HELLO, temprature=1.0)
    with pytest.raises(ValueError, match="empty"):
        llm.chat([])
    with pytest.raises(TypeError, match="prompt"):
        llm.complete(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_tokens"):
        llm.chat(HELLO, max_tokens=0)


def _magic(input: int) -> int:
    """Apply a magic function to an input."""
    return input + 2


def test_tools_reach_the_template_and_calls_are_parsed(llm: PADLLM) -> None:
    tool = FunctionTool.from_defaults(fn=_magic, name="magic_function")
    reply = llm.chat_with_tools([tool], user_msg="What is magic_function(3)?")
    spec = tool.metadata.to_openai_tool(skip_length_check=True)
    messages = [{"role": "user", "content": "What is magic_function(3)?"}]
    assert reply.raw["usage"]["prompt_tokens"] == llm.engine().count_tokens(messages, tools=[spec])
    assert llm.get_tool_calls_from_response(reply, error_on_no_tool_call=False) == [] or all(
        s.tool_name == "magic_function" for s in llm.get_tool_calls_from_response(reply)
    )
    # A reply carrying a call, as the adapter builds it from tool-call markup.
    block = ToolCallBlock(tool_call_id="c1", tool_name="magic_function", tool_kwargs={"input": 3})
    from llama_index.core.base.llms.types import ChatResponse

    selections = llm.get_tool_calls_from_response(
        ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, blocks=[TextBlock(text=""), block]))
    )
    assert [(s.tool_id, s.tool_name, s.tool_kwargs) for s in selections] == [("c1", "magic_function", {"input": 3})]
    with pytest.raises(ValueError, match="tool call"):
        llm.get_tool_calls_from_response(ChatResponse(message=ChatMessage(role="assistant", content="no")))


def test_query_engine_over_a_vector_index(settings, llm: PADLLM) -> None:
    docs = [Document(text="The cat likes short answers."), Document(text="The chef cooks vegetarian food.")]
    index = VectorStoreIndex.from_documents(docs)
    response = index.as_query_engine(similarity_top_k=1).query("What does the chef cook?")
    assert len(response.source_nodes) == 1
    assert isinstance(response.response, str)
    streaming = index.as_query_engine(similarity_top_k=1, streaming=True).query("What does the chef cook?")
    assert "".join(streaming.response_gen) == response.response


def test_embedding_is_deterministic_and_normalised(tiny_model_dir: Path) -> None:
    embed = PADEmbedding(model=str(tiny_model_dir))
    a, b = embed.get_text_embedding_batch(["the cat", "python code"])
    assert a == pytest.approx(embed.get_query_embedding("the cat"), abs=1e-5)  # padding only
    assert abs(sum(x * x for x in a) - 1.0) < 1e-5
    assert a != b
    # Shares the LLM's weights: no second copy of the model.
    assert runtime.get_generator(str(tiny_model_dir)) is PADLLM(model=str(tiny_model_dir)).engine()


def test_chat_engine_with_llama_index_memory_and_context_user(settings, llm: PADLLM) -> None:
    memory = Memory.from_defaults(session_id="alice-session", token_limit=2000)
    engine = SimpleChatEngine.from_defaults(llm=llm, memory=memory)
    with user_context("alice"):
        first = engine.chat("Hello there.")
        second = engine.chat("And again?")
    history = memory.get_all()
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[1].content == first.response and history[3].content == second.response


def test_tools_reach_a_template_without_tool_syntax_through_the_fallback(tiny_llama_dir: Path) -> None:
    llm = PADLLM(model=str(tiny_llama_dir), max_tokens=4)
    tool = FunctionTool.from_defaults(fn=_magic, name="magic_function")
    reply = llm.chat_with_tools([tool], user_msg="What is magic_function(3)?")
    assert "<tool_call>" not in (reply.message.content or "")
