"""One optimisation loop for every training stage: seeded data order, progress bar, checkpoints, resume.

The batch of step ``s`` is a pure function of ``(seed, s)``, and a checkpoint holds the trainable
tensors, the optimizer, the scheduler, the RNG state and the loss history. Resuming from step ``s``
therefore continues exactly where an uninterrupted run would be (tested to the last bit on CPU).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

LossFn = Callable[[list[int]], tuple[torch.Tensor, dict[str, float]]]


@dataclass(frozen=True)
class LoopConfig:
    """Optimisation settings of one stage."""

    steps: int
    batch_size: int
    lr: float
    seed: int = 0
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    checkpoint_every: int = 0  # 0: no periodic checkpoints
    keep_checkpoints: int = 2

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps and batch_size must be positive, got {self.steps} and {self.batch_size}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")


def batch_schedule(n_items: int, config: LoopConfig, lengths: Sequence[int] | None = None) -> list[list[int]]:
    """Item indices of every step: seeded permutations of the data, epoch after epoch.

    With ``lengths``, each window of 64 batches is sorted by length before it is cut into batches (and
    the batches are shuffled again), so a batch holds items of similar length and little padding, as
    transformers' ``LengthGroupedSampler`` does.
    """
    if n_items < 1:
        raise ValueError("no training items")
    if lengths is not None and len(lengths) != n_items:
        raise ValueError(f"{len(lengths)} lengths for {n_items} items")
    bs = config.batch_size
    needed = config.steps * bs
    batches: list[list[int]] = []
    epoch = 0
    while len(batches) * bs < needed:
        gen = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        order = torch.randperm(n_items, generator=gen).tolist()
        if lengths is not None:
            window = 64 * bs
            order = [i for w in range(0, n_items, window)
                     for i in sorted(order[w:w + window], key=lambda i: lengths[i])]
        epoch_batches = [order[s:s + bs] for s in range(0, n_items, bs)]
        if lengths is not None:
            shuffled = torch.randperm(len(epoch_batches), generator=gen).tolist()
            epoch_batches = [epoch_batches[i] for i in shuffled]
        batches += epoch_batches
        epoch += 1
    return batches[: config.steps]


def _fingerprint(name: str, config: LoopConfig, n_items: int, extra: dict[str, Any] | None) -> str:
    blob = json.dumps({"name": name, "config": asdict(config), "n": n_items, "extra": extra or {}},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Checkpoints:
    """Periodic checkpoints of one stage in ``directory`` (``<name>-step<N>.pt``, newest kept)."""

    def __init__(self, directory: Path, name: str, fingerprint: str, keep: int) -> None:
        self.directory, self.name, self.fingerprint, self.keep = directory, name, fingerprint, keep

    def _files(self) -> list[Path]:
        files = self.directory.glob(f"{self.name}-step*.pt")
        return sorted(files, key=lambda p: int(p.stem.rsplit("step", 1)[1]))

    def save(self, state: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.name}-step{state['step']}.pt"
        tmp = path.with_suffix(".tmp")
        torch.save({**state, "fingerprint": self.fingerprint}, tmp)
        tmp.replace(path)  # a crash mid-write never leaves a truncated checkpoint behind
        for old in self._files()[: -self.keep]:
            old.unlink(missing_ok=True)
        return path

    def latest(self) -> dict[str, Any] | None:
        files = self._files()
        if not files:
            return None
        state = torch.load(files[-1], map_location="cpu", weights_only=False)
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"{files[-1]} was written by a run with other settings or data; "
                "remove the checkpoint directory or train with the original settings"
            )
        return state

    def clear(self) -> None:
        for f in self._files():
            f.unlink(missing_ok=True)


def run_loop(
    *,
    name: str,
    module: nn.Module,
    params: Sequence[tuple[str, nn.Parameter]],
    n_items: int,
    loss_fn: LossFn,
    config: LoopConfig,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    fingerprint_extra: dict[str, Any] | None = None,
    lengths: Sequence[int] | None = None,
) -> list[dict[str, float]]:
    """Optimise ``params`` (named, trainable) of ``module`` with AdamW; return the per-step history."""
    from tqdm.auto import tqdm
    from transformers import get_cosine_schedule_with_warmup

    named = list(params)
    if not named:
        raise ValueError(f"stage {name!r} has no trainable parameters")
    optimizer = torch.optim.AdamW([p for _, p in named], lr=config.lr, weight_decay=config.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(
        optimizer, int(config.warmup_ratio * config.steps), config.steps)
    schedule = batch_schedule(n_items, config, lengths)
    ckpt = None
    if checkpoint_dir is not None:
        ckpt = Checkpoints(Path(checkpoint_dir), name, _fingerprint(name, config, n_items, fingerprint_extra),
                           config.keep_checkpoints)
    start, history = 0, []
    torch.manual_seed(config.seed)
    if resume and ckpt is not None and (state := ckpt.latest()) is not None:
        by_name = dict(named)
        with torch.no_grad():
            for key, tensor in state["trainable"].items():
                by_name[key].copy_(tensor)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        start, history = state["step"], state["history"]

    def snapshot(step: int) -> dict[str, Any]:
        return {"step": step, "trainable": {k: p.detach().clone() for k, p in named},
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": torch.get_rng_state(), "history": history}

    module.train()
    bar = tqdm(range(start, config.steps), desc=name, disable=not progress, initial=start, total=config.steps)
    for step in bar:
        optimizer.zero_grad(set_to_none=True)
        loss, metrics = loss_fn(schedule[step])
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{name}: the loss became {loss.item()} at step {step + 1}; lower the lr")
        loss.backward()
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_([p for _, p in named], config.grad_clip)
        optimizer.step()
        scheduler.step()
        history.append({"step": step + 1, "loss": float(loss.detach()), **metrics})
        bar.set_postfix(loss=f"{history[-1]['loss']:.4f}")
        periodic = config.checkpoint_every and (step + 1) % config.checkpoint_every == 0
        if ckpt is not None and (periodic or step + 1 == config.steps):
            ckpt.save(snapshot(step + 1))
    module.eval()
    return history
