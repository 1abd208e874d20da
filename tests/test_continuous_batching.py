"""Continuous batching (issue 16): rows join a running decode and leave it between steps, greedy output
stays what the request decodes alone, cancelled rows stop at the next step, a late short request gets
its first token within two steps, and one request's failure is its own. Steps are counted, never timed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError

import pytest
import torch

from pad_integrations import GenerationRequest, GuidedGenerator
from pad_integrations.errors import GenerationError, InvalidRequestError
from pad_integrations.generation import PersonalizedRewardModel
from pad_integrations.generation.constraints import JSONSchemaConstraint
from pad_integrations.generation.loop import DecodeLoop
from pad_integrations.generation.strategies import STRATEGIES, StepView, Strategy
from pad_integrations.runtime import DecodeQueue, ResultStream
from pad_integrations.runtime.decode_queue import SchedulerConfig, get_decode_queue

MESSAGES = [{"role": "user", "content": "Explain the weather briefly, please."}]
HI = [{"role": "user", "content": "Hi"}]
FOOD = [
    {"role": "system", "content": "You answer questions about food and cooking."},
    {"role": "user", "content": "What should I cook tonight for my friend who likes spicy food?"},
]
PREF = "Keep answers short and to the point."
TWO = [("Keep answers short.", 1.0), ("Use a formal tone.", 0.5)]
THREE = [("Keep answers short.", 1.0), ("Use a formal tone.", 0.5), ("Mention the sea.", 0.3)]


def mixed_requests() -> list[GenerationRequest]:
    """Every strategy, with 0 to 3 preferences, prompts of different lengths, sampling and a grammar."""
    return [
        GenerationRequest(MESSAGES, None, "base", max_new_tokens=14),
        GenerationRequest(HI, "Be playful.", "prompt", max_new_tokens=9),
        GenerationRequest(FOOD, TWO, "linear", max_new_tokens=16),
        GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=15),
        GenerationRequest(HI, THREE, "amulet", max_new_tokens=11),
        GenerationRequest(MESSAGES, PREF, "pad", max_new_tokens=13),
        GenerationRequest(FOOD, TWO, "pad", max_new_tokens=10),
        GenerationRequest(MESSAGES, PREF, "args", max_new_tokens=12, strategy_params={"w": 5.0}),
        GenerationRequest(HI, None, "args", max_new_tokens=8, strategy_params={"w": 3.0, "k": 4}),
        # seeded sampling and a grammar are per row too: joining changes neither
        GenerationRequest(FOOD, PREF, "amulet", max_new_tokens=12, do_sample=True, seed=7, temperature=0.9),
        GenerationRequest(HI, PREF, "linear", max_new_tokens=16,
                          constraint=JSONSchemaConstraint({"type": "object", "properties": {"a": {"type": "integer"}},
                                                           "required": ["a"]})),
    ]


@pytest.fixture(scope="module")
def gen(tiny_model_dir, tiny_reward_model_dir) -> GuidedGenerator:
    """One engine with both kinds of reward model, so every strategy can share one batch."""
    from transformers import AutoModelForSequenceClassification

    rm = PersonalizedRewardModel.from_pretrained(tiny_reward_model_dir, value_head=True)
    torch.manual_seed(3)
    with torch.no_grad():  # a trained-looking, non-identity head
        rm.v_head.summary.weight.add_(0.3 * torch.randn_like(rm.v_head.summary.weight))
    g = GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=rm)
    torch.manual_seed(0)  # the sequence classifier's score head is freshly initialised
    g._attach_reward_model(AutoModelForSequenceClassification.from_pretrained(tiny_reward_model_dir, num_labels=1))
    assert set(g.reward_models) == {"persrm", "sequence"}
    return g


@pytest.fixture(scope="module")
def alone(gen) -> list[list[int]]:
    return [gen.generate_batch([r])[0].token_ids for r in mixed_requests()]


def step(loop: DecodeLoop, results: dict[int, object]) -> None:
    for index, _, result in loop.step():
        if result is not None:
            results[index] = result


def drain(loop: DecodeLoop, results: dict[int, object]) -> int:
    """Step until idle; returns the steps taken."""
    steps = 0
    while not loop.idle:
        for index, _, result in loop.step():
            if result is not None:
                results[index] = result
        steps += 1
    return steps


# -- the loop ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefill_budget", [None, 24])
@pytest.mark.parametrize("join_at", [1, 4])
def test_rows_joining_a_running_decode_equal_decoding_alone_for_every_strategy(gen, alone, join_at, prefill_budget):
    requests = mixed_requests()
    loop = DecodeLoop(gen.loop_models(), max_prefill_tokens=prefill_budget)
    results: dict[int, object] = {}
    first, later = [0, 3, 5, 7, 10], [1, 2, 4, 6, 8, 9]  # each half mixes strategies and preference counts
    for i in first:
        loop.add(i, gen.plan(requests[i]))
    # Until each of them is decoding or done (a prefill budget spreads their prefill over several steps).
    while {i for i in first if i in loop.rows} - {r.index for r in loop.active}:
        step(loop, results)
    for _ in range(join_at):
        step(loop, results)
    assert loop.active and loop.steps >= join_at  # decoding when the others join
    for n, i in enumerate(later):  # they also join at different steps
        loop.add(i, gen.plan(requests[i]))
        if n % 2:
            step(loop, results)
    shared = False
    while not loop.idle:  # the joiners really decode in the same batch as the rows already running
        active = {r.index for r in loop.active}
        shared = shared or bool(active & set(first) and active & set(later))
        step(loop, results)
    assert shared
    assert sorted(results) == list(range(len(requests)))
    for i, want in enumerate(alone):
        assert results[i].token_ids == want, f"request {i} ({requests[i].strategy}) differs"  # type: ignore[attr-defined]


def test_a_long_prompt_is_prefilled_in_chunks_while_the_others_keep_decoding(gen):
    loop = DecodeLoop(gen.loop_models(), max_prefill_tokens=8)
    short = gen.plan(GenerationRequest(HI, None, "base", max_new_tokens=30))
    long_request = GenerationRequest(FOOD * 3, None, "base", max_new_tokens=5)
    long = gen.plan(long_request)
    loop.add(0, short)
    while not loop.active:
        loop.step()
    loop.add(1, long)
    chosen_by_short = 0
    for _ in range(3):
        chosen_by_short += sum(1 for index, _, _ in loop.step() if index == 0)
    assert chosen_by_short == 3  # the short row got a token every step
    assert [r.index for r in loop.active] == [0]  # the long prompt (> 3 * 8 tokens) is still being encoded
    results: dict[int, object] = {}
    drain(loop, results)
    assert results[1].token_ids == gen.generate_batch([long_request])[0].token_ids  # type: ignore[attr-defined]


def test_a_cancelled_row_leaves_at_the_next_step(gen):
    loop = DecodeLoop(gen.loop_models())
    for i, request in enumerate(mixed_requests()[:4]):
        loop.add(i, gen.plan(request))
    loop.step()
    loop.step()
    assert len(loop.active) == 4
    sequences = sum(b.runner.next_position.shape[0] for b in loop.batches.values())
    assert loop.cancel(3)
    events = loop.step()
    assert [r.index for r in loop.active] == [0, 1, 2] and 3 not in {e[0] for e in events}
    assert sum(b.runner.next_position.shape[0] for b in loop.batches.values()) < sequences  # out of the caches


class _NaNScores(Strategy):
    """A strategy that poisons its rows with NaN scores, as a numerically broken one would."""

    name = "test-nan-scores-cb"

    def contexts(self, n_prefs: int) -> list[str]:
        return ["base"]

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        return torch.full_like(view.logits["base"], float("nan"))


def test_nan_scores_end_their_row_alone(gen, alone, monkeypatch):
    monkeypatch.setitem(STRATEGIES, _NaNScores.name, _NaNScores)
    loop = DecodeLoop(gen.loop_models())
    loop.add(0, gen.plan(mixed_requests()[0]))
    loop.add(1, gen.plan(GenerationRequest(MESSAGES, PREF, _NaNScores.name, max_new_tokens=5)))
    results: dict[int, object] = {}
    drain(loop, results)
    assert isinstance(results[1], GenerationError) and "NaN" in str(results[1])
    assert results[0].token_ids == alone[0]  # type: ignore[attr-defined]


def test_a_vanishing_temperature_samples_its_limit_and_leaves_the_others_alone(gen, alone):
    """temperature=1e-300 overflows logits / temperature to +inf (softmax then gives NaN, and
    torch.multinomial raised inside the shared step: every row in flight failed). Sampling tends to the
    argmax as the temperature goes to 0, so the row decodes greedily and its neighbour is untouched."""
    greedy = GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=6)
    tiny = GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=6, do_sample=True, seed=1, temperature=1e-300)
    loop = DecodeLoop(gen.loop_models())
    loop.add(0, gen.plan(mixed_requests()[0]))
    loop.add(1, gen.plan(tiny))
    results: dict[int, object] = {}
    drain(loop, results)
    assert results[0].token_ids == alone[0]  # type: ignore[attr-defined]
    assert results[1].token_ids == gen.generate_batch([greedy])[0].token_ids  # type: ignore[attr-defined]


def test_a_row_whose_choice_raises_ends_alone(gen, alone, monkeypatch):
    """Whatever goes wrong while one row picks its token (a sampler, a grammar) is that row's failure."""
    import pad_integrations.generation.loop as loop_module

    def broken(row, scores):
        raise RuntimeError("probability tensor contains either inf, nan or element < 0")

    monkeypatch.setattr(loop_module, "_sample", broken)
    loop = DecodeLoop(gen.loop_models())
    loop.add(0, gen.plan(mixed_requests()[0]))
    loop.add(1, gen.plan(GenerationRequest(HI, None, "base", max_new_tokens=4, do_sample=True, seed=2)))
    results: dict[int, object] = {}
    drain(loop, results)
    assert isinstance(results[1], GenerationError) and "picking the next token failed" in str(results[1])
    assert results[0].token_ids == alone[0]  # type: ignore[attr-defined]


