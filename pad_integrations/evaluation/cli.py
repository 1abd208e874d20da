"""``pad eval``: preference adherence of base / prompt / linear / amulet / pad on held-out prompts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pad_integrations.errors import PADError

HELP = "measure preference adherence and fluency of the decoding strategies on held-out prompts"


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
    from pad_integrations.evaluation.adherence import STRATEGIES

    parser.add_argument("--model", default=None, help="base model directory or hub id (default: the demo model)")
    parser.add_argument("--reward-model", default=None,
                        help="PersRM for 'pad' (default: the demo PersRM when --model is the demo model)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated strategies")
    parser.add_argument("--n-prompts", type=int, default=12, help="held-out prompts per preference")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--greedy", action="store_true",
                        help="greedy decoding (default: seeded sampling, so adherence is a rate of the model's "
                             "answers rather than one mode per prompt)")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--param", type=_param, action="append", default=[], metavar="STRATEGY.PARAM=VALUE",
                        help="a strategy parameter, e.g. pad.w=1.5 or linear.r=3 (repeatable)")
    parser.add_argument("--batch-size", type=int, default=16, help="requests decoded together")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG bar chart here")
    parser.add_argument("--show", type=int, default=0, metavar="N", help="print one sample response for each of the first N preferences, per strategy")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")


def run_eval(args: argparse.Namespace) -> int:
    from pad_integrations.evaluation.adherence import evaluate, format_table, save_plot
    from pad_integrations.generation import GuidedGenerator
    from pad_integrations.training.synthetic_chat import eval_cases

    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    params: dict[str, dict[str, Any]] = {}
    for strategy, name, value in args.param:
        params.setdefault(strategy, {})[name] = value
    try:
        model, reward_model = args.model, args.reward_model
        if model is None:
            from pad_integrations import demo

            model = demo.model_path()
            reward_model = reward_model or demo.reward_model_path()
        if "pad" in strategies and reward_model is None:
            raise ValueError("strategy 'pad' needs --reward-model (a PersRM directory)")
        if args.n_prompts < 1:
            raise ValueError("--n-prompts must be at least 1")
        generator = GuidedGenerator.from_pretrained(model, reward_model=reward_model)
        report = evaluate(generator, eval_cases(args.n_prompts, seed=args.seed), strategies,
                          max_new_tokens=args.max_new_tokens, do_sample=not args.greedy,
                          temperature=args.temperature, seed=args.seed, strategy_params=params,
                          batch_size=args.batch_size, progress=args.progress)
    except (ValueError, TypeError, FileNotFoundError, PADError) as exc:
        print(f"pad eval: error: {exc}", file=sys.stderr)
        return 2
    report.settings.update({"model": str(model), "reward_model": str(reward_model)})
    if args.plot is not None:
        save_plot(report, args.plot)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(format_table(report))
        shown = report.preferences[: args.show]
        for name in report.strategies:
            for pref in shown:
                sample = next(s for s in report.samples if s.strategy == name
                              and f"{s.case.kind}:{s.case.value}" == pref)
                print(f"\n[{name} | {pref}] {sample.text!r}")
    return 0
