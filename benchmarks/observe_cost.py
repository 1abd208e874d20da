"""observe() cost with the default extractors (not a test): CPU and wall p50/p99 per call over the dev split's
user messages, after a warm-up (model load and classifier training are one-off costs, reported apart).

    OMP_NUM_THREADS=1 python benchmarks/observe_cost.py [--profile] [--repeat 1] [--background]
        [--inline-tokens N|none] [--isolated] [--eager]

Each row of the dev sets (explicit, implicit, filler, changes, style, injection) is one fresh user; its
messages are observed one by one, as a chat turn would. ``--profile`` prints the top functions by
cumulative time (cProfile) of the timed calls. Two CPU figures: the request path's (the calling thread plus
the embedding model's request-path thread, which runs its forward passes: what the call itself costs) and
the process's (every thread, so background work running during a call counts against it). ``--isolated``
waits (untimed) for the background work after each call. ``--inline-tokens`` sets the SentenceExtractor's inline budget
(``none``: every turn is read inline, the behaviour before the budget); ``--eager``: the embedding model
runs eagerly instead of as its TorchScript trace.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from typing import Any

from memory import PreferenceMemory
from memory.eval.scoring import RequestPathClock
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
    parser.add_argument("--inline-tokens", default=None,
                        help="the SentenceExtractor's inline budget in word pieces ('none': no budget)")
    parser.add_argument("--isolated", action="store_true",
                        help="wait for the background work after each call (untimed): each call's own cost")
    parser.add_argument("--eager", action="store_true", help="run the embedding model eagerly (no trace)")
    parser.add_argument("--budgets", default=None,
                        help="side by side in one process: comma-separated inline budgets ('none': no budget), "
                             "each with its own model instance, the rows alternated between them")
    args = parser.parse_args()
    if args.budgets:
        side_by_side([None if b == "none" else int(b) for b in args.budgets.split(",")], args)
        return
    if args.eager:
        os.environ["PAD_MEMORY_EMBED_TRACE"] = "0"
    rows = [row for name in SETS for row in load_set(name, "dev")]
    extractors = default_extractors(classify_inline=False) if args.background else default_extractors()
    if args.inline_tokens is not None:
        budget = None if args.inline_tokens == "none" else int(args.inline_tokens)
        for extractor in extractors:
            if hasattr(extractor, "inline_tokens"):
                extractor.inline_tokens = budget
    with PreferenceMemory("sqlite:///:memory:", namespace="bench", extractor=extractors) as mem:
        started = time.perf_counter()
        mem.observe("warm-up", [{"role": "user", "content": "I love jazz and I hate country music."}])
        mem.flush()
        print(f"warm-up (model load, classifier and guard training): {time.perf_counter() - started:.2f} s")
        cpu: list[float] = []
        wall: list[float] = []
        own: list[float] = []
        request_path = RequestPathClock()
        deferred = 0
        profiler = cProfile.Profile() if args.profile else None
        for rep in range(args.repeat):
            for row in rows:
                uid = f"{rep}-{row['id']}"
                for message in row["messages"]:
                    request_path()  # finds the embedding thread once it exists, before the timed call
                    w, c, r = time.perf_counter(), time.process_time(), request_path()
                    if profiler:
                        profiler.enable()
                    result = mem.observe(uid, [message])
                    if profiler:
                        profiler.disable()
                    own.append(request_path() - r)
                    cpu.append(time.process_time() - c)
                    wall.append(time.perf_counter() - w)
                    deferred += bool(getattr(result, "deferred", False))  # (older stores lack it)
                    if args.isolated:
                        mem.flush()
            mem.flush()
    label = " ".join(sys.argv[1:]) or "default"
    print(f"[{label}] observe(): {len(cpu)} calls, {deferred} read off the caller's path; "
          f"request-path CPU p50 {pct(own, 0.5):.2f} ms, p99 {pct(own, 0.99):.2f} ms; "
          f"process CPU p50 {pct(cpu, 0.5):.2f} ms, p99 {pct(cpu, 0.99):.2f} ms; "
          f"wall p50 {pct(wall, 0.5):.2f} ms, p99 {pct(wall, 0.99):.2f} ms, max {max(wall) * 1000:.1f} ms")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def side_by_side(budgets: list[int | None], args: argparse.Namespace) -> None:
    """The same rows through one store per budget, each with its own encoder (no shared vector cache),
    classifier and guard, alternating which goes first row by row: the machine's load falls on all alike."""
    from memory.embedding import SentenceEncoder
    from memory.extractors.classifier import InstructionGuard, SentenceClassifier
    from memory.extractors.implicit import ImplicitExtractor
    from memory.extractors.sentences import SentenceExtractor

    rows = [row for name in SETS for row in load_set(name, "dev")]
    mems, lanes = [], []
    for budget in budgets:
        classifier = SentenceClassifier(SentenceEncoder())
        guard = InstructionGuard(classifier.encoder)
        extractors: list[Any] = [
            SentenceExtractor(classifier, guard=guard, inline_tokens=budget),
            ImplicitExtractor(classifier),
        ]
        mem = PreferenceMemory("sqlite:///:memory:", namespace="bench", extractor=extractors)
        mem.observe("warm-up", [{"role": "user", "content": "I love jazz and I hate country music."}])
        mem.flush()
        mems.append(mem)
        # The request path's CPU: the calling thread plus this encoder's inline forward-pass thread.
        lane = next(iter(classifier.encoder._executors["inline"]._threads))
        lanes.append(time.pthread_getcpuclockid(lane.ident))
    stats: list[dict[str, list[float]]] = [{"cpu": [], "wall": [], "own": []} for _ in budgets]
    deferred = [0] * len(budgets)
    for rep in range(args.repeat):
        for n, row in enumerate(rows):
            order = list(range(len(budgets)))
            if (n + rep) % 2:
                order.reverse()
            for i in order:
                mem, lane = mems[i], lanes[i]
                for message in row["messages"]:
                    w, c, r = time.perf_counter(), time.process_time(), time.thread_time() + time.clock_gettime(lane)
                    result = mem.observe(f"{rep}-{row['id']}", [message])
                    stats[i]["own"].append(time.thread_time() + time.clock_gettime(lane) - r)
                    stats[i]["cpu"].append(time.process_time() - c)
                    stats[i]["wall"].append(time.perf_counter() - w)
                    deferred[i] += bool(result.deferred)
                    if args.isolated:
                        mem.flush()
                mem.flush()
    for budget, st, d, mem in zip(budgets, stats, deferred, mems, strict=True):
        mem.close()
        print(f"[budget {budget}{' isolated' if args.isolated else ''}] observe(): {len(st['cpu'])} calls, "
              f"{d} read off the caller's path; request-path CPU p50 {pct(st['own'], 0.5):.2f} ms, "
              f"p99 {pct(st['own'], 0.99):.2f} ms; process CPU p50 {pct(st['cpu'], 0.5):.2f} ms, "
              f"p99 {pct(st['cpu'], 0.99):.2f} ms; wall p50 {pct(st['wall'], 0.5):.2f} ms, "
              f"p99 {pct(st['wall'], 0.99):.2f} ms")


if __name__ == "__main__":
    main()
