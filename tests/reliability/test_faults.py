"""Faults: SIGKILL inside observe() and inside a migration; a PostgreSQL restart under load.

After every fault the database must open, pass structural checks (SQLite integrity, no orphans, never
two active preferences in one slot), hold every turn either whole or not at all, and serve the next run.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from memory import MemoryLimits, MemoryStoreError, PreferenceMemory
from memory.db import HEAD_REVISION, create_store_engine, current_revision, upgrade
from memory.extractors.rules import RuleExtractor

from .helpers import consistency_problems, figures, fresh_postgres_database, tricky_user_ids
from .servers import free_port

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

HERE = Path(__file__).parent
CHILD = HERE / "fault_child.py"
WORKER = HERE / "load_worker.py"
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env={**os.environ, "OMP_NUM_THREADS": "1"})


def kill_when(proc: subprocess.Popen, marker: Path, timeout: float = 60.0) -> str:
    """SIGKILL ``proc`` as soon as it wrote ``marker``; returns what it wrote there."""
    deadline = time.monotonic() + timeout
    try:
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"the child exited with {proc.returncode} before reaching the kill point")
            if time.monotonic() > deadline:
                raise AssertionError("the child never reached the kill point")
            time.sleep(0.02)
        return marker.read_text()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'faults.db'}"
    else:
        with fresh_postgres_database(request.getfixturevalue("postgres_url")) as url:
            yield url


def assert_whole_turns(mem: PreferenceMemory, user: str) -> set[str]:
    """Every turn "I like X." / "Noted: X." is stored whole (both messages and the active like) or not at
    all, and nothing twice; returns the liked items."""
    history = mem.history(user)
    contents = Counter(m.content for m in mem.iter_messages(user))
    assert all(n == 1 for n in contents.values()), f"{user!r}: stored twice: {contents.most_common(2)}"
    asked = {c.removeprefix("I like ").rstrip(".") for c in contents if c.startswith("I like ")}
    replies = {c.removeprefix("Noted: ").rstrip(".") for c in contents if c.startswith("Noted: ")}
    likes = {p.value for p in history.preferences if p.status == "active" and p.kind == "likes"}
    assert asked == replies == likes, f"{user!r}: a turn was stored in part"
    return likes


@pytest.mark.parametrize("how", ["observe", "commit-read"])
def test_sigkill_inside_observe_leaves_the_last_committed_state(store_url, tmp_path, how):
    marker = tmp_path / "inside"
    done = 3
    PreferenceMemory(store_url, namespace="kill", extractor=RuleExtractor()).close()  # migrated before the child starts
    child = spawn(str(CHILD), how, store_url, "kill", "victim/1 🙂", str(done), str(marker))
    assert kill_when(child, marker) == "inside"
    assert child.returncode == -signal.SIGKILL

    mem = PreferenceMemory(store_url, namespace="kill", extractor=RuleExtractor(), resume_after=0.5)
    assert mem.flush(60)  # the reopened store resumes the turn whose reading was interrupted
    assert consistency_problems(mem) == []
    # commit_turn stored the interrupted turn before read_turn read it, so it survived the kill and was read
    # on reopening. observe stores a turn and its reading in one write: the turn killed while it was read was
    # never committed (nor acknowledged), so it is absent, not stored in part. Every turn stored is whole.
    survivors = range(done + 1) if how == "commit-read" else range(done)
    assert assert_whole_turns(mem, "victim/1 🙂") == {f"zqkill{i}" for i in survivors}
    assert mem.resume_pending() == 0
    # The next run completes: the same user and slot are writable again (no lock or half row left behind).
    result = mem.observe("victim/1 🙂", [{"role": "user", "content": f"I like zqkill{done + 1}."}])
    assert [c.action for c in result.wait()] == ["add"]
    assert f"zqkill{done + 1}" in mem.profile("victim/1 🙂").text
    mem.close()


def test_sigkill_at_a_random_moment_under_load(store_url, tmp_path):
    PreferenceMemory(store_url, namespace="random-kill", extractor=RuleExtractor()).close()
    child = spawn(str(WORKER), store_url, "random-kill", "7", "100000", "12", "1", str(tmp_path / "never.json"))
    mem = PreferenceMemory(store_url, namespace="random-kill", extractor=RuleExtractor())
    try:
        deadline = time.monotonic() + 60
        with mem.engine.connect() as conn:  # let it write for a while, then kill it mid-flight
            while conn.execute(text("SELECT count(*) FROM memory_messages")).scalar_one() < 40:
                assert child.poll() is None and time.monotonic() < deadline, "the load worker never got going"
                time.sleep(0.05)
                conn.rollback()
        time.sleep(random.uniform(0.0, 0.5))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert consistency_problems(mem) == []
    # A turn killed between its commit and its reading is read now, as a restarted process would at start.
    figures("random SIGKILL", turns_resumed=mem.resume_pending())
    for user in tricky_user_ids(12):
        assert_whole_turns(mem, user)
    mem.observe("after the kill", [{"role": "user", "content": "I like zqafter."}])
    assert "zqafter" in mem.profile("after the kill").text
    mem.close()


SEEDED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _seed_first_revision(url: str) -> None:
    """A store at revision 0001 holding one user with three messages (written with 0001's columns)."""
    engine = create_store_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO memory_users (namespace, user_id, created_at, updated_at) "
                "VALUES ('default', 'survivor', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        pk = conn.execute(text("SELECT pk FROM memory_users WHERE user_id = 'survivor'")).scalar_one()
        for i in range(3):
            conn.execute(
                text(
                    "INSERT INTO memory_messages (id, user_pk, role, content, created_at) "
                    "VALUES (:id, :pk, 'user', :content, :at)"
                ),
                {"id": uuid.uuid4().hex, "pk": pk, "content": f"old message {i}", "at": SEEDED_AT + timedelta(seconds=i)},
            )
    engine.dispose()


def _migration_statements(url: str) -> int:
    """How many SQL statements upgrading a seeded 0001 store to head runs (the kill points)."""
    from sqlalchemy import event

    _seed_first_revision(url)
    engine = create_store_engine(url)
    seen = 0

    @event.listens_for(engine, "after_cursor_execute")
    def count(*_: object) -> None:
        nonlocal seen
        seen += 1

    upgrade(engine)
    engine.dispose()
    return seen


@pytest.fixture
def new_store(store_url, tmp_path) -> Iterator[Callable[[], str]]:
    """Makes further empty stores on the backend of ``store_url`` (dropped at the end)."""
    with contextlib.ExitStack() as stack:

        def make() -> str:
            if store_url.startswith("sqlite"):
                return f"sqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:8]}.db'}"
            return stack.enter_context(fresh_postgres_database(store_url))

        yield make


def test_sigkill_inside_a_migration_then_the_next_open_completes_it(new_store, tmp_path):
    total = _migration_statements(new_store())
    assert total > 3
    kill_points = sorted({2, total // 2, total - 1})
    outcomes = []
    for point in kill_points:
        url = new_store()
        _seed_first_revision(url)
        marker = tmp_path / f"migrating-{point}"
        outcomes.append(kill_when(spawn(str(CHILD), "migrate", url, str(point), str(marker)), marker))

        engine = create_store_engine(url)
        assert current_revision(engine) == "0001", "a killed migration must leave the old revision, not half"
        engine.dispose()
        mem = PreferenceMemory(url, extractor=RuleExtractor())  # the next run migrates to head
        assert current_revision(mem.engine) == HEAD_REVISION
        assert consistency_problems(mem) == []
        assert [m.content for m in mem.history("survivor").messages] == [f"old message {i}" for i in range(3)]
        mem.observe("survivor", [{"role": "user", "content": "I like zqmigrated."}])
        mem.feedback("survivor", mem.history("survivor").messages[0].id, rating=1)  # the 0002 table works
        assert "zqmigrated" in mem.profile("survivor").text
        mem.close()
    assert outcomes == ["inside"] * len(kill_points)
    figures("kill inside migration", backend=url.split(":")[0], statements=total, kill_points=kill_points)


# -- PostgreSQL restarted under load --------------------------------------------------------------------



@pytest.fixture(scope="module")
def restartable_postgres() -> Iterator[tuple[str, list[str]]]:
    """Our own throwaway cluster (so restarting it disturbs nobody); yields (url, pg_ctl restart command)."""
    if not PG_BIN or not (PG_BIN[-1] / "pg_ctl").exists():
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql) to run a restartable cluster")
    script = Path(__file__).parents[2] / "scripts" / "start_postgres.sh"
    # A port and data directory of this session only: two test runs at once must not restart each other's.
    data = f"/tmp/pad-pg-restart-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PAD_PG_PORT": str(free_port()), "PAD_PG_DATA": data}
    out = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        pytest.fail(f"could not start a private PostgreSQL cluster: {out.stderr[-2000:]}")
    url = out.stdout.strip().splitlines()[-1]
    # As root the script runs the cluster as an unprivileged user (PostgreSQL refuses root); so must pg_ctl.
    owner = os.environ.get("PAD_PG_OS_USER", "postgres")
    as_owner = ["runuser", "-u", owner, "--"] if os.geteuid() == 0 else []
    pg_ctl = [*as_owner, str(PG_BIN[-1] / "pg_ctl"), "-D", data]
    try:
        yield url, [*pg_ctl, "restart", "-m", "fast", "-w", "-l", f"{data}/server.log"]
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate"], capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_restart_under_load_resumes_with_clear_errors_and_no_corruption(restartable_postgres):
    base_url, restart = restartable_postgres
    with fresh_postgres_database(base_url) as url:
        # Storage under faults, not caps: no like may be evicted by the per-user limits while it runs.
        mem = PreferenceMemory(url, namespace="restart", extractor=RuleExtractor(),
                               limits=MemoryLimits(max_preferences=100_000, max_per_kind=100_000))
        users = [f"restart/{i}" for i in range(20)]
        stop = threading.Event()
        lock = threading.Lock()
        succeeded: dict[str, set[str]] = {u: set() for u in users}
        failed: dict[str, set[str]] = {u: set() for u in users}
        errors: list[BaseException] = []
        timeline: list[tuple[float, bool]] = []

        def work(worker: int) -> None:
            rng = random.Random(worker)
            n = 0
            while not stop.is_set():
                user, item = rng.choice(users), f"zqr{worker}x{n}"
                n += 1
                try:
                    mem.observe(user, [{"role": "user", "content": f"I like {item}."},
                                       {"role": "assistant", "content": f"Noted: {item}."}])
                    ok = True
                except Exception as exc:
                    ok = False
                    with lock:
                        errors.append(exc)
                with lock:
                    (succeeded if ok else failed)[user].add(item)
                    timeline.append((time.monotonic(), ok))
                if not ok:
                    time.sleep(0.05)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        down_at = time.monotonic()
        subprocess.run(restart, check=True, capture_output=True, timeout=120)
        up_at = time.monotonic()
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join(timeout=120)

        after = sum(1 for at, ok in timeline if ok and at > up_at)
        line = figures(
            "postgres restart under load",
            ops=len(timeline),
            failed=len(errors),
            ok_after_restart=after,
            restart_s=round(up_at - down_at, 2),
            error_types=sorted({type(e).__name__ for e in errors}),
            example=repr(str(errors[0])[:160]) if errors else None,
        )
        # The checks on the errors below mean something only if the outage made writes fail. It does: a
        # connection refused while the server is down is not retried (memory.db._retryable), and the 4
        # workers write without pause, so some write meets the down window (about 20 of them every run).
        assert any(not ok and at >= down_at for at, ok in timeline), \
            f"no write failed during the restart, so the error checks checked nothing ({line})"
        assert all(isinstance(e, MemoryStoreError) for e in errors), [repr(e) for e in errors[:3]]
        assert all(str(e).startswith("observe failed") for e in errors), [str(e) for e in errors[:3]]
        assert after > 0, f"operations did not resume after the restart ({line})"
        # A turn committed just before the outage whose reading then failed stays pending (it is durable,
        # not lost): resuming reads it, after which every turn is whole.
        mem.resume_pending()
        assert mem.flush(60)
        assert consistency_problems(mem) == []
        # A turn committed just before the restart whose reading failed while the server was down is read
        # again by the store's own delayed retries; resume_pending (what the next start runs) settles the rest.
        figures("postgres restart: turns read after the restart", resumed=mem.resume_pending())
        for user in users:
            likes = assert_whole_turns(mem, user)
            assert succeeded[user] <= likes, f"{user}: acknowledged writes were lost"
            assert likes <= succeeded[user] | failed[user]
        mem.close()
