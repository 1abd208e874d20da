"""Choose each guided strategy's defaults on the dev split, then report them on the held-out split.

``python3 -m pad_integrations.evaluation.tune --model-dir DIR|--gguf FILE [--reward-model PERSRM] --out DIR``

1. Dev split, seed 0: ``base``, ``prompt`` and a fixed grid of strengths and guards per guided strategy
   (``GRID``, in priority order; configurations that would not fit the time budget are skipped and listed).
2. Selection rule, fixed before any run: a configuration is *feasible* when its dev on-topic rate is at
   least base's minus 3 points and its repetition at most base's; each guided strategy takes its feasible
   configuration with the highest dev adherence (ties: the weaker one, earlier in the grid); with none
   feasible, the one with the highest on-topic rate. The *primary* strategy is the feasible one with the
   highest dev adherence.
3. Held-out split, seeds 0..S-1: base, prompt and every guided strategy at its chosen configuration.
   Then, time permitting, the faithful (guards off) paper defaults on held-out for comparison.
4. ``OUT/summary.json`` (grid, choices, held-out summaries per seed and pooled, target check),
   ``OUT/dev_answers.json`` and ``OUT/heldout_answers.json`` (every text with its measurements).

``--smoke`` runs the same pipeline at toy size (a few questions, a few tokens) to prove it end to end.
Only torch, transformers, numpy-free Python and this package's generation/evaluation modules are needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pad_integrations.evaluation.eval_set import DEV, HELDOUT, EvalQuestion, cases
from pad_integrations.evaluation.realeval import (
    Answer,
    Config,
    Decoding,
    answers_json,
    generate_config,
    summarise,
)

GUIDED: tuple[str, ...] = ("linear", "amulet", "pad")
GUARDS = {"nucleus": 0.9, "no_repeat_ngram": 4}
OFF = {"nucleus": None, "repetition_penalty": 1.0, "no_repeat_ngram": 0}
ON_TOPIC_SLACK_DEV = 0.03
TARGET_GAIN, TARGET_ON_TOPIC = 0.20, 0.05
GUIDED_COST = 1.3  # a guided case costs about this many prompt cases (two contexts, guards)

# Priority order: the strength sweep with guards first (with a tighter nucleus at higher strengths), then the
# faithful formulas and the guard ablations (each guard alone) at the same strength.
G7 = {"nucleus": 0.7, "no_repeat_ngram": 4}
GRID: tuple[Config, ...] = (
    Config("linear", {"r": 1.0, **GUARDS}, "linear r=1 +guards"),
    Config("amulet", {"alpha": 1.5, **GUARDS}, "amulet a=1.5(k=2.1) +guards"),
    Config("pad", {"w": 1.0, "no_repeat_ngram": 4}, "pad w=1 +ngram"),
    Config("linear", {"r": 2.0, **G7}, "linear r=2 +guards p=0.7"),
    Config("amulet", {"alpha": 1.5, **G7}, "amulet a=1.5(k=2.1) +guards p=0.7"),
    Config("linear", {"r": 0.5, **GUARDS}, "linear r=0.5 +guards"),
    Config("linear", {"r": 2.0, **GUARDS}, "linear r=2 +guards"),
    Config("amulet", {"alpha": 1.0, **GUARDS}, "amulet a=1(k=0.93) +guards"),
    Config("pad", {"w": 0.5, "no_repeat_ngram": 4}, "pad w=0.5 +ngram"),
    Config("pad", {"w": 2.0, "no_repeat_ngram": 4}, "pad w=2 +ngram"),
    Config("linear", {"r": 4.0, **G7}, "linear r=4 +guards p=0.7"),
    Config("amulet", {"alpha": 2.0, **GUARDS}, "amulet a=2(k=4.65) +guards"),
    Config("linear", {"r": 2.0, **OFF}, "linear r=2 faithful"),
    Config("amulet", {"alpha": 2.0, **OFF}, "amulet a=2(k=4.65) faithful"),
    Config("pad", {"w": 1.0, "no_repeat_ngram": 0}, "pad w=1 faithful"),
    Config("linear", {"r": 1.0, "nucleus": 0.9}, "linear r=1 nucleus only"),
    Config("linear", {"r": 1.0, "no_repeat_ngram": 4}, "linear r=1 ngram only"),
    Config("linear", {"r": 1.0, **GUARDS, "repetition_penalty": 1.2}, "linear r=1 +guards +reppen1.2"),
)
FAITHFUL: tuple[Config, ...] = (
    Config("linear", {"r": 2.0, **OFF}, "linear r=2 faithful"),
    Config("amulet", {"alpha": 2.0, **OFF}, "amulet a=2(k=4.65) faithful"),
)


def select(dev: dict[str, dict[str, Any]], grid: Sequence[Config]) -> dict[str, Any]:
    """The selection rule (module docstring) applied to dev summaries keyed by configuration name."""
    base = dev["base"]
    floor = base["on_topic"][0] - ON_TOPIC_SLACK_DEV
    ceiling = base["repetition"][0]
    chosen: dict[str, str] = {}
    feasible_by: dict[str, list[str]] = {}
    for strategy in GUIDED:
        names = [c.name for c in grid if c.strategy == strategy and c.name in dev]
        if not names:
            continue
        feasible = [n for n in names if dev[n]["on_topic"][0] >= floor and dev[n]["repetition"][0] <= ceiling]
        feasible_by[strategy] = feasible
        if feasible:
            best = max(dev[n]["adherence"][0] for n in feasible)
            chosen[strategy] = next(n for n in feasible if dev[n]["adherence"][0] == best)
        else:
            best_topic = max(dev[n]["on_topic"][0] for n in names)
            chosen[strategy] = next(n for n in names if dev[n]["on_topic"][0] == best_topic)
    candidates = [s for s in chosen if feasible_by.get(s)]
    primary = max(candidates, key=lambda s: dev[chosen[s]]["adherence"][0]) if candidates else None
    return {"chosen": chosen, "feasible": feasible_by, "primary": primary,
            "rule": {"on_topic_floor": floor, "repetition_ceiling": ceiling}}


def target_check(per_seed: dict[str, dict[str, dict[str, Any]]], primary: str | None,
                 chosen: dict[str, str]) -> dict[str, Any]:
    """Issue 11's target at every seed for the dev-chosen primary strategy."""
    if primary is None:
        return {"checked": False, "why": "no guided configuration was feasible on dev"}
    name = chosen[primary]
    seeds = {}
    for seed, table in per_seed.items():
        g, p, b = table[name], table["prompt"], table["base"]
        gain = g["adherence"][0] - p["adherence"][0]
        topic_gap = b["on_topic"][0] - g["on_topic"][0]
        rep_gap = g["repetition"][0] - b["repetition"][0]
        seeds[seed] = {"adherence_gain": gain, "on_topic_gap": topic_gap, "repetition_gap": rep_gap,
                       "met": gain >= TARGET_GAIN and topic_gap <= TARGET_ON_TOPIC and rep_gap <= 0}
    return {"checked": True, "primary": primary, "config": name, "seeds": seeds,
            "met": all(s["met"] for s in seeds.values())}


