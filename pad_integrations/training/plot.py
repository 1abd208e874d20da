"""The loss curve of a training run as a PNG (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pad_integrations._extras import require


def save_loss_curve(histories: Mapping[str, Sequence[Mapping[str, float]]], path: str | Path,
                    title: str = "training loss") -> Path:
    """One line per stage, steps laid end to end, with a moving average over noisy steps."""
    matplotlib = require("matplotlib", "train", "the loss-curve plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    offset = 0.0
    for stage, history in histories.items():
        if not history:
            continue
        xs = [offset + h["step"] for h in history]
        ys = [h["loss"] for h in history]
        window = max(1, len(ys) // 50)
        smooth = [sum(ys[max(0, i - window + 1): i + 1]) / len(ys[max(0, i - window + 1): i + 1])
                  for i in range(len(ys))]
        line = ax.plot(xs, ys, alpha=0.25)[0]
        ax.plot(xs, smooth, color=line.get_color(), label=stage)
        offset = xs[-1]
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
