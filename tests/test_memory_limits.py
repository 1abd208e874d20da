"""Issue 13, memory side: look-alike user ids refused, bounded preferences per user (caps, eviction, per-kind
prompt budgets), retention, paginated history and streamed export, durable turns resumed after a crash,
and hot statements served by indexes. Real SQLite files and (with PAD_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

# The SQLite / PostgreSQL parametrization (a fresh PostgreSQL database per test) lives with the backend tests.
from test_memory_backends import db_url, pg_url  # noqa: F401

from memory import (
    InvalidUserIdError,
    MemoryLimits,
    PreferenceLimitError,
    PreferenceMemory,
    normalize_user_id,
)
from memory.extractors.base import Assert, Decision, ExtractionContext
from memory.extractors.rules import RuleExtractor
from memory.phrases import STYLE_PHRASES
from memory.queries import (
    ACTIVE_ROWS,
    CLAIM_TURN,
    DELETE_MESSAGES,
    PROFILE,
    RECENT_BEFORE,
    TURN_MESSAGES,
    USER_ROW,
)
from memory.schema import MessageRow


@pytest.fixture
def url(db_url: str) -> str:  # noqa: F811
    return db_url


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def flood(n: int, start: int = 0) -> str:
    return " ".join(f"I like thing{i}." for i in range(start, start + n))


def active_prefs(mem: PreferenceMemory, uid: str) -> list[Any]:
    return [p for p in mem.history(uid).preferences if p.status == "active"]


def open_mem(url: str, **kwargs: Any) -> PreferenceMemory:
    kwargs.setdefault("extractor", RuleExtractor())
    kwargs.setdefault("resume_after", 0.2)  # no live writer shares these stores: resume without waiting
    return PreferenceMemory(url, **kwargs)


# -- user ids --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["bob\u200d", "bob ", " bob", "b\u200bob", "\u202ebob", "bob\u2066", "bo\u00adb", "bob\n", "\tbob", "", "   ",
     # default-ignorable code points outside the format category: a variation selector, the combining
     # grapheme joiner, a Hangul filler (alone too), a Mongolian selector, the braille blank
     "bob\ufe0f", "bob\u034f", "bob\u3164", "\u3164", "bob\u180b", "bob\u2800", "bob\U000e0100"],
)
def test_look_alike_ids_are_refused_everywhere(raw: str, sqlite_url: str) -> None:
    with pytest.raises(InvalidUserIdError) as err:
        normalize_user_id(raw)
    assert isinstance(err.value, ValueError)  # callers that map ValueError to 400 keep working
    with open_mem(sqlite_url) as mem:
        mem.observe("bob", user("I'm vegetarian."))
        for call in (
            lambda: mem.observe(raw, user("I like jazz.")),
            lambda: mem.profile(raw),
            lambda: mem.set_preference(raw, "likes", "jazz"),
            lambda: mem.history(raw),
            lambda: mem.forget(raw),
        ):
            with pytest.raises(InvalidUserIdError):
                call()
        assert mem.profile("bob").weights.keys() == {"diet"}  # the real bob untouched
        with mem.engine.connect() as conn:
            assert conn.execute(text("SELECT user_id FROM memory_users")).scalars().all() == ["bob"]


def test_compatibility_forms_are_one_user(sqlite_url: str) -> None:
    assert normalize_user_id("ｂｏｂ") == "bob"  # full-width letters fold onto ASCII (NFKC)
    assert normalize_user_id("ﬁona") == "fiona"  # the ligature too
    assert normalize_user_id("日本語 ユーザー") == "日本語 ユーザー"
    with open_mem(sqlite_url) as mem:
        mem.observe("ｂｏｂ", user("I'm vegetarian."))
        assert mem.profile("bob").weights.keys() == {"diet"}
        assert mem.history("ｂｏｂ").user_id == "bob"
    with pytest.raises(InvalidUserIdError, match="longer than 255"):
        normalize_user_id("x" * 256)
    with pytest.raises(TypeError):
        normalize_user_id(42)


# -- caps and eviction -----------------------------------------------------------------------------------


def style_lines() -> list[str]:
    return [
        STYLE_PHRASES[("formality", "formal")],
        STYLE_PHRASES[("expertise", "expert")],
        STYLE_PHRASES[("verbosity", "concise")],
    ]


def test_a_flood_of_likes_never_displaces_style_or_safety(url: str) -> None:
    with open_mem(url) as mem:
        mem.set_preference("ann", "formality", "formal")
        mem.observe("ann", user("I'm an expert programmer, skip the basics. Please keep your answers short."))
        mem.observe("ann", user("I'm allergic to peanuts."))
        before = mem.profile("ann")
        assert {"formality", "expertise", "verbosity", "allergies"} <= before.weights.keys()
        # The attack: one message of 60 "I like thingN.", then nine more.
        first = mem.observe("ann", user(flood(60)))
        adds = [c for c in first.wait() if c.action == "add"]
        assert len(adds) == 20  # max_decisions_per_turn
        for k in range(1, 10):
            mem.observe("ann", user(flood(60, start=100 * k)))
        prof = mem.profile("ann")
        lines = prof.text.splitlines()
        for sentence in style_lines():
            assert f"- {sentence}" in lines
        assert '- Allergy: "peanuts"' in lines
        assert len(prof.text) <= 1200
        assert sum(1 for p in prof.preferences if p.kind == "likes") == 8  # per-kind prompt budget
        active = active_prefs(mem, "ann")
        likes = [p for p in active if p.kind == "likes"]
        assert len(likes) == 40  # max_per_kind
        assert {p.kind for p in active} >= {"formality", "expertise", "verbosity", "allergies"}
        hist = mem.history("ann")
        evicted = [e for e in hist.events if e.action == "remove" and e.source == "evicted"]
        assert evicted and all(e.kind == "likes" for e in evicted)
        assert len(evicted) == 200 - 40


def test_eviction_keeps_the_best_evidenced_and_explicit_rows(url: str) -> None:
    limits = MemoryLimits(max_preferences=6, max_per_kind=4)
    with open_mem(url, limits=limits) as mem:
        mem.observe("eve", user("I like jazz."))
        mem.observe("eve", user("I like jazz."))  # jazz: two pieces of evidence
        mem.set_preference("eve", "likes", "chess")  # manual outranks inferred
        mem.observe("eve", user(flood(6)))
        likes = {p.value for p in active_prefs(mem, "eve") if p.kind == "likes"}
        assert len(likes) == 4
        assert {"jazz", "chess"} <= likes
        mem.observe("eve", user("I'm allergic to shellfish. I'm allergic to peanuts. I'm allergic to soy."))
        kinds = [p.kind for p in active_prefs(mem, "eve") if p.kind in ("likes", "allergies")]
        assert kinds.count("allergies") == 3 and len(kinds) == 6  # the total cap evicted likes, not allergies
        assert "chess" in {p.value for p in active_prefs(mem, "eve")}


def test_explicit_sets_are_capped_with_a_clear_error(url: str) -> None:
    with open_mem(url, limits=MemoryLimits(max_preferences=10, max_per_kind=3)) as mem:
        for item in ("tea", "coffee", "cocoa"):
            mem.set_preference("pat", "likes", item)
        with pytest.raises(PreferenceLimitError) as err:
            mem.set_preference("pat", "likes", "mate")
        assert isinstance(err.value, ValueError)
        # Nothing changed: the failed set rolled back whole.
        assert {p.value for p in mem.profile("pat").preferences} == {"tea", "coffee", "cocoa"}
        # An inferred like makes room for a manual one without an error.
        mem.remove_preference("pat", "likes", value="cocoa")
        mem.observe("pat", user("I like juice."))
        mem.set_preference("pat", "likes", "mate")
        assert {p.value for p in mem.profile("pat").preferences} == {"tea", "coffee", "mate"}


# -- retention -------------------------------------------------------------------------------------------


def message_count(mem: PreferenceMemory, uid: str) -> tuple[int, int]:
    """(rows in memory_messages, the user's kept message_count)."""
    with mem.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT count(*) FROM memory_messages m JOIN memory_users u ON u.pk = m.user_pk "
                "WHERE u.user_id = :u"
            ),
            {"u": uid},
        ).scalar_one()
        kept = conn.execute(text("SELECT message_count FROM memory_users WHERE user_id = :u"), {"u": uid}).scalar_one()
    return rows, kept


