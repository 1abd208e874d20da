"""Read-your-writes across workers: ``PreferenceMemory.read_pending`` reads a user's turn that another
process (another server worker, a Ray Serve replica) committed and has not read yet, exactly once.

Two stores on one database stand for two workers; worker A commits a turn and has not read it (its
``read_turn`` comes later, or never: it died). Real SQLite files and a real PostgreSQL server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from memory import PreferenceMemory
from memory.extractors.rules import RuleExtractor

TURN = [{"role": "user", "content": "I prefer short answers, please."}, {"role": "assistant", "content": "Sure."}]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[PreferenceMemory, PreferenceMemory]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    namespace = f"xw-{uuid.uuid4().hex[:8]}"
    # The rule extractor alone: inline, no model to load.
    a = PreferenceMemory(url=url, namespace=namespace, extractor=RuleExtractor(), resume=False)
    b = PreferenceMemory(url=url, namespace=namespace, extractor=RuleExtractor(), resume=False)
    yield a, b
    a.close()
    b.close()


def pending_rows(memory: PreferenceMemory) -> int:
    with memory.engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM memory_messages m JOIN memory_users u ON u.pk = m.user_pk "
            "WHERE u.namespace = :ns AND m.pending <> 0"), {"ns": memory.namespace}).scalar_one())


def test_another_worker_reads_a_committed_unread_turn_exactly_once(
    two_workers: tuple[PreferenceMemory, PreferenceMemory],
) -> None:
    a, b = two_workers
    ids = a.commit_turn("ann", TURN)  # worker A answered; its reading has not happened yet
    assert pending_rows(a) == 2
    assert b.profile("ann").preferences == []  # what B would have served without reading it

    assert b.read_pending("ann") == 1
    assert [(p.kind, p.value) for p in b.profile("ann").preferences] == [("verbosity", "concise")]
    assert pending_rows(a) == 0
    # A's own reading comes late and applies nothing twice.
    assert a.read_turn("ann", ids).changes == []
    assert [(p.kind, p.value) for p in a.profile("ann").preferences] == [("verbosity", "concise")]
    assert b.read_pending("ann") == 0  # nothing left: one query, nothing read


def test_only_that_users_turns_are_read(two_workers: tuple[PreferenceMemory, PreferenceMemory]) -> None:
    a, b = two_workers
    a.commit_turn("ann", TURN)
    a.commit_turn("bob", TURN)
    assert b.read_pending("ann") == 1
    assert b.profile("bob").preferences == []  # bob's turn is still A's to read
    assert pending_rows(a) == 2
    assert b.read_pending("nobody") == 0  # an unknown user: nothing, no row created
