"""Many threads and processes observing the same and different users at once, on SQLite and PostgreSQL:
no lost update, no duplicate active preference, no 'database is locked' reaching the caller."""

from __future__ import annotations

import multiprocessing
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from memory import PreferenceMemory
from memory.loadgen import SCRIPT, observe_load


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh database on the test server, so parallel test runs never share tables."""
    name = f"pad_mem_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    return sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


def _check_invariants(mem: PreferenceMemory, uid: str) -> None:
    hist = mem.history(uid)
    active = [p for p in hist.preferences if p.status == "active"]
    slots = Counter((p.kind, p.key) for p in active)
    assert all(n == 1 for n in slots.values()), slots
    for p in hist.preferences:
        if p.status == "superseded":
            assert p.superseded_by in {q.id for q in hist.preferences}


def test_threads_on_one_user_lose_no_evidence_and_create_no_duplicate(db_url: str) -> None:
    with PreferenceMemory(db_url) as mem:
        mem.observe("warmup", [{"role": "user", "content": "hi"}])
        turns = 24

        def say(i: int) -> list[str]:
            return mem.observe(
                "shared", [{"role": "user", "content": f"I prefer short answers. ({i})"}]
            ).message_ids

        with ThreadPoolExecutor(8) as pool:
            ids = [mid for r in pool.map(say, range(turns)) for mid in r]
        [pref] = mem.profile("shared").preferences
        assert pref.value == "concise"
        assert sorted(pref.evidence) == sorted(ids)  # every turn counted once: no lost update
        assert len(mem.history("shared").messages) == turns
        adds = [e for e in mem.history("shared").events if e.action == "add"]
        assert len(adds) == 1


def test_threads_on_many_users_with_conflicting_changes(db_url: str) -> None:
    with PreferenceMemory(db_url) as mem:
        mem.observe("warmup", [{"role": "user", "content": "hi"}])

        def converse(uid: str) -> None:
            for text_ in SCRIPT:
                mem.observe(uid, [{"role": "user", "content": text_}])

        users = [f"user-{i}" for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(converse, users))
        for uid in users:
            _check_invariants(mem, uid)
            assert {p.kind: p.value for p in mem.profile(uid).preferences} == {
                "diet": "pescatarian",
                "allergies": "peanuts",
                "expertise": "beginner",
            }
            assert len(mem.history(uid).messages) == len(SCRIPT)


@pytest.mark.slow
def test_processes_on_same_and_different_users(db_url: str) -> None:
    with PreferenceMemory(db_url) as mem:
        mem.observe("warmup", [{"role": "user", "content": "hi"}])
    ctx = multiprocessing.get_context("spawn")
    jobs = [["shared", f"own-{i}"] for i in range(4)]
    with ProcessPoolExecutor(4, mp_context=ctx) as pool:
        reports = list(pool.map(observe_load, [db_url] * 4, ["default"] * 4, jobs, [len(SCRIPT)] * 4))
    assert [e for r in reports for e in r.errors] == []
    with PreferenceMemory(db_url) as mem:
        for uid in ["shared"] + [f"own-{i}" for i in range(4)]:
            _check_invariants(mem, uid)
        assert len(mem.history("shared").messages) == 4 * len(SCRIPT) * 2
        for i in range(4):
            assert {p.kind: p.value for p in mem.profile(f"own-{i}").preferences}["diet"] == "pescatarian"


def test_same_behaviour_on_both_backends(db_url: str) -> None:
    """NUL bytes, lone surrogates, JSON evidence, supersede, feedback and forget behave alike."""
    with PreferenceMemory(db_url, namespace="parity") as mem:
        ids = mem.observe(
            "p\u00e9-\U0001f600",
            [
                {"role": "user", "content": "I'm vegetarian\x00 \ud800 🍕"},
                {"role": "assistant", "content": "word " * 200},
            ],
        ).message_ids
        # The change may be read off the caller's path (the inline budget); wait for it, so the rows below are in order.
        mem.observe("p\u00e9-\U0001f600", [{"role": "user", "content": "Actually, I eat fish now."}]).wait(timeout=None)
        assert [c.preference.value for c in mem.feedback("p\u00e9-\U0001f600", ids[1], rating=-1)] == [
            "concise"
        ]
        hist = mem.history("p\u00e9-\U0001f600")
        assert hist.messages[0].content == "I'm vegetarian \ufffd 🍕"
        assert [(p.value, p.status) for p in hist.preferences] == [
            ("vegetarian", "superseded"),
            ("pescatarian", "active"),
            ("concise", "active"),
        ]
        assert hist.preferences[2].evidence == (ids[1],)
        assert (
            mem.forget("p\u00e9-\U0001f600") == 1 + 3 + 3 + 3 + 1
        )  # user, messages, preferences, events, feedback
        assert mem.export("p\u00e9-\U0001f600")["messages"] == []


def test_in_memory_sqlite_is_safe_across_threads() -> None:
    """`sqlite:///:memory:` is one shared connection; concurrent callers must not interleave transactions."""
    with PreferenceMemory("sqlite:///:memory:") as mem:

        def converse(uid: str) -> None:
            for text_ in SCRIPT:
                mem.observe(uid, [{"role": "user", "content": text_}])
                mem.profile(uid)

        users = [f"mem-{i}" for i in range(6)]
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(converse, users))
        for uid in users:
            _check_invariants(mem, uid)
            assert len(mem.history(uid).messages) == len(SCRIPT)
            assert mem.profile(uid).weights.keys() == {"diet", "allergies", "expertise"}


def _rows_mentioning(engine, needles: list[str]) -> list[tuple[str, tuple]]:
    """Every row of every table (ours or not) whose text mentions one of the needles."""
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(engine)
    found = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()):
                if any(n in str(value) for value in row for n in needles):
                    found.append((table.name, tuple(row)))
    return found


def test_forget_leaves_no_trace_on_either_backend(db_url: str) -> None:
    secret = "okapi-secret-5531"
    with PreferenceMemory(db_url, namespace="gdpr") as mem:
        ids = mem.observe(
            "victim@example.org",
            [
                {"role": "user", "content": f"I'm vegan and I love {secret}."},
                {"role": "assistant", "content": "word " * 300},
            ],
        ).message_ids
        mem.feedback("victim@example.org", ids[1], rating=-1, text="too long")
        mem.set_preference("victim@example.org", "likes", f"{secret} tea", text=f"{secret} in the morning")
        mem.observe("bystander", [{"role": "user", "content": "I'm vegetarian."}])
        prefs = [p.id for p in mem.history("victim@example.org").preferences]
        needles = ["victim@example.org", secret, *ids, *prefs]
        assert _rows_mentioning(mem.engine, needles)
        mem.forget("victim@example.org")
        assert _rows_mentioning(mem.engine, needles) == []
        assert {p.value for p in mem.profile("bystander").preferences} == {"vegetarian"}
