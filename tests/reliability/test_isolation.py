"""Isolation: 1,000 randomized concurrent calls for 50 users through ChatPAD, and 1,000 through the HTTP
server. Every user holds preferences whose values name their owner ("zq<user>w0n0"); no other user's
marker may ever appear in a call's trace, in any prompt the model is fed, or in a stored profile.

Prompts are read where they enter the model: every sequence prefilled into the KV cache (each context of
each row of each batched decode) must carry the markers of one user only.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from langchain_core.messages import HumanMessage

from memory import PreferenceMemory
from pad_integrations import GuidedGenerator
from pad_integrations.generation.batch import CachedBatch
from pad_integrations.langchain import ChatPAD
from pad_integrations.runtime import get_generator, user_context
from pad_integrations.server import ServerConfig, create_app
from pad_integrations.server.auth import KeyStore

from .helpers import MARKER, figures, marker, tricky_user_ids
from .servers import CLIENT_LIMITS, threaded_server

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

USERS = 50
CALLS = 1000
STRATEGIES = ("amulet", "linear", "prompt", "base")


def owners(text: str) -> set[int]:
    return {int(m.group(1)) for m in MARKER.finditer(text)}


def seed_users(mem: PreferenceMemory, users: list[str]) -> None:
    for i, user in enumerate(users):
        mem.set_preference(user, "diet", marker(i, 0, 0))
        mem.set_preference(user, "likes", marker(i, 0, 1))


class PrefillSpy:
    """Collects every token sequence prefilled into a KV cache (all contexts of all rows)."""

    def __init__(self) -> None:
        self.sequences: list[list[int]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = CachedBatch.begin  # every prefill starts here (one go or chunked, one-shot or continuous)
        spy = self

        def begin(self: CachedBatch, sequences: Any) -> Any:
            spy.sequences.extend(list(s) for s in sequences)
            return original(self, sequences)

        monkeypatch.setattr(CachedBatch, "begin", begin)

    def mixed(self, engine: GuidedGenerator) -> tuple[int, list[str]]:
        """(sequences seen, the decoded sequences that carry markers of more than one user)."""
        texts = [engine.tokenizer.decode(s) for s in self.sequences]
        return len(texts), [t for t in texts if len(owners(t)) > 1]

    def preference_owners(self, engine: GuidedGenerator) -> set[int]:
        """Users whose own seeded preference marker reached the model in some prefilled sequence."""
        texts = [engine.tokenizer.decode(s) for s in self.sequences]
        return {int(m.group(1)) for t in texts for m in SEEDED.finditer(t)}


# The markers seed_users stores (worker 0, ops 0 and 1); questions use worker 1.
SEEDED = re.compile(r"zq(\d+)w0n[01]")


def assert_the_spy_saw_every_user(spy: PrefillSpy, engine: GuidedGenerator, sequences: int) -> None:
    """'No leak' means something only if prompts were seen and carried each user's own preferences."""
    assert sequences >= CALLS, f"the prefill spy saw {sequences} sequences for {CALLS} calls"
    missing = set(range(USERS)) - spy.preference_owners(engine)
    assert not missing, f"no prefilled sequence carried the preferences of users {sorted(missing)}"


@pytest.fixture
def spy(monkeypatch) -> PrefillSpy:
    prefills = PrefillSpy()
    prefills.install(monkeypatch)
    return prefills


@pytest.fixture(scope="module")
def engine(tiny_model_dir) -> GuidedGenerator:
    return get_generator(str(tiny_model_dir))


def question(i: int, call: int) -> str:
    return f"Question {marker(i, 1, call)}: what about the weather?"


def check_profiles(mem: PreferenceMemory, users: list[str], calls_per_user: Counter[int]) -> None:
    for i, user in enumerate(users):
        history = mem.history(user)
        stored = " ".join([*(m.content for m in history.messages), *(p.value for p in history.preferences)])
        assert owners(stored) <= {i}, f"{user!r} holds another user's data: {owners(stored) - {i}}"
        assert owners(mem.profile(user).text) == {i}
        asked = sum(1 for m in history.messages if m.role == "user")
        assert asked == calls_per_user[i], f"{user!r}: {asked} turns stored for {calls_per_user[i]} calls"