def test_retention_by_count_keeps_the_newest(url: str) -> None:
    limits = MemoryLimits(max_messages=40)
    with open_mem(url, limits=limits) as mem:
        for i in range(60):
            result = mem.observe("rex", [*user(f"Message {i}."), {"role": "assistant", "content": f"Reply {i}."}])
            if i == 5:
                first_reply = result.message_ids[1]
                mem.feedback("rex", first_reply, rating=1)
        rows, kept = message_count(mem, "rex")
        assert rows == kept
        assert 40 <= rows <= 40 + limits.trim_slack
        contents = [m.content for m in mem.iter_messages("rex")]
        assert contents[-2:] == ["Message 59.", "Reply 59."]
        assert "Message 0." not in contents
        # Feedback on a trimmed message went with it.
        assert mem.history("rex").feedback == []


def test_retention_by_age_and_pending_turns_are_never_trimmed(url: str) -> None:
    with open_mem(url, limits=MemoryLimits(max_message_age=timedelta(days=30))) as mem:
        mem.observe("old", user("Ancient message."))
        mem.observe("old", user("Owed a reading."))
        with mem.engine.begin() as conn:
            conn.execute(
                text("UPDATE memory_messages SET created_at = :at, pending = CASE WHEN content = 'Owed a reading.' THEN 1 ELSE 0 END"),
                {"at": "2020-01-01 00:00:00"},
            )
        mem.observe("old", user("Fresh message."))
        contents = [m.content for m in mem.iter_messages("old")]
        assert contents == ["Owed a reading.", "Fresh message."]
        assert message_count(mem, "old")[0] == message_count(mem, "old")[1] == 2


