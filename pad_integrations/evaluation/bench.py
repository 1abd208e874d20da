"""The decoding benchmark (``pad bench``): our strategies against ``model.generate``, side by side.

Everything is measured in one run on one locally built model (no hub): tokens/s of ``model.generate``
and of ``base``, ``prompt``, ``linear``, ``amulet`` and ``pad`` at batch 1 and batch 8; each strategy's
time per token over ``model.generate``'s; the floor (one batch-of-2 forward step over one batch-of-1
step: what a guided step over two contexts must cost at least); and the naive reference loop (no KV
cache, the official code's way) against ours at a longer generation. EOS is disabled so every run
produces exactly the requested number of tokens. Timings are the best of ``repeats`` runs, interleaved
so that background load hits every method alike.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STRATEGIES = ("base", "prompt", "linear", "amulet", "pad")
GUIDED = ("prompt", "linear", "amulet", "pad")
TARGETS = {
    "linear_over_floor": 1.1,  # at most
    "amulet_over_floor": 1.1,  # at most
    "pad_over_generate": 2.2,  # at most (PersRM the size of the base)
    "naive_over_ours": 5.0,  # at least
    "batch8_over_batch1": 4.0,  # at least (throughput)
}


def run_benchmark(
    *,
    hidden_size: int = 512,
    num_layers: int = 8,
    prompt_tokens: int = 64,
    new_tokens: int = 128,
    batch_sizes: tuple[int, ...] = (1, 8),
    naive_tokens: int = 256,
    repeats: int = 1,
    threads: int | None = 1,
    workdir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark; return a JSON-able dict of figures, ratios and targets."""
    import torch

    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)  # 0/None: torch's default
    try:
        return _measure(hidden_size, num_layers, prompt_tokens, new_tokens, batch_sizes, naive_tokens, repeats,
                        workdir, log or (lambda _msg: None))
    finally:
        torch.set_num_threads(previous_threads)


def _measure(
    hidden_size: int, num_layers: int, prompt_tokens: int, new_tokens: int, batch_sizes: tuple[int, ...],
    naive_tokens: int, repeats: int, workdir: str | Path | None, say: Callable[[str], None],
) -> dict[str, Any]:
    import torch

    from pad_integrations import GuidedGenerator
    from pad_integrations.generation import PersonalizedRewardModel, make_strategy
    from pad_integrations.generation.batch import CachedBatch
    from pad_integrations.generation.reference import reference_generate

    with tempfile.TemporaryDirectory() if workdir is None else _nullcontext(workdir) as tmp:
        base_dir, rm_dir = build_bench_models(Path(tmp), hidden_size=hidden_size, num_layers=num_layers)
        persrm = PersonalizedRewardModel.from_pretrained(rm_dir, value_head=True)
        gen = GuidedGenerator.from_pretrained(base_dir, reward_model=persrm)
    gen.eos_token_ids = frozenset()  # exactly new_tokens per run, for every method alike
    model = gen.model
    n_params = sum(p.numel() for p in model.parameters())
    say(f"model: {n_params / 1e6:.1f}M parameters, vocab {gen.vocab_size}, {torch.get_num_threads()} threads")

    prompts = _prompts(gen, max(batch_sizes), prompt_tokens)

    def hf(batch: int) -> Callable[[int], int]:
        ids = torch.tensor([p["base"] for p in prompts[:batch]])

        def run(n: int) -> int:
            out = model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                do_sample=False, pad_token_id=gen.pad_token_id,
            )
            return (out.shape[1] - ids.shape[1]) * batch

        return run

    def ours(strategy: str, batch: int) -> Callable[[int], int]:
        def run(n: int) -> int:
            results = gen.generate_ids_batch(prompts[:batch], strategy=strategy, max_new_tokens=n)
            assert all(len(r.token_ids) == n for r in results), "EOS is disabled: every row must be full length"
            return sum(len(r.token_ids) for r in results)

        return run

    methods: dict[str, Callable[[int], int]] = {}
    for b in batch_sizes:
        methods[f"generate@{b}"] = hf(b)
        for s in STRATEGIES:
            methods[f"{s}@{b}"] = ours(s, b)
    for fn in methods.values():  # warm-up (allocator, kernels, lazy init)
        fn(4)
    seconds = {name: float("inf") for name in methods}
    tokens = {}
    for r in range(repeats):
        for name, fn in methods.items():
            start = time.perf_counter()
            tokens[name] = fn(new_tokens)
            seconds[name] = min(seconds[name], time.perf_counter() - start)
        say(f"repeat {r + 1}/{repeats} done")
    tps = {name: tokens[name] / seconds[name] for name in methods}

    floor = _floor(CachedBatch(model, gen.pad_token_id), prompts[0]["base"], steps=new_tokens, repeats=repeats)
    say(f"floor (batch-2 step / batch-1 step): {floor:.3f}")

    # The official code's way: no cache, every context re-encoded in full each step.
    contexts = {"base": prompts[0]["base"], "pref0": prompts[0]["preference"]}
    start = time.perf_counter()
    naive = reference_generate(model, contexts, make_strategy("amulet"), weights=[1.0], max_new_tokens=naive_tokens)
    naive_s = time.perf_counter() - start
    start = time.perf_counter()
    ours_long = gen.generate_ids(prompts[0], strategy="amulet", max_new_tokens=naive_tokens).token_ids
    ours_s = time.perf_counter() - start
    say(f"naive amulet at {naive_tokens} tokens: {naive_s:.2f}s, ours {ours_s:.2f}s")

    b1, b_max = min(batch_sizes), max(batch_sizes)
    per_token = {name: 1.0 / v for name, v in tps.items()}
    over_generate = {
        f"{s}@{b}": per_token[f"{s}@{b}"] / per_token[f"generate@{b}"] for s in STRATEGIES for b in batch_sizes
    }
    figures = {
        "linear_over_floor": over_generate[f"linear@{b1}"] / floor,
        "amulet_over_floor": over_generate[f"amulet@{b1}"] / floor,
        "pad_over_generate": over_generate[f"pad@{b1}"],
        "naive_over_ours": naive_s / ours_s,
        "batch8_over_batch1": min(tps[f"{s}@{b_max}"] / tps[f"{s}@{b1}"] for s in STRATEGIES),
    }
    return {
        "model": {
            "parameters": n_params,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "vocab_size": gen.vocab_size,
            "persrm_parameters": sum(p.numel() for p in persrm.parameters()),
            "dtype": str(model.dtype),
            "threads": torch.get_num_threads(),
        },
        "settings": {
            "prompt_tokens": prompt_tokens,
            "new_tokens": new_tokens,
            "batch_sizes": list(batch_sizes),
            "naive_tokens": naive_tokens,
            "repeats": repeats,
            "greedy": True,
        },
        "tokens_per_s": {name: round(v, 2) for name, v in tps.items()},
        "time_per_token_over_generate": {name: round(v, 3) for name, v in over_generate.items()},
        "floor_batch2_over_batch1_step": round(floor, 3),
        "naive_reference": {
            "tokens": naive_tokens,
            "naive_s": round(naive_s, 3),
            "ours_s": round(ours_s, 3),
            "same_tokens": naive == ours_long,
        },
        "targets": {
            name: {
                "value": round(value, 3),
                "target": TARGETS[name],
                "kind": "at least" if name in ("naive_over_ours", "batch8_over_batch1") else "at most",
                "met": value >= TARGETS[name] if name in ("naive_over_ours", "batch8_over_batch1")
                else value <= TARGETS[name],
            }
            for name, value in figures.items()
        },
    }


