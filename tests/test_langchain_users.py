"""ChatPAD per user: resolution order, memory read and write, and two users at the same time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableField

from memory import PreferenceMemory
from pad_integrations.langchain import ChatPAD, to_engine_messages
from pad_integrations.runtime import user_context

QUESTION = [HumanMessage("Tell me about the cat.")]


@pytest.fixture
def mem(sqlite_url: str) -> PreferenceMemory:
    memory = PreferenceMemory(sqlite_url)
    yield memory
    memory.close()


@pytest.fixture
def chat(tiny_model_dir: Path, mem: PreferenceMemory) -> ChatPAD:
    return ChatPAD(model=str(tiny_model_dir), memory=mem, max_tokens=8)


def _applied(reply: AIMessage) -> list[str]:
    return [p["text"] for p in reply.response_metadata["preferences"]]


def _users(mem: PreferenceMemory, *names: str) -> dict[str, str]:
    """One distinct stored preference per user; returns user -> its preference sentence."""
    texts = {}
    for i, name in enumerate(names):
        texts[name] = mem.set_preference(name, "likes", f"topic number {i}").text
    return texts


def test_user_resolution_order(chat: ChatPAD, mem: PreferenceMemory) -> None:
    texts = _users(mem, "kwarg", "meta", "conf", "runtime", "field", "ctx")
    assert _applied(chat.invoke(QUESTION, user_id="kwarg")) == [texts["kwarg"]]
    assert _applied(chat.bind(user_id="kwarg").invoke(QUESTION)) == [texts["kwarg"]]
    assert _applied(chat.invoke(QUESTION, config={"metadata": {"user_id": "meta"}})) == [texts["meta"]]
    assert _applied(chat.invoke(QUESTION, config={"configurable": {"user_id": "conf"}})) == [texts["conf"]]
    # Streaming gets no run manager from LangChain; the user still comes through.
    chunks = list(chat.stream(QUESTION, config={"metadata": {"user_id": "meta"}}))
    assert [p["text"] for c in chunks for p in c.response_metadata.get("preferences", [])] == [texts["meta"]]
    # Earlier sources win: kwarg over metadata over configurable.
    both = {"metadata": {"user_id": "meta"}, "configurable": {"user_id": "conf"}}
    assert _applied(chat.invoke(QUESTION, config=both, user_id="kwarg")) == [texts["kwarg"]]
    assert _applied(chat.invoke(QUESTION, config=both)) == [texts["meta"]]
    # The model's own field (or a configurable field) is the last resort, after the context variable.
    fielded = chat.model_copy(update={"user_id": "field"})
    assert _applied(fielded.invoke(QUESTION)) == [texts["field"]]
    with user_context("ctx"):
        assert _applied(fielded.invoke(QUESTION)) == [texts["ctx"]]
    configurable = chat.configurable_fields(user_id=ConfigurableField(id="user_id_field"))
    assert _applied(configurable.invoke(QUESTION, config={"configurable": {"user_id_field": "field"}})) == [
        texts["field"]
    ]


def test_langgraph_runtime_context_names_the_user(chat: ChatPAD, mem: PreferenceMemory) -> None:
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    texts = _users(mem, "graph-user")

    @dataclass
    class Context:
        user_id: str

    class State(TypedDict):
        reply: AIMessage | None

    def node(state: State) -> State:
        return {"reply": chat.invoke(QUESTION)}

    graph = StateGraph(State, context_schema=Context)
    graph.add_node("answer", node)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    out = graph.compile().invoke({"reply": None}, context=Context(user_id="graph-user"))
    assert _applied(out["reply"]) == [texts["graph-user"]]


def test_without_a_user_memory_is_neither_read_nor_written(chat: ChatPAD, mem: PreferenceMemory) -> None:
    from sqlalchemy import func, select

    from memory.schema import MessageRow, UserRow

    reply = chat.invoke([HumanMessage("Please keep your answers short.")])
    chat.flush()
    assert _applied(reply) == []
    with mem.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MessageRow)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(UserRow)).scalar() == 0


def test_only_the_new_part_of_a_conversation_is_recorded(chat: ChatPAD, mem: PreferenceMemory) -> None:
    history = [
        SystemMessage("You are a helpful assistant."),
        HumanMessage("Hi."),
        AIMessage("Hello!"),
        HumanMessage("Please keep your answers short."),
    ]
    reply = chat.invoke(history, user_id="carol")
    chat.flush()
    stored = mem.history("carol").messages
    assert [(m.role, m.content) for m in stored] == [
        ("user", "Please keep your answers short."),
        ("assistant", reply.content),
    ]
    assert mem.profile("carol").guidance()[0][0] == "Keep answers short and to the point."


def test_two_users_with_opposite_preferences_at_the_same_time(chat: ChatPAD, mem: PreferenceMemory) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You answer questions."), ("human", "{question}")])
    chain = prompt | chat
    statements = {"alice": "Please keep your answers short.", "bob": "I like detailed, thorough answers."}
    replies: dict[str, list[AIMessage]] = {"alice": [], "bob": []}
    barrier = threading.Barrier(2)

    def talk(user: str) -> None:
        config = {"configurable": {"user_id": user}}
        barrier.wait()
        replies[user].append(chain.invoke({"question": statements[user]}, config=config))
        chat.flush()  # alice's statement is stored before her next call reads her profile
        barrier.wait()
        replies[user].append(chain.invoke({"question": "Tell me about the cat."}, config=config))

    threads = [threading.Thread(target=talk, args=(user,)) for user in statements]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chat.flush()

    alice, bob = mem.profile("alice"), mem.profile("bob")
    assert [p.value for p in alice.preferences] == ["concise"]
    assert [p.value for p in bob.preferences] == ["detailed"]
    # Recorded in their own profile, never the other's.
    alice_said = [m.content for m in mem.history("alice").messages]
    bob_said = [m.content for m in mem.history("bob").messages]
    assert statements["alice"] in alice_said and statements["bob"] not in alice_said
    assert statements["bob"] in bob_said and statements["alice"] not in bob_said
    # Steered by their own preferences: exactly what the engine decodes under that user's profile.
    engine = chat.engine()
    question = to_engine_messages(prompt.invoke({"question": "Tell me about the cat."}).to_messages())
    for user, profile in (("alice", alice), ("bob", bob)):
        second = replies[user][1]
        assert _applied(second) == [text for text, _ in profile.guidance()]
        expected = engine.generate(question, preference=profile.guidance(), strategy="amulet", max_new_tokens=8)
        assert second.content == expected.text
    assert replies["alice"][1].content != replies["bob"][1].content
