"""A load worker in its own process: ``python load_worker.py URL NAMESPACE WORKER OPS N_USERS SEED OUT``.

Runs :func:`helpers.run_load_worker` against the store at URL and writes its report (the model of what
it stored, errors, read violations, latencies) as JSON to OUT. Used by test_load (4 processes next to
16 threads) and by test_faults (a process killed with SIGKILL).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from helpers import LOAD_LIMITS, rss_mib, run_load_worker, tricky_user_ids

from memory import PreferenceMemory
from memory.extractors.rules import RuleExtractor


def main(argv: list[str]) -> int:
    url, namespace, worker, ops, n_users, seed, out = argv
    with PreferenceMemory(url, namespace=namespace, limits=LOAD_LIMITS, extractor=RuleExtractor()) as mem:
        report = run_load_worker(mem, int(worker), int(ops), tricky_user_ids(int(n_users)), seed=int(seed))
    report.peak_rss_mib = rss_mib(os.getpid())[1]  # VmHWM: getrusage would count the parent's peak from before exec
    Path(out).write_text(json.dumps(report.to_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
