"""Build the bundled PersRM from the real default model, from the model's own answers.

    python3 -m pad_integrations.training.real_recipe --out DIR [--model-dir D | --gguf F] [--device cuda]
    python3 -m pad_integrations.training.real_recipe --out DIR --smoke      # the whole pipeline, tiny, on CPU

Steps (docs/training.md):

1. **Cases.** Every training question (``training/real_prompts.py``, disjoint from the evaluation set) is
   paired with a few preference wordings (seeded; ``vegetarian`` only with food questions).
2. **Samples from the model itself.** For each case the base model samples several answers, half with
   the preference in its context (the engine's own ``ChatFormatter``), half without, so the samples
   range from following the preference to ignoring it.
3. **Ranking by the deterministic judges** (``evaluation.judges.score``, pure Python). Among the
   well-formed samples (ended with the end-of-turn token, little repetition), chosen = the best-scored,
   rejected = the worst-scored; cases whose best and worst differ by less than ``--min-gap`` give no pair.
4. **Split by question**: a seeded share of the questions is held out; their pairs only measure the
   reward accuracy of the result.
5. **Training** (``train_persrm``): DPO on a LoRA adapter (stage 1), then PAD's d×d head (stage 2).
6. **Output** (at most four files): ``adapter_config.json``, ``adapter_model.safetensors`` (float16),
   ``value_head.safetensors`` and ``report.json`` (settings, timings, metrics, every sample with its
   scores, every pair). The adapter loads over the base model already in memory
   (``GuidedGenerator.from_pretrained(model, reward_model=DIR)``).

Imports only torch, transformers, peft and this package's training/generation/evaluation modules, so it
runs on a bare GPU machine.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the same model in full precision; recorded in the adapter


@dataclass(frozen=True)
class RecipeConfig:
    """Every setting of one build; ``smoke()`` shrinks it to a CPU-sized run of the same pipeline."""

    prefs_per_question: int = 12
    samples_per_case: int = 8
    max_new_tokens: int = 128
    temperature: float = 0.9
    top_p: float = 0.95
    generation_batch: int = 512
    max_repetition: float = 0.3  # share of repeated word 3-grams above which a sample is not well formed
    require_finished: bool = True  # a well-formed sample ends with the end-of-turn token
    # When False, a sample cut by max_new_tokens is still used, trimmed to its last complete sentence or
    # line (``trim_unfinished``; a model that writes no sentences, such as a test's tiny one, keeps it whole).
    trim_unfinished: bool = True
    max_train_eval_pairs: int = 256  # training pairs whose reward accuracy is re-measured at the end
    min_gap: float = 0.25  # judge score gap below which a case gives no pair
    heldout_share: float = 0.15
    lora_rank: int = 8
    lora_alpha: int = 16
    beta: float = 0.1
    lr: float = 5e-4
    epochs: float = 3.0
    stage2_epochs: float = 1.0
    stage2_lr: float = 1e-3
    head_dropout: float = 0.0  # dropout on the final hidden state blurs the small DPO margins stage 2 fits
    sft_weight: float = 0.5
    batch_size: int = 16
    max_length: int = 384
    max_questions: int | None = None
    seed: int = 0

    def smoke(self) -> RecipeConfig:
        return replace(self, prefs_per_question=3, samples_per_case=4, max_new_tokens=32, generation_batch=48,
                       max_questions=4, batch_size=4, epochs=1.0, stage2_epochs=0.5, heldout_share=0.34,
                       min_gap=0.01, require_finished=False, max_length=192)


@dataclass(frozen=True)
class Case:
    question: str
    kind: str
    preference: str


@dataclass
class Sample:
    text: str
    prompted: bool  # sampled with the preference in the context
    finished: bool  # ended with an end-of-turn token
    n_tokens: int
    repetition: float = 0.0
    score: float = 0.0


# -- steps ------------------------------------------------------------------------------------------------
def make_cases(config: RecipeConfig) -> list[Case]:
    """Each question with ``prefs_per_question`` preference wordings, seeded (vegetarian: food only)."""
    from pad_integrations.training.real_prompts import PREFERENCES, QUESTIONS

    rng = random.Random(config.seed)
    questions = list(QUESTIONS)
    if config.max_questions is not None:
        questions = rng.sample(questions, min(config.max_questions, len(questions)))
    cases = []
    for q in questions:
        allowed = [p for p in PREFERENCES if q.food or not p.food_only]
        for pref in rng.sample(allowed, min(config.prefs_per_question, len(allowed))):
            cases.append(Case(q.text, pref.kind, pref.text))
    return cases


def repetition_rate(text: str, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier one (0 for texts shorter than n words)."""
    words = text.lower().split()
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


