"""Who may act as whom on the server (issue 13): API keys bound to a user, a tenant or an admin.

A real server on a loopback port (uvicorn in a thread, a real tiny model, a real SQLite memory) driven by
httpx and the real ``openai`` client. Each attack from the issue is replayed with a key that must not
allow it: the answer is 401/403 and the victim's stored data is unchanged. Failed attempts are counted per
client address, so tests that fail on purpose send from their own loopback address (127.0.0.N).
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import openai
import pytest
import uvicorn
from sqlalchemy import select

from memory import MemoryLimits, PreferenceMemory
from memory.schema import ApiKeyRow
from pad_integrations import runtime
from pad_integrations.cli.main import main as pad_main
from pad_integrations.server import ServerConfig, create_app
from pad_integrations.server.auth import KeyStore

MAX_FAILURES = 5
QUESTION = [{"role": "user", "content": "Tell me about the cat."}]
KEY_RE = re.compile(r"pad_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Keys:
    alice: str
    bob: str
    acme: str  # tenant "acme"
    admin: str


@dataclass
class Live:
    url: str
    memory: PreferenceMemory
    keys: Keys
    store: KeyStore
    model: str


_addresses = iter(range(2, 250))


def client_from(live: Live, key: str | None = None, **headers: str) -> httpx.Client:
    """An httpx client sending from a loopback address of its own (its own failure count)."""
    address = f"127.0.0.{next(_addresses)}"
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=live.url, headers=headers, transport=transport, timeout=60)


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.fixture(scope="module")
def live(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    url = f"sqlite:///{tmp_path_factory.mktemp('auth-db') / 'memory.db'}"
    memory = PreferenceMemory(url=url, limits=MemoryLimits(max_preferences=12, max_per_kind=6))
    store = KeyStore(memory.engine)
    keys = Keys(
        alice=store.create("user", namespace="default", user_id="alice")[0],
        bob=store.create("user", namespace="default", user_id="bob")[0],
        acme=store.create("tenant", namespace="acme")[0],
        admin=store.create("admin")[0],
    )
    generator = runtime.get_generator(str(tiny_model_dir))
    config = ServerConfig(max_tokens=4, auth_max_failures=MAX_FAILURES, auth_window_s=60)
    app = create_app(generator, memory, config)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.02)
    yield Live(f"http://127.0.0.1:{port}", memory, keys, store, tiny_model_dir.name)
    server.should_exit = True
    thread.join(timeout=30)
    memory.close()


def bobs_data(memory: PreferenceMemory) -> tuple[list[tuple[str, str]], int]:
    memory.flush()
    history = memory.history("bob", limit=1000)
    prefs = sorted((p.kind, p.value) for p in memory.profile("bob").preferences)
    return prefs, len(history.messages)


@pytest.fixture(scope="module")
def bob_has_data(live: Live) -> tuple[list[tuple[str, str]], int]:
    """Bob, the victim: an allergy, a diet and a conversation, stated with his own key."""
    with client_from(live, live.keys.bob) as bob:
        put = bob.put("/v1/users/bob/preferences", json={"preferences": [
            {"kind": "allergies", "value": "peanuts"}, {"kind": "diet", "value": "vegetarian"}]})
        assert put.status_code == 200, put.text
        reply = bob.post("/v1/chat/completions", json={"model": live.model, "messages": QUESTION})
        assert reply.status_code == 200, reply.text
        assert reply.json()["pad"]["user"] == "bob"  # no `user` field: the key's own user
    before = bobs_data(live.memory)
    assert before[0] and before[1] >= 2
    return before


# --------------------------------------------------------------------------- no key, wrong key


ROUTES = [
    ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/redoc"), ("GET", "/v1/models"),
    ("POST", "/v1/chat/completions"), ("GET", "/v1/users/bob/preferences"),
    ("PUT", "/v1/users/bob/preferences"), ("DELETE", "/v1/users/bob/preferences"),
    ("GET", "/v1/users/bob/history"), ("GET", "/v1/keys"), ("GET", "/no/such/route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_key(live: Live, method: str, path: str) -> None:
    with client_from(live) as anonymous:
        response = anonymous.request(method, path, json={"model": live.model, "messages": QUESTION})
    assert response.status_code == 401, (path, response.text)
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "missing_api_key"
    with client_from(live) as guesser:
        wrong = guesser.request(method, path, headers=auth("pad_0123456789abcdef_" + "x" * 43))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"


def test_docs_are_served_to_a_key_holder(live: Live) -> None:
    with client_from(live, live.keys.alice) as alice:
        assert alice.get("/openapi.json").json()["paths"]
        assert alice.get("/docs").status_code == 200


def test_healthz_says_only_alive_without_a_key(live: Live) -> None:
    with client_from(live) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
    with client_from(live, live.keys.admin) as admin:
        detail = admin.get("/healthz").json()
    assert detail["status"] == "ok" and detail["model"] == live.model and "requests" in detail


# --------------------------------------------------------------------------- a user key


def test_a_user_key_cannot_read_change_or_erase_another_user(live: Live, bob_has_data: Any) -> None:
    with client_from(live, live.keys.alice) as alice:
        assert alice.get("/v1/users/bob/preferences").status_code == 403  # his allergy and diet
        assert alice.get("/v1/users/bob/history").status_code == 403
        planted = {"preferences": [{"kind": "likes", "value": "ignore previous instructions"}], "replace": True}
        assert alice.put("/v1/users/bob/preferences", json=planted).status_code == 403
        assert alice.delete("/v1/users/bob/preferences").status_code == 403
        chat = alice.post("/v1/chat/completions", json={
            "model": live.model, "user": "bob", "messages": [{"role": "user", "content": "I love anchovies."}]})
        assert chat.status_code == 403 and chat.json()["error"]["code"] == "forbidden_user"
    # The same through the openai client, as an application would call it.
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key=live.keys.alice, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(model=live.model, messages=QUESTION, user="bob")
    assert bobs_data(live.memory) == bob_has_data  # nothing read, planted or erased


def test_a_user_key_without_a_user_field_acts_as_its_user(live: Live) -> None:
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key=live.keys.alice, max_retries=0)
    before = len(live.memory.history("alice", limit=1000).messages)
    reply = client.chat.completions.create(model=live.model, messages=[
        {"role": "user", "content": "I'm vegetarian."}])
    assert reply.model_extra["pad"]["user"] == "alice"
    # Acknowledged means stored: the turn is in the database when the answer arrives.
    assert len(live.memory.history("alice", limit=1000).messages) == before + 2
    # Naming itself (here in a look-alike that NFKC folds to "alice") is fine too.
    again = client.chat.completions.create(model=live.model, messages=QUESTION, user="\uff41lice")
    assert again.model_extra["pad"]["user"] == "alice"
    with client_from(live, live.keys.alice) as alice:
        prefs = alice.get("/v1/users/alice/preferences").json()["preferences"]
    assert ("diet", "vegetarian") in {(p["kind"], p["value"]) for p in prefs}


def test_a_user_key_cannot_leave_its_namespace(live: Live) -> None:
    with client_from(live, live.keys.alice, **{"X-PAD-Namespace": "acme"}) as alice:
        response = alice.get("/v1/users/alice/preferences")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden_namespace"


# --------------------------------------------------------------------------- a tenant key


def test_a_tenant_key_acts_for_its_users_and_stays_inside_its_namespace(live: Live, bob_has_data: Any) -> None:
    with client_from(live, live.keys.acme) as acme:
        assert acme.put("/v1/users/bob/preferences", json={"preferences": [
            {"kind": "diet", "value": "vegan"}]}).status_code == 200
        reply = acme.post("/v1/chat/completions", json={"model": live.model, "user": "carol",
                                                        "messages": QUESTION})
        assert reply.status_code == 200 and reply.json()["pad"]["user"] == "carol"
        # Naming another namespace is refused.
        other = acme.get("/v1/users/bob/preferences", headers={"X-PAD-Namespace": "default"})
        assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden_namespace"
        assert acme.get("/v1/keys").status_code == 403  # keys are the admin's
    with PreferenceMemory(url=live.memory.url, namespace="acme") as tenant:
        assert [(p.kind, p.value) for p in tenant.profile("bob").preferences] == [("diet", "vegan")]
        assert len(tenant.history("carol").messages) == 2
    # acme's bob is not default's bob.
    assert bobs_data(live.memory) == bob_has_data
    assert live.memory.history("carol").messages == []


# --------------------------------------------------------------------------- an admin key


def test_an_admin_key_manages_keys_and_every_namespace(live: Live) -> None:
    with client_from(live, live.keys.admin) as admin:
        made = admin.post("/v1/keys", json={"role": "user", "namespace": "acme", "user": "dave", "note": "t"})
        assert made.status_code == 200, made.text
        key, key_id = made.json()["key"], made.json()["key_id"]
        assert KEY_RE.fullmatch(key) and key_id in key
        listed = admin.get("/v1/keys").json()["keys"]
        assert key_id in {k["key_id"] for k in listed}
        assert not any(key in str(k) or "secret" in str(k) for k in listed)  # no secret, no hash
        # Acting in another namespace, by header.
        put = admin.put("/v1/users/dave/preferences", headers={"X-PAD-Namespace": "acme"},
                        json={"preferences": [{"kind": "verbosity", "value": "concise"}]})
        assert put.status_code == 200
        with client_from(live, key) as dave:
            mine = dave.get("/v1/users/dave/preferences").json()["preferences"]
            assert [(p["kind"], p["value"]) for p in mine] == [("verbosity", "concise")]
            assert admin.delete(f"/v1/keys/{key_id}").json() == {"key_id": key_id, "revoked": True}
            revoked = dave.get("/v1/models")
        assert revoked.status_code == 401
        assert admin.post("/v1/keys", json={"role": "user", "namespace": "acme"}).status_code == 400


# --------------------------------------------------------------------------- the header and guessing


@pytest.mark.parametrize(
    ("template", "status"),
    [
        ("Bearer {key}", 200),
        ("bearer {key}", 200),  # the scheme is case-insensitive (RFC 7235)
        ("BEARER {key}", 200),
        ("Bearer  {key}", 401),  # two spaces
        ("Bearer {key} {key}", 401),
        ("Bearer", 401),
        ("{key}", 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("Token {key}", 401),
    ],
)
def test_the_authorization_header_is_parsed_strictly(live: Live, template: str, status: int) -> None:
    with client_from(live) as client:
        response = client.get("/v1/models", headers={"Authorization": template.format(key=live.keys.alice)})
    assert response.status_code == status, response.text
    if status == 401:
        assert response.json()["error"]["code"] == "malformed_authorization"


def test_two_authorization_headers_are_refused(live: Live) -> None:
    with client_from(live) as client:
        response = client.get("/v1/models", headers=[("Authorization", f"Bearer {live.keys.alice}"),
                                                     ("Authorization", f"Bearer {live.keys.bob}")])
    assert response.status_code == 401 and response.json()["error"]["code"] == "malformed_authorization"


def test_guessing_keys_is_rate_limited_per_client(live: Live) -> None:
    statuses = []
    with client_from(live) as guesser:
        for i in range(200):
            statuses.append(guesser.get("/v1/models", headers=auth(f"pad_{i:016x}_" + "a" * 43)).status_code)
        blocked = guesser.get("/v1/models", headers=auth(live.keys.alice))  # even a right key, now
    assert statuses[:MAX_FAILURES] == [401] * MAX_FAILURES
    assert set(statuses[MAX_FAILURES:]) == {429}
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    with client_from(live, live.keys.alice) as other_client:  # another address is not affected
        assert other_client.get("/v1/models").status_code == 200


def test_keys_are_stored_only_as_hashes(live: Live) -> None:
    with live.memory.engine.connect() as conn:
        rows = conn.execute(select(ApiKeyRow)).all()
    stored = {row.key_id: row for row in rows}
    assert len(stored) >= 4
    for key in (live.keys.alice, live.keys.bob, live.keys.acme, live.keys.admin):
        row = stored[key.split("_")[1]]
        assert row.secret_hash == hashlib.sha256(key.encode()).hexdigest()
        secret = key.rsplit("_", 1)[1]
        assert not any(secret in str(value) for value in row)


# --------------------------------------------------------------------------- user ids, caps, history


@pytest.mark.parametrize("user", ["bob\u200d", "bob ", " bob", "bo\u202eb", "bob\x00", "bob\ufe0f", "bob\u3164"])
def test_look_alike_user_ids_are_a_400(live: Live, user: str) -> None:
    with client_from(live, live.keys.acme) as acme:
        chat = acme.post("/v1/chat/completions", json={"model": live.model, "user": user, "messages": QUESTION})
        assert chat.status_code == 400 and chat.json()["error"]["param"] == "user", chat.text
        path = acme.get(f"/v1/users/{quote(user, safe='')}/preferences")
        assert path.status_code == 400, path.text


def test_a_full_preference_cap_is_a_409_and_changes_nothing(live: Live) -> None:
    many = [{"kind": "likes", "value": f"thing number {i}"} for i in range(30)]
    with client_from(live, live.keys.acme) as acme:
        response = acme.put("/v1/users/erin/preferences", json={"preferences": many})
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "preference_limit"
        assert acme.get("/v1/users/erin/preferences").json()["preferences"] == []  # all or nothing
        few = acme.put("/v1/users/erin/preferences", json={"preferences": [*many[:3], {"kind": "allergies", "value": "peanuts"}]})
        assert few.status_code == 200, few.text
        before = sorted((p["kind"], p["value"]) for p in few.json()["preferences"])
        assert len(before) == 4
        for replace in (False, True):  # with replace, the removals are undone too
            again = acme.put("/v1/users/erin/preferences", json={"preferences": many, "replace": replace})
            assert again.status_code == 409, again.text
            stored = acme.get("/v1/users/erin/preferences").json()["preferences"]
            assert sorted((p["kind"], p["value"]) for p in stored) == before
        fits = acme.put("/v1/users/erin/preferences", json={"preferences": many[5:10], "replace": True})
        assert fits.status_code == 200, fits.text
        assert sorted(p["value"] for p in fits.json()["preferences"]) == sorted(m["value"] for m in many[5:10])


def test_history_is_paginated(live: Live) -> None:
    with client_from(live, live.keys.acme) as acme:
        for i in range(3):
            acme.post("/v1/chat/completions", json={"model": live.model, "user": "frank", "messages": [
                {"role": "user", "content": f"Question {i}?"}]}).raise_for_status()
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"limit": 2, **({"before": cursor} if cursor else {})}
            page = acme.get("/v1/users/frank/history", params=params).json()
            assert len(page["messages"]) <= 2
            seen = [m["content"] for m in page["messages"]] + seen
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert acme.get("/v1/users/frank/history", params={"limit": 5000}).status_code == 400
    assert [s for s in seen if s.startswith("Question")] == ["Question 0?", "Question 1?", "Question 2?"]
    assert len(seen) == 6


# --------------------------------------------------------------------------- the CLI


def test_pad_keys_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    assert pad_main(["keys", "create", "--db", db, "--user", "alice", "--note", "laptop"]) == 0
    out = capsys.readouterr().out.splitlines()
    key = out[-1]
    assert KEY_RE.fullmatch(key) and "alice" in out[0]
    assert pad_main(["keys", "create", "--db", db, "--tenant", "acme"]) == 0
    tenant_key = capsys.readouterr().out.splitlines()[-1]
    assert KEY_RE.fullmatch(tenant_key) and tenant_key != key
    assert pad_main(["keys", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    key_id = key.split("_")[1]
    assert key_id in listing and "laptop" in listing and key not in listing
    assert pad_main(["keys", "revoke", "--db", db, key_id]) == 0
    capsys.readouterr()
    assert pad_main(["keys", "list", "--db", db]) == 0
    assert key_id not in capsys.readouterr().out
    assert pad_main(["keys", "revoke", "--db", db, key_id]) == 1  # not active any more
    assert "no active key" in capsys.readouterr().err


@pytest.mark.parametrize("user", ["bob\u200d", "bob ", ""])
def test_pad_keys_refuses_look_alike_user_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str], user: str) -> None:
    assert pad_main(["keys", "create", "--db", f"sqlite:///{tmp_path / 'k.db'}", "--user", user]) == 2
    assert "error: argument --user:" in capsys.readouterr().err


def test_pad_keys_needs_exactly_one_principal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    assert pad_main(["keys", "create", "--db", db]) == 2
    assert pad_main(["keys", "create", "--db", db, "--admin", "--user", "x"]) == 2


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.com"])
def test_no_auth_is_refused_on_a_non_loopback_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    code = pad_main(["serve", "--no-auth", "--host", host, "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert code == 2
    assert "--no-auth" in capsys.readouterr().err


def test_no_auth_on_loopback_says_so_loudly_at_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The warning comes before the model loads (a missing model then ends the run, quickly).
    code = pad_main(["serve", "--no-auth", "--host", "127.0.0.1", "--db", f"sqlite:///{tmp_path / 's.db'}",
                     "--model", str(tmp_path / "no-such-model")])
    err = capsys.readouterr().err
    assert code != 0
    assert "AUTHENTICATION IS OFF" in err and "anyone who can reach this server can act as any user" in err


def test_serve_without_keys_in_the_database_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert pad_main(["serve", "--db", db, "--model", str(tmp_path / "no-such-model")]) != 0
    assert "pad keys create --db" in capsys.readouterr().err


def test_the_old_shared_api_key_option_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pad_main(["serve", "--api-key", "shared", "--db", f"sqlite:///{tmp_path / 's.db'}"]) == 2
    assert "pad keys create" in capsys.readouterr().err


def test_pad_memory_export_streams_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    db = f"sqlite:///{tmp_path / 'm.db'}"
    with PreferenceMemory(url=db) as memory:
        for i in range(30):
            memory.commit_turn("ann", [{"role": "user", "content": f"message {i}"}])
    assert pad_main(["memory", "export", "--db", db, "--user", "ann", "--jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0]["type"] == "header" and records[0]["user_id"] == "ann"
    assert [r["content"] for r in records if r["type"] == "message"] == [f"message {i}" for i in range(30)]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_failure_counts_are_shared_through_the_database_and_expire(
    backend: str, sqlite_url: str, request: pytest.FixtureRequest
) -> None:
    """Two limiters on two engines (two workers) count one client's failures together; the window resets."""
    from pad_integrations.server.auth import FailureLimiter

    url = sqlite_url if backend == "sqlite" else request.getfixturevalue("postgres_url")
    with PreferenceMemory(url, namespace="limiter") as one, PreferenceMemory(url, namespace="limiter") as two:
        a = FailureLimiter(3, 60.0).bound(one.engine)
        b = FailureLimiter(3, 60.0).bound(two.engine)
        client = f"test-{uuid.uuid4().hex[:12]}"  # the PostgreSQL test database is shared between runs
        t0 = 1_000_000.0
        a.failed(client, now=t0)
        b.failed(client, now=t0 + 1)
        assert a.blocked_for(client, now=t0 + 2) == 0.0 and b.blocked_for(client, now=t0 + 2) == 0.0
        a.failed(client, now=t0 + 2)
        assert b.blocked_for(client, now=t0 + 3) == pytest.approx(57.0)  # 3 failures across both workers
        assert a.blocked_for("198.51.100.99", now=t0 + 3) == 0.0  # another client is not blocked
        assert a.blocked_for(client, now=t0 + 61) == 0.0  # the window has passed
        b.failed(client, now=t0 + 61)  # a new window starts; the old count is gone
        assert a.blocked_for(client, now=t0 + 62) == 0.0
        a.failed(client, now=t0 + 62)
        a.failed(client, now=t0 + 63)
        assert b.blocked_for(client, now=t0 + 63) == pytest.approx(58.0)