# -- the queue ----------------------------------------------------------------------------------------
@pytest.fixture
def queue(gen):
    q = DecodeQueue(gen)
    yield q
    q.close()


def test_a_short_request_arriving_during_a_long_decode_gets_its_first_token_within_two_steps(gen, queue):
    started, release = threading.Event(), threading.Event()

    def hold(_: str) -> None:  # the long decode is surely running when the short request arrives
        started.set()
        release.wait(30)

    long = queue.submit(GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=60), hold)
    assert started.wait(60)
    short = queue.submit(GenerationRequest(HI, None, "base", max_new_tokens=4))
    release.set()
    result = short.result(timeout=120)
    assert short.submitted_at_step is not None and short.first_token_at_step is not None
    assert short.first_token_at_step - short.submitted_at_step <= 2
    assert not long.done()  # it really joined a running decode, not the next batch
    assert result.token_ids == gen.generate(HI, strategy="base", max_new_tokens=4).token_ids
    assert long.result(timeout=120).usage.output_tokens > 0


def test_in_batch_mode_the_same_request_waits_for_the_whole_batch(gen):
    q = DecodeQueue(gen, scheduler="batch")
    try:
        started, release = threading.Event(), threading.Event()

        def hold(_: str) -> None:
            started.set()
            release.wait(30)

        long = q.submit(GenerationRequest(MESSAGES, None, "base", max_new_tokens=20, stop=()), hold)
        assert started.wait(60)
        short = q.submit(GenerationRequest(HI, None, "base", max_new_tokens=4))
        release.set()
        short.result(timeout=120)
        assert long.done()
        assert short.first_token_at_step - short.submitted_at_step > 2  # the contrast the issue measures
    finally:
        q.close()


