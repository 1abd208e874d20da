"""Chatbot-backend benchmark (not a test): what concurrent users gain from batched decoding, and what the
HTTP layer costs.

    python benchmarks/server_bench.py                 # the demo model if installed, else a small local one
    python benchmarks/server_bench.py --model DIR --users 8 --tokens 32

One server (the real app on a loopback port, real SQLite memory) and N users, each with their own stored
preferences, asking one question each:

- sequential: the N requests one after another (each decodes alone);
- concurrent: the N requests at once (they share batched decodes);
- direct: the same N generations through ``GuidedGenerator.generate`` with no server at all.

Prints requests/s of each and the ratios measured side by side: concurrent over sequential (the batching
gain; target at least 2x at 8 users on CPU) and sequential over direct (the server's overhead per request;
target at most 1.3x). Decoding is greedy, so every method produces the same answers and token counts;
the best of ``--repeats`` runs is kept.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import openai
import uvicorn

from memory import PreferenceMemory
from pad_integrations import runtime
from pad_integrations.generation import GuidedGenerator
from pad_integrations.server import ServerConfig, create_app
from pad_integrations.server.auth import KeyStore

STYLES = [("verbosity", "concise"), ("formality", "casual"), ("expertise", "beginner"), ("format", "bullets"),
          ("verbosity", "detailed"), ("formality", "formal"), ("humor", "playful"), ("expertise", "expert")]
QUESTION = [{"role": "user", "content": "Tell me about the weather in spring."}]
TARGETS = {"concurrent_over_sequential": 2.0, "sequential_over_direct": 1.3}


def model_dir(workdir: Path, model: str | None) -> str:
    if model:
        return model
    try:
        from pad_integrations import demo

        return demo.model_path()
    except FileNotFoundError:
        from pad_integrations.testing.tiny_models import TinySpec, build_tiny_model

        spec = TinySpec(hidden_size=256, num_layers=4, num_heads=8, num_kv_heads=2, intermediate_size=768)
        return str(build_tiny_model(workdir / "bench-model", spec))


def serve(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, thread


def best_of(repeats: int, run: Any) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model directory (default: the demo model, else a small local one)")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=32, help="tokens per answer")
    parser.add_argument("--strategy", default="amulet")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pad-server-bench-") as tmp:
        path = model_dir(Path(tmp), args.model)
        generator = GuidedGenerator.from_pretrained(path)
        memory = PreferenceMemory(url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        users = [f"user{i}" for i in range(args.users)]
        for user, (kind, value) in zip(users, STYLES * args.users, strict=False):
            memory.set_preference(user, kind, value)
        config = ServerConfig(strategy=args.strategy, max_batch=args.users, max_pending=4 * args.users)
        url, server, thread = serve(create_app(generator, memory, config))
        key = KeyStore(memory.engine).create("tenant", namespace=memory.namespace)[0]  # the backend's key
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=600)
        model = client.models.list().data[0].id
        def ask(user: str) -> int:
            reply = client.chat.completions.create(model=model, messages=QUESTION, user=user,
                                                   max_tokens=args.tokens)
            return reply.usage.completion_tokens

        def sequential() -> None:
            for user in users:
                ask(user)

        decode_calls: list[int] = []

        def concurrent() -> None:
            before = runtime.get_decode_queue(generator).decodes
            with ThreadPoolExecutor(len(users)) as pool:
                list(pool.map(ask, users))
            decode_calls.append(runtime.get_decode_queue(generator).decodes - before)

        def direct() -> None:
            for user in users:
                generator.generate(QUESTION, preference=memory.profile(user), strategy=args.strategy,
                                   max_new_tokens=args.tokens)

        ask(users[0])  # warm-up
        timings = {}
        for name, run in (("direct", direct), ("sequential", sequential), ("concurrent", concurrent)):
            timings[name] = best_of(args.repeats, run)
        server.should_exit = True
        thread.join(timeout=30)
        memory.close()

    n = args.users
    print(f"model {path}, {n} users, {args.tokens} tokens each, strategy {args.strategy}, "
          f"torch threads {__import__('torch').get_num_threads()}")
    for name, seconds in timings.items():
        print(f"  {name:<11} {seconds:7.3f} s   {n / seconds:7.2f} requests/s")
    print(f"  concurrent runs took {', '.join(map(str, decode_calls))} batched decode calls for {n} requests")
    ratios = {
        "concurrent_over_sequential": timings["sequential"] / timings["concurrent"],
        "sequential_over_direct": timings["sequential"] / timings["direct"],
    }
    for name, value in ratios.items():
        kind = "at least" if name == "concurrent_over_sequential" else "at most"
        ok = value >= TARGETS[name] if kind == "at least" else value <= TARGETS[name]
        print(f"  {name:<27} {value:5.2f}x  (target {kind} {TARGETS[name]}x: {'met' if ok else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
