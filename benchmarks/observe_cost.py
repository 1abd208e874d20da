"""observe() cost with the default extractors (not a test): CPU and wall p50/p99 per call over the dev split's
user messages, after a warm-up (model load and classifier training are one-off costs, reported apart).

    OMP_NUM_THREADS=1 python benchmarks/observe_cost.py [--profile] [--repeat 1] [--background]

Each row of the dev sets (explicit, implicit, filler, changes, style, injection) is one fresh user; its
messages are observed one by one, as a chat turn would. ``--profile`` prints the top functions by
cumulative time (cProfile) of the timed calls.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from memory import PreferenceMemory
from memory.eval.sets import SETS, load_set
from memory.extractors import default_extractors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the rows (fresh users each pass)")
    parser.add_argument("--background", action="store_true",
                        help="the sentence classifier off the request path (default_extractors(classify_inline=False))")
    args = parser.parse_args()
    rows = [row for name in SETS for row in load_set(name, "dev")]
    extractors = default_extractors(classify_inline=False) if args.background else default_extractors()
    with PreferenceMemory("sqlite:///:memory:", namespace="bench", extractor=extractors) as mem:
        started = time.perf_counter()
        mem.observe("warm-up", [{"role": "user", "content": "I love jazz and I hate country music."}])
        mem.flush()
        print(f"warm-up (model load, classifier and guard training): {time.perf_counter() - started:.2f} s")
        cpu: list[float] = []
        wall: list[float] = []
        profiler = cProfile.Profile() if args.profile else None
        for rep in range(args.repeat):
            for row in rows:
                uid = f"{rep}-{row['id']}"
                for message in row["messages"]:
                    w, c = time.perf_counter(), time.process_time()
                    if profiler:
                        profiler.enable()
                    mem.observe(uid, [message])
                    if profiler:
                        profiler.disable()
                    cpu.append(time.process_time() - c)
                    wall.append(time.perf_counter() - w)
            mem.flush()
    print(f"observe(): {len(cpu)} calls; CPU p50 {pct(cpu, 0.5):.2f} ms, p99 {pct(cpu, 0.99):.2f} ms; "
          f"wall p50 {pct(wall, 0.5):.2f} ms, p99 {pct(wall, 0.99):.2f} ms, max {max(wall) * 1000:.1f} ms")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