# -- pagination and export -------------------------------------------------------------------------------


def test_history_pages_and_streamed_export_cover_everything_once(url: str) -> None:
    with open_mem(url) as mem:
        for i in range(130):
            mem.observe("pag", [*user(f"Question {i}?"), {"role": "assistant", "content": f"Answer {i}."}])
        page = mem.history("pag")
        assert len(page.messages) == 100 and page.next_cursor is not None
        seen = []
        cursor = None
        while True:
            page = mem.history("pag", limit=70, before=cursor)
            seen = [m.id for m in page.messages] + seen
            cursor = page.next_cursor
            if cursor is None:
                break
        streamed = [m.id for m in mem.iter_messages("pag", batch=37)]
        assert len(streamed) == 260 and seen == streamed and len(set(streamed)) == 260
        records = list(mem.iter_export("pag", batch=50))
        assert records[0]["type"] == "header" and records[0]["user_id"] == "pag"
        by_type: dict[str, int] = {}
        for record in records:
            by_type[record["type"]] = by_type.get(record["type"], 0) + 1
            json.dumps(record)
        assert by_type["message"] == 260
        whole = mem.export("pag")
        assert [m["id"] for m in whole["messages"]] == streamed
        with pytest.raises(ValueError):
            mem.history("pag", limit=5000)
        with pytest.raises(ValueError):
            mem.history("pag", before="not a cursor")


def test_a_history_cursor_can_be_pasted_into_a_url_as_it_is(sqlite_url: str) -> None:
    """The cursor held '+00:00|<id>': pasted into a query string, the '+' came back as a space (400)."""
    from urllib.parse import parse_qs, quote

    with open_mem(sqlite_url) as mem:
        for i in range(3):
            mem.observe("url", user(f"Message number {i}."))
        first = mem.history("url", limit=1)
        cursor = first.next_cursor
        assert cursor is not None and quote(cursor, safe=":") == cursor
        pasted = parse_qs(f"before={cursor}")["before"][0]  # what a server reads from ?before=<cursor>
        second = mem.history("url", limit=1, before=pasted)
        assert [m.id for m in second.messages] != [m.id for m in first.messages]
        stamp, row_id = cursor.rsplit("_", 1)
        older_form = stamp.replace("Z", "+00:00") + "|" + row_id  # cursors handed out before keep working
        assert mem.history("url", limit=1, before=older_form).messages == second.messages
        assert mem.history("url", limit=1, before=older_form.replace("+", " ")).messages == second.messages


