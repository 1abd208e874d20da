"""Preference adherence of decoding strategies on held-out prompts, as in the PAD / Amulet tables.

For every held-out (prompt, preference) case and every strategy, the engine generates a response; the
judge of the preference's dimension decides adherence, and fluency is the base model's per-token
negative log-likelihood of the response given the prompt with the preference (lower is better;
conditioning on the request keeps a styled answer from being penalised for its style alone). For the
demo model's synthetic English, ``grammar`` adds the share of the response made of well-formed
sentences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pad_integrations.evaluation.grammar import grammatical_fraction
from pad_integrations.evaluation.judges import adheres
from pad_integrations.generation import GenerationRequest, GuidedGenerator
from pad_integrations.training.data import encode_turn
from pad_integrations.training.dpo import collate, token_logprobs
from pad_integrations.training.synthetic_chat import EvalCase

STRATEGIES: tuple[str, ...] = ("base", "prompt", "linear", "amulet", "pad")
GUIDED: tuple[str, ...] = ("linear", "amulet", "pad")


@dataclass(frozen=True)
class Sample:
    strategy: str
    case: EvalCase
    text: str
    adherent: bool
    nll: float
    grammar: float


@dataclass
class AdherenceReport:
    """Per-strategy, per-preference results and the settings that produced them."""

    samples: list[Sample]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def strategies(self) -> list[str]:
        return list(dict.fromkeys(s.strategy for s in self.samples))

    @property
    def preferences(self) -> list[str]:
        return list(dict.fromkeys(_key(s.case) for s in self.samples))

    def cell(self, strategy: str, preference: str) -> dict[str, float]:
        rows = [s for s in self.samples if s.strategy == strategy and _key(s.case) == preference]
        return {"adherence": _mean(float(s.adherent) for s in rows), "fluency": _mean(s.nll for s in rows),
                "grammar": _mean(s.grammar for s in rows), "n": len(rows)}

    def summary(self, strategy: str) -> dict[str, float]:
        """Averages over preferences (each preference weighs the same)."""
        cells = [self.cell(strategy, p) for p in self.preferences]
        return {k: _mean(c[k] for c in cells) for k in ("adherence", "fluency", "grammar")}

    def to_json(self) -> dict[str, Any]:
        return {
            "strategies": {
                name: {**self.summary(name),
                       "per_preference": {p: self.cell(name, p) for p in self.preferences}}
                for name in self.strategies
            },
            "target": self.target(),
            "settings": self.settings,
        }

    def target(self) -> dict[str, Any]:
        """Does the best guided strategy beat prompting by ≥ 15 points with fluency within 10%?"""
        names = self.strategies
        if "prompt" not in names or not any(g in names for g in GUIDED):
            return {"checked": False}
        prompt = self.summary("prompt")
        best = max((g for g in GUIDED if g in names), key=lambda g: self.summary(g)["adherence"])
        guided = self.summary(best)
        gain = guided["adherence"] - prompt["adherence"]
        ratio = guided["fluency"] / prompt["fluency"] if prompt["fluency"] else math.inf
        return {"checked": True, "best_guided": best, "adherence_gain": gain, "fluency_ratio": ratio,
                "met": gain >= 0.15 and ratio <= 1.10}


def _key(case: EvalCase) -> str:
    return f"{case.kind}:{case.value}"


def _mean(values: Any) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


@torch.no_grad()
def response_nll(generator: GuidedGenerator, cases: Sequence[EvalCase], texts: Sequence[str],
                 batch_size: int = 16) -> list[float]:
    """Per-token NLL of each response under the base model, given the prompt with the preference."""
    out: list[float] = []
    model = generator.model
    pad_id = generator.pad_token_id
    for start in range(0, len(texts), batch_size):
        encoded = [encode_turn(generator.formatter, c.messages, t, preference=c.preference)
                   for c, t in zip(cases[start:start + batch_size], texts[start:start + batch_size], strict=True)]
        batch = collate(encoded, pad_id)
        batch = type(batch)(*(t.to(model.device) for t in (batch.input_ids, batch.attention_mask,
                                                            batch.target_mask)))
        logp = token_logprobs(model, batch)
        n = batch.target_mask.sum(-1).clamp(min=1)
        out += (-logp.sum(-1) / n).tolist()
    return out


def evaluate(
    generator: GuidedGenerator,
    cases: Sequence[EvalCase],
    strategies: Sequence[str] = STRATEGIES,
    *,
    max_new_tokens: int = 96,
    do_sample: bool = False,
    temperature: float = 1.0,
    seed: int = 0,
    strategy_params: Mapping[str, Mapping[str, Any]] | None = None,
    batch_size: int = 16,
    progress: bool = False,
) -> AdherenceReport:
    """Generate every case under every strategy and judge the responses."""
    from tqdm.auto import tqdm

    if not cases:
        raise ValueError("no evaluation cases")
    strategy_params = strategy_params or {}
    unknown = set(strategy_params) - set(strategies)
    if unknown:
        raise ValueError(f"parameters given for strategies that are not evaluated: {sorted(unknown)}")
    samples: list[Sample] = []
    jobs = [(name, i) for name in strategies for i in range(len(cases))]
    bar = tqdm(total=len(jobs), desc="eval", disable=not progress)
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start:start + batch_size]
        requests = [
            GenerationRequest(cases[i].messages, preference=None if name == "base" else cases[i].preference,
                              strategy=name, max_new_tokens=max_new_tokens, do_sample=do_sample,
                              temperature=temperature, seed=seed + i if do_sample else None,
                              strategy_params=dict(strategy_params.get(name, {})))
            for name, i in chunk
        ]
        texts = [r.text for r in generator.generate_batch(requests)]
        chunk_cases = [cases[i] for _, i in chunk]
        nlls = response_nll(generator, chunk_cases, texts)
        for (name, _), case, text, nll in zip(chunk, chunk_cases, texts, nlls, strict=True):
            samples.append(Sample(name, case, text, adheres(case.kind, case.value, text), nll,
                                  grammatical_fraction(text)))
        bar.update(len(chunk))
    bar.close()
    settings = {"cases": len(cases), "max_new_tokens": max_new_tokens, "do_sample": do_sample,
                "temperature": temperature, "seed": seed,
                "strategy_params": {k: dict(v) for k, v in strategy_params.items()}}
    return AdherenceReport(samples, settings)


def format_table(report: AdherenceReport) -> str:
    """Adherence (%) per preference, its average, fluency (NLL, lower is better) and grammar (%)."""
    prefs = report.preferences
    short = [p.split(":")[1] for p in prefs]
    header = ["strategy", *short, "adherence", "fluency(NLL)", "grammar"]
    rows = []
    for name in report.strategies:
        summary = report.summary(name)
        rows.append([name, *(f"{100 * report.cell(name, p)['adherence']:.0f}" for p in prefs),
                     f"{100 * summary['adherence']:.1f}", f"{summary['fluency']:.3f}",
                     f"{100 * summary['grammar']:.1f}"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in [header, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    target = report.target()
    if target.get("checked"):
        lines.append("")
        lines.append(
            f"best guided: {target['best_guided']}, {100 * target['adherence_gain']:+.1f} points of adherence "
            f"over prompting, fluency ratio {target['fluency_ratio']:.3f} "
            f"(target: >= +15 points, <= 1.10): {'met' if target['met'] else 'NOT met'}")
    return "\n".join(lines)


def save_plot(report: AdherenceReport, path: str | Path) -> Path:
    """Grouped bars of adherence per preference and strategy, with the average and fluency in the legend."""
    from pad_integrations._extras import require

    matplotlib = require("matplotlib", "train", "the evaluation plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prefs, names = report.preferences, report.strategies
    fig, ax = plt.subplots(figsize=(max(8, len(prefs) * 1.1), 4.5))
    width = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        summary = report.summary(name)
        xs = [i + (j - (len(names) - 1) / 2) * width for i in range(len(prefs))]
        ax.bar(xs, [100 * report.cell(name, p)["adherence"] for p in prefs], width,
               label=f"{name} (avg {100 * summary['adherence']:.0f}%, NLL {summary['fluency']:.2f})")
    ax.set_xticks(range(len(prefs)))
    ax.set_xticklabels(prefs, rotation=30, ha="right")
    ax.set_ylabel("adherence (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Preference adherence on held-out prompts")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
