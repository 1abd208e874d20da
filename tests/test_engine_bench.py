"""The decoding benchmark runs end to end on a tiny model and reports every figure (no timing asserted)."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from pad_integrations.evaluation.bench import TARGETS, add_bench_arguments, format_report, run_benchmark


@pytest.mark.slow
def test_benchmark_reports_every_figure_and_the_naive_loop_agrees(tmp_path):
    threads_before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        report = run_benchmark(tiny=True, hidden_size=64, num_layers=2, prompt_tokens=16, new_tokens=6,
                               batch_sizes=(1, 2), naive_tokens=8, repeats=1, threads=1, workdir=tmp_path)
        assert torch.get_num_threads() == 2  # the benchmark's thread setting does not leak
    finally:
        torch.set_num_threads(threads_before)
    assert set(report["tokens_per_s"]) == {f"{m}@{b}" for m in
                                           ("generate", "base", "prompt", "linear", "amulet", "pad") for b in (1, 2)}
    assert all(v > 0 for v in report["tokens_per_s"].values())
    assert set(report["targets"]) == set(TARGETS)
    memory = report["memory"]  # measured in two fresh processes: base alone, and base + PersRM
    assert memory["base_peak_mib"] > 0 and memory["pad_peak_mib"] > 0
    assert memory["ratio"] == round(memory["pad_peak_mib"] / memory["base_peak_mib"], 3)
    assert report["naive_reference"]["same_tokens"] is True
    assert report["floor_batch2_over_batch1_step"] > 0
    json.dumps(report)
    assert "floor" in format_report(report)


def test_bench_arguments_parse():
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    args = parser.parse_args(["--json", "--new-tokens", "8"])
    assert args.json and args.new_tokens == 8 and args.threads == 1
    assert args.model is None and not args.tiny  # the default: the default model and its PersRM
