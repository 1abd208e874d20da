"""`pad serve` (one process) against `pad serve --ray --replicas N` on the same machine, same model, same load.

    python benchmarks/ray_serve_bench.py --db postgresql+psycopg://pad@127.0.0.1:55432/pad_test \
        [--model DIR] [--replicas 2] [--users 8] [--rounds 2] [--max-tokens 32] [--threads N] [--json]

Each server is started as the documented command in a subprocess, timed until it answers, then U users
(each with a tenant key's `user`) send R rounds of greedy chat completions at once through the real
`openai` client. Reported per server: start-up seconds, wall seconds, requests/s, completion tokens/s, and
p50/max request latency; under Ray also how many requests each replica answered. Both use the whole
machine: one process with a torch thread per core, the replicas with the cores split between them. On a
small machine this measures correctness and overhead, not the speed-up real hardware gives
(see docs/scaling.md).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai

QUESTIONS = ["How do I brew green tea?", "What is a good first houseplant?", "Explain what a prime number is.",
             "Suggest a short weekend hike plan."]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(cmd: list[str], url: str, key: str, threads: int) -> tuple[subprocess.Popen[str], float, list[str]]:
    began = time.monotonic()
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(threads))  # Ray's replicas inherit it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=env)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True).start()
    deadline = began + 600
    while True:
        if proc.poll() is not None:
            raise RuntimeError("server exited:\n" + "".join(output[-60:]))
        try:
            if httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=2).status_code == 200:
                return proc, time.monotonic() - began, output
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not come up")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def load(url: str, key: str, users: int, rounds: int, max_tokens: int) -> dict[str, Any]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=600)
    model = client.models.list().data[0].id
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
    latencies: list[float] = []
    tokens = 0
    replicas: Counter[str] = Counter()
    lock = threading.Lock()

    def one(n: int) -> None:
        nonlocal tokens
        began = time.monotonic()
        raw = client.chat.completions.with_raw_response.create(
            model=model, user=f"bench-{n % users}", temperature=0, max_tokens=max_tokens,
            messages=[{"role": "user", "content": QUESTIONS[n % len(QUESTIONS)]}])
        reply = raw.parse()
        with lock:
            latencies.append(time.monotonic() - began)
            tokens += reply.usage.completion_tokens if reply.usage else 0
            replicas[raw.headers.get("x-pad-replica", "-")] += 1

    began = time.monotonic()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(one, range(users * rounds)))
    wall = time.monotonic() - began
    return {"requests": len(latencies), "wall_s": round(wall, 2), "requests_per_s": round(len(latencies) / wall, 2),
            "tokens_per_s": round(tokens / wall, 1), "p50_s": round(statistics.median(latencies), 2),
            "max_s": round(max(latencies), 2), "by_replica": dict(replicas)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="PostgreSQL URL shared by the replicas")
    parser.add_argument("--model", help="model directory (default: the bundled default model)")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int,
                        help="torch threads of the single process (default: one per core; on a busy machine 1 "
                        "avoids oversubscribing the cores)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from memory import PreferenceMemory
    from pad_integrations.server.auth import KeyStore

    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    memory = PreferenceMemory(url=args.db, namespace=namespace)
    key = KeyStore(memory.engine).create("tenant", namespace=namespace, note="ray_serve_bench")[0]
    base = [sys.executable, "-m", "pad_integrations.cli", "serve", "--db", args.db, "--namespace", namespace,
            "--quiet", "--log-level", "warning", "--max-tokens", str(args.max_tokens)]
    if args.model:
        base += ["--model", args.model]
    results: dict[str, Any] = {"users": args.users, "rounds": args.rounds, "max_tokens": args.max_tokens,
                               "cpus": os.cpu_count()}
    try:
        # Both use the whole machine: one process with a thread per core, or the cores split between replicas.
        cores = os.cpu_count() or 1
        runs = (("one process", [], args.threads or cores),
                (f"ray, {args.replicas} replicas", ["--ray", "--replicas", str(args.replicas)],
                 max(1, cores // args.replicas)))
        for label, extra, threads in runs:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc, startup, _ = start([*base, "--port", str(port), *extra], url, key, threads)
            try:
                results[label] = {"startup_s": round(startup, 1), "threads_per_process": threads,
                                  **load(url, key, args.users, args.rounds, args.max_tokens)}
            finally:
                stop(proc)
    finally:
        KeyStore(memory.engine).revoke(key)
        memory.close()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for label, figures in results.items():
            print(f"{label}: {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
