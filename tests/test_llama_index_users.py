"""PADLLM per user: for_user, the context variable, the memory block, and two users at the same time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import Memory

from memory import PreferenceMemory
from memory.phrases import PREFERENCE_HEADER
from pad_integrations.llama_index import PADLLM, PreferencesMemoryBlock, to_engine_messages
from pad_integrations.runtime import current_user, user_context

QUESTION = [ChatMessage(role=MessageRole.USER, content="Tell me about the cat.")]


@pytest.fixture
def mem(sqlite_url: str) -> PreferenceMemory:
    memory = PreferenceMemory(sqlite_url)
    yield memory
    memory.close()


@pytest.fixture
def llm(tiny_model_dir: Path, mem: PreferenceMemory) -> PADLLM:
    return PADLLM(model=str(tiny_model_dir), memory=mem, max_tokens=8)


def _applied(response) -> list[str]:
    return [p["text"] for p in response.raw["preferences"]]


def test_user_resolution_kwarg_then_for_user_then_context(llm: PADLLM, mem: PreferenceMemory) -> None:
    texts = {u: mem.set_preference(u, "likes", f"topic {u}").text for u in ("kw", "copy", "ctx")}
    assert _applied(llm.chat(QUESTION)) == []
    assert _applied(llm.chat(QUESTION, user_id="kw")) == [texts["kw"]]
    copy = llm.for_user("copy")
    assert _applied(copy.chat(QUESTION)) == [texts["copy"]]
    assert _applied(copy.chat(QUESTION, user_id="kw")) == [texts["kw"]]
    with user_context("ctx"):
        assert current_user() == "ctx"
        assert _applied(llm.chat(QUESTION)) == [texts["ctx"]]
        assert _applied(copy.chat(QUESTION)) == [texts["copy"]]
    assert current_user() is None


def test_turns_are_recorded_for_the_user_only(llm: PADLLM, mem: PreferenceMemory) -> None:
    reply = llm.for_user("dana").chat(
        [ChatMessage(role="system", content="Be nice."), ChatMessage(role="user", content="Please keep your answers short.")]
    )
    llm.chat([ChatMessage(role="user", content="No user here: nothing is stored.")])
    llm.flush()
    assert [(m.role, m.content) for m in mem.history("dana").messages] == [
        ("user", "Please keep your answers short."),
        ("assistant", reply.message.content),
    ]
    assert [p.value for p in mem.profile("dana").preferences] == ["concise"]


async def test_memory_block_puts_the_users_preferences_into_llama_index_memory(mem: PreferenceMemory) -> None:
    mem.set_preference("erin", "verbosity", "concise")
    block = PreferencesMemoryBlock(memory=mem, user_id="erin")
    memory = Memory.from_defaults(session_id="erin-chat", token_limit=4000, memory_blocks=[block])
    await memory.aput(ChatMessage(role="user", content="hi"))
    messages = await memory.aget()
    system = messages[0]
    assert system.role == MessageRole.SYSTEM
    assert PREFERENCE_HEADER in system.content and "Keep answers short and to the point." in system.content
    # Without an explicit user, the block follows the context variable; nobody: nothing injected.
    anonymous = Memory.from_defaults(session_id="anon", memory_blocks=[PreferencesMemoryBlock(memory=mem)])
    await anonymous.aput(ChatMessage(role="user", content="hi"))
    assert all(PREFERENCE_HEADER not in (m.content or "") for m in await anonymous.aget())
    with user_context("erin"):
        assert "Keep answers short" in await PreferencesMemoryBlock(memory=mem).aget()


async def test_two_users_with_opposite_preferences_at_the_same_time(llm: PADLLM, mem: PreferenceMemory) -> None:
    statements = {"alice": "Please keep your answers short.", "bob": "I like detailed, thorough answers."}

    async def talk(user: str) -> tuple[str, str]:
        engine = SimpleChatEngine.from_defaults(llm=llm, memory=Memory.from_defaults(session_id=f"{user}-s"))
        with user_context(user):
            await engine.achat(statements[user])
            await asyncio.to_thread(llm.flush)
            second = await engine.achat("Tell me about the cat.")
        return user, second.response

    results = dict(await asyncio.gather(talk("alice"), talk("bob")))
    llm.flush()
    alice, bob = mem.profile("alice"), mem.profile("bob")
    assert [p.value for p in alice.preferences] == ["concise"]
    assert [p.value for p in bob.preferences] == ["detailed"]
    alice_said = [m.content for m in mem.history("alice").messages]
    bob_said = [m.content for m in mem.history("bob").messages]
    assert statements["bob"] not in alice_said and statements["alice"] not in bob_said
    # Each second answer is what the engine decodes under that user's own profile.
    engine = llm.engine()
    for user, profile in (("alice", alice), ("bob", bob)):
        history = [
            ChatMessage(role="user", content=statements[user]),
            ChatMessage(role="assistant", content=mem.history(user).messages[1].content),
            ChatMessage(role="user", content="Tell me about the cat."),
        ]
        expected = engine.generate(
            to_engine_messages(history), preference=profile.guidance(), strategy="amulet", max_new_tokens=8
        )
        assert results[user] == expected.text
