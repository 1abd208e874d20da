"""Server limits, against a real ``pad serve`` process: malformed JSON, oversized bodies, slow clients and
200 concurrent connections get correct status codes, and the server's memory stays bounded."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from .helpers import figures, rss_mib
from .servers import CLIENT_LIMITS, pad_serve

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

MAX_BODY = 1 << 20
MAX_QUEUE = 64
CHAT = "/v1/chat/completions"


def chat_body(user: str = "limits", content: str = "Hello there.", **extra: object) -> dict:
    return {"model": "tiny", "user": user, "max_tokens": 2, "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory) -> Iterator[tuple[str, int]]:
    db = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'server.db'}"
    with pad_serve(tiny_model_dir, db, "--served-model-name", "tiny", "--max-queue", str(MAX_QUEUE),
                   "--max-body-bytes", str(MAX_BODY), "--max-tokens", "2") as (base_url, process):
        with httpx.Client(base_url=base_url, timeout=60) as client:  # warm: the first decode loads lazily
            assert client.post(CHAT, json=chat_body()).status_code == 200
        yield base_url, process.pid


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=60, limits=CLIENT_LIMITS) as c:
        yield c


def raw_request(base_url: str, payload: bytes, *, timeout: float = 30) -> tuple[int, bytes]:
    """Send bytes as they are (lying headers included); return (status, body) of the reply."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(payload)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), None)
        while length is not None and len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, body


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and error["type"]
    if code is not None:
        assert error["code"] == code, error
    return error


