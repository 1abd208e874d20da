"""No acknowledged turn lost (issue 13): a process observing turn after turn is SIGKILLed at random moments,
while another process keeps taking the write lock; after a restart every turn whose ``observe`` returned
is stored whole (both messages and its preference), nothing is stored twice, and nothing stays pending.

Before turns were committed ahead of their reading, a kill while the write lock was contended lost the
turns in flight; a server killed after 20 answered turns lost all 20 of them (issue 13).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from memory import PreferenceMemory
from memory.db import create_store_engine
from memory.extractors.rules import RuleExtractor

from .helpers import consistency_problems, figures, fresh_postgres_database
from .test_faults import CHILD, spawn

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

KILLS = 3
MIN_ACKS = 20


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'durable.db'}"
    else:
        with fresh_postgres_database(request.getfixturevalue("postgres_url")) as url:
            yield url


def hold_the_write_lock(url: str, stop: threading.Event) -> int:
    """Another writer: a stream of short write transactions on another user (SQLite: BEGIN IMMEDIATE)."""
    writes = 0
    with PreferenceMemory(url, namespace="durable-other", extractor=RuleExtractor()) as other:
        while not stop.is_set():
            other.observe("bystander", [{"role": "user", "content": f"Just chatting {writes}."}])
            writes += 1
    return writes


def pending_turns(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(DISTINCT m.turn_id) FROM memory_messages m JOIN memory_users u ON u.pk = m.user_pk "
                "WHERE m.pending <> 0 AND u.namespace = 'durable'"
            )
        ).scalar_one()


def acknowledged(acks: Path) -> list[int]:
    return [int(line) for line in acks.read_text().split("\n") if line.strip()] if acks.exists() else []


def test_sigkill_loses_no_acknowledged_turn(store_url, tmp_path):
    PreferenceMemory(store_url, namespace="durable", extractor=RuleExtractor()).close()  # migrated before anyone starts
    stop = threading.Event()
    bystander = threading.Thread(target=hold_the_write_lock, args=(store_url, stop), daemon=True)
    bystander.start()
    acked = lost = partial = duplicated = extra = unread_at_restart = 0
    try:
        for kill in range(KILLS):
            user = f"durable/ünï 🙂 {kill}"
            acks = tmp_path / f"acks-{kill}"
            child = spawn(str(CHILD), "durable", store_url, "durable", user, str(acks))
            deadline = time.monotonic() + 120
            while len(acknowledged(acks)) < MIN_ACKS:
                assert child.poll() is None, f"the child exited with {child.returncode}"
                assert time.monotonic() < deadline, "the child never acknowledged enough turns"
                time.sleep(0.01)
            time.sleep(random.uniform(0.0, 0.05))  # a random moment: inside a commit, a reading, or between
            child.kill()
            child.wait(timeout=30)
            numbers = acknowledged(acks)
            assert numbers == list(range(len(numbers)))

            # The restart: opening the store resumes what the killed process left unread.
            engine = create_store_engine(store_url)
            unread_at_restart += pending_turns(engine)
            engine.dispose()
            mem = PreferenceMemory(store_url, namespace="durable", extractor=RuleExtractor(), resume_after=1.0)
            assert mem.flush(60)
            pending = pending_turns(mem.engine)
            assert pending == 0, "turns still pending after the restart"
            assert consistency_problems(mem) == []
            contents = Counter(m.content for m in mem.iter_messages(user))
            likes = {p.value for p in mem.history(user).preferences if p.status == "active" and p.kind == "likes"}
            mem.close()
            asked = {c.removeprefix("I like ").rstrip(".") for c in contents if c.startswith("I like ")}
            replies = {c.removeprefix("Noted: ").rstrip(".") for c in contents if c.startswith("Noted: ")}
            want = {f"zqkill{i}" for i in numbers}
            acked += len(want)
            lost += len(want - (asked & replies & likes))
            partial += len((asked | replies | likes) - (asked & replies & likes))
            duplicated += sum(n - 1 for n in contents.values())
            # At most the one turn in flight at the kill may be stored beyond the acknowledged ones.
            extra += len(asked - want)
            assert len(asked - want) <= 1
    finally:
        stop.set()
        bystander.join(timeout=60)
    figures(
        f"SIGKILL x{KILLS} next to a second writer ({store_url.split(':')[0]})",
        acknowledged=acked, lost=lost, stored_in_part=partial, duplicated=duplicated,
        stored_beyond_the_acknowledged=extra, turns_unread_at_restart_then_resumed=unread_at_restart,
    )
    assert (lost, partial, duplicated) == (0, 0, 0)
    assert acked >= KILLS * MIN_ACKS
