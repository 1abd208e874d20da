"""Training PAD's personalized reward model (PersRM) from preference pairs, in two stages.

PAD's release has no training code; the paper's reviews describe two stages, "DPO" and then "merely
training a value head" (Chen et al., "PAD", ICLR 2025, as its reviews report). Here:

Stage 1, DPO with preference-conditioned inputs. The policy (initialised from the base model) reads the
preference as a system message, built by the engine's own ``ChatFormatter`` so that training sees the
very token ids the engine decodes from. The frozen reference is the base model. By default the
reference reads the preference too (``reference_sees_preference=True``): at decoding time PAD's
token-level reward is log πθ(a|s,p) − log π_base(a|s, p), with the base model reading the same context
(the official code feeds identical ids to both), so training measures the reward the same way, and the
KL anchor is what prompting already achieves rather than the unprompted model. Set it to False for
the other reading, a reward relative to the unconditioned model (the DPO reward then also credits
what prompting alone would do).

Stage 2, only the d×d head (identity-initialised, ``PersonalizedRewardModel.add_value_head``) on the
frozen stage-1 backbone, with the same DPO objective and reference.

The reference never changes, so its log-likelihoods are computed once before training: each step then
costs one policy forward/backward instead of two forwards plus one backward.

With LoRA (``lora_rank > 0``, peft) the result is an adapter directory (``adapter_config.json``,
``adapter_model.safetensors``, ``value_head.safetensors``, a few MB), which the engine applies over the
base model it already holds (one copy of the weights; ``PersonalizedRewardModel.from_adapter``). Without
LoRA the backbone is fine-tuned in full and saved as a plain HF directory (the official layout).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from pad_integrations.errors import ModelLoadError, TokenizerMismatchError
from pad_integrations.generation.contexts import ChatFormatter
from pad_integrations.generation.reward_model import PersonalizedRewardModel, check_same_vocabulary
from pad_integrations.training.data import Encoded, PreferencePair, encode_turn
from pad_integrations.training.dpo import collate, dpo_loss, response_logprobs, token_logprobs
from pad_integrations.training.loop import Checkpoints, LoopConfig, run_loop


@dataclass(frozen=True)
class PersRMTrainingConfig:
    """Hyper-parameters of both stages; ``None`` steps mean one pass over the pairs."""

    beta: float = 0.1
    lr: float = 1e-5
    stage1_steps: int | None = None
    stage2_steps: int | None = None  # 0 skips stage 2 (no head file is written)
    stage2_lr: float = 1e-3
    batch_size: int = 8
    max_length: int = 512
    seed: int = 0
    reference_sees_preference: bool = True
    lora_rank: int = 0  # 0: full fine-tuning of the backbone in stage 1; > 0: a LoRA adapter
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    checkpoint_every: int = 100
    warmup_ratio: float = 0.05
    sft_weight: float = 0.0  # > 0 adds the chosen responses' per-token NLL (RPO) to the DPO loss
    head_dropout: float = 0.1  # the official ValueHead2's dropout (active in stage 2 only)

    def __post_init__(self) -> None:
        if not (self.beta > 0 and math.isfinite(self.beta)):
            raise ValueError(f"beta must be a positive number, got {self.beta}")
        for name in ("stage1_steps", "stage2_steps"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.lora_rank < 0:
            raise ValueError(f"lora_rank must be >= 0, got {self.lora_rank}")


@dataclass
class TrainingResult:
    output_dir: Path
    history: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _EncodedPair:
    chosen: Encoded
    rejected: Encoded
    ref_chosen: Encoded
    ref_rejected: Encoded


def check_vocabularies(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel,
                       reference: PreTrainedModel | None = None,
                       reference_tokenizer: PreTrainedTokenizerBase | None = None) -> None:
    """Reject, before any training, a tokenizer that does not fit the models' vocabularies."""
    n_logits = int(model.get_output_embeddings().weight.shape[0])
    if len(tokenizer) > n_logits:
        raise TokenizerMismatchError(
            f"the tokenizer has {len(tokenizer)} tokens but the model only {n_logits} output logits")
    if reference is not None:
        check_same_vocabulary(tokenizer, reference_tokenizer, n_logits,
                              int(reference.get_output_embeddings().weight.shape[0]), what="reference model")


def _encode_pairs(pairs: Sequence[PreferencePair], formatter: ChatFormatter,
                  config: PersRMTrainingConfig) -> list[_EncodedPair]:
    out = []
    for i, pair in enumerate(pairs):
        ref_pref = pair.preference if config.reference_sees_preference else None
        try:
            def enc(response: str, pref: str | None, _pair: PreferencePair = pair) -> Encoded:
                return encode_turn(formatter, _pair.messages, response, preference=pref,
                                   max_length=config.max_length)
            out.append(_EncodedPair(enc(pair.chosen, pair.preference), enc(pair.rejected, pair.preference),
                                    enc(pair.chosen, ref_pref), enc(pair.rejected, ref_pref)))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"preference pair {i + 1}: {exc}") from exc
    return out