# -- malformed JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "tiny", "messages": [',
        b"not json at all",
        b"",
        b'{"model": "tiny", "messages": [{"role": "user", "content": "hi"}]',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e999999}',
    ],
    ids=["truncated", "text", "empty", "unclosed", "binary", "deep", "huge-number"],
)
def test_malformed_json_is_a_400_with_an_openai_error(client, raw):
    response = client.post(CHAT, content=raw, headers={"content-type": "application/json"})
    assert_error(response, 400)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "tiny"}, "messages"),
        ({"model": "tiny", "messages": []}, "messages"),
        ({"model": "tiny", "messages": "hi"}, "messages"),
        ({"model": "tiny", "messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"model": "tiny", "messages": [{"content": "hi"}]}, "messages.0.role"),
        ({"model": "tiny", "messages": [{"role": "user", "content": {"x": 1}}]}, None),
        ({"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}, "max_tokens"),
        ({"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}, "temperature"),
        ({"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "user": "  "}, "user"),
        ({"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "stop": [""]}, "stop"),
    ],
)
def test_malformed_requests_name_the_bad_parameter(client, body, param):
    error = assert_error(client.post(CHAT, json=body), 400)
    if param is not None:
        assert error["param"] is not None and error["param"].startswith(param), error


def test_an_unknown_model_is_a_404(client):
    assert_error(client.post(CHAT, json={**chat_body(), "model": "gpt-9"}), 404, "model_not_found")


def test_a_conversation_longer_than_the_context_window_is_a_400(client):
    error = assert_error(client.post(CHAT, json=chat_body(content="weather " * 60_000)), 400)
    assert error["code"] == "context_length_exceeded"


@pytest.mark.parametrize("field", ["content", "stop"])
def test_a_lone_surrogate_escape_is_a_400_that_says_so(client, field):
    """'\\ud800' is legal JSON but not Unicode text (it used to reach the tokenizer and end in a 500)."""
    message = "hi \\ud800" if field == "content" else "hi"
    stop = ', "stop": ["\\udfff"]' if field == "stop" else ""
    raw = f'{{"model": "tiny", "max_tokens": 2, "messages": [{{"role": "user", "content": "{message}"}}]{stop}}}'
    response = client.post(CHAT, content=raw.encode(), headers={"content-type": "application/json"})
    assert "surrogate" in assert_error(response, 400)["message"]


@pytest.mark.parametrize("user", ["org/42/alice", "../../etc/passwd", "a/preferences", "o'brien \"x\" 🙂"])
def test_preferences_of_any_user_id_are_reachable_percent_encoded(client, user):
    """The memory and the chat endpoint accept any id; the preference endpoints must reach every one of them."""
    path = f"/v1/users/{quote(user, safe='')}/preferences"
    put = client.put(path, json={"preferences": [{"kind": "likes", "value": "zqslash"}]})
    assert put.status_code == 200 and put.json()["user"] == user, put.text
    got = client.get(path)
    assert got.status_code == 200 and [p["value"] for p in got.json()["preferences"]] == ["zqslash"], got.text
    assert client.delete(path).status_code == 200
    assert client.get(path).json()["preferences"] == []


# -- oversized bodies ------------------------------------------------------------------------------


def test_oversized_bodies_are_413_without_being_read(server, client):
    base_url, pid = server
    over = json.dumps(chat_body(content="x" * MAX_BODY)).encode()
    assert_error(client.post(CHAT, content=over, headers={"content-type": "application/json"}), 413,
                 "request_too_large")

    def chunks(total: int) -> Iterator[bytes]:
        for _ in range(total // 65536):
            yield b" " * 65536

    before, _ = rss_mib(pid)
    for _ in range(10):  # 8 MiB each, streamed without a Content-Length
        response = client.post(CHAT, content=chunks(8 << 20), headers={"content-type": "application/json"})
        assert_error(response, 413, "request_too_large")
    # A 4 GiB Content-Length is refused from the headers alone: nothing of it is ever sent.
    lie = (f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: {4 << 30}\r\n\r\n").encode()
    status, body = raw_request(base_url, lie)
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    after, peak = rss_mib(pid)
    figures("server oversized bodies", rss_before_mib=round(before), rss_after_mib=round(after),
            rss_peak_mib=round(peak), streamed_mib=80)
    assert after - before < 40, "streamed oversized bodies must not be buffered whole"
    assert client.post(CHAT, json=chat_body()).status_code == 200


# -- slow clients -----------------------------------------------------------------------------------


def test_slow_clients_do_not_stall_the_others(server, client):
    base_url, _ = server
    parts = urlsplit(base_url)
    stop = threading.Event()
    sockets: list[socket.socket] = []

    def slowloris(index: int) -> None:
        sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        sockets.append(sock)
        head = f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        if index % 2:  # half announce a body and send a trickle of it; half never finish their headers
            head += "Content-Length: 1000\r\n\r\n{\"model\": "
        for byte in head.encode():
            if stop.is_set():
                return
            sock.send(bytes([byte]))
            time.sleep(0.05)
        stop.wait(30)

    trickles = [threading.Thread(target=slowloris, args=(i,), daemon=True) for i in range(40)]
    for t in trickles:
        t.start()
    try:
        time.sleep(1.0)
        latencies = []
        for n in range(10):
            started = time.perf_counter()
            response = client.post(CHAT, json=chat_body(user=f"patient {n}"))
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
        # A client that streams and then reads nothing does not hold up the rest either.
        with client.stream("POST", CHAT, json=chat_body(stream=True)):
            assert client.post(CHAT, json=chat_body(user="next")).status_code == 200
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
    figures("server slow clients", slow_connections=len(trickles), normal_requests=10,
            max_latency_s=round(max(latencies), 2))
    assert client.get("/healthz").json()["requests"]["in_progress"] == 0


# -- 200 concurrent connections ----------------------------------------------------------------------


def test_200_concurrent_connections_get_200_or_429_and_memory_stays_bounded(server, client):
    base_url, pid = server
    before, _ = rss_mib(pid)

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as c:
            return await asyncio.gather(
                *(c.post(CHAT, json=chat_body(user=f"crowd {n % 50}", content=f"Request {n}.", stream=n % 4 == 0))
                  for n in range(200))
            )

    started = time.perf_counter()
    responses = asyncio.run(burst())
    elapsed = time.perf_counter() - started
    statuses = Counter(r.status_code for r in responses)
    for response in responses:
        if response.status_code == 429:
            error = assert_error(response, 429, "server_busy")
            assert int(response.headers["retry-after"]) >= 0, error
    after, peak = rss_mib(pid)
    line = figures("server 200 concurrent connections", statuses=dict(statuses), seconds=round(elapsed, 1),
                   rss_before_mib=round(before), rss_after_mib=round(after), rss_peak_mib=round(peak))
    assert set(statuses) <= {200, 429}, line
    assert statuses[200] >= MAX_QUEUE, line
    assert after - before < 100, line
    health = client.get("/healthz").json()
    assert health["requests"]["in_progress"] == 0, health
    # Those turned away get in on a retry.
    retried = [client.post(CHAT, json=chat_body(user="retry")) for r in responses if r.status_code == 429][:10]
    assert all(r.status_code == 200 for r in retried)
