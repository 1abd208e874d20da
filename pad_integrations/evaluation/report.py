"""Tables and the adherence-vs-fluency plot from a tune/eval summary (``summary.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _pct(ci: Any) -> str:
    mean, lo, hi = ci
    return f"{100 * mean:5.1f} [{100 * lo:4.1f},{100 * hi:5.1f}]"


def format_table(summaries: Mapping[str, Mapping[str, Any]], title: str = "") -> str:
    """One row per configuration: adherence and on-topic/repetition with 95 % CIs, fluency, tokens/s, n."""
    header = ["config", "adherence % [95% CI]", "on-topic % [95% CI]", "repetition % [95% CI]",
              "NLL", "NLL(q only)", "tokens", "tok/s", "n"]
    rows = []
    for name, d in summaries.items():
        rows.append([
            name, _pct(d["adherence"]), _pct(d["on_topic"]), _pct(d["repetition"]),
            f"{d['nll']:.2f}", f"{d['nll_base']:.2f}", f"{d['mean_tokens']:.0f}",
            f"{d['tokens_per_s']:.0f}" if d.get("tokens_per_s") else "-", str(d["n_answers"]),
        ])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in [header, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(([title] if title else []) + lines)


def format_kinds(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    """Adherence (%) per preference kind and configuration."""
    kinds = sorted({k for d in summaries.values() for k in d["per_kind"]})
    header = ["config", *kinds]
    rows = [[name, *(f"{100 * d['per_kind'][k]['adherence']:.0f}" if k in d["per_kind"] else "-" for k in kinds)]
            for name, d in summaries.items()]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in [header, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def format_target(target: Mapping[str, Any]) -> str:
    if not target.get("checked"):
        return f"target: not checked ({target.get('why', 'no guided strategy')})"
    lines = [f"target (issue 11), dev-chosen primary {target['primary']} = {target['config']}:"]
    for seed, t in target["seeds"].items():
        lines.append(
            f"  seed {seed}: {100 * t['adherence_gain']:+.1f} adherence points over prompting (>= +20), "
            f"on-topic {100 * t['on_topic_gap']:.1f} points below base (<= 5), repetition "
            f"{100 * t['repetition_gap']:+.1f} points vs base (<= 0): {'met' if t['met'] else 'NOT met'}")
    lines.append(f"  every seed: {'met' if target['met'] else 'NOT met'}")
    return "\n".join(lines)


def format_summary(summary: Mapping[str, Any]) -> str:
    """The whole report of a tune run: dev grid, choices, held-out (pooled and per seed), target."""
    parts = []
    s = summary["settings"]
    parts.append(f"model {s['model']} on {s['device']}; {s['dev_questions']} dev / {s['heldout_questions']} held-out "
                 f"questions; {s['heldout_cases']} held-out cases per seed; seeds {s['seeds']}; "
                 f"{s['max_new_tokens']} new tokens, temperature {s['temperature']}")
    parts.append(format_table(summary["dev"], "\nDEV split (seed 0): the grid"))
    sel = summary["selection"]
    parts.append(f"\nchosen on dev: {sel['chosen']}; primary: {sel['primary']}; rule: on-topic >= "
                 f"{100 * sel['rule']['on_topic_floor']:.1f} %, repetition <= {100 * sel['rule']['repetition_ceiling']:.1f} %"
                 + (f"; skipped for time: {summary['skipped']}" if summary.get("skipped") else ""))
    held = summary["heldout"]
    parts.append(format_table(held["pooled"], "\nHELD-OUT split, all seeds pooled"))
    parts.append("\nheld-out adherence per preference kind (%), pooled:\n" + format_kinds(held["pooled"]))
    for seed, table in held["per_seed"].items():
        parts.append(format_table(table, f"\nheld-out, seed {seed}"))
    parts.append("\n" + format_target(summary["target"]))
    return "\n".join(parts)


def save_plot(summary: Mapping[str, Any], path: str | Path) -> Path:
    """Adherence against fluency (NLL) for every dev configuration (strength sweeps as lines) and held-out."""
    from pad_integrations._extras import require

    matplotlib = require("matplotlib", "train", "the evaluation plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    ax = axes[0]
    colours = {"base": "black", "prompt": "grey", "linear": "tab:blue", "amulet": "tab:orange", "pad": "tab:green",
               "args": "tab:red"}
    for name, d in summary["dev"].items():
        strategy = d.get("strategy", name)
        marker = "x" if "faithful" in name else ("s" if strategy in ("base", "prompt") else "o")
        ax.scatter(d["nll"], 100 * d["adherence"][0], color=colours.get(strategy, "purple"), marker=marker)
        ax.annotate(name, (d["nll"], 100 * d["adherence"][0]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("fluency: NLL per token under the unsteered model (lower is better)")
    ax.set_ylabel("adherence (%)")
    ax.set_title("dev split: strengths and guards (x = faithful, guards off)")
    ax = axes[1]
    for name, d in summary["heldout"]["pooled"].items():
        strategy = name.split()[0]
        ax.errorbar(d["nll"], 100 * d["adherence"][0],
                    yerr=[[100 * (d["adherence"][0] - d["adherence"][1])], [100 * (d["adherence"][2] - d["adherence"][0])]],
                    color=colours.get(strategy, "purple"), marker="o", capsize=3)
        ax.annotate(f"{name} (on-topic {100 * d['on_topic'][0]:.0f}%)", (d["nll"], 100 * d["adherence"][0]),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("fluency: NLL per token (lower is better)")
    ax.set_ylabel("adherence (%), 95 % CI")
    ax.set_title("held-out split, chosen settings, seeds pooled")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
