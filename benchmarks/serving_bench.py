"""Serving benchmark (issue 16): continuous batching vs batch-at-a-time vs one-by-one ``model.generate``.

Not a test. The real default model (SmolLM2-135M-Instruct, ``pad_integrations.demo.model_path()``), and
the process-wide decode path every front end uses (:class:`DecodeQueue` + :class:`ResultStream`, the same
bridge the server, ChatPAD and PADLLM stream through), driven directly rather than over HTTP so that the
figures measure the scheduler, not uvicorn or JSON on a 2-core machine shared with other jobs.

Workload: ``--users`` simulated users (threads), each sending ``--requests`` streamed chat requests one
after the other, strategies mixed (base, prompt, linear, amulet); every fourth user disconnects from its
first request after ``--disconnect-after`` deltas (closes the stream). Greedy, ``--max-tokens`` each.

Modes, in one run: (continuous) DecodeQueue(scheduler="continuous"); (a) DecodeQueue(scheduler="batch"),
the former batch-at-a-time server; (b) one ``model.generate`` at a time (a FIFO worker, the prompt-steered
context of each request, TTFT through a transformers streamer; a disconnecting user's request is generated
only up to where it disconnects). Useful tokens = tokens the users received (completed requests, plus what
a disconnecting user got before it left).

Then two step-counted probes per queue mode: a short request arriving during a long decode (decode steps
from its submission to its first token), and 8 streams abandoned mid-decode (decode steps they still took
part in after being closed).

    nice .venv/bin/python benchmarks/serving_bench.py --max-tokens 48
"""

from __future__ import annotations

import argparse
import json
import queue as queue_mod
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

import torch
from transformers.generation.streamers import BaseStreamer

from pad_integrations import GenerationRequest, GuidedGenerator
from pad_integrations.runtime.bridge import ResultStream
from pad_integrations.runtime.decode_queue import DecodeQueue

STRATEGIES = ("base", "prompt", "linear", "amulet")
PREFERENCES = ("Keep answers short and to the point.", "Answer like a pirate.", "Use a formal tone.",
               "Mention a concrete example.")
QUESTIONS = (
    "What is a good way to start learning to cook?", "Explain what a neural network is.",
    "How do I keep houseplants alive?", "Give me tips for a job interview.",
    "Why is the sky blue?", "What should I pack for a weekend hike?",
    "How does a bicycle stay upright?", "Suggest a name for a bakery.",
)


@dataclass
class Outcome:
    ttft: float | None
    tokens: int


def request_for(user: int, turn: int, max_tokens: int) -> GenerationRequest:
    strategy = STRATEGIES[user % len(STRATEGIES)]
    preference = None if strategy == "base" else PREFERENCES[(user + turn) % len(PREFERENCES)]
    messages = [{"role": "user", "content": QUESTIONS[(user * 3 + turn) % len(QUESTIONS)]}]
    return GenerationRequest(messages, preference, strategy, max_new_tokens=max_tokens, stop=())


def disconnects(user: int, turn: int) -> bool:
    return user % 4 == 3 and turn == 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# -- the queue modes ----------------------------------------------------------------------------------