_END = re.compile(r"[.!?](?=\s|$)|\n")


def trim_unfinished(text: str) -> str:
    """A sample cut by the token limit, up to its last complete sentence or line ("" if none)."""
    ends = [m.end() for m in _END.finditer(text)]
    return text[: ends[-1]].strip() if ends else ""


def sample_answers(model: Any, tokenizer: Any, cases: Sequence[Case], config: RecipeConfig,
                   progress: bool = True) -> list[list[Sample]]:
    """``samples_per_case`` sampled answers per case: the first half with the preference in the context."""
    import torch
    from tqdm.auto import tqdm

    from pad_integrations.generation.contexts import ChatFormatter, normalize_messages

    formatter = ChatFormatter(tokenizer)
    eos = _eos_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(eos)
    n_prompted = (config.samples_per_case + 1) // 2
    jobs: list[tuple[int, bool, list[int]]] = []
    for i, case in enumerate(cases):
        messages = normalize_messages([{"role": "user", "content": case.question}])
        with_pref = formatter.encode(messages, system_extra=case.preference)
        plain = formatter.encode(messages)
        jobs += [(i, k < n_prompted, with_pref if k < n_prompted else plain) for k in range(config.samples_per_case)]
    # Similar prompt lengths in one batch waste little padding.
    order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][2]))
    out: list[list[Sample]] = [[] for _ in cases]
    texts: dict[int, Sample] = {}
    device = next(model.parameters()).device
    model.eval()
    bar = tqdm(total=len(jobs), desc="sampling", disable=not progress, unit="answer")
    for b, start in enumerate(range(0, len(order), config.generation_batch)):
        chunk = order[start:start + config.generation_batch]
        width = max(len(jobs[j][2]) for j in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, j in enumerate(chunk):
            seq = jobs[j][2]
            ids[row, width - len(seq):] = torch.tensor(seq)
            mask[row, width - len(seq):] = 1
        torch.manual_seed(config.seed * 1_000_003 + b)
        with torch.inference_mode():
            generated = model.generate(
                input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=True,
                temperature=config.temperature, top_p=config.top_p, top_k=0, max_new_tokens=config.max_new_tokens,
                pad_token_id=pad_id, eos_token_id=sorted(eos))[:, width:].cpu()
        for row, j in enumerate(chunk):
            tokens = generated[row].tolist()
            ends = [k for k, t in enumerate(tokens) if t in eos]
            finished = bool(ends)
            tokens = tokens[: ends[0]] if ends else tokens
            text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            if not finished and not config.require_finished and config.trim_unfinished:
                text = trim_unfinished(text)
            texts[j] = Sample(text, jobs[j][1], finished, len(tokens), repetition_rate(text))
        bar.update(len(chunk))
    bar.close()
    for j, (i, _, _) in enumerate(jobs):
        out[i].append(texts[j])
    return out


def rank_pairs(cases: Sequence[Case], samples: Sequence[Sequence[Sample]],
               config: RecipeConfig) -> list[tuple[int, Sample, Sample]]:
    """Score every sample with its case's judge; (case index, chosen, rejected) per usable case."""
    from pad_integrations.evaluation.judges import score

    pairs = []
    for i, (case, group) in enumerate(zip(cases, samples, strict=True)):
        for s in group:
            s.score = float(score(case.kind, s.text))
        ok = [s for s in group if s.text and (s.finished or not config.require_finished)
              and s.repetition <= config.max_repetition]
        if len(ok) < 2:
            continue
        # Stable sorts: ties keep sampling order (prompted samples first), so the choice is deterministic.
        chosen = max(ok, key=lambda s: s.score)
        rejected = min(ok, key=lambda s: s.score)
        if chosen.score - rejected.score >= config.min_gap and chosen.text != rejected.text:
            pairs.append((i, chosen, rejected))
    return pairs


def split_questions(cases: Sequence[Case], config: RecipeConfig) -> set[str]:
    """The held-out questions (seeded), whose pairs are only used to measure reward accuracy."""
    questions = sorted({c.question for c in cases})
    rng = random.Random(config.seed + 17)
    n = max(1, round(config.heldout_share * len(questions))) if len(questions) > 1 else 0
    return set(rng.sample(questions, n))


def reward_accuracy(rm: Any, base: Any, tokenizer: Any, pairs: Sequence[Any], beta: float,
                    max_length: int, batch_size: int) -> dict[str, float]:
    """How often the PersRM's DPO reward β·[log π_RM − log π_base] ranks chosen above rejected.

    Both read the preference (the same context as at decoding time); ``rm`` is the PersRM with its
    adapter and head, ``base`` the base model it shares its weights with.
    """
    import torch

    from pad_integrations.generation.contexts import ChatFormatter
    from pad_integrations.training.data import encode_turn
    from pad_integrations.training.dpo import collate, response_logprobs

    if not pairs:
        return {"pairs": 0}
    formatter = ChatFormatter(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    margins = []
    with torch.inference_mode():
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start:start + batch_size]
            enc = [encode_turn(formatter, p.messages, r, preference=p.preference, max_length=max_length)
                   for p in chunk for r in (p.chosen, p.rejected)]
            batch = collate(enc, pad_id)
            lp_rm = response_logprobs(rm, batch).view(-1, 2)
            lp_base = response_logprobs(base, batch).view(-1, 2)
            reward = beta * (lp_rm - lp_base)
            margins += (reward[:, 0] - reward[:, 1]).tolist()
    return {"pairs": len(margins), "accuracy": sum(m > 0 for m in margins) / len(margins),
            "mean_margin": sum(margins) / len(margins)}


# -- loading ----------------------------------------------------------------------------------------------
def load_base(model_dir: str | None, gguf: str | None, device: str) -> tuple[Any, Any, str]:
    """The base model and tokenizer: a converted directory, a GGUF file, or ``demo.model_path()``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if gguf:
        from pad_integrations.demo.default_model import _drop_gguf_quantization

        path = Path(gguf)
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
        _drop_gguf_quantization(model)  # the weights are dequantized; the quantizer would block adapters
        tokenizer.model_max_length = model.config.max_position_embeddings
        name = str(path)
    else:
        if model_dir is None:
            from pad_integrations import demo

            model_dir = str(demo.model_path())
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        name = model_dir
    torch.nn.Module.to(model, device)  # (transformers' ``to`` wrapper hides the signature)
    return model.eval(), tokenizer, name


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def _halve(path: Path) -> None:
    """Store the adapter in float16: half the size; it is cast back to the model's dtype on load."""
    import torch
    from safetensors.torch import load_file, save_file

    tensors = {k: v.to(torch.float16).contiguous() for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path), metadata={"format": "pt"})