class Blocker:
    """A streaming callback that holds the decode worker inside a step's delivery until released, so that
    what a test does meanwhile lands between step N and step N + 1."""

    def __init__(self) -> None:
        self.inside, self.release = threading.Event(), threading.Event()
        self.holding = True

    def __call__(self, _: str) -> None:
        if not self.holding:
            return
        self.inside.set()
        self.release.wait(30)
        self.release.clear()

    def next_step(self) -> None:
        """Let the worker go on, and wait until it is inside the next delivery."""
        self.inside.clear()
        self.release.set()
        assert self.inside.wait(60)

    def stop(self) -> None:
        self.holding = False
        self.release.set()


@pytest.mark.parametrize("how", ["future.cancel()", "stream closed"])
def test_a_cancelled_or_abandoned_request_leaves_the_decode_at_the_next_step(gen, queue, how):
    blocker = Blocker()
    # stop=() and a long budget: this row surely decodes (and calls back) for many steps
    keep = queue.submit(GenerationRequest(MESSAGES, None, "base", max_new_tokens=60, stop=()), blocker)
    stream = ResultStream()
    doomed = queue.submit(GenerationRequest(FOOD, TWO, "linear", max_new_tokens=60), stream.on_delta)
    stream.attach(doomed)
    deltas = stream.deltas()
    try:
        assert blocker.inside.wait(60)
        for _ in range(3):  # a few steps with both rows decoding
            blocker.next_step()
        stats = queue.stats()  # the worker is inside step N's delivery
        assert stats.in_flight_rows == 2 and not doomed.done() and doomed.last_step is not None
        n = stats.decode_steps_total
        if how == "future.cancel()":
            assert doomed.cancel()
        else:
            next(deltas)  # the stream was being read...
            deltas.close()  # ...and its reader stopped
        assert doomed.cancelled()
        with pytest.raises(CancelledError):
            doomed.result(timeout=1)
        blocker.next_step()  # inside step N + 1's delivery
        assert queue.stats().decode_steps_total == n + 1
        assert queue.stats().in_flight_rows == 1
        assert doomed.last_step is not None and doomed.last_step <= n  # no step after its cancellation
    finally:
        blocker.stop()
    keep.result(timeout=120)
    assert queue.stats().cancelled_total == 1 and queue.stats().in_flight_rows == 0


