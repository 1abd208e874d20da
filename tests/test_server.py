"""The OpenAI-compatible server on a real loopback port, driven by the real ``openai`` client and httpx.

Most tests run the server in this process (uvicorn in a thread) around a real tiny model and a real
SQLite memory, so they can compare answers with the engine's own; the restart test starts ``pad serve``
as a subprocess, stops it with SIGTERM, and continues on a new server over the same database.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from memory import PreferenceMemory
from pad_integrations import runtime
from pad_integrations.generation import GenerationRequest
from pad_integrations.server import ServerConfig, create_app
from pad_integrations.server.auth import KeyStore

MAX_PENDING = 4
CONCISE = "Keep answers short and to the point."
QUESTION = [{"role": "user", "content": "Tell me about the cat."}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    app: Any

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(app: Any) -> LiveServer:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread, app)


@pytest.fixture(scope="module")
def generator(tiny_model_dir: Path) -> Any:
    return runtime.get_generator(str(tiny_model_dir))


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreferenceMemory]:
    mem = PreferenceMemory(url=f"sqlite:///{tmp_path_factory.mktemp('server-db') / 'memory.db'}")
    yield mem
    mem.close()


def tenant_key(memory: PreferenceMemory) -> str:
    """A key acting for every user of the memory's namespace (what an application backend holds)."""
    return KeyStore(memory.engine).create("tenant", namespace=memory.namespace)[0]


@pytest.fixture(scope="module")
def api_key(memory: PreferenceMemory) -> str:
    return tenant_key(memory)


@pytest.fixture(scope="module")
def live(generator: Any, memory: PreferenceMemory) -> Iterator[LiveServer]:
    config = ServerConfig(max_pending=MAX_PENDING, max_tokens=16, max_body_bytes=64 * 1024)
    server = start_server(create_app(generator, memory, config))
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key=api_key, max_retries=0, timeout=60)


