"""The decoding benchmark (``pad bench``): our strategies against ``model.generate``, side by side.

Everything is measured in one run, by default on the default model (SmolLM2-135M-Instruct) with its
PersRM adapter (``demo.reward_model_path()``), or on ``--model``/``--reward-model``, or on a locally
built model (``--tiny``, for tests): tokens/s of ``model.generate`` and of ``base``, ``prompt``,
``linear``, ``amulet`` and ``pad`` at batch 1 and batch 8; each strategy's time per token over
``model.generate``'s; the floor (one batch-of-2 forward step over one batch-of-1 step: what a guided step
over two contexts must cost at least); the naive reference loop (no KV cache, the official code's way)
against ours at a longer generation; and the peak memory (maximum RSS, or CUDA peak allocation) of a
process decoding with ``pad`` (base weights + PersRM adapter) over one decoding with ``base`` alone,
each in its own fresh process. EOS is disabled so every run produces exactly the requested number of
tokens. Prompts are token sequences of exactly ``prompt_tokens`` (the content does not change the cost).
Timings are the best of ``repeats`` runs, interleaved so that background load hits every method alike.
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
    "pad_over_generate": 2.2,  # at most
    "naive_over_ours": 5.0,  # at least
    "batch8_over_batch1": 4.0,  # at least (throughput)
    "pad_memory_over_base": 1.3,  # at most (peak memory with the PersRM over the base model alone)
}
AT_LEAST = ("naive_over_ours", "batch8_over_batch1")


def run_benchmark(
    *,
    model: str | None = None,
    reward_model: str | None = None,
    tiny: bool = False,
    hidden_size: int = 512,
    num_layers: int = 8,
    prompt_tokens: int = 64,
    new_tokens: int = 64,
    batch_sizes: tuple[int, ...] = (1, 8),
    naive_tokens: int = 128,
    repeats: int = 1,
    threads: int | None = 1,
    memory: bool = True,
    workdir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark; return a JSON-able dict of figures, ratios and targets.

    ``model``/``reward_model``: directories or hub ids (default: the default model and, with it, its
    PersRM adapter). ``tiny``: build a ``hidden_size`` × ``num_layers`` model and a same-size PersRM locally
    instead (fast; for tests). ``memory``: also measure peak memory, in two fresh processes.
    """
    import torch

    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)  # 0/None: torch's default
    say = log or (lambda _msg: None)
    try:
        with tempfile.TemporaryDirectory() if workdir is None else _nullcontext(workdir) as tmp:
            if tiny:
                model, reward_model = (str(p) for p in build_bench_models(
                    Path(tmp), hidden_size=hidden_size, num_layers=num_layers))
            else:
                model, reward_model = resolve_models(model, reward_model)
            report = _measure(model, reward_model, prompt_tokens, new_tokens, batch_sizes, naive_tokens, repeats,
                              say)
            if memory:
                report["memory"] = measure_memory(model, reward_model, prompt_tokens, new_tokens, max(batch_sizes),
                                                  threads, say)
                if report["memory"].get("ratio") is not None:
                    report["targets"]["pad_memory_over_base"] = _target(
                        "pad_memory_over_base", report["memory"]["ratio"])
        return report
    finally:
        torch.set_num_threads(previous_threads)


def resolve_models(model: str | None, reward_model: str | None) -> tuple[str, str | None]:
    """``model`` or the default model; ``reward_model`` or, with the default model, its PersRM (if present)."""
    if model is not None:
        return model, reward_model
    from pad_integrations import demo
    from pad_integrations.generation.reward_model import is_adapter_dir

    model = demo.model_path()
    if reward_model is None:
        try:
            reward_model = demo.reward_model_path()
        except FileNotFoundError:
            reward_model = None  # pad is then reported as not measured
        if reward_model is not None and not is_adapter_dir(reward_model):
            reward_model = None  # not the default model's adapter (an older full-model PersRM for another base)
    return model, reward_model


def _target(name: str, value: float) -> dict[str, Any]:
    at_least = name in AT_LEAST
    return {
        "value": round(value, 3),
        "target": TARGETS[name],
        "kind": "at least" if at_least else "at most",
        "met": value >= TARGETS[name] if at_least else value <= TARGETS[name],
    }


