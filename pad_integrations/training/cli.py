"""``pad train-persrm``: train a PersRM from a JSONL file of preference pairs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pad_integrations.errors import PADError

HELP = "train a personalized reward model (PAD stage 1 DPO + stage 2 head) from preference pairs"


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from pad_integrations.training.persrm import PersRMTrainingConfig

    d = PersRMTrainingConfig()
    parser.add_argument("data", type=Path, help="JSONL: one {prompt, preference, chosen, rejected} per line")
    parser.add_argument("--base", required=True, help="base causal LM (directory or hub id); the policy starts here")
    parser.add_argument("--out", type=Path, required=True, help="output PersRM directory")
    parser.add_argument("--reference", default=None, help="frozen DPO reference (default: the base model)")
    parser.add_argument("--beta", type=float, default=d.beta, help="DPO temperature β")
    parser.add_argument("--lr", type=float, default=d.lr, help="stage-1 learning rate")
    parser.add_argument("--stage1-steps", type=int, default=None, help="stage-1 steps (default: one epoch)")
    parser.add_argument("--stage2-steps", type=int, default=None,
                        help="stage-2 (head-only) steps (default: one epoch; 0 skips stage 2)")
    parser.add_argument("--stage2-lr", type=float, default=d.stage2_lr, help="stage-2 learning rate")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="pairs per step")
    parser.add_argument("--max-length", type=int, default=d.max_length, help="max tokens of prompt + response")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--reference-without-preference", action="store_true",
                        help="the reference reads the prompt without the preference (default: with it)")
    parser.add_argument("--lora-rank", type=int, default=0, help="train a LoRA adapter of this rank (needs peft): OUT is then an adapter + head "
                        "that loads over the base model already in memory")
    parser.add_argument("--lora-alpha", type=int, default=d.lora_alpha)
    parser.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every,
                        help="steps between checkpoints (0: only at the end of each stage)")
    parser.add_argument("--checkpoint-dir", type=Path, default=None, help="default: OUT/checkpoints")
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    parser.add_argument("--keep-checkpoints", action="store_true", help="keep checkpoints after success")
    parser.add_argument("--plot", type=Path, default=None, help="loss-curve PNG (default: OUT/loss_curve.png)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run_train(args: argparse.Namespace) -> int:
    from pad_integrations.training.data import PreferenceDataError, load_pairs
    from pad_integrations.training.persrm import PersRMTrainingConfig, train_persrm

    try:
        pairs = load_pairs(args.data)
        config = PersRMTrainingConfig(
            beta=args.beta, lr=args.lr, stage1_steps=args.stage1_steps, stage2_steps=args.stage2_steps,
            stage2_lr=args.stage2_lr, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed,
            reference_sees_preference=not args.reference_without_preference, lora_rank=args.lora_rank,
            lora_alpha=args.lora_alpha, checkpoint_every=args.checkpoint_every)
        result = train_persrm(
            pairs, args.base, args.out, config, reference_model=args.reference, resume=args.resume,
            progress=not args.no_progress, plot_path=args.plot or "default", checkpoint_dir=args.checkpoint_dir,
            keep_checkpoints=args.keep_checkpoints)
    except (PreferenceDataError, FileNotFoundError, ValueError, PADError) as exc:
        print(f"pad train-persrm: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"output_dir": str(result.output_dir), **result.metrics}, indent=2))
    return 0