@torch.no_grad()
def _reference_logprobs(model: torch.nn.Module, encoded: list[_EncodedPair], pad_id: int,
                        batch_size: int) -> torch.Tensor:
    """(N, 2) summed log-likelihoods of chosen and rejected under the frozen reference."""
    model.eval()
    rows = []
    for start in range(0, len(encoded), batch_size):
        chunk = encoded[start:start + batch_size]
        batch = collate([e.ref_chosen for e in chunk] + [e.ref_rejected for e in chunk], pad_id)
        lp = response_logprobs(model, batch)
        rows.append(torch.stack([lp[: len(chunk)], lp[len(chunk):]], dim=1))
    return torch.cat(rows)


def _pair_loss(model: torch.nn.Module, encoded: list[_EncodedPair], ref: torch.Tensor, pad_id: int, beta: float,
               sft_weight: float):
    def loss_fn(indices: list[int]) -> tuple[torch.Tensor, dict[str, float]]:
        chunk = [encoded[i] for i in indices]
        batch = collate([e.chosen for e in chunk] + [e.rejected for e in chunk], pad_id)
        token_lp = token_logprobs(model, batch)
        lp = token_lp.sum(-1)
        n = len(chunk)
        r = ref[indices]
        loss, metrics = dpo_loss(lp[:n], lp[n:], r[:, 0], r[:, 1], beta)
        if sft_weight:
            # RPO-style NLL of the chosen responses: keeps the policy a fluent generator of them.
            nll = -lp[:n].sum() / batch.target_mask[:n].sum().to(lp.device)
            loss = loss + sft_weight * nll
            metrics["chosen_nll"] = float(nll.detach())
        return loss, metrics
    return loss_fn


def _load_model(path: str | Path) -> PreTrainedModel:
    try:
        return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load a causal LM from {str(path)!r}: {exc}") from exc


ADAPTER_NAME = "persrm"


def _add_lora(model: PreTrainedModel, config: PersRMTrainingConfig, base_name: str) -> None:
    """Inject a trainable LoRA adapter into ``model`` in place (transformers' PEFT integration).

    Saved with ``model.save_pretrained`` it is the adapter only, in peft's format, which
    ``PersonalizedRewardModel.from_adapter`` (``load_adapter``) reads back over any copy of the base.
    """
    from pad_integrations._extras import require

    peft = require("peft", "train", "LoRA training")
    lora = peft.LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                           target_modules="all-linear", task_type="CAUSAL_LM", base_model_name_or_path=base_name)
    model.add_adapter(lora, adapter_name=ADAPTER_NAME)
    for name, param in model.named_parameters():
        param.requires_grad_("lora_" in name)


