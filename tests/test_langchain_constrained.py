"""ChatPAD's forced tool calls and structured output decode under a grammar: valid on every path,
even from a tiny random model that would never write them on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import BaseModel, Field

from pad_integrations.langchain import ChatPAD

HELLO = "Tell me a joke about cats, and look up the weather in Paris."


class Joke(BaseModel):
    """A joke."""

    setup: str = Field(max_length=40)
    punchline: str = Field(max_length=40)
    rating: int | None = None
    tone: Literal["dry", "silly"]


def get_weather(city: str, unit: Literal["C", "F"]) -> str:
    """Get the weather in a city."""
    return f"sunny in {city}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture(scope="module")
def chat(tiny_model_dir: Path) -> ChatPAD:
    return ChatPAD(model=str(tiny_model_dir), strategy="amulet", max_tokens=160)


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_structured_output_is_valid_on_every_path(chat: ChatPAD, method: str) -> None:
    # json_mode without a schema: any JSON object (with one, it is parsed into the schema like json_schema).
    structured = chat.with_structured_output(None if method == "json_mode" else Joke, method=method)
    expected = Joke if method != "json_mode" else dict
    invoked = structured.invoke(HELLO)
    assert isinstance(invoked, expected)
    batched = structured.batch([HELLO, "Another one, please."])
    assert all(isinstance(b, expected) for b in batched)
    streamed = list(structured.stream(HELLO))
    assert streamed and isinstance(streamed[-1], expected)
    assert streamed[-1] == invoked  # greedy: every path decodes the same reply


async def test_structured_output_async_and_sampled(chat: ChatPAD) -> None:
    sampled = chat.model_copy(update={"temperature": 1.2, "seed": 7})
    for method in ("function_calling", "json_schema"):
        assert isinstance(await sampled.with_structured_output(Joke, method=method).ainvoke(HELLO), Joke)
    as_dict = await chat.with_structured_output(Joke.model_json_schema(), method="json_schema").ainvoke(HELLO)
    Joke.model_validate(as_dict)


@pytest.mark.parametrize("tool_choice", ["any", "required", "add"])
def test_forced_tool_calls_are_well_formed(chat: ChatPAD, tool_choice: str) -> None:
    bound = chat.bind_tools([get_weather, add], tool_choice=tool_choice)
    reply = bound.invoke(HELLO)
    assert isinstance(reply, AIMessage) and len(reply.tool_calls) == 1, reply
    call = reply.tool_calls[0]
    if tool_choice == "add":
        assert call["name"] == "add"
    if call["name"] == "add":
        assert isinstance(call["args"]["a"], int) and isinstance(call["args"]["b"], int)
    else:
        assert call["name"] == "get_weather" and call["args"]["unit"] in ("C", "F")
    merged: AIMessageChunk | None = None
    for chunk in bound.stream(HELLO):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None and merged.tool_calls == [{**call, "id": merged.tool_calls[0]["id"]}]


async def test_forced_tool_call_async(chat: ChatPAD) -> None:
    reply = await chat.bind_tools([add], tool_choice="any").ainvoke(HELLO)
    assert [c["name"] for c in reply.tool_calls] == ["add"]


def test_auto_tool_choice_is_not_forced(chat: ChatPAD) -> None:
    # Without tool_choice the model decides: the tiny model answers in plain text, not a tool call.
    reply = chat.bind_tools([add]).invoke(HELLO)
    assert isinstance(reply, AIMessage) and not reply.content.startswith("<tool_call>")
