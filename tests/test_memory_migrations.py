"""Alembic: an old (first-revision) database with data upgrades to head without losing a row."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

# The SQLite / PostgreSQL parametrization (a fresh PostgreSQL database per test) lives with the backend tests.
from test_memory_backends import db_url, pg_url  # noqa: F401

from memory import PreferenceMemory
from memory.db import HEAD_REVISION, VERSION_TABLE, create_store_engine, current_revision, upgrade
from memory.schema import Base


def _seed_revision_one(url: str) -> None:
    engine = create_store_engine(url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO memory_users (pk, namespace, user_id, created_at, updated_at) VALUES "
            "(1, 'default', 'old-user', '2025-01-01 10:00:00', '2025-01-01 10:00:00')"
        )
        for i in range(3):
            conn.exec_driver_sql(
                "INSERT INTO memory_messages (id, user_pk, role, content, created_at) VALUES "
                f"('{i:032d}', 1, 'user', 'old message {i}', '2025-01-01 10:00:0{i}')"
            )
        conn.exec_driver_sql(
            "INSERT INTO memory_preferences (id, user_pk, kind, key, slot, value, text, custom_text, weight, "
            "confidence, source, extractor, status, evidence, superseded_by, created_at, updated_at) VALUES "
            "('p1', 1, 'verbosity', '', 'verbosity', 'concise', 'Keep answers short and to the point.', NULL, 1.0,"
            " 0.9, 'explicit', 'rules', 'active', '[\"00000000000000000000000000000000\"]', NULL,"
            " '2025-01-01 10:00:00', '2025-01-01 10:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO memory_preference_events (user_pk, preference_id, action, kind, value, source, extractor,"
            " message_id, created_at) VALUES (1, 'p1', 'add', 'verbosity', 'concise', 'explicit', 'rules',"
            " '00000000000000000000000000000000', '2025-01-01 10:00:00')"
        )
    engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = create_store_engine(url)
    tables = ["memory_users", "memory_messages", "memory_preferences", "memory_preference_events"]
    with engine.connect() as conn:
        counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in tables}
    engine.dispose()
    return counts


@pytest.mark.usefixtures("db_url")
def test_old_database_upgrades_without_losing_a_row(request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("db_url")
    _seed_revision_one(url)
    before = _counts(url)
    with PreferenceMemory(url) as mem:
        assert current_revision(mem.engine) == HEAD_REVISION
        assert _counts(url) == before
        hist = mem.history("old-user")
        assert [m.content for m in hist.messages] == ["old message 0", "old message 1", "old message 2"]
        assert not any(m.truncated for m in hist.messages)
        [pref] = mem.profile("old-user").preferences
        assert (pref.value, pref.evidence) == ("concise", ("0" * 32,))
        # The upgraded database takes new writes: feedback lands in the table revision 2 added.
        assert [c.action for c in mem.feedback("old-user", f"{1:032d}", text="too long")] == ["evidence"]
        mem.observe("old-user", [{"role": "user", "content": "Actually, I prefer detailed answers."}])
        assert [p.value for p in mem.profile("old-user").preferences] == ["detailed"]
        indexes = {ix["name"] for ix in inspect(mem.engine).get_indexes("memory_messages")}
    assert "ix_memory_messages_user_created" in indexes and "ix_memory_messages_user" not in indexes


def test_head_schema_matches_the_orm(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'head.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert [d for d in diff if not (d[0] == "remove_table" and d[1].name == VERSION_TABLE)] == []


def test_concurrent_openers_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"

    def open_and_write(i: int) -> int:
        with PreferenceMemory(url) as mem:
            mem.observe(f"u{i}", [{"role": "user", "content": "I'm vegan."}])
            return len(mem.profile(f"u{i}").preferences)

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(open_and_write, range(6))) == [1] * 6
