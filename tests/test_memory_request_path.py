"""What ``observe`` reads on the caller's path: a first message of a new user reads neither preferences nor
earlier messages (its transaction created the user: there are none), and a known user's context is read
in full, also one that has preferences but no messages yet.

A real PreferenceMemory on SQLite; statements are counted with SQLAlchemy's own cursor event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from memory import PreferenceMemory
from memory.extractors.base import Decision, ExtractionContext


class Recorder:
    """An inline extractor that keeps the context of each reading and decides nothing."""

    name = "recorder"
    runs_inline = True

    def __init__(self) -> None:
        self.contexts: list[ExtractionContext] = []

    def extract(self, context: ExtractionContext) -> list[Decision]:
        self.contexts.append(context)
        return []


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def mem(tmp_path: Path, recorder: Recorder) -> Iterator[PreferenceMemory]:
    with PreferenceMemory(f"sqlite:///{tmp_path / 'm.db'}", extractor=[recorder]) as m:
        yield m


def _statements(mem: PreferenceMemory, work: object) -> list[str]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(mem.engine, "before_cursor_execute", record)
    try:
        assert callable(work)
        work()
    finally:
        event.remove(mem.engine, "before_cursor_execute", record)
    return seen


def test_a_new_users_first_message_reads_no_preferences_or_history(mem: PreferenceMemory, recorder: Recorder) -> None:
    statements = _statements(mem, lambda: mem.observe("ana", [{"role": "user", "content": "I love jazz."}]))
    reads = [s for s in statements if s.startswith("SELECT")]
    assert not any("FROM memory_preferences" in s for s in reads), reads
    assert not any("memory_messages.created_at <" in s for s in reads), reads
    [context] = recorder.contexts
    assert list(context.active) == [] and context.previous_assistant is None
    assert context.extra["recent_user_messages"] == []


def test_a_returning_user_gets_preferences_history_and_the_question_answered(
    mem: PreferenceMemory, recorder: Recorder
) -> None:
    mem.observe("ben", [{"role": "user", "content": "I like tea."}])
    mem.observe("ben", [{"role": "assistant", "content": "Which tea do you like?"}, {"role": "user", "content": "Green."}])
    mem.observe("ben", [{"role": "assistant", "content": "Anything else?"}])
    mem.set_preference("ben", "likes", "green tea")
    mem.observe("ben", [{"role": "user", "content": "Oolong too."}])
    context = recorder.contexts[-1]
    assert [p.value for p in context.active] == ["green tea"]
    assert context.previous_assistant == "Anything else?"
    assert context.extra["recent_user_messages"] == ["I like tea.", "Green."]


def test_a_user_with_preferences_but_no_messages_is_not_read_as_new(mem: PreferenceMemory, recorder: Recorder) -> None:
    mem.set_preference("cleo", "dislikes", "country music")
    mem.observe("cleo", [{"role": "user", "content": "I love jazz."}])
    [context] = recorder.contexts
    assert [p.value for p in context.active] == ["country music"]
