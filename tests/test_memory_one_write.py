"""``observe`` with inline extractors reads the user's context, reads the turn in memory, then stores the turn
and applies the decisions in one write: nothing is left pending for the inline extractors, the active rows
are read again under the write lock, a resume elsewhere never sees a half-read turn, and a turn whose
context cannot be read is still stored and read later. Real SQLite files and (with PAD_TEST_POSTGRES_URL)
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import bindparam, text

# The SQLite / PostgreSQL parametrization (a fresh PostgreSQL database per test) lives with the backend tests.
from test_memory_backends import db_url, pg_url  # noqa: F401

from memory import PreferenceMemory
from memory.extractors.base import Assert, Decision, ExtractionContext
from memory.schema import PENDING_INLINE


@pytest.fixture
def url(db_url: str) -> str:  # noqa: F811
    return db_url


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


class Likes:
    """An inline extractor: 'zq<word>' in a user message is a like of it; ``during`` runs inside the
    reading (after the context was read, before anything of the turn is stored)."""

    name = "likes"
    runs_inline = True

    def __init__(self, during: Callable[[], Any] | None = None) -> None:
        self.during = during
        self.seen: list[Any] = []

    def extract(self, context: ExtractionContext) -> list[Decision]:
        if self.during is not None:
            self.seen.append(self.during())
        words = [w.strip(".") for m in context.messages if m.role == "user" for w in m.content.split()]
        return [Assert("likes", w, "explicit", 0.9, extractor=self.name) for w in words if w.startswith("zq")]


class Nothing:
    """A background extractor that reads the turn and decides nothing."""

    name = "nothing"
    runs_inline = False

    def extract(self, context: ExtractionContext) -> list[Decision]:
        return []


def pending_bits(mem: PreferenceMemory, message_ids: list[str]) -> set[int]:
    with mem.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pending FROM memory_messages WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
            {"ids": message_ids},
        )
        return {row.pending for row in rows}


def test_an_observed_turn_owes_only_its_background_readings(url: str) -> None:
    with PreferenceMemory(url, extractor=[Likes(), Nothing()], resume=False) as mem:
        result = mem.observe("ada", [*user("I like zqjazz."), {"role": "assistant", "content": "Noted."}])
        assert [(c.action, c.preference.value) for c in result.changes] == [("add", "zqjazz")]
        bits = pending_bits(mem, list(result.message_ids))
        assert bits and all(not b & PENDING_INLINE for b in bits), bits
        assert mem.flush(30)
        assert pending_bits(mem, list(result.message_ids)) == {0}
        assert mem.resume_pending() == 0


def test_a_write_between_the_reading_and_the_commit_is_seen(url: str) -> None:
    """Another writer sets the very preference while the turn is being read: the turn's decision lands on
    that row (one active row, more evidence), not beside it as if the rows read before were still current."""
    holder: dict[str, PreferenceMemory] = {}
    extractor = Likes(during=lambda: holder["mem"].set_preference("bo", "likes", "zqjazz"))
    with PreferenceMemory(url, extractor=[extractor], resume=False) as mem:
        holder["mem"] = mem
        mem.observe("bo", user("Hello."))  # the user exists, with no preferences, when the next turn is read
        result = mem.observe("bo", user("I like zqjazz."))
        assert [c.action for c in result.changes] == ["evidence"]
        rows = [p for p in mem.history("bo").preferences if p.value == "zqjazz"]
        assert [(p.status, p.source) for p in rows] == [("active", "manual")]
        assert rows[0].evidence == (result.message_ids[0],)


def test_a_resume_elsewhere_during_the_reading_finds_nothing_to_read(url: str) -> None:
    """The turn is not stored while it is read, so another process resuming pending turns cannot take it
    too: its decisions are applied once, by observe."""
    other = PreferenceMemory(url, extractor=[Likes()], resume=False)
    try:
        extractor = Likes(during=other.resume_pending)
        with PreferenceMemory(url, extractor=[extractor], resume=False) as mem:
            result = mem.observe("cy", user("I like zqtea."))
            assert extractor.seen == [0]
            assert [c.action for c in result.changes] == ["add"]
            assert [e.action for e in mem.history("cy").events] == ["add"]
            assert other.resume_pending() == 0
    finally:
        other.close()


def test_a_turn_whose_context_cannot_be_read_is_stored_and_read_later(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with PreferenceMemory(url, extractor=[Likes()], resume=False) as mem:

        def unreadable(*args: object, **kwargs: object) -> ExtractionContext:
            raise RuntimeError("the context read failed")

        monkeypatch.setattr(mem, "_context_before", unreadable)
        result = mem.observe("di", user("I like zqchess."))
        assert result.changes == [] and not result.deferred
        assert [m.content for m in mem.iter_messages("di")] == ["I like zqchess."]
        assert mem.flush(30)  # read again on the worker, from the stored turn
        assert [p.value for p in mem.profile("di").preferences] == ["zqchess"]
        assert pending_bits(mem, list(result.message_ids)) == {0}


def test_a_new_users_row_counts_the_first_turn(url: str) -> None:
    """Retention counts each user's messages: a user row created by observe's write starts at the turn's size."""
    with PreferenceMemory(url, extractor=[Likes()], resume=False) as mem:
        mem.observe("ed", [*user("I like zqrain."), {"role": "assistant", "content": "Noted."}])
        with mem.engine.connect() as conn:
            count = text("SELECT message_count FROM memory_users WHERE user_id = 'ed'")
            assert conn.execute(count).scalar_one() == 2
        mem.observe("ed", user("And zqsnow."))
        with mem.engine.connect() as conn:
            assert conn.execute(count).scalar_one() == 3
