"""Shared fixtures: tiny real models built once per test session, and real databases."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest

from pad_integrations.testing.tiny_models import TinySpec, build_tiny_model


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches PostgreSQL carries the `postgres` mark (`-m postgres` selects them)."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()) or "[postgresql" in item.nodeid:
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say in the log how many PostgreSQL tests ran, so a skipped server cannot pass unnoticed."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed"):
        for report in terminalreporter.stats.get(outcome, []):
            # A test reports once per phase; count its call, or the setup that skipped or broke it.
            counted_phase = report.when == "call" or outcome in ("skipped", "error")
            if counted_phase and "postgres" in report.keywords:
                counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "none collected"
    terminalreporter.write_line(f"PostgreSQL tests: {summary}")
