"""observe() latency with the default extractors (rules + sentence classifier inline; implicit in the background).

python benchmarks/inference_bench.py [--calls N] [--url sqlite:///...]

Messages are the classifier's own training sentences and a few chit-chat and long messages (not the eval
sets), observed one user message per call over 20 users, after one warm-up call that loads the model.
Prints wall and CPU time per call (p50, p99, max) and the load average: on a shared machine wall time is
inflated by other processes; CPU time is the work ``observe`` itself does (all threads of this process).
"""

from __future__ import annotations

import argparse
import os
import time

from memory.extractors.classifier import load_training
from memory.store import PreferenceMemory


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--url", default="sqlite:///:memory:")
    parser.add_argument(
        "--inline-only",
        action="store_true",
        help="only the inline extractor (no background thread sharing the CPU)",
    )
    args = parser.parse_args()
    sentences = [s for _, s in load_training()]
    sentences += [
        "Thanks, that helps a lot!",
        "Here is the report. " + "It covers revenue, costs and the outlook for next year. " * 40,
        "I love hiking. " * 30,
    ]
    wall: list[float] = []
    cpu: list[float] = []
    from memory.extractors import SentenceExtractor, default_extractors

    extractors = [SentenceExtractor()] if args.inline_only else default_extractors()
    with PreferenceMemory(args.url, namespace="bench", extractor=extractors) as mem:
        mem.observe("warm", [{"role": "user", "content": "I love jazz."}])
        for i in range(args.calls):
            text = f"{sentences[i % len(sentences)]} ({i})"
            w, c = time.perf_counter(), time.process_time()
            mem.observe(f"user-{i % 20}", [{"role": "user", "content": text}])
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
        drained = mem.flush(timeout=300)
    load = os.getloadavg()
    ms = 1000.0
    which = "inline SentenceExtractor only" if args.inline_only else "default extractors"
    print(f"observe() x{len(wall)}, {which}, {args.url}; background drained: {drained}")
    print(
        f"  wall ms: p50 {_pct(wall, 0.5) * ms:.2f}  p99 {_pct(wall, 0.99) * ms:.2f}  max {max(wall) * ms:.2f}"
    )
    print(
        f"  CPU  ms: p50 {_pct(cpu, 0.5) * ms:.2f}  p99 {_pct(cpu, 0.99) * ms:.2f}  max {max(cpu) * ms:.2f}"
    )
    print(f"  load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
