"""Training a PersRM (PAD's personalized reward model) for your own model, then decoding with it.

    .venv/bin/python examples/train_persrm.py     # [--base DIR] [--steps 24]

1. "Your model": any local causal LM with a chat template (``--base``); by default a tiny one is built
   on the spot so this runs offline in seconds (its words are noise; every step is the real one).
2. A small JSONL of preference pairs is written: one ``{prompt, preference, chosen, rejected}`` per
   line, here "short answers" pairs generated from templates. Bring your own file in this format.
3. ``train_persrm`` runs PAD's two stages (DPO on preference-conditioned inputs, then the d×d head)
   and saves an ordinary HF directory plus ``value_head.safetensors``. The same in the shell:
   ``pad train-persrm pairs.jsonl --base DIR --out DIR``.
4. The base model decodes with ``strategy="pad"`` guided by the new PersRM.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from transformers.utils import logging as hf_logging

from pad_integrations.generation import GuidedGenerator
from pad_integrations.testing.tiny_models import build_tiny_model
from pad_integrations.training.data import load_pairs
from pad_integrations.training.persrm import PersRMTrainingConfig, train_persrm

hf_logging.disable_progress_bar()

PREFERENCE = "Keep answers short and to the point."
TOPICS = ["the weather", "python code", "vegetarian food", "a formal letter", "the cat", "simple words"]
ASKS = ["Tell me about {}.", "What do you think of {}?", "Explain {} to me.", "Can you describe {}?"]


def write_pairs(path: Path) -> int:
    """Preference pairs for "short answers": the chosen reply is one sentence, the rejected one rambles."""
    lines = []
    for topic, ask in itertools.product(TOPICS, ASKS):
        short = f"{topic.capitalize()} is simple."
        long = (f"Well, {topic} is a long story. Let me explain {topic} in detail, from the beginning, "
                f"with every step, every example and every exception, because {topic} deserves it.")
        lines.append(json.dumps({"prompt": ask.format(topic), "preference": PREFERENCE,
                                 "chosen": short, "rejected": long}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help="your model's directory (default: a tiny model built here)")
    parser.add_argument("--steps", type=int, default=24, help="training steps per stage")
    parser.add_argument("--out", type=Path, help="where to save the PersRM (default: a temporary directory)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pad-train-") as tmp:
        workdir = Path(tmp)
        base = args.base or str(build_tiny_model(workdir / "my-model"))
        if not args.base:
            print(f"Your model: a tiny model built locally at {base} (its words are noise)")
        data = workdir / "pairs.jsonl"
        print(f"Wrote {write_pairs(data)} preference pairs to {data}")

        out = args.out or workdir / "my-persrm"
        config = PersRMTrainingConfig(stage1_steps=args.steps, stage2_steps=args.steps, batch_size=4,
                                      lr=1e-3, max_length=128)
        result = train_persrm(load_pairs(data), base, out, config, progress=False)
        print(f"PersRM saved to {result.output_dir}: "
              + ", ".join(f"{k} {v:.3f}" for k, v in sorted(result.metrics.items())))
        print(f"  files: {', '.join(sorted(p.name for p in Path(out).iterdir()))}")

        generator = GuidedGenerator.from_pretrained(base, reward_model=out)
        question = [{"role": "user", "content": "Tell me about the weather."}]
        plain = generator.generate(question, strategy="base", max_new_tokens=24)
        guided = generator.generate(question, preference=PREFERENCE, strategy="pad", max_new_tokens=24)
        print(f"\nQ: {question[0]['content']}")
        print(f"  base model:                {plain.text!r}")
        print(f"  guided by the new PersRM:  {guided.text!r}")
        print(f"  tokens moved by guidance:  {guided.trace.moved_tokens}/{len(guided.trace.tokens)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
