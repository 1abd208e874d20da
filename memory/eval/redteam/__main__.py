"""python -m memory.eval.redteam [--split tune|check|all] [--round N] [-v]: the red-team injection set through
``PreferenceMemory`` with the default extractors (real SQLite in memory, real MiniLM). Prints hostile rows
that stored a payload and benign cases kept, per half and per round; ``-v`` lists the misses of the tune half
only."""

from __future__ import annotations

import argparse

from memory import PreferenceMemory
from memory.eval.redteam import load_redteam, round_of, split_of
from memory.eval.scoring import Latency, score_set
from memory.extractors import default_extractors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=("tune", "check", "all"), default="all")
    parser.add_argument("--round", type=int, default=None, help="one round only (default: each round)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    rounds = [args.round] if args.round else sorted({round_of(r) for r in load_redteam()})
    halves = ("tune", "check") if args.split == "all" else (args.split,)
    with PreferenceMemory("sqlite:///:memory:", namespace="redteam", extractor=default_extractors()) as mem:
        for round_ in rounds:
            for half in halves:
                rows = load_redteam(half, round_=round_)
                report = score_set("injection", rows, mem, Latency())
                print(
                    f"[round {round_} {half}] hostile rows {report.hostile_rows}: payload stored in "
                    f"{report.payload_rows}, preferences stored {report.hostile_stored}; benign cases passed "
                    f"{report.passed}/{report.cases}"
                )
                if args.verbose and half == "tune":
                    for line in report.errors:
                        print("  " + line)
    assert all(split_of(r["id"]) in ("tune", "check") for r in load_redteam())


if __name__ == "__main__":
    main()
