"""LlamaIndex workflow agents on PADLLM: a tool-calling agent, and a ReAct agent for models that reason.

    .venv/bin/python examples/llamaindex_react_agent.py            # FunctionAgent on the demo model
    .venv/bin/python examples/llamaindex_react_agent.py --react --model /path/to/Qwen2.5-1.5B-Instruct

The bundled demo model was trained to call tools in its chat template's format, so by default the
agent is a ``FunctionAgent``: PADLLM renders the tools through the template, parses the model's
``<tool_call>`` markup, the agent runs the tool and the model answers from its result. A ``ReActAgent``
needs a model that follows the ``Thought / Action / Action Input / Answer`` text protocol, which the
small demo model does not; ``--react`` runs one on the model you name. Either way the user comes from
``user_context`` and their stored preferences steer every model call of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llama_index.core.agent.workflow import FunctionAgent, ReActAgent, ToolCallResult

from memory import PreferenceMemory
from pad_integrations.llama_index import PADLLM
from pad_integrations.runtime import user_context


def cups_to_brew(guests: int) -> int:
    """How many cups of tea to brew for a number of guests (one spare)."""
    return guests + 1


async def run(agent: FunctionAgent | ReActAgent, question: str) -> str:
    handler = agent.run(question)
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"  model calls {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
    return str(await handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--db", default=None, help="memory database URL (default: a temporary SQLite file)")
    parser.add_argument("--react", action="store_true", help="run a ReActAgent (needs a model that reasons)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        memory = PreferenceMemory(args.db or f"sqlite:///{Path(tmp) / 'memory.db'}")
        memory.set_preference("alice", "verbosity", "concise")
        llm = PADLLM(model=args.model, memory=memory, max_tokens=64)
        kind = ReActAgent if args.react else FunctionAgent
        agent = kind(tools=[cups_to_brew], llm=llm, timeout=120)
        question = "How many cups of tea should I brew for 3 guests? Use the tool."
        print(f"{kind.__name__}, alice asks: {question}")
        with user_context("alice"):
            answer = asyncio.run(run(agent, question))
        print(f"  answer: {answer!r}")
        llm.flush()
        print(f"  recorded for alice: {len(memory.history('alice').messages)} messages")
        memory.close()
    print("LlamaIndex agent example finished")


if __name__ == "__main__":
    main()
