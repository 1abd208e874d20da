"""PADLLM: tool_required and structured prediction decode under the tool-call grammar."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from pad_integrations.llama_index import PADLLM


class Song(BaseModel):
    """A song."""

    title: str = Field(max_length=30)
    length_seconds: int
    mood: Literal["happy", "sad"]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture(scope="module")
def llm(tiny_model_dir: Path) -> PADLLM:
    return PADLLM(model=str(tiny_model_dir), max_tokens=120)


def test_tool_required_forces_a_well_formed_call(llm: PADLLM) -> None:
    tool = FunctionTool.from_defaults(fn=add)
    response = llm.chat_with_tools([tool], user_msg="What is 2 plus 3?", tool_required=True)
    (selection,) = llm.get_tool_calls_from_response(response)
    assert selection.tool_name == "add"
    assert isinstance(selection.tool_kwargs["a"], int) and isinstance(selection.tool_kwargs["b"], int)


async def test_structured_predict_returns_the_model(llm: PADLLM) -> None:
    from llama_index.core.prompts import PromptTemplate

    prompt = PromptTemplate("Write a song about {topic}.")
    song = llm.structured_predict(Song, prompt, topic="the sea")
    assert isinstance(song, Song)
    assert isinstance(await llm.astructured_predict(Song, prompt, topic="rain"), Song)


def test_tool_not_required_is_free(llm: PADLLM) -> None:
    tool = FunctionTool.from_defaults(fn=add)
    response = llm.chat_with_tools([tool], chat_history=[ChatMessage(role="user", content="Hi")])
    assert not str(response.message.content or "").startswith("<tool_call>")