# -- the command ------------------------------------------------------------------------------------------
def build(out: Path, config: RecipeConfig, *, model_dir: str | None = None, gguf: str | None = None,
          device: str = "cpu", progress: bool = True, smoke: bool = False,
          base_name: str = HUB_ID) -> dict[str, Any]:
    """Run every step; write the adapter, the head and ``report.json`` into ``out``; return the report.

    ``base_name`` is what the adapter records as its base (``base_model_name_or_path``).
    """
    import torch

    from pad_integrations.generation.reward_model import PersonalizedRewardModel
    from pad_integrations.training.data import PreferencePair
    from pad_integrations.training.persrm import ADAPTER_NAME, PersRMTrainingConfig, train_persrm

    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    model, tokenizer, name = load_base(model_dir, gguf, device)
    times["load_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    cases = make_cases(config)
    samples = sample_answers(model, tokenizer, cases, config, progress)
    times["sampling_s"] = time.perf_counter() - t

    ranked = rank_pairs(cases, samples, config)
    heldout = split_questions(cases, config)
    train: list[PreferencePair] = []
    held: list[PreferencePair] = []
    for i, chosen, rejected in ranked:
        c = cases[i]
        pair = PreferencePair(c.question, c.preference, chosen.text, rejected.text)
        (held if c.question in heldout else train).append(pair)
    if not train:
        raise SystemExit("no training pairs: every case's samples scored alike; sample more or lower --min-gap")

    steps1 = max(1, round(config.epochs * len(train) / config.batch_size))
    steps2 = max(1, round(config.stage2_epochs * len(train) / config.batch_size))
    train_config = PersRMTrainingConfig(
        beta=config.beta, lr=config.lr, stage1_steps=steps1, stage2_steps=steps2, stage2_lr=config.stage2_lr,
        batch_size=config.batch_size, max_length=config.max_length, seed=config.seed, lora_rank=config.lora_rank,
        lora_alpha=config.lora_alpha, sft_weight=config.sft_weight, head_dropout=config.head_dropout,
        checkpoint_every=max(50, steps1 // 4))
    t = time.perf_counter()
    result = train_persrm(train, model, out, train_config, tokenizer=tokenizer, base_name=base_name, progress=progress,
                          plot_path=None)
    times["training_s"] = time.perf_counter() - t

    # The PersRM exactly as the engine runs it: the adapter in the one model, on only for its passes.
    t = time.perf_counter()
    from pad_integrations.generation.reward_model import VALUE_HEAD_FILE, load_value_head

    head = load_value_head(out / VALUE_HEAD_FILE, model.config.hidden_size).to(device)
    rm = PersonalizedRewardModel(model, head, adapter_name=ADAPTER_NAME).eval()
    accuracy = {
        "heldout": reward_accuracy(rm, model, tokenizer, held, config.beta, config.max_length, config.batch_size),
        "train": reward_accuracy(rm, model, tokenizer, train[: config.max_train_eval_pairs], config.beta,
                                 config.max_length, config.batch_size),
    }
    times["evaluation_s"] = time.perf_counter() - t
    times["total_s"] = time.perf_counter() - t0

    for extra in ("training_args.json", "generation_config.json", "README.md"):
        (out / extra).unlink(missing_ok=True)
    _halve(out / "adapter_model.safetensors")
    import peft
    import transformers

    by_kind: dict[str, dict[str, int]] = {}
    for i, _, _ in ranked:
        by_kind.setdefault(cases[i].kind, {"pairs": 0})["pairs"] += 1
    report = {
        "command": " ".join(sys.argv),
        "smoke": smoke,
        "base_model": name,
        "device": device,
        "gpu": torch.cuda.get_device_name() if device.startswith("cuda") else None,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "config": asdict(config),
        "training_config": asdict(train_config),
        "times": {k: round(v, 2) for k, v in times.items()},
        "counts": {"cases": len(cases), "samples": sum(len(g) for g in samples), "pairs": len(ranked),
                   "train_pairs": len(train), "heldout_pairs": len(held), "heldout_questions": len(heldout),
                   "well_formed_samples": sum(s.finished and s.repetition <= config.max_repetition
                                              for g in samples for s in g),
                   "by_kind": by_kind},
        "training_metrics": result.metrics,
        "reward_accuracy": accuracy,
        "history": result.history,
        "heldout_questions": sorted(heldout),
        "pairs": [{**json.loads(p.to_json()), "split": s} for s, ps in (("train", train), ("heldout", held))
                  for p in ps],
        "cases": [{**asdict(c), "samples": [asdict(s) for s in g]} for c, g in zip(cases, samples, strict=True)],
    }
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    for path in out.iterdir():
        path.chmod(0o644)  # safetensors writes 0600; these files are meant to be shipped
    return report


def _flag(text: str) -> bool:
    if text.lower() not in {"1", "0", "true", "false", "yes", "no"}:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in {"1", "true", "yes"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m pad_integrations.training.real_recipe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output directory (adapter, head, report.json)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model-dir", help="a converted base model directory (default: demo.model_path())")
    source.add_argument("--gguf", help="the SmolLM2-135M-Instruct GGUF file")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--smoke", action="store_true", help="the whole pipeline at tiny size (CPU, minutes)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--base-name", default=HUB_ID,
                        help=f"base model the adapter records (default {HUB_ID}, the same model in full precision)")
    for field_name, default in asdict(RecipeConfig()).items():
        kind: Any = int  # ints, and max_questions (None by default)
        if isinstance(default, bool):
            kind = _flag
        elif isinstance(default, float):
            kind = float
        parser.add_argument("--" + field_name.replace("_", "-"), type=kind, default=None,
                            help=f"default {default}")
    args = parser.parse_args(argv)
    config = RecipeConfig().smoke() if args.smoke else RecipeConfig()
    overrides = {k: getattr(args, k) for k in asdict(config) if getattr(args, k) is not None}
    config = replace(config, **overrides)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    report = build(out, config, model_dir=args.model_dir, gguf=args.gguf, device=args.device,
                   progress=not args.no_progress, smoke=args.smoke, base_name=args.base_name)
    print(json.dumps({"out": str(out), "times": report["times"], "counts": report["counts"],
                      "reward_accuracy": report["reward_accuracy"], "training_metrics": report["training_metrics"]},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