def load_generator(args: argparse.Namespace) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pad_integrations.generation import GuidedGenerator

    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
    if args.gguf:
        path = Path(args.gguf)
        tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    else:
        model_dir = args.model_dir
        if model_dir is None:
            from pad_integrations import demo

            model_dir = demo.model_path()
        tok = AutoTokenizer.from_pretrained(str(model_dir))
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    model.to(args.device)
    gen = GuidedGenerator(model, tok)
    gen.model_name = "SmolLM2-135M-Instruct"
    if args.reward_model and Path(args.reward_model).exists():
        gen._attach_reward_model(str(args.reward_model))
    return gen


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[tune {time.perf_counter() - started:6.1f}s] {msg}", flush=True)

    gen = load_generator(args)
    log(f"model on {args.device}; PersRM: {'yes' if gen.persrm is not None else 'no (pad skipped)'}")
    decoding = Decoding(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                        batch_size=args.batch_size)
    n_q = 2 if args.smoke else None
    kinds = ("short", "pirate", "vegetarian") if args.smoke else None
    dev_q: list[EvalQuestion] = _questions(DEV, n_q)
    held_q: list[EvalQuestion] = _questions(HELDOUT, n_q)
    dev_cases, held_cases = cases("dev", kinds, n_q), cases("heldout", kinds, n_q)
    seeds = list(range(1 if args.smoke else args.seeds))
    grid = [c for c in GRID if c.strategy != "pad" or gen.persrm is not None]
    if args.smoke:
        grid = [next(c for c in grid if c.strategy == s) for s in GUIDED if any(c.strategy == s for c in grid)]

    dev_answers: list[Answer] = []
    dev: dict[str, dict[str, Any]] = {}
    rates: dict[str, float] = {}  # seconds per generated answer, per strategy (for the budget)

    def run_dev(config: Config) -> None:
        answers, speed = generate_config(gen, config, dev_cases, dev_q, 0, decoding, log)
        dev_answers.extend(answers)
        dev[config.name] = {**summarise(answers, speed), "strategy": config.strategy, "params": config.params}
        d = dev[config.name]
        log(f"  dev {config.name}: adherence {d['adherence'][0]:.3f} on-topic {d['on_topic'][0]:.3f} "
            f"repetition {d['repetition'][0]:.3f} nll {d['nll']:.3f} tok/s {d.get('tokens_per_s', 0):.0f}")
        n = len(dev_q) if config.strategy == "base" else len(dev_cases)
        rates[config.strategy] = (time.perf_counter() - t0) / max(1, n)

    log(f"dev: {len(dev_q)} questions, {len(dev_cases)} cases; held-out: {len(held_q)} questions, "
        f"{len(held_cases)} cases x {len(seeds)} seeds")
    for config in (Config("base"), Config("prompt")):
        t0 = time.perf_counter()
        run_dev(config)
    skipped: list[str] = []
    for config in grid:
        per_case = rates.get(config.strategy, rates["prompt"] * GUIDED_COST)
        heldout_cost = _heldout_cost(rates, len(held_q), len(held_cases), len(seeds), grid)
        needed = per_case * len(dev_cases) + heldout_cost
        if time.perf_counter() - started + needed > args.budget_s and not args.smoke:
            skipped.append(config.name)
            continue
        t0 = time.perf_counter()
        run_dev(config)
    selection = select(dev, grid)
    log(f"selection: {json.dumps(selection['chosen'])}; primary: {selection['primary']}; skipped: {skipped}")
    (out / "dev_summary.json").write_text(json.dumps({"dev": dev, "selection": selection, "skipped": skipped},
                                                     indent=1, default=_json_default))
    (out / "dev_answers.json").write_text(json.dumps(answers_json(dev_answers), default=_json_default))

    by_name = {c.name: c for c in grid}
    held_configs = [Config("base"), Config("prompt"), *(by_name[n] for n in selection["chosen"].values())]
    held_answers: list[Answer] = []
    per_seed: dict[str, dict[str, dict[str, Any]]] = {}
    speeds: dict[str, dict[str, float]] = {}
    for seed in seeds:
        per_seed[str(seed)] = {}
        for config in held_configs:
            answers, speed = generate_config(gen, config, held_cases, held_q, seed, decoding, log)
            held_answers.extend(answers)
            per_seed[str(seed)][config.name] = summarise(answers, speed)
            acc = speeds.setdefault(config.name, {"tokens": 0.0, "seconds": 0.0})
            acc["tokens"] += speed["tokens"]
            acc["seconds"] += speed["seconds"]
            h = per_seed[str(seed)][config.name]
            log(f"  held-out {config.name} seed {seed}: adherence {h['adherence'][0]:.3f} "
                f"on-topic {h['on_topic'][0]:.3f} repetition {h['repetition'][0]:.3f}")
    extras = []
    for config in FAITHFUL:
        if config.name in {c.name for c in held_configs}:
            continue
        cost = rates.get(config.strategy, rates["prompt"] * GUIDED_COST) * len(held_cases) * len(seeds)
        if time.perf_counter() - started + cost > args.budget_s and not args.smoke:
            continue
        for seed in seeds:
            answers, speed = generate_config(gen, config, held_cases, held_q, seed, decoding, log)
            held_answers.extend(answers)
            per_seed[str(seed)][config.name] = summarise(answers, speed)
            acc = speeds.setdefault(config.name, {"tokens": 0.0, "seconds": 0.0})
            acc["tokens"] += speed["tokens"]
            acc["seconds"] += speed["seconds"]
        extras.append(config.name)
    pooled = {}
    for name in per_seed[str(seeds[0])]:
        pooled[name] = summarise([a for a in held_answers if a.config == name], speeds.get(name))
    summary = {
        "settings": {
            "model": gen.model_name, "device": args.device, "smoke": args.smoke, "seeds": seeds,
            "max_new_tokens": decoding.max_new_tokens, "temperature": decoding.temperature,
            "batch_size": decoding.batch_size, "dev_questions": len(dev_q), "heldout_questions": len(held_q),
            "dev_cases": len(dev_cases), "heldout_cases": len(held_cases), "budget_s": args.budget_s,
            "persrm": gen.persrm is not None, "elapsed_s": time.perf_counter() - started,
        },
        "grid": [{"name": c.name, "strategy": c.strategy, "params": c.params} for c in grid],
        "skipped": skipped,
        "dev": dev,
        "selection": selection,
        "heldout": {"per_seed": per_seed, "pooled": pooled, "faithful_extras": extras},
        "target": target_check(per_seed, selection["primary"], selection["chosen"]),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=_json_default))
    (out / "dev_answers.json").write_text(json.dumps(answers_json(dev_answers), default=_json_default))
    (out / "heldout_answers.json").write_text(json.dumps(answers_json(held_answers), default=_json_default))
    (out / "dev_summary.json").unlink(missing_ok=True)  # only a checkpoint; summary.json holds it (files back: <= 8)
    log(f"done; target: {json.dumps(summary['target'], default=_json_default)}")
    return summary