def _measure(
    model_path: str, reward_model: str | None, prompt_tokens: int, new_tokens: int, batch_sizes: tuple[int, ...],
    naive_tokens: int, repeats: int, say: Callable[[str], None],
) -> dict[str, Any]:
    import torch

    from pad_integrations.generation import make_strategy
    from pad_integrations.generation.batch import CachedBatch
    from pad_integrations.generation.reference import reference_generate

    gen = _load(model_path, reward_model)
    strategies = STRATEGIES if gen.persrm is not None else tuple(s for s in STRATEGIES if s != "pad")
    if "pad" not in strategies:
        say("no PersRM: pad is not measured (pass --reward-model)")
    gen.eos_token_ids = frozenset()  # exactly new_tokens per run, for every method alike
    model = gen.model
    n_params = sum(p.numel() for p in model.parameters())
    say(f"model: {model_path}: {n_params / 1e6:.1f}M parameters, vocab {gen.vocab_size}, "
        f"{torch.get_num_threads()} threads")

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
        for s in strategies:
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
        f"{s}@{b}": per_token[f"{s}@{b}"] / per_token[f"generate@{b}"] for s in strategies for b in batch_sizes
    }
    figures = {
        "linear_over_floor": over_generate[f"linear@{b1}"] / floor,
        "amulet_over_floor": over_generate[f"amulet@{b1}"] / floor,
        "naive_over_ours": naive_s / ours_s,
        "batch8_over_batch1": min(tps[f"{s}@{b_max}"] / tps[f"{s}@{b1}"] for s in strategies),
    }
    if "pad" in strategies:
        figures["pad_over_generate"] = over_generate[f"pad@{b1}"]
    persrm = gen.persrm
    return {
        "model": {
            "path": model_path,
            "reward_model": reward_model,
            "parameters": n_params,
            "hidden_size": int(model.config.hidden_size),
            "num_layers": int(model.config.num_hidden_layers),
            "vocab_size": gen.vocab_size,
            # Trainable PersRM parameters beyond the base (LoRA + value head), or a separate backbone's.
            "persrm_parameters": _persrm_parameters(persrm, model) if persrm is not None else None,
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
        "targets": {name: _target(name, value) for name, value in figures.items()},
    }


def _load(model_path: str, reward_model: str | None) -> Any:
    from pad_integrations import GuidedGenerator
    from pad_integrations.generation import PersonalizedRewardModel
    from pad_integrations.generation.reward_model import is_adapter_dir

    if reward_model is None or is_adapter_dir(reward_model):
        return GuidedGenerator.from_pretrained(model_path, reward_model=reward_model)
    persrm = PersonalizedRewardModel.from_pretrained(reward_model, value_head=True)
    return GuidedGenerator.from_pretrained(model_path, reward_model=persrm)


def _persrm_parameters(persrm: Any, base: Any) -> int:
    base_ids = {id(p) for p in base.parameters()}
    return sum(p.numel() for p in persrm.parameters() if id(p) not in base_ids)


def measure_memory(
    model: str, reward_model: str | None, prompt_tokens: int, new_tokens: int, batch: int, threads: int | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Peak memory of a fresh process decoding ``batch`` rows with ``base``, and of one with ``pad``.

    Each side is its own process, so neither inherits the other's peak: maximum RSS on CPU (the whole
    process: interpreter, libraries, weights, caches), peak allocated bytes on CUDA.
    """
    import subprocess
    import sys

    sides = {"base": None} if reward_model is None else {"base": None, "pad": reward_model}
    out: dict[str, Any] = {"batch": batch, "new_tokens": new_tokens}
    for strategy, rm in sides.items():
        cmd = [sys.executable, "-m", "pad_integrations.evaluation.bench", "--memory-probe", strategy,
               "--model", model, "--prompt-tokens", str(prompt_tokens), "--new-tokens", str(new_tokens),
               "--batch", str(batch), "--threads", str(threads or 0)]
        if rm is not None:
            cmd += ["--reward-model", rm]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"memory probe ({strategy}) failed:\n{proc.stderr[-2000:]}")
        probe = json.loads(proc.stdout.strip().splitlines()[-1])
        out[f"{strategy}_peak_mib"] = round(probe["peak_bytes"] / 2**20, 1)
        out["unit"] = probe["unit"]
        say(f"peak memory, {strategy}: {out[f'{strategy}_peak_mib']} MiB ({probe['unit']})")
    out["ratio"] = round(out["pad_peak_mib"] / out["base_peak_mib"], 3) if "pad_peak_mib" in out else None
    return out


def _memory_probe(args: argparse.Namespace) -> int:
    """One side of :func:`measure_memory`: load, decode, print the process's peak memory as JSON."""
    import resource
    import sys

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    gen = _load(args.model, args.reward_model if args.memory_probe == "pad" else None)
    gen.eos_token_ids = frozenset()
    cuda = gen.model.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    prompts = _prompts(gen, args.batch, args.prompt_tokens)
    gen.generate_ids_batch(prompts, strategy=args.memory_probe, max_new_tokens=args.new_tokens)
    if cuda:
        peak, unit = torch.cuda.max_memory_allocated(), "CUDA peak allocated"
    else:
        # ru_maxrss is KiB on Linux, bytes on macOS.
        scale = 1 if sys.platform == "darwin" else 1024
        peak, unit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, "max RSS"
    print(json.dumps({"peak_bytes": peak, "unit": unit}))
    return 0


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
    parser.add_argument("--model", help="model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--reward-model", help="PersRM for pad (default: the default model's PersRM adapter)")
    parser.add_argument("--tiny", action="store_true",
                        help="benchmark a locally built model of --hidden-size x --num-layers instead")
    parser.add_argument("--hidden-size", type=int, default=512, help="with --tiny")
    parser.add_argument("--num-layers", type=int, default=8, help="with --tiny")
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--naive-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per method (best is kept)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch threads (default 1: stable ratios on a shared CPU; 0 keeps torch's default)",
    )


def run_bench(args: argparse.Namespace) -> int:
    import sys

    report = run_benchmark(
        model=args.model, reward_model=args.reward_model, tiny=args.tiny,
        hidden_size=args.hidden_size, num_layers=args.num_layers, prompt_tokens=args.prompt_tokens,
        new_tokens=args.new_tokens, naive_tokens=args.naive_tokens, repeats=args.repeats, threads=args.threads,
        memory=not args.no_memory, log=lambda msg: print(msg, file=sys.stderr),
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def format_report(report: dict[str, Any]) -> str:
    m = report["model"]
    lines = [f"model: {m.get('path', '?')}: {m['parameters'] / 1e6:.1f}M parameters ({m['threads']} threads); "
             f"PersRM: {m.get('reward_model') or 'none (pad not measured)'}"]
    ratios = report["time_per_token_over_generate"]
    for name, tps in report["tokens_per_s"].items():
        ratio = f"  ({ratios[name]:.2f}x generate's time per token)" if name in ratios else ""
        lines.append(f"  {name:>12}: {tps:8.1f} tokens/s{ratio}")
    lines.append(f"floor (batch-2 step / batch-1 step): {report['floor_batch2_over_batch1_step']}")
    if report.get("memory"):
        mem = report["memory"]
        lines.append(f"peak memory ({mem['unit']}, batch {mem['batch']}): base {mem['base_peak_mib']} MiB"
                     + (f", pad {mem['pad_peak_mib']} MiB" if "pad_peak_mib" in mem else ""))
    for name, t in report["targets"].items():
        lines.append(f"{name}: {t['value']} ({t['kind']} {t['target']}: {'met' if t['met'] else 'NOT met'})")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m pad_integrations.evaluation.bench")
    add_bench_arguments(parser)
    parser.add_argument("--memory-probe", choices=STRATEGIES, help=argparse.SUPPRESS)  # measure_memory's child
    parser.add_argument("--batch", type=int, default=8, help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    raise SystemExit(_memory_probe(parsed) if parsed.memory_probe else run_bench(parsed))
