"""Import weight (issue 17): importing the package, its adapters and ``pad --help`` load no torch or
transformers (seconds to import) until a model is used; ``pad --help`` loads no SQLAlchemy either.

Each check runs in a fresh interpreter and reads its ``sys.modules``: a structural property, not a timing.
The last test proves the probe itself sees torch when it is loaded, so an empty answer cannot pass vacuously.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = ("torch", "transformers")


def _loaded_after(code: str, watched: tuple[str, ...]) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of ``watched`` it left in ``sys.modules``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {list(watched)!r}}}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(loaded) == set(watched)  # the probe answered for every module asked about
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        "import pad_integrations",
        "import pad_integrations.langchain",
        "from pad_integrations.langchain import ChatPAD, to_engine_messages\n"
        "ChatPAD(memory=None, max_tokens=8)",  # making the model object loads no weights either
        "import pad_integrations.llama_index",
        "from pad_integrations.llama_index import PADLLM, PADEmbedding, PreferencesMemoryBlock",
        "import pad_integrations.runtime",
    ],
)
def test_imports_load_no_engine(code: str) -> None:
    loaded = _loaded_after(code, ENGINE)
    assert not any(loaded.values()), f"{code!r} loaded {[m for m, on in loaded.items() if on]}"


def test_pad_help_loads_no_engine_and_no_database_layer() -> None:
    code = (
        "import contextlib, io\n"
        "from pad_integrations.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--help']) == 0\n"
        "assert 'COMMAND' in out.getvalue()\n"
    )
    loaded = _loaded_after(code, (*ENGINE, "sqlalchemy", "memory"))
    assert not any(loaded.values()), [m for m, on in loaded.items() if on]


def test_pad_console_help_loads_no_engine() -> None:
    """The installed ``pad`` script itself: run it with ``-X importtime`` and read what it imported."""
    exe = Path(sys.executable).with_name("pad")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(exe), "--help"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "COMMAND" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "pad_integrations.cli.main" in imported  # the trace covers our code
    assert not imported & {*ENGINE, "sqlalchemy"}, imported & {*ENGINE, "sqlalchemy"}


def test_public_names_still_import_and_the_probe_sees_the_engine() -> None:
    """The lazy names resolve to the real classes, and loading them does load torch (the probe works)."""
    code = (
        "from pad_integrations import GuidedGenerator, GenerationRequest, SamplingSettings\n"
        "from pad_integrations.generation import GuidedGenerator as G\n"
        "assert GuidedGenerator is G and GenerationRequest.__name__ == 'GenerationRequest'\n"
    )
    loaded = _loaded_after(code, ENGINE)
    assert loaded == {"torch": True, "transformers": True}