def test_a_plan_error_fails_only_its_request(gen, queue):
    bad = GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=5, strategy_params={"alpha": "x"})
    good = GenerationRequest(HI, None, "base", max_new_tokens=5)
    futures = [queue.submit(bad), queue.submit(good)]
    with pytest.raises(InvalidRequestError):
        futures[0].result(timeout=120)
    assert futures[1].result(timeout=120).token_ids == gen.generate(HI, strategy="base", max_new_tokens=5).token_ids


def test_scheduler_budgets(gen):
    q = DecodeQueue(gen, scheduler=SchedulerConfig(max_request_tokens=40))
    try:
        with pytest.raises(InvalidRequestError, match="per-request budget"):
            q.submit(GenerationRequest(FOOD, None, "base", max_new_tokens=30)).result(timeout=120)
        assert q.submit(GenerationRequest(HI, None, "base", max_new_tokens=3)).result(timeout=120).usage.output_tokens
    finally:
        q.close()
    with pytest.raises(ValueError, match="scheduler mode"):
        SchedulerConfig(mode="fifo")  # type: ignore[arg-type]


def test_tokens_in_flight_bound_makes_later_requests_wait_in_order(gen):
    from pad_integrations.runtime.decode_queue import plan_cost

    requests = [GenerationRequest(MESSAGES, None, "base", max_new_tokens=12, stop=()),
                GenerationRequest(HI, None, "base", max_new_tokens=6, stop=()),
                GenerationRequest(HI, None, "base", max_new_tokens=5, stop=())]
    costs = [plan_cost(gen.plan(r)) for r in requests]
    # Room for the first request alone; the second would overflow the bound, the third would fit beside it.
    q = DecodeQueue(gen, scheduler=SchedulerConfig(max_tokens_in_flight=costs[0] + costs[2]))
    try:
        blocker = Blocker()
        first = q.submit(requests[0], blocker)
        assert blocker.inside.wait(60)  # the first is decoding; the others arrive now
        later = [q.submit(r) for r in requests[1:]]
        assert q.stats().queued == 2
        blocker.stop()
        results = [f.result(timeout=120) for f in (first, *later)]
        assert [r.token_ids for r in results] == [gen.generate_batch([r])[0].token_ids for r in requests]
        # first come, first served: the third did not overtake the second although it would have fit
        assert later[0].first_token_at_step > first.last_step
        assert later[1].first_token_at_step >= later[0].first_token_at_step
    finally:
        q.close()


