"""A LlamaIndex query engine over a VectorStoreIndex, answered by PADLLM per user.

    .venv/bin/python examples/llamaindex_query_engine.py      # [--model DIR] [--db sqlite:///prefs.db]

``Settings.llm`` is one PADLLM; ``Settings.embed_model`` is PADEmbedding (mean-pooled hidden states
of the same local model: offline, no second model). The same engine answers two users, each steered
by their own stored preferences: once through ``llm.for_user``, once through ``user_context``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import textwrap
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llama_index.core import Document, Settings, VectorStoreIndex

from memory import PreferenceMemory
from pad_integrations.llama_index import PADLLM, PADEmbedding
from pad_integrations.runtime import user_context

DOCUMENTS = [
    "Green tea is brewed at about 80 degrees Celsius for two to three minutes.",
    "Black tea needs boiling water and three to five minutes of steeping.",
    "Python is a programming language; beginners often start with its official tutorial.",
]
QUESTION = "How hot should the water be for green tea?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--db", default=None, help="memory database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        memory = PreferenceMemory(args.db or f"sqlite:///{Path(tmp) / 'memory.db'}")
        memory.set_preference("alice", "verbosity", "concise")
        memory.set_preference("bob", "verbosity", "detailed")
        Settings.llm = PADLLM(model=args.model, memory=memory, max_tokens=48)
        Settings.embed_model = PADEmbedding(model=args.model)
        index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCUMENTS])
        print(f"indexed {len(DOCUMENTS)} documents with a local embedding")

        # Per user, option 1: an engine built on a per-user copy of the LLM (shares the weights).
        alice_engine = index.as_query_engine(llm=Settings.llm.for_user("alice"), similarity_top_k=1)
        # Per user, option 2: one shared engine, the user named by a context variable.
        shared_engine = index.as_query_engine(similarity_top_k=1, streaming=True)

        answer = alice_engine.query(QUESTION)
        print(f"\nalice asks: {QUESTION}")
        print(f"  retrieved: {answer.source_nodes[0].node.get_content()!r}")
        print(textwrap.indent(textwrap.fill(str(answer) or "(empty)", 80), "  > "))

        print(f"\nbob asks (streamed): {QUESTION}\n  > ", end="")
        with user_context("bob"):
            streamed = shared_engine.query(QUESTION)
            for delta in streamed.response_gen:
                print(delta, end="", flush=True)
        print()
        Settings.llm.flush()
        for user in ("alice", "bob"):
            print(f"{user}: {len(memory.history(user).messages)} messages recorded")
        memory.close()
    print("LlamaIndex query engine example finished")


if __name__ == "__main__":
    main()
