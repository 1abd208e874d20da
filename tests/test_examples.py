"""Every examples/*.py runs end to end, offline, as a user would run it.

Each example is a subprocess with HF_HUB_OFFLINE=1 and a time limit (several run at once); it must exit 0
and print what it promises (``MARKERS``; examples not listed there must at least print something). Examples that need
the bundled demo model are skipped, with the reason, only while pad_integrations/demo has no model files.
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
TIMEOUT_S = 180
PARALLEL = 3

# Text each example must print, proving it did its job (not merely that it exited).
MARKERS: dict[str, list[str]] = {
    "quickstart.py": ["inferred:  add verbosity = concise", "applied: ", "Quickstart finished"],
    "chatbot_backend.py": ["alice", "bob", "verbosity", "Chatbot backend example finished"],
    "train_persrm.py": ["PersRM saved to", "guided by the new PersRM"],
}
# Examples that build their own tiny model when the demo model is missing.
RUNS_WITHOUT_DEMO = {"quickstart.py", "chatbot_backend.py", "train_persrm.py"}


def demo_model_available() -> bool:
    try:
        from pad_integrations import demo

        return (Path(demo.model_path()) / "config.json").exists()
    except (ImportError, AttributeError, OSError):
        return False


def runnable(example: Path) -> bool:
    return example.name in RUNS_WITHOUT_DEMO or demo_model_available()


def run_example(example: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
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
    root = tmp_path_factory.mktemp("examples")
    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {e.name: pool.submit(run_example, e, root / e.stem) for e in EXAMPLES if runnable(e)}


@pytest.mark.slow
@pytest.mark.timeout(3 * TIMEOUT_S)
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(example: Path, example_runs: dict[str, Future]) -> None:
    if not runnable(example):
        pytest.skip(f"{example.name} needs the bundled demo model, which pad_integrations/demo does not hold yet")
    proc = example_runs[example.name].result()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{example.name} exited {proc.returncode}:\n{output[-4000:]}"
    assert proc.stdout.strip(), f"{example.name} printed nothing"
    for marker in MARKERS.get(example.name, []):
        assert marker in proc.stdout, f"{example.name} did not print {marker!r}:\n{proc.stdout[-4000:]}"


def test_every_example_of_this_part_exists() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"quickstart.py", "chatbot_backend.py", "train_persrm.py"} <= names