def test_chatpad_never_shows_one_user_another_users_preferences(tiny_model_dir, engine, spy, tmp_path):
    users = tricky_user_ids(USERS)
    mem = PreferenceMemory(f"sqlite:///{tmp_path / 'isolation.db'}", namespace="isolation")
    seed_users(mem, users)
    chat = ChatPAD(model=str(tiny_model_dir), memory=mem, max_tokens=2, record="inline")
    rng = random.Random(17)
    plan = [(rng.randrange(USERS), rng.choice(STRATEGIES), rng.choice(("kwarg", "metadata", "configurable", "context")))
            for _ in range(CALLS)]
    replies: list[tuple[int, str, Any]] = []

    def call(n: int) -> None:
        i, strategy, how = plan[n]
        text, user = question(i, n), users[i]
        if how == "kwarg":
            reply = chat.invoke([HumanMessage(text)], user_id=user, strategy=strategy)
        elif how == "context":
            with user_context(user):
                reply = chat.invoke([HumanMessage(text)], strategy=strategy)
        else:
            key = "metadata" if how == "metadata" else "configurable"
            reply = chat.invoke([HumanMessage(text)], config={key: {"user_id": user}}, strategy=strategy)
        replies.append((i, strategy, reply))

    async def acall(chunk: list[int]) -> None:
        results = await chat.abatch(
            [[HumanMessage(question(plan[n][0], n))] for n in chunk],
            [{"metadata": {"user_id": users[plan[n][0]]}} for n in chunk],
        )
        replies.extend((plan[n][0], "amulet", r) for n, r in zip(chunk, results, strict=True))

    started = time.perf_counter()
    threaded, batched, asynced = range(0, 400), range(400, 700), range(700, CALLS)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(call, threaded))
    for start in range(batched.start, batched.stop, 25):
        chunk = list(range(start, min(start + 25, batched.stop)))
        results = chat.batch([[HumanMessage(question(plan[n][0], n))] for n in chunk],
                             [{"configurable": {"user_id": users[plan[n][0]]}} for n in chunk])
        replies.extend((plan[n][0], "amulet", r) for n, r in zip(chunk, results, strict=True))

    async def run_async() -> None:
        chunks = [list(range(s, min(s + 25, asynced.stop))) for s in range(asynced.start, asynced.stop, 25)]
        await asyncio.gather(*(acall(c) for c in chunks))

    asyncio.run(run_async())
    elapsed = time.perf_counter() - started
    chat.flush()

    assert len(replies) == CALLS
    for i, strategy, reply in replies:
        applied = " ".join(p["text"] for p in reply.response_metadata["preferences"])
        assert owners(applied) == {i}, f"user {i} ({strategy}) was steered by {applied!r}"
    sequences, mixed = spy.mixed(engine)
    calls_per_user = Counter(i for i, _, _ in replies)
    check_profiles(mem, users, calls_per_user)
    figures("isolation ChatPAD", calls=CALLS, users=USERS, calls_per_s=round(CALLS / elapsed, 1),
            prefilled_sequences=sequences, leaks=len(mixed))
    assert_the_spy_saw_every_user(spy, engine, sequences)
    assert not mixed, mixed[:2]
    mem.close()


def test_the_server_never_shows_one_user_another_users_preferences(engine, spy, tmp_path):
    users = tricky_user_ids(USERS)
    mem = PreferenceMemory(f"sqlite:///{tmp_path / 'server-isolation.db'}", namespace="isolation")
    seed_users(mem, users)
    app = create_app(engine, mem, ServerConfig(model_id="tiny", max_tokens=2, max_pending=CALLS))
    # Each user calls with a key of their own, as a user-facing client would (issue 13).
    store = KeyStore(mem.engine)
    keys = [store.create("user", namespace="isolation", user_id=user)[0] for user in users]
    rng = random.Random(23)
    plan = [(rng.randrange(USERS), rng.choice(STRATEGIES), rng.random() < 0.25) for _ in range(CALLS)]

    async def one(client: httpx.AsyncClient, gate: asyncio.Semaphore, n: int) -> tuple[int, dict]:
        i, strategy, stream = plan[n]
        body = {"model": "tiny", "user": users[i], "strategy": strategy, "stream": stream,
                "messages": [{"role": "user", "content": question(i, n)}]}
        async with gate:
            response = await client.post("/v1/chat/completions", json=body,
                                         headers={"Authorization": f"Bearer {keys[i]}"})
        assert response.status_code == 200, response.text
        if not stream:
            return i, response.json()["pad"]
        events = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
        return i, next(e["pad"] for e in events if "pad" in e)

    async def run(base_url: str) -> list[tuple[int, dict]]:
        gate = asyncio.Semaphore(128)
        # One connection per request: what is tested here is isolation, not keep-alive (see servers.py).
        headers = {"Connection": "close"}
        async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=CLIENT_LIMITS, headers=headers) as client:
            results = await asyncio.gather(*(one(client, gate, n) for n in range(CALLS)))
            for i, user in enumerate(users):
                got = await client.get(f"/v1/users/{quote(user, safe='')}/preferences",
                                       headers={"Authorization": f"Bearer {keys[i]}"})
                assert got.status_code == 200 and got.json()["user"] == user, got.text
                assert owners(json.dumps(got.json())) == {i}
            return results

    started = time.perf_counter()
    with threaded_server(app) as base_url:
        results = asyncio.run(run(base_url))
    elapsed = time.perf_counter() - started
    for i, pad in results:
        applied = " ".join(p["text"] for p in pad["preferences_applied"])
        assert pad["user"] == users[i] and owners(applied) == {i}, (i, pad)
    sequences, mixed = spy.mixed(engine)
    check_profiles(mem, users, Counter(i for i, _ in results))
    figures("isolation server", calls=CALLS, users=USERS, calls_per_s=round(CALLS / elapsed, 1),
            prefilled_sequences=sequences, leaks=len(mixed))
    assert_the_spy_saw_every_user(spy, engine, sequences)
    assert not mixed, mixed[:2]
    mem.close()
