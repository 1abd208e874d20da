"""Score the LLM extractor on the default model against the memory evaluation sets (issue 12).

    python benchmarks/memory_llm_eval.py --split dev [--sets explicit,filler] [--limit N] [--json OUT]

Three configurations on the same rows, each through a real store (``memory.eval.scoring.evaluate_sets``):

- ``llm``: ``ClauseLLMExtractor`` alone, on SmolLM2-135M-Instruct with JSON-schema-constrained output;
- ``default``: the default extractors (sentence classifier inline, implicit concepts in the background);
- ``default+llm``: the default extractors plus the LLM extractor in the background (``complement``: it reads
  only clauses the others did not store from).

The model's answer to a clause does not depend on the configuration, so answers are cached by prompt and
the model runs once per distinct clause. Tune on ``dev`` only; run ``heldout`` once, for the report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "heldout"), default="dev")
    parser.add_argument("--sets", default="explicit,implicit,filler,style,changes,injection")
    parser.add_argument("--configs", default="llm,default,default+llm")
    parser.add_argument("--json", help="write the full reports (errors included) to this file")
    args = parser.parse_args(argv)

    from memory.eval.scoring import evaluate_sets
    from memory.extractors import default_extractors
    from memory.extractors.llm import ClauseLLMExtractor
    from pad_integrations.memory_llm import local_completer

    inner = local_completer()
    cache: dict[str, str] = {}
    timing = {"model_calls": 0, "model_s": 0.0}

    def complete(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
        key = json.dumps([messages, schema], sort_keys=True)
        if key not in cache:
            start = time.perf_counter()
            cache[key] = inner(messages, schema)
            timing["model_s"] += time.perf_counter() - start
            timing["model_calls"] += 1
        return cache[key]

    builders = {
        "llm": lambda: [ClauseLLMExtractor(complete, runs_inline=True, complement=False)],
        "default": default_extractors,
        "default+llm": lambda: [*default_extractors(), ClauseLLMExtractor(complete)],
    }
    names = args.sets.split(",")
    out: dict[str, Any] = {}
    for config in args.configs.split(","):
        start = time.perf_counter()
        report = evaluate_sets(
            args.split, names=names, extractor=builders[config](), progress=lambda s: print(s, file=sys.stderr)
        )
        report["seconds"] = round(time.perf_counter() - start, 1)
        out[config] = report
        print(f"\n== {config} ({args.split}, {report['seconds']} s)")
        for name, r in report["sets"].items():
            cells = [f"rows {r['rows']}", f"stored {r['stored']}"]
            if "recall" in r:
                cells += [f"recall {r['recall']:.3f} ({r['hit']}/{r['expected']})", f"precision {r['precision']:.3f}"]
            if "stored_per_conversation" in r:
                cells.append(f"per conversation {r['stored_per_conversation']:.3f}")
            if "cases" in r:
                cells.append(f"cases {r['cases_passed']}/{r['cases']}")
            if "hostile_rows" in r:
                cells.append(
                    f"hostile rows with payload {r['hostile_rows_with_payload_stored']}, "
                    f"prefs from hostile rows {r['preferences_stored_from_hostile_rows']}"
                )
            print(f"  {name}: " + ", ".join(cells))
    calls = timing["model_calls"]
    print(
        f"\nmodel: {calls} distinct clauses, {timing['model_s']:.0f} s, "
        f"{timing['model_s'] / calls if calls else 0:.2f} s per clause (greedy, JSON-schema constrained)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"split": args.split, "model": timing, "configs": out}, f, indent=2)


if __name__ == "__main__":
    main()
