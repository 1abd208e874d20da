"""A LlamaIndex chat engine with LlamaIndex ``Memory`` and the user's stored preferences.

    .venv/bin/python examples/llamaindex_chat_engine.py      # [--model DIR] [--db sqlite:///prefs.db]

The user states a preference in conversation; PADLLM records the turn in the preference memory, which
infers and stores it. A ``PreferencesMemoryBlock`` shows the stored preferences inside the LlamaIndex
``Memory`` (as data about the user), and the next answers are steered by them at decoding time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import textwrap
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import Memory

from memory import PreferenceMemory
from pad_integrations.llama_index import PADLLM, PreferencesMemoryBlock
from pad_integrations.runtime import user_context

TURNS = ["Hi! Please keep your answers short.", "How do I make a good cup of tea?"]


async def chat(user: str, llm: PADLLM, memory: PreferenceMemory) -> None:
    block = PreferencesMemoryBlock(memory=memory, user_id=user)
    chat_memory = Memory.from_defaults(session_id=f"{user}-session", token_limit=4000, memory_blocks=[block])
    engine = SimpleChatEngine.from_defaults(llm=llm.for_user(user), memory=chat_memory)
    for text in TURNS:
        reply = await engine.achat(text)
        await asyncio.to_thread(llm.flush)  # the preference is stored before the next turn
        print(f"{user}: {text}")
        print(textwrap.indent(textwrap.fill(reply.response or "(empty)", 80), "  > "))
    with user_context(user):
        print(f"  in LlamaIndex memory: {await PreferencesMemoryBlock(memory=memory).aget()!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--db", default=None, help="memory database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        memory = PreferenceMemory(args.db or f"sqlite:///{Path(tmp) / 'memory.db'}")
        llm = PADLLM(model=args.model, memory=memory, max_tokens=48)
        asyncio.run(chat("alice", llm, memory))
        stored = [f"{p.kind} = {p.value}" for p in memory.profile("alice").preferences]
        print(f"alice's stored preferences: {stored}")
        memory.close()
    print("LlamaIndex chat engine example finished")


if __name__ == "__main__":
    main()