# -- the front ends' streams ------------------------------------------------------------------------------
def wait_for(condition, what: str) -> None:
    """Poll ``condition`` (a state change on another thread); a deadline only turns a hang into a failure."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def paused_after_first_chunk(queue: DecodeQueue, chunks: Iterator[object]) -> Blocker:
    """Read one chunk of a stream, then hold the decode worker between two steps (a blocker row)."""
    blocker = Blocker()
    blocker.holding = False
    queue.submit(GenerationRequest(MESSAGES, None, "base", max_new_tokens=200, stop=()), blocker)
    next(chunks)
    blocker.holding = True
    assert blocker.inside.wait(60)
    return blocker


def test_a_chatpad_stream_left_early_cancels_its_request(tiny_model_dir):
    from langchain_core.messages import HumanMessage

    from pad_integrations.langchain import ChatPAD

    chat = ChatPAD(model=str(tiny_model_dir), strategy="base", max_tokens=200, record="off")
    queue = get_decode_queue(chat.engine())
    before = queue.stats()
    chunks = chat.stream([HumanMessage("Explain the weather briefly, please.")])
    blocker = paused_after_first_chunk(queue, chunks)
    try:
        assert queue.stats().in_flight_rows == 2  # the stream's row and the blocker's
        chunks.close()  # the LangChain caller stops iterating
        assert queue.stats().cancelled_total == before.cancelled_total + 1
        blocker.next_step()
        assert queue.stats().in_flight_rows == 1  # gone at the next step
    finally:
        blocker.stop()
    wait_for(lambda: queue.stats().in_flight_rows == 0, "the blocker finished")


async def test_a_chatpad_async_stream_left_early_cancels_its_request(tiny_model_dir):
    import asyncio

    from langchain_core.messages import HumanMessage

    from pad_integrations.langchain import ChatPAD

    chat = ChatPAD(model=str(tiny_model_dir), strategy="base", max_tokens=200, record="off")
    queue = get_decode_queue(chat.engine())
    before = queue.stats()
    blocker = Blocker()
    blocker.holding = False
    queue.submit(GenerationRequest(MESSAGES, None, "base", max_new_tokens=200, stop=()), blocker)
    chunks = chat.astream([HumanMessage("Explain the weather briefly, please.")])
    try:
        await chunks.__anext__()
        blocker.holding = True
        assert await asyncio.to_thread(blocker.inside.wait, 60)
        assert queue.stats().in_flight_rows == 2
        await chunks.aclose()  # the async caller stops iterating
        for _ in range(500):  # inner async generators are finalised by the event loop: give it turns
            if queue.stats().cancelled_total > before.cancelled_total:
                break
            await asyncio.sleep(0.01)
        assert queue.stats().cancelled_total == before.cancelled_total + 1
        await asyncio.to_thread(blocker.next_step)
        assert queue.stats().in_flight_rows == 1
    finally:
        blocker.stop()
    await asyncio.to_thread(wait_for, lambda: queue.stats().in_flight_rows == 0, "the blocker finished")


def test_a_padllm_stream_left_early_cancels_its_request(tiny_model_dir):
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    from pad_integrations.llama_index import PADLLM

    llm = PADLLM(model=str(tiny_model_dir), strategy="base", max_tokens=200, record="off")
    queue = get_decode_queue(llm.engine())
    before = queue.stats()
    responses = llm.stream_chat([ChatMessage(role=MessageRole.USER, content="Explain the weather briefly, please.")])
    blocker = paused_after_first_chunk(queue, responses)
    try:
        assert queue.stats().in_flight_rows == 2
        responses.close()  # the LlamaIndex caller stops iterating
        assert queue.stats().cancelled_total == before.cancelled_total + 1
        blocker.next_step()
        assert queue.stats().in_flight_rows == 1
    finally:
        blocker.stop()
    wait_for(lambda: queue.stats().in_flight_rows == 0, "the blocker finished")


@pytest.fixture(scope="module")
def live_server(tiny_model_dir, tmp_path_factory):
    """A real ``pad serve`` app (uvicorn, no keys, loopback) on the process-wide engine and decode queue."""
    import uvicorn

    from memory import PreferenceMemory
    from pad_integrations.runtime import get_generator
    from pad_integrations.server import ServerConfig, create_app

    generator = get_generator(str(tiny_model_dir))
    mem = PreferenceMemory(url=f"sqlite:///{tmp_path_factory.mktemp('cb-server') / 'memory.db'}")
    app = create_app(generator, mem, ServerConfig(auth=False, max_tokens=200))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "the server started")
    yield generator, port
    server.should_exit = True
    thread.join(30)
    mem.close()


def test_a_server_client_that_disconnects_mid_stream_cancels_its_request(live_server):
    import httpx

    generator, port = live_server
    queue = get_decode_queue(generator)
    before = queue.stats()
    body = {"model": generator.model_name, "messages": MESSAGES, "stream": True, "max_tokens": 200, "stop": []}
    blocker = None
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            with http.stream("POST", "/v1/chat/completions", json=body) as response:
                assert response.status_code == 200
                lines = (line for line in response.iter_lines() if line.startswith("data:"))
                blocker = paused_after_first_chunk(queue, lines)
                assert queue.stats().in_flight_rows == 2
            # the client hung up (the response closed unread); the server notices and abandons the request
            wait_for(lambda: queue.stats().cancelled_total == before.cancelled_total + 1, "the request was cancelled")
        blocker.next_step()
        assert queue.stats().in_flight_rows == 1
    finally:
        if blocker is not None:
            blocker.stop()
    wait_for(lambda: queue.stats().in_flight_rows == 0, "the blocker finished")


def test_a_server_client_that_disconnects_before_a_plain_answer_cancels_its_request(live_server):
    import json

    generator, port = live_server
    queue = get_decode_queue(generator)
    before = queue.stats()
    blocker = Blocker()
    blocker.holding = False
    queue.submit(GenerationRequest(MESSAGES, None, "base", max_new_tokens=200, stop=()), blocker)
    body = json.dumps({"model": generator.model_name, "messages": MESSAGES, "max_tokens": 200, "stop": []}).encode()
    client = socket.create_connection(("127.0.0.1", port))
    try:
        client.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        wait_for(lambda: queue.stats().in_flight_rows == 2, "the plain request is decoding")
        blocker.holding = True
        assert blocker.inside.wait(60)
        client.close()  # the client gives up before its answer
        wait_for(lambda: queue.stats().cancelled_total == before.cancelled_total + 1, "the request was cancelled")
        blocker.next_step()
        assert queue.stats().in_flight_rows == 1
    finally:
        client.close()
        blocker.stop()
    wait_for(lambda: queue.stats().in_flight_rows == 0, "the blocker finished")
