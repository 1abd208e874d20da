"""ChatPAD tool calling (Hermes <tool_call> markup in a ChatML template with tools): invoke and stream.

The tiny fixture model cannot decide to call a tool, so the calls are forced (``tool_choice="any"``): the
tool-call grammar makes the model write a whole, well-formed call, which then goes through the same parsing,
streaming and history rendering as a call the model chose. (The default model, SmolLM2-135M-Instruct, has a
template without tools, and is refused tools: tests/test_default_model.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from pad_integrations.langchain import ChatPAD

QUESTION = "What is the value of magic_function(3)? Use the tool."


@tool
def magic_function(input: int) -> int:
    """Apply a magic function to an input."""
    return input + 2


@pytest.fixture(scope="module")
def demo_chat(tiny_model_dir: Path) -> ChatPAD:
    return ChatPAD(model=str(tiny_model_dir), max_tokens=64)


def test_tool_markup_becomes_tool_calls(demo_chat: ChatPAD) -> None:
    reply = demo_chat.bind_tools([magic_function], tool_choice="any").invoke(QUESTION)
    assert reply.tool_calls, f"the forced call did not parse: {reply.content!r}"
    assert reply.tool_calls[0]["name"] == "magic_function"
    call = reply.tool_calls[0]
    assert call["type"] == "tool_call" and call["id"].startswith("call_") and isinstance(call["args"], dict)
    assert "<tool_call>" not in reply.content and "</tool_call>" not in reply.content
    assert reply.usage_metadata["output_tokens"] > 0


def test_streamed_tool_calls_arrive_as_tool_call_chunks(demo_chat: ChatPAD) -> None:
    bound = demo_chat.bind_tools([magic_function], tool_choice="any")
    whole = bound.invoke(QUESTION)
    chunks = list(bound.stream(QUESTION))
    assert not any("<tool_call" in c.content for c in chunks), "tool-call markup leaked into the stream"
    call_chunks = [tc for c in chunks for tc in c.tool_call_chunks]
    assert call_chunks and all(tc["id"] and tc["name"] for tc in call_chunks)
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert [(t["name"], t["args"]) for t in merged.tool_calls] == [(t["name"], t["args"]) for t in whole.tool_calls]
    assert chunks[-1].chunk_position == "last" and merged.usage_metadata == whole.usage_metadata


async def test_async_stream_tool_calls(demo_chat: ChatPAD) -> None:
    bound = demo_chat.bind_tools([magic_function], tool_choice="any")
    whole = await bound.ainvoke(QUESTION)
    chunks = [c async for c in bound.astream(QUESTION)]
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert whole.tool_calls, "the forced call did not parse"
    assert [(t["name"], t["args"]) for t in merged.tool_calls] == [(t["name"], t["args"]) for t in whole.tool_calls]


def test_tool_results_in_the_history_are_rendered_and_answered(demo_chat: ChatPAD) -> None:
    history = [
        HumanMessage(QUESTION),
        AIMessage("", tool_calls=[{"name": "magic_function", "args": {"input": 3}, "id": "call_1", "type": "tool_call"}]),
        ToolMessage("5", tool_call_id="call_1", name="magic_function"),
    ]
    reply = demo_chat.bind_tools([magic_function]).invoke(history)
    assert isinstance(reply, AIMessage)
    assert reply.content or reply.tool_calls
    assert reply.usage_metadata["input_tokens"] == demo_chat.get_num_tokens_from_messages(
        history, tools=[magic_function]
    )
