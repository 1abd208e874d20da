"""Authentication holds across worker processes (issue 13): two real `pad serve` processes on one database.

- Failed key attempts are counted in the database: a client that guesses against both workers in turn
  meets the limit after the limit's number of failures in all, not that number per worker.
- A key revoked through one worker is refused by the other at once (no cache window).
- PUT /preferences over the per-user cap is all-or-nothing (409 and nothing changed) on every worker.

SQLite (a file shared by the two processes) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from memory import PreferenceMemory
from pad_integrations.server.auth import KeyStore
from pad_integrations.server.service import ServerConfig

from .helpers import figures, fresh_postgres_database
from .servers import pad_serve

LIMIT = ServerConfig().auth_max_failures  # `pad serve`'s default


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'workers.db'}"
    else:
        with fresh_postgres_database(request.getfixturevalue("postgres_url")) as url:
            yield url


def client(base_url: str, address: str, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base_url, headers=headers, transport=transport, timeout=60)


def test_limits_and_revocation_hold_across_two_worker_processes(tiny_model_dir: Path, db_url: str) -> None:
    with PreferenceMemory(db_url) as memory:  # migrates the database before the workers start
        store = KeyStore(memory.engine)
        admin = store.create("admin", note="test_auth_workers")[0]
        tenant = store.create("tenant", namespace="default")[0]
    with ExitStack() as stack:
        a, _ = stack.enter_context(pad_serve(tiny_model_dir, db_url))
        b, _ = stack.enter_context(pad_serve(tiny_model_dir, db_url))

        # 1. Guessing alternately at both workers: the limit counts every failure once.
        statuses = []
        with client(a, "127.0.0.21") as at_a, client(b, "127.0.0.21") as at_b:
            for i in range(2 * LIMIT):
                worker = at_a if i % 2 == 0 else at_b
                statuses.append(worker.get("/v1/models", headers={
                    "Authorization": f"Bearer pad_{i:016x}_" + "a" * 43}).status_code)
            right_key_a = at_a.get("/v1/models", headers={"Authorization": f"Bearer {admin}"})
            right_key_b = at_b.get("/v1/models", headers={"Authorization": f"Bearer {admin}"})
        figures("guessing at two workers", limit=LIMIT, first_429_at=statuses.index(429) if 429 in statuses else None)
        assert statuses[:LIMIT] == [401] * LIMIT
        assert set(statuses[LIMIT:]) == {429}, statuses  # per-worker counting would allow 2 x LIMIT
        assert right_key_a.status_code == 429 and right_key_b.status_code == 429
        with client(b, "127.0.0.22", admin) as other:  # another address is not blocked
            assert other.get("/v1/models").status_code == 200

        # 2. Revoked through worker A, refused by worker B on the very next request.
        with client(a, "127.0.0.23", admin) as admin_a, client(b, "127.0.0.24") as at_b:
            made = admin_a.post("/v1/keys", json={"role": "user", "user": "rita"}).json()
            rita = {"Authorization": f"Bearer {made['key']}"}
            assert at_b.get("/v1/models", headers=rita).status_code == 200  # known (and cached, if cached) at B
            assert admin_a.delete(f"/v1/keys/{made['key_id']}").json()["revoked"] is True
            after = at_b.get("/v1/models", headers=rita)
        assert after.status_code == 401 and after.json()["error"]["code"] == "invalid_api_key"

        # 3. PUT over the cap: 409 on either worker and nothing changed (MemoryLimits default cap).
        with client(a, "127.0.0.25", tenant) as at_a, client(b, "127.0.0.26", tenant) as at_b:
            first = at_a.put("/v1/users/sam/preferences", json={"preferences": [
                {"kind": "allergies", "value": "peanuts"}, {"kind": "likes", "value": "jazz"}]})
            assert first.status_code == 200, first.text
            before = sorted((p["kind"], p["value"]) for p in first.json()["preferences"])
            many = [{"kind": "likes", "value": f"thing number {i}"} for i in range(100)]
            for worker in (at_a, at_b):
                for replace in (False, True):
                    over = worker.put("/v1/users/sam/preferences", json={"preferences": many, "replace": replace})
                    assert over.status_code == 409, over.text
                    assert over.json()["error"]["code"] == "preference_limit"
            after_put = at_b.get("/v1/users/sam/preferences").json()["preferences"]
        assert sorted((p["kind"], p["value"]) for p in after_put) == before