def run_queue(gen: GuidedGenerator, mode: str, args: argparse.Namespace) -> dict[str, float]:
    q = DecodeQueue(gen, max_batch_size=args.users * 2, scheduler=mode)  # type: ignore[arg-type]
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        for turn in range(args.requests):
            request = request_for(u, turn, args.max_tokens)
            stream = ResultStream()
            start = time.perf_counter()
            future = q.submit(request, stream.on_delta)
            stream.attach(future)
            first, seen = None, 0
            deltas = stream.deltas()
            for _ in deltas:
                first = first if first is not None else time.perf_counter() - start
                seen += 1
                if disconnects(u, turn) and seen >= args.disconnect_after:
                    deltas.close()
                    break
            tokens = seen if future.cancelled() else stream.result().usage.output_tokens
            with lock:
                outcomes.append(Outcome(first, tokens))

    began = time.perf_counter()
    threads = [threading.Thread(target=user, args=(u,)) for u in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    stats = q.stats()
    q.close()
    ttfts = [o.ttft for o in outcomes if o.ttft is not None]
    useful = sum(o.tokens for o in outcomes)
    return {"wall_s": wall, "ttft_p50_s": pct(ttfts, 0.5), "ttft_p99_s": pct(ttfts, 0.99), "useful_tokens": useful,
            "tokens_per_s": useful / wall, "decode_steps": stats.decode_steps_total,
            "tokens_decoded": stats.tokens_generated_total, "cancelled": stats.cancelled_total}


# -- (b) one model.generate at a time ------------------------------------------------------------------
class FirstToken(BaseStreamer):
    def __init__(self) -> None:
        self.calls = 0
        self.at: float | None = None

    def put(self, value: torch.Tensor) -> None:
        self.calls += 1
        if self.calls == 2 and self.at is None:  # the first call carries the prompt
            self.at = time.perf_counter()

    def end(self) -> None:
        pass


def run_one_by_one(gen: GuidedGenerator, args: argparse.Namespace) -> dict[str, float]:
    jobs: queue_mod.Queue[tuple[list[int], int, Future[tuple[float, int]]] | None] = queue_mod.Queue()

    def worker() -> None:
        while (job := jobs.get()) is not None:
            ids, budget, future = job
            streamer = FirstToken()
            with torch.inference_mode():
                out = gen.model.generate(
                    torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                    max_new_tokens=budget, do_sample=False, streamer=streamer, pad_token_id=gen.pad_token_id,
                )
            future.set_result((streamer.at or time.perf_counter(), int(out.shape[1] - len(ids))))

    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        for turn in range(args.requests):
            plan = gen.plan(request_for(u, turn, args.max_tokens))
            ids = plan.contexts.get("pref0", plan.contexts.get("base"))
            assert ids is not None
            budget = args.disconnect_after if disconnects(u, turn) else args.max_tokens
            future: Future[tuple[float, int]] = Future()
            start = time.perf_counter()
            jobs.put((ids, budget, future))
            at, tokens = future.result()
            with lock:
                outcomes.append(Outcome(at - start, tokens))

    runner = threading.Thread(target=worker)
    runner.start()
    began = time.perf_counter()
    threads = [threading.Thread(target=user, args=(u,)) for u in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    jobs.put(None)
    runner.join()
    ttfts = [o.ttft for o in outcomes if o.ttft is not None]
    useful = sum(o.tokens for o in outcomes)
    return {"wall_s": wall, "ttft_p50_s": pct(ttfts, 0.5), "ttft_p99_s": pct(ttfts, 0.99), "useful_tokens": useful,
            "tokens_per_s": useful / wall}


# -- step-counted probes -------------------------------------------------------------------------------
def probe_late_short_request(gen: GuidedGenerator, mode: str) -> int:
    """Decode steps between a short request's submission and its first token, during a long decode."""
    q = DecodeQueue(gen, scheduler=mode)  # type: ignore[arg-type]
    started = threading.Event()
    long = q.submit(GenerationRequest([{"role": "user", "content": QUESTIONS[1]}], PREFERENCES[0], "amulet",
                                      max_new_tokens=64, stop=()), lambda _: started.set())
    started.wait(120)
    short = q.submit(GenerationRequest([{"role": "user", "content": "Hi"}], None, "base", max_new_tokens=4))
    short.result(timeout=600)
    long.result(timeout=600)
    q.close()
    assert short.first_token_at_step is not None and short.submitted_at_step is not None
    return short.first_token_at_step - short.submitted_at_step


def probe_abandoned(gen: GuidedGenerator, mode: str) -> tuple[int, int]:
    """8 streams closed mid-decode: (most decode steps completed after the close that still included one
    of them, decode steps the queue had completed when no row of theirs was in flight any more). The
    worker runs freely, so the step in progress at the close finishes with them: 1 is the floor."""
    q = DecodeQueue(gen, scheduler=mode)  # type: ignore[arg-type]
    streams, futures = [], []
    for i in range(8):
        stream = ResultStream()
        request = GenerationRequest([{"role": "user", "content": QUESTIONS[i]}], PREFERENCES[i % 4],
                                    STRATEGIES[i % 4], max_new_tokens=64, stop=())
        future = q.submit(request, stream.on_delta)
        stream.attach(future)
        streams.append(stream.deltas())
        futures.append(future)
    for deltas in streams:
        for _, _ in zip(range(4), deltas, strict=False):  # each user read a few deltas...
            pass
    closed_at = q.stats().decode_steps_total
    for deltas in streams:  # ...then all of them disconnected
        deltas.close()
    while q.stats().in_flight_rows:
        time.sleep(0.01)
    extra = max(max(0, (f.last_step or 0) - closed_at) for f in futures)
    q.close()
    return extra, q.stats().decode_steps_total - closed_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2, help="requests per user, one after the other")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--disconnect-after", type=int, default=8, help="deltas a disconnecting user reads")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    gen = GuidedGenerator.from_pretrained()
    gen.generate([{"role": "user", "content": "Hi"}], max_new_tokens=2)  # warm up
    figures: dict[str, object] = {"threads": torch.get_num_threads(), "args": vars(args)}
    for name, fn in (("continuous", lambda: run_queue(gen, "continuous", args)),
                     ("batch", lambda: run_queue(gen, "batch", args)),
                     ("one_by_one", lambda: run_one_by_one(gen, args))):
        figures[name] = fn()
        print(name, json.dumps(figures[name]), flush=True)
    for mode in ("continuous", "batch"):
        figures[f"{mode}_late_short_first_token_steps"] = probe_late_short_request(gen, mode)
        figures[f"{mode}_abandoned_extra_steps"], figures[f"{mode}_abandoned_steps_until_free"] = (
            probe_abandoned(gen, mode)
        )
    c, a, b = figures["continuous"], figures["batch"], figures["one_by_one"]
    assert isinstance(c, dict) and isinstance(a, dict) and isinstance(b, dict)
    print(f"\n{'':28}{'continuous':>12}{'(a) batch':>12}{'(b) 1-by-1':>12}")
    for key in ("ttft_p50_s", "ttft_p99_s", "tokens_per_s", "wall_s", "useful_tokens"):
        print(f"{key:28}{c[key]:12.2f}{a[key]:12.2f}{b[key]:12.2f}")
    print(f"tokens/s ratio continuous / (a): {c['tokens_per_s'] / a['tokens_per_s']:.2f}   (target >= 1.5)")
    print(f"tokens/s ratio continuous / (b): {c['tokens_per_s'] / b['tokens_per_s']:.2f}   (target >= 3)")
    print(f"TTFT p50 ratio (a) / continuous: {a['ttft_p50_s'] / c['ttft_p50_s']:.2f}; "
          f"(b) / continuous: {b['ttft_p50_s'] / c['ttft_p50_s']:.2f}")
    for mode in ("continuous", "batch"):
        print(f"{mode}: short request during a long decode: first token after "
              f"{figures[f'{mode}_late_short_first_token_steps']} decode steps (target <= 2); "
              f"8 abandoned streams: in {figures[f'{mode}_abandoned_extra_steps']} step(s) completed after the close "
              f"(target <= 1: only the step already running when they closed), all rows gone "
              f"{figures[f'{mode}_abandoned_steps_until_free']} step(s) after it")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
