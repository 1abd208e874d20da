"""observe() cost with the default extractors (not a test): CPU and wall p50/p99 per call over the dev split's
user messages, after a warm-up (model load and classifier training are one-off costs, reported apart).

    OMP_NUM_THREADS=1 python benchmarks/observe_cost.py [--profile] [--repeat 1] [--background]
        [--inline-tokens N|none] [--isolated] [--eager] [--then-profile] [--budgets A,B,...]

Each row of the dev sets (explicit, implicit, filler, changes, style, injection) is one fresh user; its
messages are observed one by one, as a chat turn would. ``--profile`` prints the top functions by
cumulative time (cProfile) of the timed calls. Two CPU figures: the request path's (the calling thread plus
the embedding model's request-path thread, which runs its forward passes: what the call itself costs) and
the process's (every thread, so background work running during a call counts against it). ``--isolated``
waits (untimed) for the background work after each call. ``--inline-tokens`` sets the SentenceExtractor's inline budget
(``none``: every turn is read inline, the behaviour before the budget); ``--eager``: the embedding model
runs eagerly instead of as its TorchScript trace. ``--then-profile``: each ``observe`` is followed at once
by ``profile()`` of the same user, what a chat turn that answers right after recording pays (``profile``
waits for, or runs, a reading ``observe`` deferred): ``observe`` + ``profile`` is then reported as well.
Each figure line ends with the load average (1, 5 min): the machine is shared, compare runs side by side.
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


def spread(values: list[float]) -> str:
    """p50/p90/p99 in milliseconds."""
    return f"p50 {pct(values, 0.5):.2f}, p90 {pct(values, 0.9):.2f}, p99 {pct(values, 0.99):.2f} ms"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


class Timings:
    """One lane's figures: ``observe`` alone (request-path CPU, process CPU, wall) and, with
    ``--then-profile``, ``observe`` + the ``profile()`` asked right after it (request-path CPU, wall)."""

    def __init__(self) -> None:
        self.own: list[float] = []
        self.cpu: list[float] = []
        self.wall: list[float] = []
        self.own_then_profile: list[float] = []
        self.wall_then_profile: list[float] = []
        self.deferred = 0

    def observe(self, mem: Any, uid: str, message: Any, request_path: Any, *, then_profile: bool) -> None:
        w, c, r = time.perf_counter(), time.process_time(), request_path()
        result = mem.observe(uid, [message])
        own, cpu, wall = request_path() - r, time.process_time() - c, time.perf_counter() - w
        self.own.append(own)
        self.cpu.append(cpu)
        self.wall.append(wall)
        self.deferred += bool(getattr(result, "deferred", False))  # (older stores lack it)
        if then_profile:
            w, r = time.perf_counter(), request_path()
            mem.profile(uid)
            self.own_then_profile.append(own + request_path() - r)
            self.wall_then_profile.append(wall + time.perf_counter() - w)

    def report(self, label: str) -> str:
        line = (f"[{label}] observe(): {len(self.own)} calls, {self.deferred} read off the caller's path; "
                f"request-path CPU {spread(self.own)}; process CPU p99 {pct(self.cpu, 0.99):.2f} ms; "
                f"wall p50 {pct(self.wall, 0.5):.2f}, p99 {pct(self.wall, 0.99):.2f} ms, max {max(self.wall) * 1000:.1f} ms")
        if self.own_then_profile:
            line += (f"\n[{label}] observe() + profile() at once: request-path CPU {spread(self.own_then_profile)}; "
                     f"wall p50 {pct(self.wall_then_profile, 0.5):.2f}, p99 {pct(self.wall_then_profile, 0.99):.2f} ms")
        return f"{line}; {load()}"


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
    parser.add_argument("--then-profile", action="store_true",
                        help="ask profile() right after each observe(), and report observe + profile as well")
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
        timings = Timings()
        request_path = RequestPathClock()
        profiler = cProfile.Profile() if args.profile else None
        for rep in range(args.repeat):
            for row in rows:
                uid = f"{rep}-{row['id']}"
                for message in row["messages"]:
                    request_path()  # finds the embedding thread once it exists, before the timed call
                    if profiler:
                        profiler.enable()
                    timings.observe(mem, uid, message, request_path, then_profile=args.then_profile)
                    if profiler:
                        profiler.disable()
                    if args.isolated:
                        mem.flush()
            mem.flush()
    print(timings.report(" ".join(sys.argv[1:]) or "default"))
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
    timings = [Timings() for _ in budgets]
    for rep in range(args.repeat):
        for n, row in enumerate(rows):
            order = list(range(len(budgets)))
            if (n + rep) % 2:
                order.reverse()
            for i in order:
                mem, lane = mems[i], lanes[i]

                def request_path(lane: int = lane) -> float:
                    return time.thread_time() + time.clock_gettime(lane)

                for message in row["messages"]:
                    timings[i].observe(mem, f"{rep}-{row['id']}", message, request_path, then_profile=args.then_profile)
                    if args.isolated:
                        mem.flush()
                mem.flush()
    for budget, timing, mem in zip(budgets, timings, mems, strict=True):
        mem.close()
        print(timing.report(f"budget {budget}{' isolated' if args.isolated else ''}"))

if __name__ == "__main__":
    main()
