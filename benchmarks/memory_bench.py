"""Preference-memory benchmark (not a test): profile() and observe() latency at scale, and concurrent throughput.

    python benchmarks/memory_bench.py                       # 100k users / 1M messages in SQLite
    python benchmarks/memory_bench.py --users 10000 --messages 100000 --pg postgresql+psycopg://...

Prints p50/p99 of ``profile()`` over a populated SQLite database (bulk-loaded), of ``observe()`` with the
rule extractor, of the rule extractor alone, and observe throughput with N worker processes on SQLite and
(with --pg or PAD_TEST_POSTGRES_URL) PostgreSQL, with the error count. Targets: profile p99 < 2 ms,
observe p99 < 10 ms, rule extractor < 5 ms per turn, zero errors under concurrency.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from memory import PreferenceMemory
from memory.extractors.base import ExtractionContext
from memory.extractors.rules import RuleExtractor
from memory.loadgen import SCRIPT, observe_load
from memory.messages import TurnMessage

STYLE_ROWS = [
    ("verbosity", "concise"),
    ("formality", "casual"),
    ("expertise", "beginner"),
    ("format", "bullets"),
]
CONTENT_ROWS = [("diet", "vegetarian"), ("allergies", "peanuts"), ("likes", "jazz"), ("location", "Berlin")]
TURNS = [
    "Can you help me plan a trip to Japan? I'm vegetarian and I prefer short answers.",
    "How do I merge two dictionaries in Python?",
    "That was way too technical, please explain it like I'm a beginner.",
    "Actually, I eat fish now. Any sushi recommendations?",
    "I love hiking and photography; what should I pack?",
    "Thanks! What's the weather usually like in April?",
]


class Timer:
    """Wall and CPU time of each call: on a shared machine the CPU figure shows the cost without the queueing."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Timer:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append((time.perf_counter() - self._w) * 1000)
        self.cpu.append((time.process_time() - self._c) * 1000)

    def report(self) -> str:
        return f"wall {percentiles(self.wall)} | cpu {percentiles(self.cpu)}"


def percentiles(samples_ms: list[float]) -> str:
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return f"p50 {q[49]:.3f} ms  p99 {q[98]:.3f} ms  max {max(samples_ms):.3f} ms  (n={len(samples_ms)})"


