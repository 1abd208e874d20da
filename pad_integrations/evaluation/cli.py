"""``pad eval``: preference adherence, fluency, on-topic rate, repetition and speed of every strategy.

Runs on the real default model (SmolLM2-135M-Instruct) and its PersRM adapter by default, over the
held-out split of ``evaluation/eval_set.py``, 3 seeds, every strategy at its current defaults. On a CPU
the full split takes long (about 7,000 answers): ``--n-questions`` and ``--kinds`` make it smaller.
``--from-json summary.json`` prints (and plots) the report of a ``python -m pad_integrations.evaluation.tune``
run (the dev-split choice of defaults and their held-out figures; docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pad_integrations.errors import PADError

HELP = "measure preference adherence, fluency, on-topic rate and repetition of the strategies on held-out prompts"
STRATEGIES = ("base", "prompt", "linear", "amulet", "pad")


def _param(text: str) -> tuple[str, str, Any]:
    """``strategy.name=value`` with value parsed as JSON when it can be (numbers, null, true)."""
    try:
        key, raw = text.split("=", 1)
        strategy, name = key.split(".", 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected STRATEGY.PARAM=VALUE, got {text!r}") from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return strategy, name, value


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="base model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--reward-model", default=None,
                        help="PersRM for 'pad' (default: the shipped adapter with the default model; pad is "
                             "skipped when there is none)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated strategies")
    parser.add_argument("--split", choices=("heldout", "dev"), default="heldout")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-questions", type=int, default=None,
                        help="first N general and first N food questions of the split (default: all)")
    parser.add_argument("--kinds", default=None, help="comma-separated preference kinds (default: all)")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--param", type=_param, action="append", default=[], metavar="STRATEGY.PARAM=VALUE",
                        help="a strategy parameter, e.g. linear.r=2 or amulet.nucleus=null (repeatable)")
    parser.add_argument("--batch-size", type=int, default=64, help="requests decoded together")
    parser.add_argument("--from-json", type=Path, default=None, metavar="SUMMARY",
                        help="report a tune run's summary.json instead of running")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG of adherence against fluency here")
    parser.add_argument("--show", type=int, default=0, metavar="N", help="print N sample answers per strategy")


def run_eval(args: argparse.Namespace) -> int:
    from pad_integrations.evaluation import report

    try:
        summary = _load_or_run(args)
    except (ValueError, TypeError, FileNotFoundError, PADError) as exc:
        print(f"pad eval: error: {exc}", file=sys.stderr)
        return 2
    if args.plot is not None:
        report.save_plot(summary, args.plot)
    if args.json:
        print(json.dumps({k: v for k, v in summary.items() if k != "answers"}, indent=1, default=str))
        return 0
    if "selection" in summary:
        print(report.format_summary(summary))
    else:
        print(report.format_table(summary["heldout"]["pooled"], f"{summary['settings']['split']} split, seeds pooled"))
        print("\nadherence per preference kind (%):\n" + report.format_kinds(summary["heldout"]["pooled"]))
        for name, check in summary["target"].items():
            print(f"\n{name}: " + report.format_target(check))
    for name in summary.get("heldout", {}).get("pooled", {}) if args.show else []:
        shown = [a for a in summary.get("answers", []) if a["config"] == name][: args.show]
        for a in shown:
            print(f"\n[{name} | {a['kind']}] {a['question']}\n  {a['text']!r}")
    return 0


def _load_or_run(args: argparse.Namespace) -> dict[str, Any]:
    if args.from_json is not None:
        return json.loads(Path(args.from_json).read_text())
    from pad_integrations.evaluation.eval_set import SPLITS, cases
    from pad_integrations.evaluation.judges import KINDS
    from pad_integrations.evaluation.realeval import Config, Decoding, generate_config, summarise
    from pad_integrations.evaluation.tune import target_check
    from pad_integrations.generation import GuidedGenerator

    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = set(strategies) - set(STRATEGIES)
    if unknown:
        raise ValueError(f"unknown strategies {sorted(unknown)}; choose from {', '.join(STRATEGIES)}")
    kinds = tuple(k.strip() for k in args.kinds.split(",")) if args.kinds else None
    if kinds and set(kinds) - set(KINDS):
        raise ValueError(f"unknown kinds {sorted(set(kinds) - set(KINDS))}; choose from {', '.join(KINDS)}")
    if args.seeds < 1 or (args.n_questions is not None and args.n_questions < 1):
        raise ValueError("--seeds and --n-questions must be at least 1")
    params: dict[str, dict[str, Any]] = {}
    for strategy, name, value in args.param:
        if strategy not in strategies:
            raise ValueError(f"--param for {strategy!r}, which is not evaluated")
        params.setdefault(strategy, {})[name] = value
    model, reward_model = args.model, args.reward_model
    if model is None:
        from pad_integrations import demo

        model = demo.model_path()
        if reward_model is None and "pad" in strategies:
            try:
                reward_model = demo.reward_model_path()
            except (FileNotFoundError, PADError):
                reward_model = None
    if "pad" in strategies and reward_model is None:
        print("pad eval: no PersRM (--reward-model): 'pad' is skipped", file=sys.stderr)
        strategies.remove("pad")
    gen = GuidedGenerator.from_pretrained(model, reward_model=reward_model, device=args.device)
    questions = list(SPLITS[args.split])
    if args.n_questions is not None:
        questions = ([q for q in questions if not q.food][: args.n_questions]
                     + [q for q in questions if q.food][: args.n_questions])
    split_cases = cases(args.split, kinds, args.n_questions)
    decoding = Decoding(max_new_tokens=args.max_new_tokens, temperature=args.temperature, batch_size=args.batch_size)
    configs = [Config(s, params.get(s, {})) for s in strategies]
    answers_all: list[Any] = []
    per_seed: dict[str, dict[str, Any]] = {}
    speeds: dict[str, dict[str, float]] = {}
    for seed in range(args.seeds):
        per_seed[str(seed)] = {}
        for config in configs:
            answers, speed = generate_config(gen, config, split_cases, questions, seed, decoding,
                                             log=lambda m: print(m, file=sys.stderr))
            answers_all += answers
            per_seed[str(seed)][config.name] = summarise(answers, speed)
            acc = speeds.setdefault(config.name, {"tokens": 0.0, "seconds": 0.0})
            acc["tokens"] += speed["tokens"]
            acc["seconds"] += speed["seconds"]
    pooled = {c.name: summarise([a for a in answers_all if a.config == c.name], speeds[c.name]) for c in configs}
    guided = [c.name for c in configs if c.strategy in ("linear", "amulet", "pad")]
    targets = ({g: target_check(per_seed, g, {g: g}) for g in guided}
               if {"base", "prompt"} <= set(strategies) else {})
    from dataclasses import asdict

    return {
        "settings": {"model": str(model), "reward_model": str(reward_model), "split": args.split,
                     "seeds": list(range(args.seeds)), "questions": len(questions), "cases": len(split_cases),
                     "max_new_tokens": args.max_new_tokens, "temperature": args.temperature, "device": args.device,
                     "strategy_params": {c.name: {**_defaults(c.strategy), **c.params} for c in configs}},
        "dev": {},
        "heldout": {"per_seed": per_seed, "pooled": pooled},
        "target": targets,
        "answers": [asdict(a) for a in answers_all],
    }


def _defaults(strategy: str) -> dict[str, Any]:
    from pad_integrations.generation.strategies import STRATEGIES as REGISTRY

    return dict(REGISTRY[strategy].defaults)
