"""``pad serve --ray``: the server's app on Ray Serve, for real.

The documented command starts a local Ray cluster with 2 replicas of a tiny model, all on one
PostgreSQL memory; the real ``openai`` client talks to Ray Serve's HTTP proxy. Checked: both replicas
answer (each response names its replica), a preference learned through one replica steers the next
answer served by the other, and SIGKILLing a replica loses no acknowledged turn.

Needs the ``ray`` extra (part of ``all``); without it the test is skipped, except in CI (``CI=true``),
where a missing extra is a failure.
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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from memory import PreferenceMemory
from pad_integrations._extras import MissingExtraError
from pad_integrations.server.auth import KeyStore

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CONCISE = "Keep answers short and to the point."
QUESTION = [{"role": "user", "content": "Tell me about the cat."}]


def ray_installed() -> bool:
    try:
        import ray.serve  # noqa: F401
    except ImportError:
        return False
    return True


needs_ray = pytest.mark.skipif(
    not ray_installed() and not IN_CI, reason="the ray extra is not installed (pip install 'pad-integrations[ray]')"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RayServer:
    url: str
    model: str
    key: str
    admin: str
    namespace: str
    memory: PreferenceMemory
    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.key, max_retries=0, timeout=60)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)


def _drain(proc: subprocess.Popen[str], into: list[str], ready: threading.Event) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        into.append(line)
        if line.startswith("Serving on "):
            ready.set()
    ready.set()  # the process ended


@pytest.fixture(scope="module")
def ray_server(tiny_model_dir: Path, postgres_url: str) -> Iterator[RayServer]:
    """``pad serve --ray --replicas 2`` on PostgreSQL, in its own process group; SIGTERM stops it cleanly."""
    if not ray_installed():
        pytest.fail("CI=true but the ray extra is not installed: the Ray Serve test must run in CI")
    namespace = f"ray-{uuid.uuid4().hex[:8]}"  # the database is shared with other tests
    memory = PreferenceMemory(url=postgres_url, namespace=namespace)
    key = KeyStore(memory.engine).create("tenant", namespace=namespace)[0]
    admin = KeyStore(memory.engine).create("admin", note="test_ray_serve")[0]
    port = free_port()
    # Half a CPU per replica: both fit on any machine (this one has 2 cores), and a replacement for a
    # killed replica can start at once.
    proc = subprocess.Popen(
        [sys.executable, "-m", "pad_integrations.cli", "serve", "--ray", "--replicas", "2",
         "--ray-actor-options", json.dumps({"num_cpus": 0.5}), "--db", postgres_url, "--namespace", namespace,
         "--model", str(tiny_model_dir), "--port", str(port), "--max-tokens", "8", "--max-queue", "16"],
        env=dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", RAY_DEDUP_LOGS="0"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    output: list[str] = []
    ready = threading.Event()
    threading.Thread(target=_drain, args=(proc, output, ready), daemon=True).start()
    try:
        ready.wait(timeout=240)
        if proc.poll() is not None or not any(line.startswith("Serving on ") for line in output):
            raise AssertionError("pad serve --ray did not come up:\n" + "".join(output[-80:]))
        url = f"http://127.0.0.1:{port}"
        model = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"},
                          timeout=30).json()["data"][0]["id"]
        yield RayServer(url, model, key, admin, namespace, memory, proc, output)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the command takes the application and its Ray cluster down
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # our own process group: Ray's processes included
                proc.wait(timeout=30)
        for made in (key, admin):  # the database outlives this test
            KeyStore(memory.engine).revoke(made)
        memory.close()
    assert proc.returncode == 0, "pad serve --ray did not stop cleanly on SIGTERM:\n" + "".join(output[-80:])


def replica_of(raw: Any) -> str:
    replica = raw.headers.get("x-pad-replica")
    assert replica, "every response names the replica that served it"
    return str(replica)


def replicas_by_health(server: RayServer, want: int = 2, tries: int = 60) -> dict[str, int]:
    """Replica id -> process id, from /healthz (routed by Ray Serve) until ``want`` replicas answered."""
    seen: dict[str, int] = {}
    with server.http() as http:
        for _ in range(tries):
            try:
                response = http.get("/healthz")
            except httpx.HTTPError:  # routed to a replica that just died
                continue
            if response.status_code != 200:
                continue
            body = response.json()
            seen[body["replica"]["id"]] = body["replica"]["pid"]
            if len(seen) >= want:
                break
    return seen


@needs_ray
@pytest.mark.slow
def test_two_replicas_share_the_memory_and_a_killed_replica_loses_no_acknowledged_turn(
    ray_server: RayServer,
) -> None:
    server = ray_server
    client = server.client()

    # Keys live in PostgreSQL, so every replica applies them; without one: 401, liveness only.
    assert httpx.get(f"{server.url}/v1/models", timeout=30).status_code == 401
    assert httpx.get(f"{server.url}/healthz", timeout=30).json() == {"status": "ok"}

    # Both replicas answer.
    pids = replicas_by_health(server)
    assert len(pids) == 2 and len(set(pids.values())) == 2, pids

    # /metrics: admin keys only; each answer is one replica's, labelled with it.
    assert httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {server.key}"},
                     timeout=30).status_code == 403
    metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {server.admin}"}, timeout=30)
    assert metrics.status_code == 200
    line = next(x for x in metrics.text.splitlines() if x.startswith("pad_requests_capacity{"))
    assert f'replica="{metrics.headers["x-pad-replica"]}"' in line and line.endswith(" 16.0")

    # A preference learned through one replica ...
    raw = client.chat.completions.with_raw_response.create(
        model=server.model, user="learner", max_tokens=6,
        messages=[{"role": "user", "content": "I prefer short answers, please."}])
    learned_on = replica_of(raw)
    assert raw.parse().model_extra["pad"]["preferences_applied"] == []
    with server.http() as http:
        # Read-your-writes on whichever replica answers: a replica reads a turn another one committed and
        # may not have read yet (exactly once) before it reads the profile. No waiting here.
        for _ in range(4):
            prefs = http.get("/v1/users/learner/preferences").json()["preferences"]
            assert [(p["kind"], p["value"]) for p in prefs] == [("verbosity", "concise")]

    # ... steers the next answer served by the other replica (greedy: the same request for a user
    # without preferences answers differently).
    steered = None
    for _ in range(40):
        raw = client.chat.completions.with_raw_response.create(
            model=server.model, user="learner", max_tokens=8, temperature=0, messages=QUESTION)
        if replica_of(raw) != learned_on:
            steered = raw.parse()
            break
    assert steered is not None, "the other replica never served the learner"
    assert [p["text"] for p in steered.model_extra["pad"]["preferences_applied"]] == [CONCISE]
    plain = client.chat.completions.create(model=server.model, user="no-prefs", max_tokens=8, temperature=0,
                                           messages=QUESTION)
    assert plain.model_extra["pad"]["preferences_applied"] == []
    assert steered.choices[0].message.content != plain.choices[0].message.content

    # Kill one replica (SIGKILL, no goodbye) while 4 users keep chatting through the proxy (2 streaming).
    victim, victim_pid = next(iter(pids.items()))
    acked: list[tuple[str, str, str]] = []  # (user, message, replica) of every turn whose answer arrived
    failed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def chat(user: str, stream: bool) -> None:
        for i in range(10_000):
            if stop.is_set():
                return
            text = f"note {i} from {user}"
            try:
                raw = client.chat.completions.with_raw_response.create(
                    model=server.model, user=user, max_tokens=4, messages=[{"role": "user", "content": text}],
                    stream=stream)
                reply = raw.parse()
                if stream:  # acknowledged once the stream ends with [DONE]
                    assert list(reply)
            except (openai.APIError, httpx.HTTPError) as exc:  # in flight on the victim: not acknowledged
                with lock:
                    failed.append(type(exc).__name__)
                time.sleep(0.05)
                continue
            with lock:
                acked.append((user, text, replica_of(raw)))

    users = [f"writer-{n}" for n in range(4)]
    threads = [threading.Thread(target=chat, args=(u, n % 2 == 1), daemon=True) for n, u in enumerate(users)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while sum(1 for a in acked if a[2] == victim) < 3:  # the victim acknowledged turns before dying
            assert time.monotonic() < deadline, f"the victim served nothing: {acked[-5:]}, {failed[-5:]}"
            time.sleep(0.05)
        os.kill(victim_pid, signal.SIGKILL)
        killed_at = len(acked)
        deadline = time.monotonic() + 60
        while len(acked) < killed_at + 8:  # the service goes on without it
            assert time.monotonic() < deadline, f"no answers after the kill: {failed[-5:]}"
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    with pytest.raises(ProcessLookupError):
        os.kill(victim_pid, 0)  # it is really gone
    assert any(a[2] != victim for a in acked[killed_at:])
    # Ray replaces it: two replicas answer again, one of them new.
    deadline = time.monotonic() + 120
    while True:
        now = replicas_by_health(server, tries=20)
        if len(now) == 2 and victim not in now:
            break
        assert time.monotonic() < deadline, f"no replacement replica: {now}"
        time.sleep(0.5)
    assert set(now) - set(pids)

    # Every acknowledged turn is in PostgreSQL, whole: the user's message and the answer after it.
    by_victim = [a for a in acked if a[2] == victim]
    assert len(by_victim) >= 3 and len(acked) >= 11
    print(f"acknowledged {len(acked)} turns ({len(by_victim)} by the killed replica), {len(failed)} failed "
          f"around the kill: {sorted(set(failed))}")
    for user in users:
        messages = list(server.memory.iter_messages(user))
        stored = [m.content for m in messages]
        for _, text, _ in (a for a in acked if a[0] == user):
            assert text in stored, f"acknowledged turn {text!r} of {user} is missing"
            at = stored.index(text)
            assert at + 1 < len(stored) and messages[at + 1].role == "assistant"


def test_ray_flags_are_checked_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pad_integrations.cli.main import main

    db = f"sqlite:///{tmp_path / 'm.db'}"
    cases = [
        (["--replicas", "2"], "only apply with --ray"),
        (["--ray", "--replicas", "2", "--ray-autoscaling", '{"max_replicas": 2}'], "exclude each other"),
        (["--ray", "--ray-actor-options", "[1]"], "must be a JSON object"),
        (["--ray", "--ray-autoscaling", "{nope"], "not valid JSON"),
    ]
    if ray_installed():
        cases += [
            (["--ray", "--ray-autoscaling", '{"max_replica": 4}'], "unknown autoscaling setting(s) max_replica"),
            (["--ray", "--ray-autoscaling", '{"min_replicas": 5, "max_replicas": 4}'], "invalid autoscaling"),
            (["--ray", "--model", str(tmp_path / "no-such-model")], "no such directory"),  # before Ray starts
        ]
    for flags, message in cases:
        assert main(["serve", "--db", db, *flags]) == 2, flags
        assert message in capsys.readouterr().err, flags


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from pad_integrations.server import ray_serve

    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without ray looks like to import
    monkeypatch.setitem(sys.modules, "ray.serve", None)
    with pytest.raises(MissingExtraError, match=r"pad-integrations\[ray\]"):
        ray_serve.ray_modules()


def test_pad_serve_ray_without_the_extra_says_which_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pad_integrations.cli.main import main

    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.serve", None)
    assert main(["serve", "--ray", "--replicas", "2", "--db", f"sqlite:///{tmp_path / 'm.db'}"]) == 1
    assert "pip install 'pad-integrations[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "m.db").exists()  # refused before the memory was opened


@needs_ray
def test_ray_settings_become_the_deployment_options() -> None:
    from ray import serve
    from ray.serve.config import AutoscalingConfig

    from pad_integrations.server import ServerConfig
    from pad_integrations.server.ray_serve import RaySettings, ReplicaSpec, deployment_options

    spec = ReplicaSpec(model="unused", config=ServerConfig(max_pending=10))
    fixed = deployment_options(spec, RaySettings(replicas=3, actor_options={"num_cpus": 2}))
    assert fixed["num_replicas"] == 3 and "autoscaling_config" not in fixed
    assert fixed["ray_actor_options"] == {"num_cpus": 2}
    assert fixed["max_ongoing_requests"] == 18  # the admission limit plus room for health checks and metrics
    scaled = deployment_options(spec, RaySettings(
        autoscaling={"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 8}, max_ongoing_requests=40))
    config = scaled["autoscaling_config"]
    assert isinstance(config, AutoscalingConfig) and "num_replicas" not in scaled
    assert (config.min_replicas, config.max_replicas, config.target_ongoing_requests) == (1, 4, 8)
    assert scaled["max_ongoing_requests"] == 40
    # Ray itself accepts them as a deployment's options.
    deployment = serve.deployment(**scaled)(type("Probe", (), {"__call__": lambda self: None}))
    assert deployment.max_ongoing_requests == 40
