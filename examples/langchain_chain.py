"""A LangChain chain (prompt template | ChatPAD) shared by two users with opposite preferences.

    .venv/bin/python examples/langchain_chain.py      # [--model DIR] [--db sqlite:///prefs.db]

Alice asks for short answers, Bob for detailed ones. Each statement is recorded in that user's own
memory; their next answers are steered by their own preferences at decoding time (Amulet), through
the same chain object, at the same time (one batched decode). Offline: the default model (SmolLM2-135M-Instruct) and a
temporary SQLite database unless told otherwise.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import textwrap
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from langchain_core.prompts import ChatPromptTemplate

from memory import PreferenceMemory
from pad_integrations.langchain import ChatPAD

STATEMENTS = {"alice": "Please keep your answers short.", "bob": "I like detailed, thorough answers."}
QUESTION = "How do I make a good cup of tea?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--db", default=None, help="memory database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'memory.db'}"
        memory = PreferenceMemory(url)
        chat = ChatPAD(model=args.model, strategy="amulet", memory=memory, max_tokens=48)
        prompt = ChatPromptTemplate.from_messages(
            [("system", "You are a helpful assistant."), ("human", "{question}")]
        )
        chain = prompt | chat

        # Both users state a preference; batch() runs the two calls as one decode.
        users = list(STATEMENTS)
        configs = [{"configurable": {"user_id": u}} for u in users]
        chain.batch([{"question": STATEMENTS[u]} for u in users], config=configs)
        chat.flush()
        for user in users:
            stored = [f"{p.kind} = {p.value}" for p in memory.profile(user).preferences]
            print(f"{user}: stored preferences: {stored}")

        # The same question, same chain, same moment: each answer follows its own user.
        replies = chain.batch([{"question": QUESTION}] * 2, config=configs)
        for user, reply in zip(users, replies, strict=True):
            applied = [p["text"] for p in reply.response_metadata["preferences"]]
            print(f"\n{user} asks: {QUESTION}")
            print(f"  applied: {applied}")
            print(f"  tokens:  {reply.usage_metadata['output_tokens']}")
            print(textwrap.indent(textwrap.fill(reply.content or "(empty)", 80), "  > "))

        # Streaming works the same way; the user comes from the call.
        print("\nalice, streamed: ", end="")
        for chunk in chain.stream({"question": QUESTION}, config=configs[0]):
            print(chunk.content, end="", flush=True)
        print()
        chat.flush()
        memory.close()
    print("\nLangChain chain example finished")


if __name__ == "__main__":
    main()
