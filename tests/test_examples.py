"""Every examples/*.py runs end to end, offline, as a user would run it.

Each example is a subprocess with HF_HUB_OFFLINE=1 and a time limit; it must exit 0 and print what it
promises (``MARKERS``; examples not listed there must at least print something). Examples that need
the bundled demo model are skipped, with the reason, only while pad_integrations/demo has no model files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT_S = 180

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


@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT_S + 30)
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path) -> None:
    if example.name not in RUNS_WITHOUT_DEMO and not demo_model_available():
        pytest.skip(f"{example.name} needs the bundled demo model, which pad_integrations/demo does not hold yet")
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
        # Keep the examples' default databases and caches out of the user's home directory.
        HOME=str(tmp_path),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    proc = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{example.name} exited {proc.returncode}:\n{output[-4000:]}"
    assert proc.stdout.strip(), f"{example.name} printed nothing"
    for marker in MARKERS.get(example.name, []):
        assert marker in proc.stdout, f"{example.name} did not print {marker!r}:\n{proc.stdout[-4000:]}"


def test_every_example_of_this_part_exists() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"quickstart.py", "chatbot_backend.py", "train_persrm.py"} <= names
