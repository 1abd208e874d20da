"""Rebuild the bundled demo model: tokenizer, base chat model and its PersRM, seeded, on CPU.

    python -m pad_integrations.training.demo_recipe --out pad_integrations/demo

Steps: generate the synthetic corpus (``synthetic_chat``), train a byte-level BPE with the ChatML
template of ``tiny_models``, train a small Qwen2 chat model on it, then train its PersRM with
``train_persrm`` on synthetic preference pairs. Weights are stored as float16 (the config says
float32, so ``from_pretrained`` loads them as float32) to keep the package small.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from pad_integrations.testing.tiny_models import train_tokenizer
from pad_integrations.training.data import encode_turn
from pad_integrations.training.loop import LoopConfig
from pad_integrations.training.persrm import PersRMTrainingConfig, train_persrm
from pad_integrations.training.sft import train_sft
from pad_integrations.training.synthetic_chat import ChatExample, preference_pairs, sft_examples


@dataclass(frozen=True)
class DemoRecipe:
    """Everything that determines the demo model."""

    seed: int = 0
    vocab_size: int = 1200
    hidden_size: int = 160
    num_layers: int = 4
    num_heads: int = 5
    num_kv_heads: int = 1
    intermediate_size: int = 448
    max_position_embeddings: int = 2048
    n_sft_examples: int = 16000
    sft_steps: int = 1000
    sft_batch_size: int = 16
    sft_lr: float = 3e-3
    follow_rate: float = 0.5
    n_pairs: int = 2000
    dpo_steps: int = 400
    dpo_batch_size: int = 8
    dpo_lr: float = 5e-4
    dpo_beta: float = 0.2
    dpo_sft_weight: float = 1.0
    head_steps: int = 100
    head_lr: float = 1e-3


def response_text(tokenizer, example: ChatExample) -> str:
    """The last assistant turn exactly as the chat template renders it after the generation prompt."""
    prefix = tokenizer.apply_chat_template(example.messages[:-1], tools=example.tools, tokenize=False,
                                           add_generation_prompt=True)
    full = tokenizer.apply_chat_template(example.messages, tools=example.tools, tokenize=False)
    if not full.startswith(prefix):
        raise ValueError("the chat template does not render the prompt as a prefix of the conversation")
    end = f"{tokenizer.eos_token}\n"
    body = full[len(prefix):]
    return body[: -len(end)] if body.endswith(end) else body


def build_tokenizer(examples: Sequence[ChatExample], vocab_size: int):
    """A BPE trained on fully rendered conversations, so template boilerplate becomes few tokens."""
    contents = [m["content"] for ex in examples[:2000] for m in ex.messages if m.get("content")]
    draft = train_tokenizer(contents, vocab_size=300, template="chatml")
    rendered = [draft.apply_chat_template(ex.messages, tools=ex.tools, tokenize=False) for ex in examples]
    return train_tokenizer(rendered, vocab_size=vocab_size, template="chatml")


def build_base_model(recipe: DemoRecipe, tokenizer):
    from transformers import AutoModelForCausalLM, Qwen2Config

    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=recipe.hidden_size, intermediate_size=recipe.intermediate_size,
        num_hidden_layers=recipe.num_layers, num_attention_heads=recipe.num_heads,
        num_key_value_heads=recipe.num_kv_heads, max_position_embeddings=recipe.max_position_embeddings,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(recipe.seed)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_compact(model, directory: Path) -> None:
    """Save float16 weights but declare float32, so a plain from_pretrained computes in float32."""
    model.to(torch.float16).save_pretrained(directory)
    model.to(torch.float32)
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text())
    config["dtype"] = "float32"
    config_path.write_text(json.dumps(config, indent=2) + "\n")


def build(recipe: DemoRecipe, out: Path, workdir: Path, *, progress: bool = True,
          reuse_base: bool = False) -> dict[str, float]:
    """Run the whole recipe; return wall times per phase (seconds).

    ``reuse_base`` keeps an existing ``out/base`` and retrains only the PersRM (for tuning it).
    """
    from pad_integrations.generation.contexts import ChatFormatter

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    examples = sft_examples(recipe.n_sft_examples, recipe.seed, follow_rate=recipe.follow_rate)
    pairs = preference_pairs(recipe.n_pairs, recipe.seed + 1)
    base_dir = out / "base"
    history: list[dict[str, float]] = []
    if not (reuse_base and (base_dir / "config.json").is_file()):
        tokenizer = build_tokenizer(examples, recipe.vocab_size)
        formatter = ChatFormatter(tokenizer)
        encoded = [encode_turn(formatter, ex.messages[:-1], response_text(tokenizer, ex), tools=ex.tools)
                   for ex in examples]
        timings["corpus_and_tokenizer"] = time.perf_counter() - t0

        t1 = time.perf_counter()
        model = build_base_model(recipe, tokenizer)
        history = train_sft(model, encoded, tokenizer.pad_token_id,
                            LoopConfig(steps=recipe.sft_steps, batch_size=recipe.sft_batch_size, lr=recipe.sft_lr,
                                       seed=recipe.seed, warmup_ratio=0.03, weight_decay=0.01),
                            progress=progress)
        if base_dir.exists():
            shutil.rmtree(base_dir)
        save_compact(model, base_dir)
        tokenizer.save_pretrained(base_dir)
        timings["base_model"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    rm_dir = out / "persrm"
    if rm_dir.exists():
        shutil.rmtree(rm_dir)
    result = train_persrm(
        pairs, base_dir, rm_dir,
        PersRMTrainingConfig(beta=recipe.dpo_beta, lr=recipe.dpo_lr, stage1_steps=recipe.dpo_steps,
                             stage2_steps=recipe.head_steps, stage2_lr=recipe.head_lr,
                             batch_size=recipe.dpo_batch_size, seed=recipe.seed,
                             sft_weight=recipe.dpo_sft_weight),
        progress=progress, plot_path=workdir / "persrm_loss.png", checkpoint_dir=workdir / "checkpoints")
    from transformers import AutoModelForCausalLM

    save_compact(AutoModelForCausalLM.from_pretrained(rm_dir), rm_dir)
    (rm_dir / "training_args.json").replace(workdir / "persrm_training_args.json")
    timings["persrm"] = time.perf_counter() - t2

    summary: dict[str, object] = {"recipe": asdict(recipe), "timings_s": timings, **result.metrics}
    if history:
        from pad_integrations.training.plot import save_loss_curve

        save_loss_curve({"sft": history}, workdir / "base_loss.png", title="demo base model (next-token NLL)")
        tail = history[-50:]
        summary["sft_final_loss"] = sum(h["loss"] for h in tail) / len(tail)
    (workdir / "demo_build.json").write_text(json.dumps(summary, indent=2) + "\n")
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "demo",
                        help="package directory receiving base/ and persrm/ (default: pad_integrations/demo)")
    parser.add_argument("--workdir", type=Path, default=Path("build/demo"),
                        help="loss curves, build summary and checkpoints (not shipped)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest on a small machine that others share)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--reuse-base", action="store_true",
                        help="keep an existing OUT/base and retrain only the PersRM")
    for name, value in asdict(DemoRecipe()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipe = DemoRecipe(**{k: getattr(args, k) for k in asdict(DemoRecipe())})
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    timings = build(recipe, args.out, args.workdir, progress=not args.quiet, reuse_base=args.reuse_base)
    total = time.perf_counter() - start
    print(json.dumps({**{k: round(v, 1) for k, v in timings.items()}, "total_s": round(total, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