def train_persrm(
    pairs: Sequence[PreferencePair],
    base_model: str | Path | PreTrainedModel,
    output_dir: str | Path,
    config: PersRMTrainingConfig | None = None,
    *,
    tokenizer: PreTrainedTokenizerBase | None = None,
    base_name: str | None = None,
    device: str | torch.device | None = None,
    reference_model: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    plot_path: str | Path | None = "default",
    checkpoint_dir: str | Path | None = None,
    keep_checkpoints: bool = False,
) -> TrainingResult:
    """Train a PersRM on ``pairs`` starting from ``base_model`` and save it to ``output_dir``.

    ``base_model`` is a directory or hub id, or a model already loaded (then ``tokenizer`` is required;
    it is trained in place). ``base_name`` is what an adapter's ``base_model_name_or_path`` records
    (default: ``base_model`` itself). ``reference_model`` defaults to ``base_model``; it must share the
    base tokenizer's vocabulary. ``plot_path="default"`` writes ``loss_curve.png`` into ``output_dir``;
    ``None`` writes no plot.
    """
    config = config or PersRMTrainingConfig()
    if not pairs:
        raise ValueError("no preference pairs to train on")
    out = Path(output_dir)
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else out / "checkpoints"
    torch.manual_seed(config.seed)

    if isinstance(base_model, PreTrainedModel):
        if tokenizer is None:
            raise ValueError("a loaded base model needs its tokenizer: train_persrm(..., tokenizer=...)")
        model = base_model
        base_id = base_name or str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
    else:
        base_id = str(base_model)
        tokenizer = tokenizer or AutoTokenizer.from_pretrained(base_id)
        model = None
    if not getattr(tokenizer, "chat_template", None):
        raise ModelLoadError(f"{base_id} has no chat template; the preference is a system message")
    model = model if model is not None else _load_model(base_id)
    if device is not None:
        torch.nn.Module.to(model, device)  # (transformers' ``to`` wrapper hides the signature)
    reference, ref_tokenizer = None, None
    if reference_model is not None and str(reference_model) != base_id:
        ref_tokenizer = AutoTokenizer.from_pretrained(str(reference_model))
        reference = _load_model(reference_model)
        torch.nn.Module.to(reference, model.device)
    check_vocabularies(tokenizer, model, reference, ref_tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pad_id is None:
        raise ModelLoadError("the tokenizer has neither a pad nor an EOS token to pad batches with")

    encoded = _encode_pairs(pairs, ChatFormatter(tokenizer), config)
    ref = _reference_logprobs(reference if reference is not None else model, encoded, pad_id, config.batch_size)
    del reference

    n = len(encoded)
    lengths = [len(e.chosen.ids) + len(e.rejected.ids) for e in encoded]
    one_epoch = math.ceil(n / config.batch_size)
    fp = {"beta": config.beta, "pairs": [p.to_json() for p in pairs[:3]], "base": base_id}
    result = TrainingResult(out)

    # Stage 1: DPO on the backbone (or its LoRA adapter).
    if config.lora_rank:
        _add_lora(model, config, base_name or base_id)
    policy = model
    stage1 = LoopConfig(steps=config.stage1_steps or one_epoch, batch_size=config.batch_size, lr=config.lr,
                        seed=config.seed, warmup_ratio=config.warmup_ratio, checkpoint_every=config.checkpoint_every)
    if config.stage1_steps != 0:
        result.history["stage1"] = run_loop(
            name="stage1", module=policy, params=[(k, p) for k, p in policy.named_parameters() if p.requires_grad],
            n_items=n, loss_fn=_pair_loss(policy, encoded, ref, pad_id, config.beta, config.sft_weight), config=stage1,
            checkpoint_dir=ckpt_dir, resume=resume, progress=progress, fingerprint_extra=fp, lengths=lengths)
    # The adapter stays switched on in the training model (no base passes are needed: the reference
    # log-likelihoods are precomputed), so stage 2 sees the stage-1 policy.
    rm = PersonalizedRewardModel(model, tokenizer=None if config.lora_rank else tokenizer, name_or_path=str(out))
    if config.stage2_steps != 0:
        for p in rm.model.parameters():
            p.requires_grad_(False)
        head = rm.add_value_head(config.head_dropout)
        stage2 = LoopConfig(steps=config.stage2_steps or one_epoch, batch_size=config.batch_size,
                            lr=config.stage2_lr, seed=config.seed + 1, warmup_ratio=config.warmup_ratio,
                            checkpoint_every=config.checkpoint_every)
        result.history["stage2"] = run_loop(
            name="stage2", module=rm, params=[(f"v_head.{k}", p) for k, p in head.named_parameters()],
            n_items=n, loss_fn=_pair_loss(rm, encoded, ref, pad_id, config.beta, config.sft_weight), config=stage2,
            checkpoint_dir=ckpt_dir, resume=resume, progress=progress, fingerprint_extra=fp, lengths=lengths)

    rm.eval()
    rm.save_pretrained(out)  # with LoRA, transformers writes the adapter only (peft format)
    if config.lora_rank:
        (out / "generation_config.json").unlink(missing_ok=True)  # the base model's, not the adapter's
        # transformers' add_adapter records the loaded model's path as the base; record the one asked for.
        adapter_config = out / "adapter_config.json"
        saved = json.loads(adapter_config.read_text())
        saved["base_model_name_or_path"] = base_name or base_id
        adapter_config.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    for stage, history in result.history.items():
        tail = history[-max(1, len(history) // 10):]
        result.metrics[f"{stage}_final_loss"] = sum(h["loss"] for h in tail) / len(tail)
        result.metrics[f"{stage}_reward_accuracy"] = sum(h["reward_accuracy"] for h in tail) / len(tail)
    (out / "training_args.json").write_text(json.dumps(
        {"config": asdict(config), "base_model": base_name or base_id,
         "reference_model": str(reference_model or base_name or base_id), "pairs": n, "metrics": result.metrics},
        indent=2) + "\n")
    if plot_path is not None and result.history:
        from pad_integrations.training.plot import save_loss_curve

        save_loss_curve(result.history, out / "loss_curve.png" if plot_path == "default" else plot_path,
                        title="PersRM training (DPO loss)")
    if not keep_checkpoints:
        for stage in ("stage1", "stage2"):
            Checkpoints(ckpt_dir, stage, "", 0).clear()
        if ckpt_dir.is_dir() and not any(ckpt_dir.iterdir()):
            ckpt_dir.rmdir()
    return result