def _heldout_cost(rates: dict[str, float], n_q: int, n_cases: int, n_seeds: int, grid: Sequence[Config]) -> float:
    guided = {c.strategy for c in grid}
    per_seed = rates.get("base", 0.0) * n_q + rates.get("prompt", 0.0) * n_cases
    per_seed += sum(rates.get(s, rates.get("prompt", 0.0) * GUIDED_COST) * n_cases for s in guided)
    return per_seed * n_seeds


def _questions(split: Sequence[EvalQuestion], n: int | None) -> list[EvalQuestion]:
    if n is None:
        return list(split)
    return [q for q in split if not q.food][:n] + [q for q in split if q.food][:n]


def _json_default(x: Any) -> Any:
    if isinstance(x, float) and x != x:
        return None
    return str(x)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pad_integrations.evaluation.tune", description=__doc__.split("\n")[0])
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--model-dir", default=None, help="converted model directory (default: demo.model_path())")
    src.add_argument("--gguf", default=None, help="the SmolLM2 GGUF file, loaded directly")
    parser.add_argument("--reward-model", default=None, help="PersRM directory for 'pad' (skipped when missing)")
    parser.add_argument("--out", required=True, help="output directory for the JSON files")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--batch-size", type=int, default=1024, help="requests per generate_batch call")
    parser.add_argument("--budget-s", type=float, default=330.0,
                        help="dev configurations that would make the whole run exceed this are skipped (listed)")
    parser.add_argument("--smoke", action="store_true", help="toy size end to end (CPU proof of the pipeline)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.max_new_tokens = min(args.max_new_tokens, 6)
        args.batch_size = min(args.batch_size, 64)
    summary = run(args)
    print(json.dumps(summary["target"], indent=1, default=_json_default))
    return 0


if __name__ == "__main__":
    sys.exit(main())
