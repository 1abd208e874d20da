"""Load: 16 threads and 4 processes at once, observe / profile / feedback over 200 users, SQLite and PostgreSQL.

Each worker keeps a model of what it stored; the union of the models must be exactly what the store
holds afterwards (nothing lost, nothing duplicated, nothing unexpected), and no error may reach a caller.
Ops per worker default to 40 to keep CI fast; ``PAD_LOAD_OPS=1000`` runs the issue's full figure
(the measured figures of both are in docs/reliability.md).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from memory import PreferenceMemory
from memory.extractors.rules import RuleExtractor

from .helpers import (
    LOAD_LIMITS,
    WorkerReport,
    audit,
    consistency_problems,
    figures,
    fresh_postgres_database,
    percentile,
    rss_mib,
    run_load_worker,
    tricky_user_ids,
    worker_report_from_file,
)

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

THREADS = 16
PROCESSES = 4
USERS = 200
OPS = int(os.environ.get("PAD_LOAD_OPS", "40"))
WORKER_SCRIPT = Path(__file__).with_name("load_worker.py")


def run_mixed_load(url: str, tmp_path: Path, backend: str) -> None:
    seed = int(os.environ.get("PAD_LOAD_SEED", random.randrange(1 << 30)))
    namespace = f"load-{uuid.uuid4().hex[:8]}"
    users = tricky_user_ids(USERS)
    mem = PreferenceMemory(url, namespace=namespace, limits=LOAD_LIMITS, extractor=RuleExtractor())  # migrates once before anyone else opens it
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    outs = [tmp_path / f"worker-{p}.json" for p in range(PROCESSES)]
    rss_before = rss_mib(os.getpid())[0]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), url, namespace, str(100 + p), str(OPS), str(USERS), str(seed), str(out)],
            env=env,
        )
        for p, out in enumerate(outs)
    ]
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            reports = list(pool.map(lambda w: run_load_worker(mem, w, OPS, users, seed=seed), range(THREADS)))
        codes = [proc.wait(timeout=600) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    elapsed = time.perf_counter() - started
    rss_growth = rss_mib(os.getpid())[0] - rss_before
    assert codes == [0] * PROCESSES, f"load worker processes exited with {codes}"
    merged = WorkerReport()
    for report in [*reports, *(worker_report_from_file(out) for out in outs)]:
        merged.merge(report)
    result = audit(mem, users, merged.expected)
    problems = consistency_problems(mem)
    total = sum(merged.ops.values())
    latency = {
        f"p50_{op}_ms": round(1000 * percentile(v, 0.5), 1) for op, v in sorted(merged.latencies.items())
    } | {f"p99_{op}_ms": round(1000 * percentile(v, 0.99), 1) for op, v in sorted(merged.latencies.items())}
    line = figures(
        f"load {backend}",
        threads=THREADS,
        processes=PROCESSES,
        users=USERS,
        ops=total,
        ops_per_s=round(total / merged.seconds),  # over the longest worker's own op loop
        wall_seconds=round(elapsed, 1),  # process start-up included
        errors=len(merged.errors),
        read_violations=len(merged.violations),
        lost=result.lost,
        duplicated=result.duplicated,
        unexpected=result.unexpected,
        message_mismatches=result.message_mismatches,
        feedback_mismatches=result.feedback_mismatches,
        thread_process_rss_growth_mib=round(rss_growth),
        worker_process_peak_rss_mib=round(merged.peak_rss_mib),
        seed=seed,
        **latency,
    )
    mem.close()
    assert total == (THREADS + PROCESSES) * OPS
    assert not merged.errors, f"{line}\n" + "\n".join(merged.errors[:5])
    assert not merged.violations, f"{line}\n" + "\n".join(merged.violations[:5])
    assert result.clean, f"{line}\n" + "\n".join(result.details[:5])
    assert not problems, problems


def test_load_on_sqlite_loses_and_duplicates_nothing(tmp_path):
    run_mixed_load(f"sqlite:///{tmp_path / 'load.db'}", tmp_path, "sqlite")


@pytest.mark.postgres
def test_load_on_postgres_loses_and_duplicates_nothing(postgres_url, tmp_path):
    with fresh_postgres_database(postgres_url) as url:
        run_mixed_load(url, tmp_path, "postgresql")
