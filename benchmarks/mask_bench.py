"""Constrained-decoding benchmark (not a test): what the constraint costs per generated token on the real
default model's vocabulary (SmolLM2-135M-Instruct, 49,152 tokens), before and after llguidance.

    python benchmarks/mask_bench.py                 # the default model (pad_integrations.demo.model_path())
    python benchmarks/mask_bench.py --model DIR --steps 48 --threads 1

"Before" is the hand-written character-level grammar with lazy masking that llguidance replaced, read
from git (commit OLD_COMMIT) into a temporary module, so both run in one process on the same scores.
Only the constraint's own work is timed (choosing the token and recording it), never the model's
forward. Three score sources, the same for both:

- ``model``: the real model's next-token logits on a prompt asking for the JSON (greedy);
- ``random, greedy``: scores unrelated to the grammar (an unguided strategy's worst case for lazy
  masking, which tests candidates in score order);
- ``random, sampled``: the same, sampling at temperature 1 (the old code sampled within the 64 best
  scores, an approximation; the new mask is exact).

Prints one row per source: ms per token before and after, tokens produced, and whether the output is
valid under the schema.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

OLD_COMMIT = "3462dfdbd695ecafb8d4a09ab254b02f49092584"  # last commit with the hand-written grammar
ROOT = Path(__file__).resolve().parents[1]

SCHEMA: dict[str, Any] = {  # nested, with an enum, an optional field and an array: what both versions support
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 24},
        "kind": {"enum": ["friend", "colleague"]},
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "zip": {"type": ["string", "null"]}, "city": {"type": "string"}},
            "required": ["street", "city"],
        },
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "age": {"type": "integer"},
    },
    "required": ["name", "kind", "address", "tags", "age"],
}
PROMPT = "Describe a friend of yours as JSON with name, kind, address (street, city), tags and age."


def load_old() -> ModuleType:
    """The old constraints + token_constraint modules from git, importable side by side with the new."""
    out = Path(tempfile.mkdtemp(prefix="mask-bench-"))
    for name in ("constraints", "token_constraint"):
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:pad_integrations/generation/{name}.py"],
            check=True, capture_output=True, text=True,
        ).stdout
        text = text.replace("pad_integrations.generation.constraints", "old_constraints")
        (out / f"old_{name}.py").write_text(text)
    sys.path.insert(0, str(out))
    for name in ("old_constraints", "old_token_constraint"):
        spec = importlib.util.spec_from_file_location(name, out / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules["old_token_constraint"]


def run(
    make: Callable[[], Any], next_scores: Callable[[list[int]], torch.Tensor], steps: int, eos: frozenset[int],
    sample: bool,
) -> tuple[list[float], list[int]]:
    """Decode up to ``steps`` tokens; per-token seconds spent in the constraint, and the tokens."""
    tc = make()
    rng = torch.Generator().manual_seed(0)

    def draw(masked: torch.Tensor) -> int:
        return int(torch.multinomial(torch.softmax(masked, -1), 1, generator=rng)[0])

    times: list[float] = []
    tokens: list[int] = []
    for _ in range(steps):
        scores = next_scores(tokens)
        start = time.perf_counter()
        token = tc.choose_sampled(scores, draw) if sample else tc.choose_greedy(scores)
        closed = token in eos or tc.accept(token)
        times.append(time.perf_counter() - start)
        if token in eos:
            break
        tokens.append(token)
        if closed:
            break
    return times, tokens


def model_scores(model: Any, prompt_ids: list[int]) -> Callable[[list[int]], torch.Tensor]:
    """The model's next-token logits after the prompt and the tokens so far (recomputed: not timed)."""
    cache: dict[tuple[int, ...], torch.Tensor] = {}

    def scores(tokens: list[int]) -> torch.Tensor:
        key = tuple(tokens)
        if key not in cache:
            with torch.no_grad():
                ids = torch.tensor([prompt_ids + tokens])
                cache[key] = model(ids).logits[0, -1].float()
        return cache[key]

    return scores


def random_scores(vocab: int) -> Callable[[list[int]], torch.Tensor]:
    rng = torch.Generator().manual_seed(1)
    return lambda tokens: torch.randn(vocab, generator=rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model directory (default: the default model)")
    parser.add_argument("--steps", type=int, default=48, help="tokens per run (default 48)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pad_integrations.generation.constraints import JSONSchemaConstraint
    from pad_integrations.generation.token_constraint import TokenConstraint

    path = args.model
    if path is None:
        from pad_integrations import demo

        path = demo.model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    eos = frozenset({tokenizer.eos_token_id})
    vocab = model.config.vocab_size
    old = load_old()
    old_schema = sys.modules["old_constraints"].JSONSchemaConstraint(SCHEMA)
    new_schema = JSONSchemaConstraint(SCHEMA)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPT}], add_generation_prompt=True, tokenize=True, return_dict=True
    )
    prompt_ids = list(prompt["input_ids"])
    # Build each side's per-tokenizer tables once before timing (both cache them per tokenizer).
    TokenConstraint(new_schema, tokenizer, eos)
    old.TokenConstraint(old_schema, tokenizer, eos).choose_greedy(torch.zeros(vocab))

    print(f"model {Path(path).name}, vocabulary {vocab}, torch threads {args.threads}, up to {args.steps} tokens")
    print(f"{'scores':<18} {'before ms/token':>16} {'after ms/token':>15} {'tokens b/a':>11}  valid b/a")
    for label, source, sample in (
        ("model, greedy", lambda: model_scores(model, prompt_ids), False),
        ("random, greedy", lambda: random_scores(vocab), False),
        ("random, sampled", lambda: random_scores(vocab), True),
    ):
        row = []
        for make in (
            lambda: old.TokenConstraint(old_schema, tokenizer, eos),
            lambda: TokenConstraint(new_schema, tokenizer, eos),
        ):
            times, tokens = run(make, source(), args.steps, eos, sample)
            text = tokenizer.decode(tokens, skip_special_tokens=True)
            try:
                json.loads(text)
                valid = "whole"
            except json.JSONDecodeError:
                valid = "prefix"  # stopped at --steps: a valid prefix, not yet whole
            row.append((statistics.mean(times) * 1000, len(tokens), valid, text))
        (b_ms, b_n, b_v, b_text), (a_ms, a_n, a_v, a_text) = row
        print(f"{label:<18} {b_ms:>16.2f} {a_ms:>15.2f} {f'{b_n}/{a_n}':>11}  {b_v}/{a_v}")
        if label == "model, greedy":
            print(f"    before: {b_text[:100]!r}\n    after:  {a_text[:100]!r}")


if __name__ == "__main__":
    main()