@pytest.fixture
def http(live: LiveServer, api_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as c:
        yield c


def model_id(client: openai.OpenAI) -> str:
    return client.models.list().data[0].id


# --------------------------------------------------------------------------- the OpenAI surface


def test_models_and_health(
    client: openai.OpenAI, live: LiveServer, http: httpx.Client, tiny_model_dir: Path
) -> None:
    models = client.models.list().data
    assert [m.id for m in models] == [tiny_model_dir.name]
    assert httpx.get(f"{live.url}/healthz").json() == {"status": "ok"}  # without a key: liveness only
    health = http.get("/healthz").json()
    assert health["status"] == "ok" and health["model"] == tiny_model_dir.name
    assert health["requests"]["capacity"] == MAX_PENDING


def test_completion_is_the_engines_answer_with_exact_usage(client: openai.OpenAI, generator: Any) -> None:
    reply = client.chat.completions.create(model=model_id(client), messages=QUESTION, max_tokens=8)
    expected = generator.generate(QUESTION, strategy="amulet", max_new_tokens=8)
    choice = reply.choices[0]
    assert reply.id.startswith("chatcmpl-") and reply.object == "chat.completion"
    assert choice.message.role == "assistant" and choice.message.content == expected.text
    assert choice.finish_reason == expected.finish_reason
    assert reply.usage.prompt_tokens == generator.count_tokens(QUESTION) == expected.usage.input_tokens
    assert reply.usage.completion_tokens == expected.usage.output_tokens <= 8
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.model_extra["pad"] == {"strategy": "amulet", "user": None, "preferences_applied": []}


def test_stream_yields_the_same_text_then_usage_then_done(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    model = model_id(client)
    whole = client.chat.completions.create(model=model, messages=QUESTION, max_tokens=12)
    chunks = list(
        client.chat.completions.create(
            model=model, messages=QUESTION, max_tokens=12, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == whole.usage.total_tokens
    assert len({c.id for c in chunks}) == 1

    body = {"model": model, "messages": QUESTION, "max_tokens": 4, "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"


def test_a_client_leaving_mid_stream_costs_nothing_lasting(client: openai.OpenAI, http: httpx.Client) -> None:
    body = {"model": model_id(client), "messages": QUESTION, "max_tokens": 16, "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        first = next(response.iter_lines())
        assert first.startswith("data: ")
    deadline = time.monotonic() + 30
    while http.get("/healthz").json()["requests"]["in_progress"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    again = client.chat.completions.create(model=model_id(client), messages=QUESTION, max_tokens=4)
    assert again.choices[0].message.content is not None


def test_sampling_parameters_and_stop_are_honoured(client: openai.OpenAI, generator: Any) -> None:
    model = model_id(client)
    short = client.chat.completions.create(model=model, messages=QUESTION, max_completion_tokens=2)
    assert short.usage.completion_tokens <= 2
    full = generator.generate(QUESTION, max_new_tokens=12).text
    stop = full[3:6]
    if stop.strip():
        stopped = client.chat.completions.create(model=model, messages=QUESTION, max_tokens=12, stop=[stop])
        assert stop not in stopped.choices[0].message.content
        assert stopped.choices[0].finish_reason == "stop"
    seeded = [
        client.chat.completions.create(model=model, messages=QUESTION, max_tokens=8, temperature=1.0, seed=7)
        .choices[0].message.content
        for _ in range(2)
    ]
    assert seeded[0] == seeded[1]


# --------------------------------------------------------------------------- users and preferences


def test_user_field_selects_preferences_and_users_stay_isolated(
    client: openai.OpenAI, http: httpx.Client, generator: Any, memory: PreferenceMemory
) -> None:
    put = http.put("/v1/users/iso-alice/preferences",
                   json={"preferences": [{"kind": "verbosity", "value": "concise"}]})
    assert put.status_code == 200, put.text
    model = model_id(client)

    def ask(user: str) -> Any:
        return client.chat.completions.create(model=model, messages=QUESTION, max_tokens=10, user=user)

    with ThreadPoolExecutor(2) as pool:  # concurrently: the two rows share decodes
        alice, bob = pool.map(ask, ["iso-alice", "iso-bob"])
    assert alice.model_extra["pad"]["preferences_applied"] == [{"text": CONCISE, "weight": 1.0}]
    assert bob.model_extra["pad"]["preferences_applied"] == []
    alice_alone = generator.generate(QUESTION, preference=memory.profile("iso-alice"), max_new_tokens=10)
    bob_alone = generator.generate(QUESTION, max_new_tokens=10)
    assert alice.choices[0].message.content == alice_alone.text
    assert bob.choices[0].message.content == bob_alone.text
    assert http.get("/v1/users/iso-bob/preferences").json()["preferences"] == []


def test_a_stated_preference_is_learned_and_steers_the_next_answer(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    model = model_id(client)
    first = client.chat.completions.create(
        model=model, user="learner", max_tokens=6,
        messages=[{"role": "system", "content": "You are helpful."},
                  {"role": "user", "content": "I prefer short answers, please."}],
    )
    assert first.model_extra["pad"]["preferences_applied"] == []
    # Read-your-writes: the observation of the turn above is waited for, no sleeping needed.
    prefs = http.get("/v1/users/learner/preferences").json()
    assert [(p["kind"], p["value"], p["source"]) for p in prefs["preferences"]] == [("verbosity", "concise", "explicit")]
    assert CONCISE in prefs["text"]
    history = [{"role": "user", "content": "I prefer short answers, please."},
               {"role": "assistant", "content": first.choices[0].message.content},
               {"role": "user", "content": "What is tea?"}]
    second = client.chat.completions.create(model=model, user="learner", max_tokens=6, messages=history)
    assert [p["text"] for p in second.model_extra["pad"]["preferences_applied"]] == [CONCISE]
    assert http.get("/v1/users/someone-else/preferences").json()["preferences"] == []


def test_only_the_new_part_of_a_resent_conversation_is_stored(
    client: openai.OpenAI, memory: PreferenceMemory
) -> None:
    model = model_id(client)
    history: list[dict[str, str]] = []
    for text in ["Hello there.", "Tell me more."]:
        history.append({"role": "user", "content": text})
        reply = client.chat.completions.create(model=model, user="resender", messages=history, max_tokens=4)
        history.append({"role": "assistant", "content": reply.choices[0].message.content})
    flush_turns(memory)
    stored = [(m.role, m.content) for m in memory.history("resender").messages]
    assert stored == [(m["role"], m["content"]) for m in history]


def flush_turns(memory: PreferenceMemory) -> None:
    from pad_integrations.runtime import recorder_for

    recorder_for(memory).flush(timeout=30)


def test_preferences_endpoints_put_get_delete(http: httpx.Client) -> None:
    url = "/v1/users/crud/preferences"
    body = {"preferences": [{"kind": "verbosity", "value": "concise", "weight": 2.0},
                            {"kind": "diet", "value": "vegetarian"}]}
    put = http.put(url, json=body).json()
    assert {(p["kind"], p["value"], p["weight"]) for p in put["preferences"]} == {
        ("verbosity", "concise", 2.0), ("diet", "vegetarian", 1.0)}
    assert http.get(url).json() == put

    http.put(url, json={"preferences": [{"kind": "likes", "value": "jazz"}, {"kind": "likes", "value": "rock"}]})
    both = {p["value"] for p in http.get(url).json()["preferences"] if p["kind"] == "likes"}
    assert both == {"jazz", "rock"}
    replaced = http.put(url, json={"preferences": [{"kind": "formality", "value": "casual"},
                                                   {"kind": "likes", "value": "jazz"}], "replace": True})
    assert sorted((p["kind"], p["value"]) for p in replaced.json()["preferences"]) == [
        ("formality", "casual"), ("likes", "jazz")]
    http.delete(url, params={"kind": "likes"})

    http.put(url, json={"preferences": [{"kind": "diet", "value": "vegan"}]})
    one = http.delete(url, params={"kind": "diet"}).json()
    assert one == {"user": "crud", "kind": "diet", "removed": 1}
    assert [p["kind"] for p in http.get(url).json()["preferences"]] == ["formality"]
    everything = http.delete(url).json()
    assert everything["removed"] > 0
    assert http.get(url).json() == {"user": "crud", "preferences": [], "text": ""}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"preferences": [{"kind": "verbosity", "value": "concise", "weight": 0}]}, "weight"),
        ({"preferences": [{"kind": "verbosity", "value": "concise", "colour": "red"}]}, "colour"),
        ({"preferences": [{"kind": "Not A Kind!", "value": "x"}]}, "kind"),
        ({}, "preferences"),
    ],
)
def test_bad_preference_bodies_get_400(http: httpx.Client, body: dict, fragment: str) -> None:
    response = http.put("/v1/users/bad/preferences", json=body)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["error"]["message"]
    assert http.get("/v1/users/bad/preferences").json()["preferences"] == []


# --------------------------------------------------------------------------- errors, limits, auth


def test_malformed_json_gets_a_clear_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", content=b'{"model": "x", "messages": [',
                         headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "not valid JSON" in error["message"] and error["type"] == "invalid_request_error"


def test_oversized_bodies_get_413_announced_or_chunked(http: httpx.Client) -> None:
    big = json.dumps({"model": "x", "messages": [{"role": "user", "content": "a" * 100_000}]}).encode()
    response = http.post("/v1/chat/completions", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "limit" in response.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted as the body arrives
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    response = http.post("/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"messages": []}, "messages"),
        ({"n": 2}, "n=1"),
        ({"temperature": 3}, "temperature"),
        ({"strategy": "telepathy"}, "telepathy"),
        ({"strategy_params": {"bogus_param": 1}}, "bogus_param"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages"),
        ({"user": "   "}, "user"),
        ({"tool_choice": "required"}, "tool_choice"),
    ],
)
def test_invalid_requests_get_400_naming_the_problem(
    client: openai.OpenAI, change: dict, param: str
) -> None:
    extra = {k: change.pop(k) for k in ("strategy", "strategy_params") if k in change}
    body: dict[str, Any] = {"model": model_id(client), "messages": QUESTION, **change}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**body, extra_body=extra or None)
    assert info.value.status_code == 400
    assert param in info.value.body["message"] or param == info.value.body.get("param")


def test_a_strategy_whose_reward_model_is_missing_is_refused_up_front(
    client: openai.OpenAI, http: httpx.Client, generator: Any, memory: PreferenceMemory
) -> None:
    from pad_integrations.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="PersRM"):
        create_app(generator, memory, ServerConfig(strategy="pad"))
    http.put("/v1/users/rm-less/preferences",
             json={"preferences": [{"kind": "verbosity", "value": "concise"}]}).raise_for_status()
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError, match="PersRM"):
            client.chat.completions.create(model=model_id(client), messages=QUESTION, user="rm-less",
                                           stream=stream, extra_body={"strategy": "pad"})
    # Without preferences nothing is steered, so no reward model is read.
    plain = client.chat.completions.create(model=model_id(client), messages=QUESTION, max_tokens=2,
                                           extra_body={"strategy": "pad"})
    assert plain.model_extra["pad"]["strategy"] == "pad"


def test_unknown_model_and_route_get_404(client: openai.OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError, match="gpt-4o"):
        client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    response = http.get("/v1/nothing-here")
    assert response.status_code == 404 and "error" in response.json()


def test_context_window_overflow_is_a_400(client: openai.OpenAI, generator: Any) -> None:
    long = [{"role": "user", "content": "cat " * (generator.context_window + 10)}]
    with pytest.raises(openai.BadRequestError, match="context window"):
        client.chat.completions.create(model=model_id(client), messages=long)


def test_a_key_is_required_everywhere(live: LiveServer) -> None:
    for path in ("/v1/models", "/docs", "/openapi.json", "/v1/users/alice/preferences"):
        assert httpx.get(f"{live.url}{path}").status_code == 401
    assert httpx.get(f"{live.url}/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    wrong = openai.OpenAI(base_url=f"{live.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    assert httpx.get(f"{live.url}/healthz").status_code == 200


# --------------------------------------------------------------------------- batching and backpressure


def test_concurrent_requests_share_one_decode_and_a_full_server_says_429(
    client: openai.OpenAI, http: httpx.Client, generator: Any
) -> None:
    queue = runtime.get_decode_queue(generator)
    release = threading.Event()
    started = threading.Event()

    def hold(_delta: str) -> None:  # keeps the decode worker busy until released
        started.set()
        release.wait(30)

    # Long enough that some text is surely emitted (a lone token may be an incomplete UTF-8 byte).
    blocker = queue.submit(GenerationRequest(QUESTION, strategy="base", max_new_tokens=16), hold)
    assert started.wait(30)
    decodes_before = queue.decodes
    model = model_id(client)
    users = [f"batch-{i}" for i in range(MAX_PENDING)]
    try:
        with ThreadPoolExecutor(MAX_PENDING) as pool:
            futures = [pool.submit(client.chat.completions.create, model=model, messages=QUESTION,
                                   max_tokens=6, user=u) for u in users]
            deadline = time.monotonic() + 30
            while http.get("/healthz").json()["requests"]["in_progress"] < MAX_PENDING:
                assert time.monotonic() < deadline, "requests were not admitted"
                time.sleep(0.02)
            with pytest.raises(openai.RateLimitError) as info:
                client.chat.completions.create(model=model, messages=QUESTION, max_tokens=2)
            assert info.value.response.headers["retry-after"] == "1"
            release.set()
            replies = [f.result(timeout=60) for f in futures]
    finally:
        release.set()
    blocker.result(timeout=30)
    assert all(r.choices[0].message.content is not None for r in replies)
    # Everything that waited behind the blocker was decoded in one batch.
    assert queue.decodes - decodes_before == 1
    assert http.get("/healthz").json()["requests"]["in_progress"] == 0


def test_tools_are_accepted_and_passed_to_the_template(client: openai.OpenAI) -> None:
    tool = {"type": "function", "function": {"name": "magic_function", "description": "Applies magic.",
                                             "parameters": {"type": "object",
                                                            "properties": {"input": {"type": "integer"}}}}}
    reply = client.chat.completions.create(model=model_id(client), messages=QUESTION, tools=[tool], max_tokens=4)
    # The tools block is part of the prompt, so it is counted.
    assert reply.usage.prompt_tokens > client.chat.completions.create(
        model=model_id(client), messages=QUESTION, max_tokens=1).usage.prompt_tokens
    assert reply.choices[0].finish_reason in ("stop", "length", "tool_calls")


# --------------------------------------------------------------------------- pad serve, restarts


@contextmanager
def pad_serve(*args: str) -> Iterator[str]:
    """``pad serve`` in a subprocess on a free port; stopped with SIGTERM, which must be clean."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pad_integrations.cli", "serve", "--port", str(port), "--log-level", "warning",
         "--quiet", *args],
        env=dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"pad serve exited {proc.returncode}:\n{proc.stdout.read()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "pad serve did not come up"
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        output = proc.stdout.read()
        proc.stdout.close()
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it: the conventional exit status.
        assert proc.returncode in (0, -signal.SIGTERM), f"pad serve failed ({proc.returncode}):\n{output}"
        assert "Traceback" not in output, output


@pytest.mark.slow
def test_pad_serve_restart_keeps_preferences_and_the_last_turn(
    tiny_model_dir: Path, tmp_path: Path, generator: Any
) -> None:
    db = f"sqlite:///{tmp_path / 'restart.db'}"
    conversation = [{"role": "user", "content": "Please keep it casual."}]
    made = subprocess.run([sys.executable, "-m", "pad_integrations.cli", "keys", "create", "--db", db, "--user",
                           "alice"], capture_output=True, text=True, check=True)
    key = made.stdout.splitlines()[-1]  # the key alone on the last line
    with pad_serve("--db", db, "--model", str(tiny_model_dir), "--max-tokens", "6") as url:
        assert httpx.get(f"{url}/v1/models").status_code == 401  # keys are required by default
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
        model = client.models.list().data[0].id
        httpx.put(f"{url}/v1/users/alice/preferences", headers={"Authorization": f"Bearer {key}"},
                  json={"preferences": [{"kind": "verbosity", "value": "concise"}]}).raise_for_status()
        reply = client.chat.completions.create(model=model, messages=conversation, user="alice")
        conversation.append({"role": "assistant", "content": reply.choices[0].message.content})
        # SIGTERM right after the reply: the turn's observation must still reach the database.

    conversation.append({"role": "user", "content": "What is tea?"})
    memory = PreferenceMemory(url=db)
    server = start_server(create_app(generator, memory, ServerConfig(max_tokens=6)))
    try:
        # The key lives in the database too: it works on the new server.
        prefs = httpx.get(f"{server.url}/v1/users/alice/preferences",
                          headers={"Authorization": f"Bearer {key}"}).json()["preferences"]
        assert {(p["kind"], p["value"]) for p in prefs} == {("verbosity", "concise"), ("formality", "casual")}
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
        reply = client.chat.completions.create(model=model, messages=conversation)  # alice's key: alice
        applied = {p["text"] for p in reply.model_extra["pad"]["preferences_applied"]}
        assert applied == {CONCISE, "Use a casual, friendly tone."}
        with pytest.raises(openai.PermissionDeniedError):  # her key cannot act as bob
            client.chat.completions.create(model=model, messages=conversation, user="bob")
        bob = openai.OpenAI(base_url=f"{server.url}/v1", api_key=tenant_key(memory), max_retries=0)
        other = bob.chat.completions.create(model=model, messages=conversation, user="bob")
        assert other.model_extra["pad"]["preferences_applied"] == []
    finally:
        server.stop()
        memory.close()


# --------------------------------------------------------------------------- scale-out on PostgreSQL


@pytest.mark.postgres
def test_two_workers_on_one_postgresql_share_every_user(postgres_url: str, generator: Any) -> None:
    """Workers are stateless: what one learns or is told, the other serves at once."""
    namespace = f"server-{os.getpid()}-{time.monotonic_ns()}"
    memories = [PreferenceMemory(url=postgres_url, namespace=namespace) for _ in range(2)]
    servers = [start_server(create_app(generator, m, ServerConfig(max_tokens=4))) for m in memories]
    key = tenant_key(memories[0])  # one key table in the shared database: valid on both workers
    headers = {"Authorization": f"Bearer {key}"}
    try:
        a, b = (openai.OpenAI(base_url=f"{s.url}/v1", api_key=key, max_retries=0) for s in servers)
        model = model_id(a)
        a.chat.completions.create(model=model, user="pat", max_tokens=4,
                                  messages=[{"role": "user", "content": "Please keep it casual."}])
        httpx.put(f"{servers[0].url}/v1/users/pat/preferences", headers=headers,
                  json={"preferences": [{"kind": "diet", "value": "vegetarian"}]}).raise_for_status()
        flush_turns(memories[0])
        seen = httpx.get(f"{servers[1].url}/v1/users/pat/preferences", headers=headers).json()["preferences"]
        assert {(p["kind"], p["value"]) for p in seen} == {("formality", "casual"), ("diet", "vegetarian")}
        reply = b.chat.completions.create(model=model, user="pat", messages=QUESTION, max_tokens=4)
        assert len(reply.model_extra["pad"]["preferences_applied"]) == 2
        assert httpx.delete(f"{servers[1].url}/v1/users/pat/preferences", headers=headers).json()["removed"] > 0
        assert httpx.get(f"{servers[0].url}/v1/users/pat/preferences", headers=headers).json()["preferences"] == []
    finally:
        for server in servers:
            server.stop()
        for m in memories:
            m.close()


# --------------------------------------------------------------------------- tool calls (default model)


def demo_model_dir() -> Path:
    from pad_integrations import demo

    try:
        return Path(demo.model_path())
    except FileNotFoundError as exc:
        pytest.skip(f"the default model is not installed: {exc}")


MAGIC = {"type": "function", "function": {
    "name": "magic_function", "description": "Apply a magic function to an input.",
    "parameters": {"type": "object", "properties": {"input": {"type": "integer"}}, "required": ["input"]}}}
ASK_TOOL = [{"role": "user", "content": "What is the value of magic_function(3)? Use the tool."}]


@pytest.fixture(scope="module")
def demo_live(memory: PreferenceMemory) -> Iterator[openai.OpenAI]:
    generator = runtime.get_generator(str(demo_model_dir()))
    server = start_server(create_app(generator, memory, ServerConfig(max_tokens=48)))
    yield openai.OpenAI(base_url=f"{server.url}/v1", api_key=tenant_key(memory), max_retries=0)
    server.stop()


def test_tool_calls_come_back_as_tool_calls_whole_and_streamed(demo_live: openai.OpenAI) -> None:
    """The default model's template has no tool syntax: the documented Hermes fallback shows it the tools,
    tool_choice="required" makes it call one, and a call comes back whole, streamed or not."""
    model = model_id(demo_live)
    assert "/" not in model  # listed under its name, never a path
    reply = demo_live.chat.completions.create(model=model, messages=ASK_TOOL, tools=[MAGIC], tool_choice="required")
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_") and call.function.name == "magic_function"
    assert isinstance(json.loads(call.function.arguments)["input"], int)
    assert "<tool_call>" not in (choice.message.content or "")

    chunks = list(demo_live.chat.completions.create(model=model, messages=ASK_TOOL, tools=[MAGIC],
                                                    tool_choice="required", stream=True))
    streamed = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert [(tc.function.name, json.loads(tc.function.arguments)) for tc in streamed] == [
        (call.function.name, json.loads(call.function.arguments))]
    assert "<tool_call>" not in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]

    # tool_choice "auto": the model decides; whatever it writes, no half-written markup comes back.
    auto = demo_live.chat.completions.create(model=model, messages=ASK_TOOL, tools=[MAGIC]).choices[0]
    assert "<tool_call>" not in (auto.message.content or "")
    assert (auto.finish_reason == "tool_calls") == bool(auto.message.tool_calls)

    # The tool's answer goes back in; a model that reads it answers in text.
    followup = [*ASK_TOOL,
                {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
                {"role": "tool", "tool_call_id": call.id, "content": "42"}]
    final = demo_live.chat.completions.create(model=model, messages=followup, tools=[MAGIC])
    assert final.choices[0].finish_reason in ("stop", "length", "tool_calls")
