"""Where the preference goes on a template with a default system line (SmolLM2), measured both ways.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/measure_system_line.py [--out results.json]

``keep``: the template's default line ("You are a helpful AI assistant named SmolLM, ...") stays and the
preference is appended to it (the base context differs by the preference alone; the default).
``replace``: the preference is the whole system message (the template's default line disappears).
Greedy, 50 new tokens, strategies ``prompt`` and ``linear`` (engine defaults), three questions and four
preferences written for this check (not from any evaluation set). Figures in docs/engine.md.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from pad_integrations import demo
from pad_integrations.evaluation import judges
from pad_integrations.generation import GenerationRequest, GuidedGenerator
from pad_integrations.generation.contexts import ChatFormatter

QUESTIONS = ["How do I keep basil alive on a windowsill?", "Why does bread go stale?",
             "What should I pack for a weekend hiking trip?"]
PREFS = {"neutral": "Answer the question.", "short": "Answer in one short sentence.",
         "pirate": "Talk like a pirate.", "formal": "Use a very formal, academic register."}
STRATEGIES = ["prompt", "linear"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--max-new-tokens", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    gen = GuidedGenerator.from_pretrained(demo.model_path())
    rows = []
    for option in ("keep", "replace"):
        gen.formatter = ChatFormatter(gen.tokenizer, keep_default_system=option == "keep")
        keys = [(s, p, q) for s in STRATEGIES for p in PREFS for q in QUESTIONS]
        start = time.perf_counter()
        results = gen.generate_batch([
            GenerationRequest(messages=[{"role": "user", "content": q}], preference=PREFS[p], strategy=s,
                              max_new_tokens=args.max_new_tokens) for s, p, q in keys])
        print(f"{option}: {time.perf_counter() - start:.0f} s")
        for (s, p, q), r in zip(keys, results, strict=True):
            rows.append({"option": option, "strategy": s, "preference": p, "question": q, "text": r.text,
                         "words": len(r.text.split()), "moved": r.trace.moved_tokens, "mean_kl": r.trace.mean_kl,
                         "judge": judges.score(p, r.text) if p in judges.KINDS else None})
    print(f"{'strategy':8} {'preference':10} {'option':8} {'mean words':>10} {'mean judge':>10} {'moved':>6}")
    for s in STRATEGIES:
        for p in PREFS:
            for option in ("keep", "replace"):
                cell = [r for r in rows if (r["strategy"], r["preference"], r["option"]) == (s, p, option)]
                words = sum(r["words"] for r in cell) / len(cell)
                judged = [r["judge"] for r in cell if r["judge"] is not None]
                judge = f"{sum(judged) / len(judged):.2f}" if judged else "-"
                print(f"{s:8} {p:10} {option:8} {words:10.1f} {judge:>10} {sum(r['moved'] for r in cell):6d}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
