"""Shared fixtures: tiny real models built once per test session, and real databases."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Under pytest-xdist (`python3 dev.py test` runs the suite on one worker per core) each worker, and every
# process it starts, gets its share of the cores for torch: workers that each spin up a thread per core
# oversubscribe the CPU and all run slower. Set before anything imports torch (it reads this once).
XDIST_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
if XDIST_WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // XDIST_WORKERS)))

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402 (after the environment above, which torch reads once)
from typing import TYPE_CHECKING  # noqa: E402

import pytest  # noqa: E402

from pad_integrations.testing.tiny_models import TinySpec, build_tiny_model  # noqa: E402

if TYPE_CHECKING:
    from memory import PreferenceMemory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Qwen2-architecture model with a short plain ChatML template (tool-aware; no model's own template:
    tests/test_real_templates.py uses Qwen2.5's verbatim)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"), TinySpec(arch="qwen2", template="chatml"))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Llama-architecture model with Llama 3.1-Instruct's own chat template (it emits BOS itself)."""
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny-llama"), TinySpec(arch="llama", template="llama3", seed=1)
    )


@pytest.fixture(scope="session")
def tiny_no_system_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model whose template rejects a system role and demands strict alternation (Gemma-like)."""
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny-nosys"), TinySpec(arch="llama", template="no_system", seed=2)
    )


@pytest.fixture(scope="session")
def tiny_reward_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A second model sharing ``tiny_model_dir``'s tokenizer, usable as a PersRM backbone."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    return build_tiny_model(tmp_path_factory.mktemp("tiny-rm"), TinySpec(seed=7), tokenizer=tok)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'memory.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A real PostgreSQL server (PAD_TEST_POSTGRES_URL); skipped with the reason when there is none.

    With PAD_REQUIRE_POSTGRES=1 (CI) a missing server is a failure, never a silent skip.
    """
    url = os.environ.get("PAD_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("PAD_REQUIRE_POSTGRES") == "1":
            pytest.fail("PAD_REQUIRE_POSTGRES=1 but PAD_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server: set PAD_TEST_POSTGRES_URL (scripts/start_postgres.sh starts one)")
    return url


# The modules that take longest (measured with --durations on the 2-core VM, costliest first). They run
# first, so that under `--dist loadfile` no long module starts last and leaves the other workers idle.
COSTLIEST_MODULES = (
    "test_langchain_standard.py", "test_docs_snippets.py", "test_examples.py", "test_ray_serve.py",
    "test_default_model.py", "test_loading.py", "test_server.py", "test_auth_workers.py",
    "test_durable_turns.py", "test_isolation.py", "test_fuzz.py", "test_faults.py",
)


def _cost_rank(item: pytest.Item) -> int:
    name = item.path.name
    return COSTLIEST_MODULES.index(name) if name in COSTLIEST_MODULES else len(COSTLIEST_MODULES)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Costliest modules first (a stable sort: the order inside a module is kept), and every test that
    reaches PostgreSQL carries the `postgres` mark (`-m postgres` selects them)."""
    items.sort(key=_cost_rank)
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()) or "[postgresql" in item.nodeid:
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say in the log how many PostgreSQL tests ran, so a skipped server cannot pass unnoticed."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed"):
        for report in terminalreporter.stats.get(outcome, []):
            # A test reports once per phase; count its call, or the setup that skipped or broke it.
            # A collection error's report has no phase and no keywords: it is no PostgreSQL test.
            counted_phase = getattr(report, "when", None) == "call" or outcome in ("skipped", "error")
            if counted_phase and "postgres" in getattr(report, "keywords", ()):
                counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "none collected"
    terminalreporter.write_line(f"PostgreSQL tests: {summary}")


@pytest.fixture(scope="module")
def mem(request: pytest.FixtureRequest) -> Iterator[PreferenceMemory]:
    """A real preference memory (default extractors, SQLite in memory), one per test module: what a turn stores
    end to end (``tests/stored_values.stored``). The extractors load the embedding model only when a test uses it."""
    from memory import PreferenceMemory
    from memory.extractors import default_extractors

    namespace = request.module.__name__.rsplit(".", 1)[-1]
    with PreferenceMemory("sqlite:///:memory:", namespace=namespace, extractor=default_extractors()) as memory:
        yield memory