# -- durable turns ---------------------------------------------------------------------------------------


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way out catches it."""


class CrashOn:
    name = "crash"
    runs_inline = True

    def __init__(self, trigger: str) -> None:
        self.trigger = trigger

    def extract(self, context: ExtractionContext) -> list[Decision]:
        if any(self.trigger in m.content for m in context.messages):
            raise Crash
        return []


def test_a_turn_interrupted_before_its_reading_is_resumed_exactly_once(url: str) -> None:
    with open_mem(url, extractor=[RuleExtractor(), CrashOn("zqcrash")]) as mem:
        mem.observe("dur", user("I like zqfirst."))
        with pytest.raises(Crash):
            mem.observe("dur", user("I like zqcrash."))
        # The turn is stored although its reading never finished; its preference is not there yet.
        assert [m.content for m in mem.iter_messages("dur")] == ["I like zqfirst.", "I like zqcrash."]
        assert "zqcrash" not in mem.profile("dur").text
    # A new process (a restart) resumes it at open, in the background.
    with open_mem(url) as mem:
        assert mem.flush(30)
        assert "zqcrash" in mem.profile("dur").text
        assert mem.resume_pending() == 0  # nothing left owed
        # Resuming again (another process racing) never counts the turn twice.
        pref = next(p for p in mem.profile("dur").preferences if p.value == "zqcrash")
        assert len(pref.evidence) == 1
        with mem.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM memory_messages WHERE pending <> 0")).scalar_one() == 0


def test_a_store_opened_while_others_write_leaves_their_turns_in_flight_to_them(url: str) -> None:
    """A turn committed a moment ago in a live process is its owner's to read: a store opened now waits
    ``resume_after`` before taking turns committed before it opened, and never takes later ones."""
    with open_mem(url, extractor=[RuleExtractor(), CrashOn("zqlive")]) as owner:
        with pytest.raises(Crash):
            owner.observe("live", user("I like zqlive."))  # stands for a turn in flight in the owner
        late = open_mem(url, resume_after=30)
        try:
            assert not late.flush(0.3)  # the resume is scheduled, not yet due
            assert "zqlive" not in late.profile("live").text
        finally:
            late.close()  # cancels the scheduled resume
        with open_mem(url, resume_after=0.1) as restarted:
            assert restarted.flush(30)
            assert "zqlive" in restarted.profile("live").text


def test_exactly_once_when_two_processes_resume_the_same_turn(url: str) -> None:
    with open_mem(url, extractor=[RuleExtractor(), CrashOn("zqtwice")]) as mem, pytest.raises(Crash):
        mem.observe("two", user("I like zqtwice."))
    a = open_mem(url, resume=False)
    b = open_mem(url, resume=False)
    try:
        assert a.resume_pending() == 1
        assert b.resume_pending() == 0
        events = [e for e in a.history("two").events if e.value == "zqtwice"]
        assert [e.action for e in events] == ["add"]
    finally:
        a.close()
        b.close()


class Slow:
    """A background extractor standing for a heavy model: it reads the durable turn and the recent words."""

    name = "slow"
    runs_inline = False

    def __init__(self) -> None:
        self.contexts: list[ExtractionContext] = []

    def extract(self, context: ExtractionContext) -> list[Decision]:
        self.contexts.append(context)
        if any("zqbg" in m.content for m in context.messages):
            return [Assert("likes", "zqbackground", "implicit", 0.6, extractor="slow")]
        return []


def test_background_extractor_reads_the_durable_turn(url: str) -> None:
    slow = Slow()
    with open_mem(url, extractor=[RuleExtractor(), slow]) as mem:
        mem.observe("bg", user("Earlier words."))
        result = mem.observe("bg", user("zqbg please"))
        assert result.pending == 1
        assert mem.flush(30)
        assert "zqbackground" in mem.profile("bg").text
        assert slow.contexts[-1].extra["recent_user_messages"] == ["Earlier words."]
        with mem.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM memory_messages WHERE pending <> 0")).scalar_one() == 0


# -- cost independent of history ------------------------------------------------------------------------


def test_hot_statements_are_served_by_indexes(sqlite_url: str) -> None:
    """EXPLAIN QUERY PLAN of each statement observe and profile run: an index search, never a table scan."""
    with open_mem(sqlite_url) as mem:
        mem.observe("idx", user("I'm vegetarian."))
        checked = 0
        with mem.engine.connect() as conn:
            for stmt, params in (
                (USER_ROW, {"ns": "default", "uid": "idx"}),
                (ACTIVE_ROWS, {"pk": 1}),
                (PROFILE, {"ns": "default", "uid": "idx"}),
                (RECENT_BEFORE, {"pk": 1, "before": "2030-01-01", "n": 20}),
            ):
                sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": False}))
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(_positional(stmt, conn, params)))
                details = [row[-1] for row in plan]
                assert details, sql
                for detail in details:
                    assert ("USING" in detail and "INDEX" in detail) or "PRIMARY KEY" in detail, (sql, details)
                    checked += 1
        assert checked >= 5


def test_statements_naming_rows_by_id_use_the_primary_key(sqlite_url: str) -> None:
    """'user_pk = ? AND id IN (...)' let SQLite walk the user's whole (user_pk, created_at) index: 600 ms
    per retention trim at 100k messages. These statements must look rows up by id."""
    ids = [f"{i:032x}" for i in range(64)]
    executed: list[tuple[str, Any]] = []
    with open_mem(sqlite_url) as mem:

        @event.listens_for(mem.engine, "before_cursor_execute")
        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            executed.append((statement, parameters))

        checked = 0
        with mem.engine.connect() as conn:
            for stmt, params in (
                (DELETE_MESSAGES, {"pk": 1, "ids": ids}),
                (CLAIM_TURN, {"pk": 1, "ids": ids, "bit": 1, "keep": ~1}),
                (TURN_MESSAGES, {"pk": 1, "ids": ids}),
            ):
                conn.execute(stmt, params)  # nothing matches; the point is the SQL and bound values sent
                sql, bound = executed[-1]
                plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", bound)]
                assert plan and all("(id=?)" in step for step in plan if "memory_messages" in step), (sql, plan)
                checked += 1
            conn.rollback()
        assert checked == 3


def _positional(stmt: Any, conn: Any, params: dict[str, Any]) -> list[Any]:
    compiled = stmt.compile(conn)
    values = compiled.construct_params(params)
    return [values[name] for name in compiled.positiontup]


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        MemoryLimits(max_preferences=0)
    with pytest.raises(ValueError):
        MemoryLimits(max_message_age=timedelta(0))
    with pytest.raises(ValueError):
        PreferenceMemory("sqlite:///:memory:", resume_after=-1)
    assert MemoryLimits(max_messages=None).trim_slack == 0
    assert MessageRow.__table__.c.pending is not None


def test_commit_then_read_is_observe_in_two_halves(url: str) -> None:
    with open_mem(url) as mem:
        ids = mem.commit_turn("half", [*user("I'm vegetarian."), {"role": "assistant", "content": "Noted."}])
        assert len(ids) == 2
        assert mem.profile("half").preferences == []  # durable, not read yet
        assert [m.id for m in mem.iter_messages("half")] == list(ids)
        result = mem.read_turn("half", ids)
        assert [(c.action, c.preference.kind) for c in result.changes] == [("add", "diet")]
        assert mem.read_turn("half", ids).changes == []  # read twice, applied once
        with pytest.raises(TypeError):
            mem.read_turn("half", "not-a-list")


def test_for_namespace_shares_the_store_and_resumes_every_tenant(url: str) -> None:
    with open_mem(url, namespace="tenant-a") as root:
        b = root.for_namespace("tenant-b")
        assert root.for_namespace("tenant-b") is b and root.for_namespace("tenant-a") is root
        assert b.engine is root.engine
        b.observe("same", user("I'm vegetarian."))
        assert root.profile("same").preferences == []  # tenants never see each other
        assert b.profile("same").weights.keys() == {"diet"}
        b.commit_turn("later", user("I'm allergic to peanuts."))
    # A restart opened on another namespace still resumes tenant-b's unread turn.
    with open_mem(url, namespace="tenant-a") as root:
        assert root.flush(30)
        assert "peanuts" in root.for_namespace("tenant-b").profile("later").text
