"""A LangChain agent with a tool, on ChatPAD: the model calls the tool, reads its result, answers.

    .venv/bin/python examples/langchain_agent.py      # [--model DIR] [--db sqlite:///prefs.db]

Uses ``langchain.agents.create_agent`` (LangGraph) with a per-run context naming the user, so the
user's stored preferences steer every model call of the run and the run is recorded in their memory.
Without the ``langchain`` package (only ``langchain-core``), it runs the same loop by hand:
model -> tool calls -> ToolMessages -> model, with the user passed on each call.
Offline: the bundled demo model and a temporary SQLite database unless told otherwise.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from memory import PreferenceMemory
from pad_integrations.langchain import ChatPAD

STEEP_MINUTES = {"green": 2, "white": 3, "oolong": 4, "black": 4, "herbal": 6}


@tool
def steeping_time(tea: str) -> str:
    """How many minutes to steep a kind of tea (green, white, oolong, black or herbal)."""
    kind = tea.strip().lower().removesuffix(" tea")
    minutes = STEEP_MINUTES.get(kind)
    return f"{minutes} minutes" if minutes is not None else f"unknown tea {tea!r}; known: {', '.join(STEEP_MINUTES)}"


@dataclass
class UserContext:
    user_id: str


def run_agent(chat: ChatPAD, question: str, user_id: str, max_rounds: int = 4) -> list[BaseMessage]:
    """The conversation of one agent run: create_agent when langchain is installed, else a plain loop."""
    try:
        from langchain.agents import create_agent
    except ImportError:
        create_agent = None
    if create_agent is not None:
        agent = create_agent(chat, tools=[steeping_time], context_schema=UserContext)
        result = agent.invoke(
            {"messages": [{"role": "user", "content": question}]},
            context=UserContext(user_id=user_id),
            config={"recursion_limit": 2 * max_rounds},
        )
        return result["messages"]
    tools = {steeping_time.name: steeping_time}
    model = chat.bind_tools(list(tools.values()))
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(max_rounds):
        reply = model.invoke(messages, user_id=user_id)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            if call["name"] in tools:
                messages.append(tools[call["name"]].invoke(call))
            else:
                messages.append(ToolMessage(f"Error: {call['name']} is not a valid tool.", tool_call_id=call["id"],
                                            status="error"))
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the bundled demo model)")
    parser.add_argument("--db", default=None, help="memory database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        memory = PreferenceMemory(args.db or f"sqlite:///{Path(tmp) / 'memory.db'}")
        memory.set_preference("alice", "verbosity", "concise")
        chat = ChatPAD(model=args.model, memory=memory, max_tokens=64)
        question = "How long should I steep green tea? Use the steeping_time tool."
        print(f"alice asks: {question}")
        messages = run_agent(chat, question, user_id="alice")
        for message in messages[1:]:
            if isinstance(message, AIMessage) and message.tool_calls:
                for call in message.tool_calls:
                    print(f"  model calls {call['name']}({call['args']})")
            elif isinstance(message, ToolMessage):
                print(f"  tool returns {message.content}")
            elif isinstance(message, AIMessage):
                applied = [p["text"] for p in message.response_metadata.get("preferences", [])]
                print(f"  model answers: {message.content!r}")
                print(f"  (steered by: {applied})")
        chat.flush()
        print(f"  recorded for alice: {len(memory.history('alice').messages)} messages")
        memory.close()
    print("LangChain agent example finished")


if __name__ == "__main__":
    main()
