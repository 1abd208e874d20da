"""PADLLM inside LlamaIndex workflow agents (FunctionAgent on PADLLM, ReActAgent with PADLLM tools)."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent, ReActAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.tools import FunctionTool, QueryEngineTool

from memory import PreferenceMemory
from pad_integrations.llama_index import PADLLM, PADEmbedding
from pad_integrations.runtime import user_context


@pytest.fixture
def mem(sqlite_url: str) -> PreferenceMemory:
    memory = PreferenceMemory(sqlite_url)
    yield memory
    memory.close()


def _cups(guests: int) -> int:
    """How many cups of tea to brew for a number of guests (one spare)."""
    return guests + 1


async def test_function_agent_runs_on_padllm_for_the_context_user(tiny_model_dir: Path, mem: PreferenceMemory) -> None:
    mem.set_preference("alice", "verbosity", "concise")
    llm = PADLLM(model=str(tiny_model_dir), memory=mem, max_tokens=8)
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(fn=_cups, name="cups_to_brew")], llm=llm)
    with user_context("alice"):
        result = await agent.run("How many cups of tea should I brew for 3 guests? Use the tool.")
    llm.flush()
    stored = mem.history("alice").messages
    assert stored[0].content == "How many cups of tea should I brew for 3 guests? Use the tool."
    assert stored[-1].role == "assistant"
    # The agent's answer is what PADLLM generated for alice (not an empty or foreign result).
    assert str(result).strip() and str(result).strip() == stored[-1].content.strip(), (str(result), stored[-1])


def _scripted_react(messages: list[ChatMessage], **kwargs: object) -> ChatMessage:
    """The reasoning a small model cannot do: call the docs tool once, then answer with what it said."""
    observations = [m.content for m in messages if m.role == MessageRole.USER and "Observation:" in (m.content or "")]
    if not observations:
        text = 'Thought: I should look this up.\nAction: tea_docs\nAction Input: {"input": "green tea"}'
    else:
        text = "Thought: I can answer without using any more tools.\nAnswer: " + observations[-1].split(
            "Observation:", 1
        )[1].strip()
    return ChatMessage(role=MessageRole.ASSISTANT, content=text)


async def test_react_agent_with_a_padllm_query_engine_tool(tiny_model_dir: Path, mem: PreferenceMemory) -> None:
    mem.set_preference("bob", "verbosity", "detailed")
    llm = PADLLM(model=str(tiny_model_dir), memory=mem, max_tokens=8, record="inline")
    index = VectorStoreIndex.from_documents(
        [Document(text="Green tea is brewed at 80 degrees.")], embed_model=PADEmbedding(model=str(tiny_model_dir))
    )
    docs = QueryEngineTool.from_defaults(
        index.as_query_engine(llm=llm, similarity_top_k=1), name="tea_docs", description="Facts about tea."
    )
    scripted = MockFunctionCallingLLM(response_generator=_scripted_react, is_chat_model=True)
    agent = ReActAgent(tools=[docs], llm=scripted, streaming=False)
    with user_context("bob"):
        result = await agent.run("How hot for green tea?")
    # The tool's answer came from PADLLM, for bob, with bob's preferences, and was recorded for bob.
    stored = mem.history("bob").messages
    assert [m.role for m in stored] == ["user", "assistant"]
    assert "Green tea is brewed at 80 degrees." in stored[0].content
    assert str(result).strip() == stored[1].content.strip()


async def test_function_agent_tool_round_trip(mem: PreferenceMemory, tiny_model_dir: Path) -> None:
    """FunctionAgent on PADLLM: the first call is forced (initial_tool_choice, decoded under the tool-call
    grammar, since the tiny fixture cannot decide to call a tool), the agent parses it, runs the tool with
    the parsed arguments, and feeds the result back for the answer."""
    from llama_index.core.agent.workflow import ToolCallResult

    llm = PADLLM(model=str(tiny_model_dir), memory=mem, max_tokens=64)
    calls: list[tuple[str, dict]] = []

    def cups_to_brew(guests: int) -> int:
        """How many cups of tea to brew for a number of guests (one spare)."""
        calls.append(("cups_to_brew", {"guests": guests}))
        return guests + 1

    agent = FunctionAgent(tools=[cups_to_brew], llm=llm, timeout=120, initial_tool_choice="cups_to_brew")
    results: list[ToolCallResult] = []
    with user_context("alice"):
        handler = agent.run("How many cups of tea should I brew for 3 guests? Use the tool.")
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                results.append(event)
        answer = str(await handler)
    assert results, "the agent ran no tool"
    assert calls and calls[0] == ("cups_to_brew", results[0].tool_kwargs)  # the tool ran with the parsed call
    assert results[0].tool_name == "cups_to_brew" and results[0].tool_output.content == str(calls[0][1]["guests"] + 1)
    assert isinstance(answer, str)
    llm.flush()
    assert mem.history("alice").messages[0].content.startswith("How many cups of tea should I brew for 3 guests?")