def build_bench_models(root: Path, *, hidden_size: int, num_layers: int) -> tuple[Path, Path]:
    """A base model and a same-size PersRM backbone sharing its tokenizer, built locally."""
    from transformers import AutoTokenizer

    from pad_integrations.testing.tiny_models import TinySpec, build_tiny_model

    heads = max(1, hidden_size // 64)
    spec = TinySpec(
        arch="qwen2", hidden_size=hidden_size, num_layers=num_layers, num_heads=heads,
        num_kv_heads=max(1, heads // 2), intermediate_size=hidden_size * 11 // 4, max_position_embeddings=2048,
    )
    base = build_tiny_model(root / "base", spec)
    tokenizer = AutoTokenizer.from_pretrained(base)
    rm = build_tiny_model(root / "persrm", TinySpec(**{**spec.__dict__, "seed": 7}), tokenizer=tokenizer)
    return base, rm


def _prompts(gen: Any, n: int, length: int) -> list[dict[str, list[int]]]:
    """``n`` prompt pairs of exactly ``length`` tokens: the preference context differs in its first quarter."""
    rng = random.Random(0)
    special = set(gen.tokenizer.all_special_ids)
    normal = [i for i in range(len(gen.tokenizer)) if i not in special]
    out = []
    for _ in range(n):
        shared = [rng.choice(normal) for _ in range(length - length // 4)]
        out.append({
            "base": [rng.choice(normal) for _ in range(length // 4)] + shared,
            "preference": [rng.choice(normal) for _ in range(length // 4)] + shared,
        })
    return out


def _floor(batch: Any, prompt: list[int], *, steps: int, repeats: int) -> float:
    """Best batch-of-2 step time over best batch-of-1 step time, measured alternately (load hits both)."""
    import torch

    def time_steps(rows: int, n: int) -> float:
        batch.prefill([prompt] * rows)
        token = torch.full((rows,), prompt[-1], dtype=torch.long)
        start = time.perf_counter()
        for _ in range(n):
            batch.step(token)
        return (time.perf_counter() - start) / n

    time_steps(1, 4)  # warm-up
    chunk = max(8, steps // 4)
    best = {1: float("inf"), 2: float("inf")}
    for _ in range(8 * max(1, repeats)):
        for rows in (1, 2):
            best[rows] = min(best[rows], time_steps(rows, chunk))
    return best[2] / best[1]


class _nullcontext:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __enter__(self) -> Any:
        return self.value

    def __exit__(self, *exc: object) -> None:
        return None


# -- command line (``pad bench``) ---------------------------------------------------------------
def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--hidden-size", type=int, default=512)
    parser.add_argument("--num-layers", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--naive-tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per method (best is kept)")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch threads (default 1: stable ratios on a shared CPU; 0 keeps torch's default)",
    )


def run_bench(args: argparse.Namespace) -> int:
    import sys

    report = run_benchmark(
        hidden_size=args.hidden_size, num_layers=args.num_layers, prompt_tokens=args.prompt_tokens,
        new_tokens=args.new_tokens, naive_tokens=args.naive_tokens, repeats=args.repeats, threads=args.threads,
        log=lambda msg: print(msg, file=sys.stderr),
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def format_report(report: dict[str, Any]) -> str:
    lines = [f"model: {report['model']['parameters'] / 1e6:.1f}M parameters ({report['model']['threads']} threads)"]
    lines += [f"  {name:>12}: {tps:8.1f} tokens/s" for name, tps in report["tokens_per_s"].items()]
    lines.append(f"floor (batch-2 step / batch-1 step): {report['floor_batch2_over_batch1_step']}")
    for name, t in report["targets"].items():
        lines.append(f"{name}: {t['value']} ({t['kind']} {t['target']}: {'met' if t['met'] else 'NOT met'})")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m pad_integrations.evaluation.bench")
    add_bench_arguments(parser)
    raise SystemExit(run_bench(parser.parse_args()))