def populate(url: str, users: int, messages: int, seed: int = 0) -> None:
    """Bulk-load users, messages and 2-4 active preferences per user (plus their add events)."""
    rng = random.Random(seed)
    with PreferenceMemory(url, namespace="bench", extractor=RuleExtractor()) as mem:
        raw = mem.engine.raw_connection()
    try:
        cur = raw.cursor()
        now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        stamp = now.isoformat(sep=" ").replace("+00:00", "")
        cur.execute("BEGIN")
        per_user = max(1, messages // users)
        cur.executemany(
            "INSERT INTO memory_users (pk, namespace, user_id, created_at, updated_at, message_count)"
            " VALUES (?, 'bench', ?, ?, ?, ?)",
            ((pk, f"user-{pk}", stamp, stamp, per_user) for pk in range(1, users + 1)),
        )

        def message_rows():
            for pk in range(1, users + 1):
                for i in range(per_user):
                    at = (now + timedelta(seconds=i)).isoformat(sep=" ").replace("+00:00", "")
                    role = "user" if i % 2 == 0 else "assistant"
                    yield (uuid.uuid4().hex, pk, role, TURNS[(pk + i) % len(TURNS)], at)

        cur.executemany(
            "INSERT INTO memory_messages (id, user_pk, role, content, created_at, truncated) VALUES (?, ?, ?, ?, ?, 0)",
            message_rows(),
        )

        def preference_rows():
            for pk in range(1, users + 1):
                for kind, value in rng.sample(STYLE_ROWS, 1) + rng.sample(CONTENT_ROWS, rng.randint(1, 3)):
                    key = value.lower() if kind in ("allergies", "likes") else ""
                    slot = f"opinion:{key}" if kind == "likes" else f"{kind}:{key}" if key else kind
                    yield (
                        uuid.uuid4().hex,
                        pk,
                        kind,
                        key,
                        slot,
                        value,
                        value,
                        1.0,
                        0.9,
                        "explicit",
                        "rules",
                        "active",
                        "[]",
                        stamp,
                        stamp,
                    )

        cur.executemany(
            "INSERT INTO memory_preferences (id, user_pk, kind, key, slot, value, text, weight, confidence, source,"
            " extractor, status, evidence, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            preference_rows(),
        )
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def bench_profile(url: str, users: int, samples: int) -> Timer:
    rng = random.Random(1)
    timer = Timer()
    with PreferenceMemory(url, namespace="bench", extractor=RuleExtractor()) as mem:
        for _ in range(200):  # warm the page cache and the connection pool
            mem.profile(f"user-{rng.randint(1, users)}")
        for _ in range(samples):
            uid = f"user-{rng.randint(1, users)}"
            with timer:
                prof = mem.profile(uid)
            assert prof.preferences, uid
    return timer


def bench_observe(url: str, users: int, samples: int) -> Timer:
    rng = random.Random(2)
    timer = Timer()
    with PreferenceMemory(url, namespace="bench", extractor=RuleExtractor()) as mem:
        for i in range(samples):
            uid = f"user-{rng.randint(1, users)}"
            turn = [
                {"role": "user", "content": TURNS[i % len(TURNS)]},
                {"role": "assistant", "content": "Sure."},
            ]
            with timer:
                mem.observe(uid, turn)
    return timer


def bench_rules(samples: int) -> Timer:
    rules = RuleExtractor()
    timer = Timer()
    for i in range(samples):
        ctx = ExtractionContext(
            [
                TurnMessage("assistant", "Would you like a short or a detailed answer?"),
                TurnMessage("user", TURNS[i % len(TURNS)]),
            ]
        )
        with timer:
            rules.extract(ctx)
    return timer


def bench_concurrency(
    url: str, workers: int, turns: int, extractor: str = "rules"
) -> tuple[float, int, int, list[float], list[float]]:
    with PreferenceMemory(url, namespace="load", extractor=RuleExtractor()):
        pass  # migrate once before the workers start
    users = [[f"shared-{w % 2}", f"own-{w}"] for w in range(workers)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        ex = [extractor] * workers
        list(pool.map(observe_load, [url] * workers, ["warm"] * workers, [["w"]] * workers, [1] * workers, ex))
        start = time.perf_counter()
        reports = list(pool.map(observe_load, [url] * workers, ["load"] * workers, users, [turns] * workers, ex))
        wall = time.perf_counter() - start
    observed = sum(r.observed for r in reports)
    errors = [e for r in reports for e in r.errors]
    for e in errors[:5]:
        print("   error:", e)
    waits = [x for r in reports for x in r.write_waits_ms]
    return observed / wall, observed, len(errors), [x for r in reports for x in r.latencies_ms], waits


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--turns", type=int, default=2 * len(SCRIPT), help="scripted turns per user per worker"
    )
    parser.add_argument(
        "--pg", default=os.environ.get("PAD_TEST_POSTGRES_URL"), help="PostgreSQL URL (optional)"
    )
    parser.add_argument("--db", help="SQLite file to (re)use; default: a temporary file")
    parser.add_argument(
        "--concurrency-only", action="store_true", help="only the N-process observe load (no 1M-row populate)"
    )
    parser.add_argument(
        "--extractor", choices=("rules", "default"), default="rules",
        help="extractor of the load workers (default: the rule extractor; 'default': PreferenceMemory()'s)",
    )
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        if args.concurrency_only:
            report_concurrency(args, tmp)
            return
        db = Path(args.db) if args.db else Path(tmp) / "bench.sqlite3"
        url = f"sqlite:///{db}"
        if not db.exists():
            start = time.perf_counter()
            populate(url, args.users, args.messages)
            print(
                f"populated {args.users} users / {args.messages} messages in {time.perf_counter() - start:.1f} s "
                f"({db.stat().st_size / 1e6:.0f} MB)"
            )
        prof = bench_profile(url, args.users, args.samples)
        print(f"profile()  SQLite, {args.users} users: {prof.report()}")
        obs = bench_observe(url, args.users, min(args.samples, 2_000))
        print(f"observe()  SQLite, rule extractor: {obs.report()}")
        rules = bench_rules(args.samples)
        print(f"rule extractor alone, per turn:   {rules.report()}")
        sqlite_load, pg_load = report_concurrency(args, tmp)
        q = lambda xs: statistics.quantiles(xs, n=100, method="inclusive")[98]  # noqa: E731
        print(
            "\ntargets: profile p99 < 2 ms: {}; observe p99 < 10 ms: {}; rules < 5 ms: {}; zero errors: {}".format(
                "met" if q(prof.wall) < 2 else "MISSED",
                "met" if q(obs.wall) < 10 else "MISSED",
                "met" if q(rules.wall) < 5 else "MISSED",
                "met" if sqlite_load[2] == 0 and (pg_load is None or pg_load[2] == 0) else "MISSED",
            )
        )


def report_concurrency(args: argparse.Namespace, tmp: str) -> tuple[tuple, tuple | None]:
    """N processes observing at once; the write wait is the time a write waited for SQLite's write lock
    (BEGIN IMMEDIATE) or PostgreSQL's connection before its transaction began (busy timeout: 30 s)."""
    sqlite_load = bench_concurrency(
        f"sqlite:///{Path(tmp) / 'load.sqlite3'}", args.workers, args.turns, args.extractor
    )
    print(
        f"observe throughput, {args.workers} processes, SQLite: {sqlite_load[0]:.0f} turns/s "
        f"({sqlite_load[1]} turns, {sqlite_load[2]} errors; latency {percentiles(sqlite_load[3])})"
    )
    print(f"   SQLite write wait ({args.workers} writing processes): {percentiles(sqlite_load[4])}")
    pg_load = None
    if args.pg:
        pg_load = bench_concurrency(args.pg, args.workers, args.turns, args.extractor)
        print(
            f"observe throughput, {args.workers} processes, PostgreSQL: {pg_load[0]:.0f} turns/s "
            f"({pg_load[1]} turns, {pg_load[2]} errors; latency {percentiles(pg_load[3])})"
        )
        print(f"   PostgreSQL write wait: {percentiles(pg_load[4])}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return sqlite_load, pg_load


if __name__ == "__main__":
    main()
