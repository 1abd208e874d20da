"""``GET /metrics``: Prometheus text from the real app on a loopback port, read by Prometheus's own parser.

Admin keys only (401 without a key, 403 for user and tenant keys); the figures follow real traffic sent by
the real ``openai`` client.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from memory import PreferenceMemory
from pad_integrations import runtime
from pad_integrations.generation import GenerationRequest
from pad_integrations.runtime.decode_queue import QueueStats
from pad_integrations.server import ServerConfig, create_app
from pad_integrations.server.auth import KeyStore
from pad_integrations.server.routes.metrics import QUEUE_METRICS

MAX_PENDING = 6
QUESTION = [{"role": "user", "content": "Tell me about the cat."}]


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(app: Any) -> LiveServer:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture(scope="module")
def generator(tiny_model_dir: Path) -> Any:
    return runtime.get_generator(str(tiny_model_dir))


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreferenceMemory]:
    mem = PreferenceMemory(url=f"sqlite:///{tmp_path_factory.mktemp('metrics-db') / 'memory.db'}")
    yield mem
    mem.close()


@pytest.fixture(scope="module")
def keys(memory: PreferenceMemory) -> dict[str, str]:
    store = KeyStore(memory.engine)
    return {
        "admin": store.create("admin")[0],
        "tenant": store.create("tenant", namespace=memory.namespace)[0],
        "user": store.create("user", namespace=memory.namespace, user_id="ann")[0],
    }


@pytest.fixture(scope="module")
def live(generator: Any, memory: PreferenceMemory) -> Iterator[LiveServer]:
    server = start_server(create_app(generator, memory, ServerConfig(max_pending=MAX_PENDING, max_tokens=6)))
    yield server
    server.stop()


def scrape(url: str, key: str | None) -> dict[str, Any]:
    """Every sample by metric name (counters under their ``_total`` name), parsed by prometheus_client."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.get(f"{url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, Any] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                samples[sample.name] = sample
    return samples


def value(samples: dict[str, Any], name: str) -> float:
    return float(samples[name].value)


def test_metrics_need_an_admin_key(live: LiveServer, keys: dict[str, str]) -> None:
    anonymous = httpx.get(f"{live.url}/metrics", timeout=30)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "missing_api_key"
    for role in ("tenant", "user"):
        refused = httpx.get(f"{live.url}/metrics", headers={"Authorization": f"Bearer {keys[role]}"}, timeout=30)
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["error"]["code"] == "forbidden_role"
    assert scrape(live.url, keys["admin"])


def test_every_queue_figure_is_exposed_with_its_type(live: LiveServer, keys: dict[str, str]) -> None:
    # The route reads every field of the engine's QueueStats, none more, none fewer.
    assert {f for f, *_ in QUEUE_METRICS} == set(QueueStats.__dataclass_fields__)
    response = httpx.get(f"{live.url}/metrics", headers={"Authorization": f"Bearer {keys['admin']}"}, timeout=30)
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    for _, name, kind, _ in QUEUE_METRICS:
        assert families[name].type == kind, name
    assert families["pad_requests_in_progress"].type == "gauge"
    assert families["pad_requests_capacity"].type == "gauge"
    samples = scrape(live.url, keys["admin"])
    model = httpx.get(f"{live.url}/v1/models", headers={"Authorization": f"Bearer {keys['admin']}"},
                      timeout=30).json()["data"][0]["id"]
    assert samples["pad_decode_steps_total"].labels == {"model": model}  # one process: no replica label
    assert value(samples, "pad_requests_capacity") == MAX_PENDING


def test_figures_follow_the_traffic(live: LiveServer, keys: dict[str, str]) -> None:
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key=keys["tenant"], max_retries=0, timeout=60)
    model = client.models.list().data[0].id
    before = scrape(live.url, keys["admin"])
    generated = 0
    for user in ("m-ann", "m-bob"):
        reply = client.chat.completions.create(model=model, messages=QUESTION, user=user, max_tokens=5,
                                               temperature=0)
        assert reply.usage is not None
        generated += reply.usage.completion_tokens
    after = scrape(live.url, keys["admin"])
    assert generated > 0
    assert value(after, "pad_decode_requests_total") - value(before, "pad_decode_requests_total") == 2
    assert value(after, "pad_decode_generated_tokens_total") - value(before, "pad_decode_generated_tokens_total") \
        >= generated
    assert value(after, "pad_decode_steps_total") > value(before, "pad_decode_steps_total")
    assert value(after, "pad_decode_prefill_tokens_total") > value(before, "pad_decode_prefill_tokens_total")
    assert value(after, "pad_decode_tokens_per_second") > 0  # tokens generated within the recent window
    assert value(after, "pad_requests_in_progress") == 0
    assert value(after, "pad_decode_in_flight_rows") == 0 and value(after, "pad_decode_queued_requests") == 0


def test_requests_in_progress_and_queued_are_counted(
    live: LiveServer, keys: dict[str, str], generator: Any
) -> None:
    queue = runtime.get_decode_queue(generator)
    release = threading.Event()
    started = threading.Event()

    def hold(_delta: str) -> None:  # keeps the decode worker busy until released
        started.set()
        release.wait(30)

    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key=keys["tenant"], max_retries=0, timeout=60)
    model = client.models.list().data[0].id
    before = scrape(live.url, keys["admin"])
    blocker = queue.submit(GenerationRequest(QUESTION, strategy="base", max_new_tokens=16), hold)
    try:
        assert started.wait(30)
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(client.chat.completions.create, model=model, messages=QUESTION, max_tokens=4,
                                   user=u) for u in ("m-waits-1", "m-waits-2")]
            deadline = time.monotonic() + 30
            while True:  # both admitted and submitted to the decode queue, behind the blocker
                during = scrape(live.url, keys["admin"])
                submitted = value(during, "pad_decode_requests_total") - value(before, "pad_decode_requests_total")
                if submitted == 3:
                    break
                assert time.monotonic() < deadline, f"requests were not submitted ({submitted})"
                time.sleep(0.02)
            assert value(during, "pad_requests_in_progress") == 2  # the blocker did not come through HTTP
            assert value(during, "pad_decode_in_flight_rows") >= 1  # the blocker
            assert value(during, "pad_decode_in_flight_rows") + value(during, "pad_decode_queued_requests") == 3
            release.set()
            assert all(f.result(timeout=60).choices for f in futures)
    finally:
        release.set()
    blocker.result(timeout=30)
    after = scrape(live.url, keys["admin"])
    assert value(after, "pad_requests_in_progress") == 0 and value(after, "pad_decode_queued_requests") == 0


def test_without_keys_anyone_reads_them(generator: Any, tmp_path: Path) -> None:
    memory = PreferenceMemory(url=f"sqlite:///{tmp_path / 'open.db'}")
    server = start_server(create_app(generator, memory, ServerConfig(auth=False)))
    try:
        assert "pad_decode_requests_total" in scrape(server.url, None)
    finally:
        server.stop()
        memory.close()
