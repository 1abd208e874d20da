"""The evaluation script and the benchmark's building blocks run (at toy scale) and report what they claim."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from memory.eval.__main__ import main as eval_main

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "memory_bench.py"


def test_eval_script_prints_precision_and_recall_by_kind_and_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The legacy rule-eval file, scored with the rule extractor alone (regression data; the independent
    # evaluation sets are scored in tests/test_memory_inference.py).
    legacy = Path(__file__).resolve().parents[1] / "memory" / "eval" / "conversations.jsonl"
    eval_main([str(legacy), "-v", "--rules"])
    out = capsys.readouterr().out
    assert "116 conversations, 86 gold preferences" in out
    for heading in ("by kind", "by source", "overall", "explicit", "implicit", "feedback", "allergies"):
        assert heading in out
    assert "negative conversations with nothing stored: 41/41" in out


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("memory_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["memory_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_benchmark_building_blocks_at_toy_scale(bench, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    bench.populate(url, users=40, messages=400)
    profile = bench.bench_profile(url, users=40, samples=30)
    observe = bench.bench_observe(url, users=40, samples=10)
    rules = bench.bench_rules(samples=10)
    assert len(profile.wall) == len(profile.cpu) == 30 and len(observe.wall) == 10 and len(rules.cpu) == 10
    assert "p50" in profile.report() and "p99" in profile.report()
    from memory import PreferenceMemory

    with PreferenceMemory(url, namespace="bench") as mem:
        assert len(mem.history("user-7").messages) >= 10
        assert mem.profile("user-7").preferences
