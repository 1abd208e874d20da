"""PreferenceMemory: observe turns, serve profiles, take explicit control and feedback, forget users."""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import URL, Connection, Engine, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from memory import taxonomy
from memory.background import BackgroundWorker, Job, foreground, on_worker_thread
from memory.db import (
    WRITE,
    autocommit_options,
    create_store_engine,
    default_url,
    shared_connection_lock,
    upgrade,
    with_retries,
)
from memory.embedding import OverBudget, forward_budget
from memory.errors import PreferenceLimitError, UnknownMessageError
from memory.extractors.base import Assert, Decision, ExtractionContext, Extractor
from memory.extractors.memo import forget_kept_texts
from memory.extractors.rules import RuleExtractor
from memory.limits import HISTORY_PAGE, HISTORY_ROWS, MAX_PAGE, TRIM_BATCH, MemoryLimits
from memory.messages import TurnMessage, normalize_messages, normalize_user_id
from memory.profile import DEFAULT_MAX_CHARS, Profile, compile_profile
from memory.queries import (
    ACTIVE_ROWS,
    AGED_MESSAGES,
    ANY_PENDING,
    CLAIM_TURN,
    DELETE_FEEDBACK_ON,
    DELETE_MESSAGES,
    INSERT_MESSAGES,
    OLDEST_MESSAGES,
    PENDING_ANYWHERE,
    PENDING_OF_USER,
    PENDING_TURNS,
    PROFILE,
    RECENT_BEFORE,
    SET_MESSAGE_COUNT,
    TURN_MESSAGES,
    USER_PK,
    USER_ROW,
    USER_ROW_LOCKED,
    decode_cursor,
    event_of,
    latest_events,
    latest_feedback,
    message_page,
    messages_forward,
    preference_rows,
    preferences_forward,
)
from memory.records import (
    Change,
    FeedbackRecord,
    History,
    ObserveResult,
    Preference,
    StoredMessage,
)
from memory.resolve import MAX_CUSTOM_TEXT_CHARS, Resolver, clean_value, to_record
from memory.schema import (
    FEEDBACK,
    MESSAGES,
    PENDING_INLINE,
    USER_TABLES,
    EventRow,
    FeedbackRow,
    MessageRow,
    UserRow,
    aware,
    utcnow,
)
from memory.text import clean_for_storage

log = logging.getLogger("memory")
T = TypeVar("T")

LONG_ANSWER_WORDS = 150  # a thumbs-down on an answer longer than this reads as 'too long'
MAX_FEEDBACK_CHARS = 2_000
EXPORT_FORMAT = "pad-memory-export/1"
EXPORT_BATCH = 500  # rows per read while streaming an export
RECENT_USER_MESSAGES = 10  # ExtractionContext.extra["recent_user_messages"]: the user's words before the turn
RESUME_BATCH = 500
RESUME_AFTER_S = 10.0  # at open, pending turns older than this are orphaned, not in flight elsewhere
RETRY_READS = 5  # delayed retries of a turn whose reading failed (the database was away)
WAIT_SAMPLES = 100_000  # write waits kept for write_waits()
SETTLE_S = 10.0  # how long profile() and read_pending() wait for the user's deferred readings, at most
# Forward passes of the embedding model a turn may take on the caller's path (observe); a turn needing more
# is read off the path. None: no count of passes, only each inline extractor's budget in word pieces
# (``inline_tokens``: what all of the turn's passes together may cost), which bounds what they cost.
INLINE_FORWARDS: int | None = None
validate_id = normalize_user_id  # the old name, kept for callers


def _default_extractors() -> list[Extractor]:
    try:
        from memory.extractors import default_extractors
    except ImportError:
        return [RuleExtractor()]
    return list(default_extractors())


def _as_extractors(extractor: Extractor | Sequence[Extractor] | None) -> list[Extractor]:
    if extractor is None:
        return _default_extractors()
    extractors = list(extractor) if isinstance(extractor, Sequence) else [extractor]
    for e in extractors:
        if not isinstance(e, Extractor):
            raise TypeError(f"{e!r} is not an extractor (needs name, runs_inline and extract(context))")
    if not extractors:
        raise ValueError("extractor must not be an empty list")
    return extractors


@dataclass(frozen=True)
class _Extractors:
    all: list[Extractor]
    inline: list[Extractor]
    background: dict[int, Extractor]  # bit 1 + i of memory_messages.pending -> background extractor i
    mask: int  # the pending bits a new turn starts with

    @classmethod
    def of(cls, extractors: list[Extractor]) -> _Extractors:
        inline = [e for e in extractors if e.runs_inline]
        background = {1 << (1 + i): e for i, e in enumerate(e for e in extractors if not e.runs_inline)}
        return cls(extractors, inline, background, (PENDING_INLINE if inline else 0) | sum(background))


class _Deferred(Exception):
    """An inline extractor asked, on the caller's path, for the turn to be read off it (``extra["defer"]``)."""


class _DeferredRead:
    """A turn's inline reading that ``observe`` moved off the caller's path: run once, by the worker or by
    whoever needs the user's profile first (``settle``), whichever takes it first; the others wait for it."""

    def __init__(self, uid: str, ids: tuple[str, ...]) -> None:
        self.uid = uid
        self.ids = ids
        self.done: Future[list[Change]] = Future()
        self.after: list[threading.Event] = []  # background jobs of the user's earlier turns, to run first
        self._taken = False
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            taken, self._taken = self._taken, True
            return not taken


class _UserRef(NamedTuple):
    pk: int
    message_count: int
    created: bool  # this transaction inserted the row


class PreferenceMemory:
    """A SQL-backed, per-user preference memory (SQLite by default, PostgreSQL for several workers).

    ``url``: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``); default: ``PAD_MEMORY_URL``
    or a SQLite file under the user data directory. ``namespace`` scopes user ids (a tenant): the same
    user id in two namespaces is two users. ``extractor``: one extractor or a list; the default is
    ``memory.extractors.default_extractors()``. Extractors with ``runs_inline = False`` run on a
    background thread after ``observe`` returns (call ``flush()`` to wait for them). ``limits``: the
    per-user bounds (``MemoryLimits``). ``resume``: read, in the background, the turns an earlier
    process committed but never read (after ``resume_after`` seconds, so turns in flight in live
    processes are left to them). ``inline_forwards``: forward passes of the embedding model one turn may
    take on the caller's path; a turn that needs more is read by the background worker (see ``observe``;
    None, the default: no count, only each inline extractor's ``inline_tokens`` budget in word pieces).
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        namespace: str = "default",
        extractor: Extractor | Sequence[Extractor] | None = None,
        max_chars: int | None = DEFAULT_MAX_CHARS,
        on_background_changes: Callable[[str, list[Change]], None] | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        limits: MemoryLimits | None = None,
        resume: bool = True,
        resume_after: float = RESUME_AFTER_S,
        inline_forwards: int | None = INLINE_FORWARDS,
    ) -> None:
        # Not str(url): SQLAlchemy masks the password there, and the engine needs it.
        raw = url if url else default_url()
        self.url = raw if isinstance(raw, str) else raw.render_as_string(hide_password=False)
        self.namespace = normalize_user_id(namespace, "namespace")
        self.max_chars = max_chars
        if limits is not None and not isinstance(limits, MemoryLimits):
            raise TypeError("limits must be a MemoryLimits")
        self.limits = limits or MemoryLimits()
        self._extractor_arg = extractor
        self._resolved: _Extractors | None = None
        self._resolve_lock = threading.Lock()
        if extractor is not None:
            self._resolve()  # a bad extractor argument fails here, not at the first observe
        self._feedback_extractor = RuleExtractor()
        self._on_background_changes = on_background_changes
        self._waits: deque[float] = deque(maxlen=WAIT_SAMPLES)
        self._engine: Engine = create_store_engine(self.url, **(engine_kwargs or {}))
        self._postgres = self._engine.dialect.name == "postgresql"
        # An in-memory SQLite database is one connection shared by every thread: take turns on it.
        self._serial: AbstractContextManager[Any] = shared_connection_lock(self._engine)
        try:
            with_retries(lambda: upgrade(self._engine), what="migrating the memory database")
        except BaseException:
            self._engine.dispose()
            raise
        self._write_engine = self._engine.execution_options(**WRITE)
        self._autocommit_engine = self._engine.execution_options(
            **autocommit_options(self._engine.dialect.name)
        )
        insert_ = pg_insert if self._postgres else sqlite_insert
        self._insert_user = (
            insert_(UserRow)
            .values(
                namespace=bindparam("ns"),
                user_id=bindparam("uid"),
                created_at=bindparam("now"),
                updated_at=bindparam("now"),
                message_count=bindparam("count"),
            )
            .on_conflict_do_nothing(index_elements=["namespace", "user_id"])
            .returning(UserRow.pk)
        )
        self._worker = BackgroundWorker(self._run_job)
        self._owns_engine = True
        self._resume_timer: threading.Timer | None = None
        self._siblings: dict[str, PreferenceMemory] = {}
        self._siblings_lock = threading.Lock()
        self._deferred: dict[str, list[_DeferredRead]] = {}  # per user, in observe order
        # Per user: the background extractor jobs queued and not yet done, each one's event set when done.
        self._queued: dict[str, list[threading.Event]] = {}
        self._deferred_lock = threading.Lock()
        if inline_forwards is not None and (
            isinstance(inline_forwards, bool) or not isinstance(inline_forwards, int) or inline_forwards < 0
        ):
            raise ValueError("inline_forwards must be a non-negative int or None")
        self.inline_forwards = inline_forwards
        self._warmed = False
        if isinstance(resume_after, bool) or not isinstance(resume_after, (int, float)) or not (
            0 <= resume_after <= 3600
        ):
            raise ValueError("resume_after must be a number of seconds in [0, 3600]")
        if resume and self._any_pending():
            # Turns a process committed but never finished reading: read them off the caller, once turns
            # still in flight in live processes have had ``resume_after`` seconds to be read by their owner.
            opened = utcnow()
            self._resume_timer = threading.Timer(
                float(resume_after), self._worker.submit, (lambda: self._resume_at_open(opened),)
            )
            self._resume_timer.daemon = True
            self._resume_timer.start()

    # ------------------------------------------------------------------ extractors (resolved lazily)

    def _resolve(self) -> _Extractors:
        """The extractors, built on first need: the default ones may load a model (torch), which the
        read-only uses (profile, history, export, the CLI's memory commands) never need."""
        resolved = self._resolved
        if resolved is None:
            with self._resolve_lock:
                resolved = self._resolved
                if resolved is None:
                    resolved = self._resolved = _Extractors.of(_as_extractors(self._extractor_arg))
        return resolved

    @property
    def _extractors(self) -> list[Extractor]:
        return self._resolve().all

    @property
    def _inline(self) -> list[Extractor]:
        return self._resolve().inline

    @property
    def _background(self) -> dict[int, Extractor]:
        return self._resolve().background

    @property
    def _pending_mask(self) -> int:
        return self._resolve().mask

    # ------------------------------------------------------------------ plumbing

    @property
    def engine(self) -> Engine:
        return self._engine

    def for_namespace(self, namespace: str) -> PreferenceMemory:
        """The same store seen under another namespace (a tenant): it shares this one's engine and
        connection pool, extractors and limits, and has its own background worker. Cached per namespace;
        closing this memory closes them too."""
        ns = normalize_user_id(namespace, "namespace")
        if ns == self.namespace:
            return self
        with self._siblings_lock:
            sibling = self._siblings.get(ns)
            if sibling is None:
                sibling = copy.copy(self)
                sibling.namespace = ns
                sibling._owns_engine = False
                sibling._siblings = {}
                sibling._siblings_lock = threading.Lock()
                sibling._worker = BackgroundWorker(sibling._run_job)
                sibling._resume_timer = None
                sibling._deferred = {}
                sibling._queued = {}
                sibling._deferred_lock = threading.Lock()
                self._siblings[ns] = sibling
            return sibling

    def write_waits(self) -> list[float]:
        """Seconds each recent write waited for the write lock (SQLite) or connection before its work began."""
        return list(self._waits)

    def _write(self, work: Callable[[Connection], T], what: str) -> T:
        """One short write transaction (SQLite: BEGIN IMMEDIATE), retried whole on transient failures."""
        asked = time.perf_counter()
        started = False

        def attempt() -> T:
            nonlocal started
            foreground.yield_to()  # a background job's write waits for the request path (bounded)
            with self._serial, self._write_engine.begin() as conn:
                if not started:
                    started = True
                    self._waits.append(time.perf_counter() - asked)
                return work(conn)

        return with_retries(attempt, what=what)

    def _read(self, work: Callable[[Any], T], what: str, *, autocommit: bool = False) -> T:
        """A read; ``autocommit`` for a single statement, which needs no snapshot spanning statements."""
        engine = self._autocommit_engine if autocommit else self._engine

        def attempt() -> T:
            foreground.yield_to()
            with self._serial, engine.connect() as conn:
                return work(conn)

        return with_retries(attempt, what=what)

    def _user_row(self, conn: Connection, user_id: str, *, create: bool, messages: int = 0) -> _UserRef | None:
        """The user's row id and message count, locked for this transaction (PostgreSQL: FOR UPDATE;
        SQLite: BEGIN IMMEDIATE). A row created here counts ``messages`` (what the transaction stores).

        The user row is created on first sight with INSERT ... ON CONFLICT DO NOTHING RETURNING, so two
        writers that meet a new user at the same moment end up with one row and both lock it (a row this
        transaction inserted is its own until commit); ``created`` tells the one whose insert made it.
        """
        params = {"ns": self.namespace, "uid": user_id}
        stmt = USER_ROW_LOCKED if self._postgres else USER_ROW
        row = conn.execute(stmt, params).first()
        if row is None and create:
            inserted = conn.execute(self._insert_user, {**params, "now": utcnow(), "count": messages}).scalar()
            if inserted is not None:
                return _UserRef(inserted, messages, True)
            row = conn.execute(stmt, params).one()  # another writer created it first: wait for its lock
        return None if row is None else _UserRef(row.pk, row.message_count or 0, False)

    def _user_pk(self, conn: Connection, user_id: str, *, create: bool) -> int | None:
        row = self._user_row(conn, user_id, create=create)
        return None if row is None else row.pk

    @staticmethod
    def _active_rows(conn: Connection, pk: int) -> list[Any]:
        return list(conn.execute(ACTIVE_ROWS, {"pk": pk}))

    def _extract(
        self, extractors: Sequence[Extractor], context: ExtractionContext, *, budgeted: bool = False
    ) -> list[Decision]:
        """Each extractor's decisions. ``budgeted`` (the caller's path): an extractor with an ``inline_tokens``
        budget may run at most that many word pieces through the embedding model in all its forward passes;
        one that would go over raises ``OverBudget`` and the turn is read off the path."""
        decisions: list[Decision] = []
        for extractor in extractors:
            try:
                pieces = getattr(extractor, "inline_tokens", None) if budgeted else None
                with forward_budget(pieces=pieces if isinstance(pieces, int) else None):
                    decisions += extractor.extract(context)
            except OverBudget as exc:
                context.extra["defer"] = f"{getattr(extractor, 'name', extractor)}: {exc}"
                return []
            except Exception:
                # The turn is stored whatever an extractor does; a broken extractor costs only its own reading.
                log.exception("memory: extractor %r failed", getattr(extractor, "name", extractor))
        return self._bound_decisions(decisions)

    def _bound_decisions(self, decisions: list[Decision]) -> list[Decision]:
        """At most ``max_decisions_per_turn`` assertions, the highest-ranked ones (style and safety first),
        applied in the extractor's order; retractions are all kept."""
        limit = self.limits.max_decisions_per_turn
        asserts = [i for i, d in enumerate(decisions) if isinstance(d, Assert)]
        if len(asserts) <= limit:
            return decisions

        def rank(i: int) -> tuple[float, int]:
            d = decisions[i]
            assert isinstance(d, Assert)
            style = 10.0 if taxonomy.is_style(d.kind) else 0.0
            try:
                return (style + taxonomy.priority(d.kind, d.source, d.weight, d.confidence), -i)
            except Exception:
                return (float("-inf"), -i)

        keep = set(sorted(asserts, key=rank, reverse=True)[:limit])
        log.info("memory: a turn asserted %d preferences; applying the %d ranked highest", len(asserts), limit)
        return [d for i, d in enumerate(decisions) if not isinstance(d, Assert) or i in keep]

    # ------------------------------------------------------------------ caps

    @staticmethod
    def _keep_score(row: Any) -> tuple[float, int, float]:
        """Higher is kept longer: priority (safety, source, weight x confidence), evidence, recency."""
        return (
            taxonomy.priority(row.kind, row.source, row.weight, row.confidence),
            len(row.evidence or ()),
            row.updated_at.timestamp() if row.updated_at is not None else 0.0,
        )

    def _enforce_cap(self, resolver: Resolver, *, protect: Collection[str] | None = None) -> None:
        """Evict the lowest-ranked active content preferences over the per-kind and per-user caps.

        Style dimensions are never counted nor evicted (one row each, bounded by the taxonomy). An
        explicit ``set_preference`` (``protect``: the slots it sets) that would evict itself or another manually set
        row raises ``PreferenceLimitError`` instead, so explicit control never silently loses what was set.
        """
        limits = self.limits
        rows = [r for r in resolver.active.values() if not taxonomy.is_style(r.kind)]
        if len(rows) <= min(limits.max_preferences, limits.max_per_kind):
            return
        victims: list[Any] = []
        by_kind: dict[str, list[Any]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        for group in by_kind.values():
            excess = len(group) - limits.max_per_kind
            if excess > 0:
                victims += sorted(group, key=self._keep_score)[:excess]
        chosen = {id(v) for v in victims}
        remaining = [r for r in rows if id(r) not in chosen]
        excess = len(remaining) - limits.max_preferences
        if excess > 0:
            victims += sorted(remaining, key=self._keep_score)[:excess]
        if protect is not None and any(v.slot in protect or v.source == "manual" for v in victims):
            # Explicit control never silently evicts explicit control: what the caller set stays, or the
            # call fails with a clear error.
            raise PreferenceLimitError(
                f"this user already holds {len(rows)} active preferences (cap {limits.max_preferences}, "
                f"{limits.max_per_kind} per kind) and only manually set ones could make room; remove some first"
            )
        for victim in victims:
            resolver.remove(victim, [], source="evicted")

    # ------------------------------------------------------------------ observe

    def _check_open(self) -> None:
        if self._worker.closed:
            raise RuntimeError("this PreferenceMemory is closed")

    def observe(self, user_id: str, messages: Any) -> ObserveResult:
        """Store a turn, infer preferences from it in the light of the user's history, return the changes.

        With inline extractors, the user's active preferences and recent words are read first, the inline
        extractors read the turn in memory outside any transaction, and one short write transaction stores
        the turn and applies their decisions (to the active rows as they are under the write lock), the
        turn never flagged as owed its inline reading: when ``observe`` returns, the turn and what was read
        from it are committed together; a process killed before that leaves neither (the turn was never
        acknowledged), while a reading interrupted by an exception (``KeyboardInterrupt``) leaves the turn
        committed and owed its reading. A turn read off the caller's path (below), or whose context could
        not be read, is committed first, flagged as owed its reading, and read as
        ``read_turn(commit_turn(...))`` would read it: a server that must store a turn before reading it
        calls those two. Background extractors are queued after the commit. A turn whose reading did not
        finish (the process died, the database failed) is read again by ``resume_pending``, which a new
        ``PreferenceMemory`` runs at start.

        The inline reading has a budget: at most ``SentenceExtractor.inline_tokens`` word pieces through
        the embedding model in all of the turn's forward passes (each model call counted with
        ``memory.embedding.CALL_PIECES`` more; ``inline_forwards`` can also cap the passes). A turn that
        needs more (many or long sentences, new phrases to compare with the user's preferences by meaning),
        or one that follows such a turn of the same user still being read, is read whole by the background
        worker instead, in the user's order: first in its queue, or, while background extractor jobs for
        the user's earlier turns are queued, after them. It is read the same way and applied once; nothing
        of it is stored on the caller's path.
        The return value then has ``deferred=True`` and no ``changes``; ``result.wait()`` returns the
        changes once that reading is done. Either way, read-your-writes holds: ``profile`` (and
        ``read_pending``) first wait, bounded, for the user's deferred readings (running one itself when
        the worker has not started it yet).
        """
        uid = normalize_user_id(user_id)
        with foreground.running():
            turn = self._new_turn(messages)
            if self._inline and not self._behind(uid):
                return self._observe_in_one_write(uid, turn)
            stored, loaded = self._commit(uid, turn, with_context=bool(self._inline))
            return self._read_committed(uid, stored, loaded)

    def commit_turn(self, user_id: str, messages: Any) -> tuple[str, ...]:
        """Only the durable half of ``observe``: commit the raw messages (flagged as owed a reading) and
        return their ids. A server calls this before it acknowledges an answer, then ``read_turn`` (or
        leaves the reading to ``resume_pending``)."""
        uid = normalize_user_id(user_id)
        with foreground.running():
            stored, _ = self._commit(uid, self._new_turn(messages))
        return tuple(m.id or "" for m in stored)

    def read_turn(self, user_id: str, message_ids: Sequence[str]) -> ObserveResult:
        """The reading half of ``observe`` for a turn ``commit_turn`` stored: inline extractors now,
        background ones queued. Reading a turn twice applies it once (the second read changes nothing)."""
        uid = normalize_user_id(user_id)
        if isinstance(message_ids, str) or not isinstance(message_ids, Sequence) or not message_ids:
            raise TypeError("message_ids must be the non-empty sequence commit_turn returned")
        ids = [normalize_user_id(m, "message_id") for m in message_ids]
        self._check_open()
        changes: list[Change] = []
        later: _DeferredRead | None = None
        with foreground.running():
            if self._inline:
                if self._behind(uid):
                    later = self._defer(uid, ids)
                else:
                    try:
                        changes = self._extract_turn(uid, ids, self._inline, PENDING_INLINE, request_path=True)
                    except _Deferred:
                        later = self._defer(uid, ids)
            self._queue_background(uid, ids)
        return self._result(changes, ids, later)

    def _new_turn(self, messages: Any) -> list[TurnMessage]:
        """The turn's messages, checked and cleaned, each with the id it will be stored under."""
        turn = normalize_messages(messages)
        self._check_open()
        return [TurnMessage(m.role, m.content, m.truncated, uuid.uuid4().hex) for m in turn]

    def _insert_turn(self, conn: Connection, pk: int, stored: Sequence[TurnMessage], now: Any, pending: int) -> None:
        """The turn's rows, ``pending`` the readings it is still owed (its ``turn_id`` names the turn whenever
        the store has extractors, as ``resume_pending`` groups a turn by it)."""
        turn_id = stored[0].id if self._pending_mask else None
        conn.execute(
            INSERT_MESSAGES,
            [
                {
                    "id": m.id,
                    "user_pk": pk,
                    "role": m.role,
                    "content": m.content,
                    "truncated": m.truncated,
                    "created_at": now + timedelta(microseconds=i),
                    "pending": pending,
                    "turn_id": turn_id,
                }
                for i, m in enumerate(stored)
            ],
        )

    def _commit(
        self, uid: str, stored: list[TurnMessage], *, with_context: bool = False
    ) -> tuple[list[TurnMessage], tuple[int, ExtractionContext] | None]:
        """Commit the turn, flagged as owed its readings. ``with_context``: also return what the inline
        extractors read (the user's active preferences and recent words), read in the same transaction,
        which saves the reading its own round trip."""

        def store(conn: Connection) -> tuple[list[TurnMessage], tuple[int, ExtractionContext] | None]:
            user = self._user_row(conn, uid, create=True)
            assert user is not None
            pk, count = user.pk, user.message_count
            now = utcnow()
            self._insert_turn(conn, pk, stored, now, self._pending_mask)
            count = self._retain(conn, pk, count + len(stored), now)
            conn.execute(SET_MESSAGE_COUNT, {"user_pk": pk, "count": count})
            if not with_context:
                return stored, None
            return stored, (pk, self._context(conn, pk, stored, now, new_user=user.created))

        return self._write(store, "observe")  # durable from here on

    def _observe_in_one_write(self, uid: str, stored: list[TurnMessage]) -> ObserveResult:
        """``observe`` with inline extractors: read the user's context, run the inline extractors on the turn
        in memory (no lock held), then store the turn and apply their decisions in one short write, the turn's
        inline flag never set. A turn the extractors send off the caller's path, or whose context could not
        be read, is committed flagged as owed its reading and read as ``commit_turn`` + ``read_turn`` would."""
        ids = [m.id or "" for m in stored]
        try:
            # Autocommit: the rows read need no snapshot in common (the write reads the active rows again).
            context = self._read(
                lambda conn: self._context_before(conn, uid, stored), "reading a user's context", autocommit=True
            )
            decisions = self._decide(context, self._inline, request_path=True)
        except _Deferred:
            self._commit(uid, stored)
            later = self._defer(uid, ids)
            self._queue_background(uid, ids)
            return self._result([], ids, later)
        except Exception:
            log.exception("memory: reading a turn before its commit failed; it is committed and read again")
            self._commit(uid, stored)
            self._retry_read(uid, ids)
            self._queue_background(uid, ids)
            return self._result([], ids, None)
        except BaseException:
            # The reading was interrupted (KeyboardInterrupt, SystemExit): the turn is committed, owed its
            # reading, before the interruption goes on, as if stored before it was read; resume_pending reads it.
            self._commit(uid, stored)
            raise
        changes = self._write(
            functools.partial(self._store_read_turn, uid=uid, stored=stored, decisions=decisions), "observe"
        )  # durable from here on, read and applied: nothing pending for the inline extractors
        self._queue_background(uid, ids)
        return self._result(changes, ids, None)

    def _context_before(self, conn: Connection, uid: str, turn: Sequence[TurnMessage]) -> ExtractionContext:
        """What the inline extractors read of a turn not stored yet: the user's active preferences and the
        messages before it (nothing, for a user not stored yet)."""
        pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
        return self._context(conn, pk or 0, turn, utcnow(), new_user=pk is None)

    def _store_read_turn(
        self, conn: Connection, *, uid: str, stored: Sequence[TurnMessage], decisions: list[Decision]
    ) -> list[Change]:
        """One transaction: the turn, owed only its background readings, and the inline decisions applied to
        the user's active rows as they are now (read under the write lock: another writer may have changed
        them since the extractors read them)."""
        user = self._user_row(conn, uid, create=True, messages=len(stored))
        assert user is not None
        now = utcnow()
        if not user.created:  # a new user's row was inserted with the turn's count, and has nothing to trim
            # Retention before the insert: the turn itself is never a candidate (as when it was stored pending).
            count = self._retain(conn, user.pk, user.message_count + len(stored), now)
            conn.execute(SET_MESSAGE_COUNT, {"user_pk": user.pk, "count": count})
        self._insert_turn(conn, user.pk, stored, now, self._pending_mask & ~PENDING_INLINE)
        if not decisions:
            return []
        turn_ids = [m.id or "" for m in stored]
        user_ids = [m.id or "" for m in stored if m.role == "user"]
        # A user row this transaction created has no preferences yet: a read saved on a first message.
        resolver = Resolver(conn, user.pk, [] if user.created else self._active_rows(conn, user.pk))
        resolver.apply(decisions, turn_ids, user_ids)
        self._enforce_cap(resolver)
        return resolver.changes

    def _read_committed(
        self, uid: str, stored: list[TurnMessage], loaded: tuple[int, ExtractionContext] | None
    ) -> ObserveResult:
        ids = [m.id or "" for m in stored]
        changes: list[Change] = []
        later: _DeferredRead | None = None
        if self._inline:
            if self._behind(uid):
                # An earlier turn of this user is still being read off the path: this one goes after it, so
                # the user's turns are applied in order ('I like jazz' ... 'not jazz any more').
                later = self._defer(uid, ids)
            else:
                try:
                    changes = self._extract_turn(
                        uid, ids, self._inline, PENDING_INLINE, loaded=loaded, request_path=True
                    )
                except _Deferred:
                    later = self._defer(uid, ids)
                except Exception:
                    # The turn is committed; only its reading failed. Retry it off the caller's path.
                    log.exception("memory: reading a stored turn failed; it stays pending and is retried")
                    self._retry_read(uid, ids)
        self._queue_background(uid, ids)
        return self._result(changes, ids, later)

    def _result(self, changes: list[Change], ids: list[str], later: _DeferredRead | None) -> ObserveResult:
        if later is None:
            return ObserveResult(changes, ids, len(self._background))
        return ObserveResult(
            [], ids, len(self._background), deferred=True, waiter=functools.partial(self._wait_deferred, later)
        )

    # ------------------------------------------------------------------ deferred inline readings

    def _behind(self, uid: str) -> bool:
        """Whether an earlier turn of the user is still waiting for its deferred reading in this process."""
        with self._deferred_lock:
            return bool(self._deferred.get(uid))

    def _queue_background(self, uid: str, ids: Sequence[str]) -> None:
        """Queue the background extractors' jobs for a turn, tracked per user until done: a deferred reading
        of a later turn of the user runs after them (``_defer``)."""
        for bit in self._background:
            done = threading.Event()
            with self._deferred_lock:
                self._queued.setdefault(uid, []).append(done)
            try:
                self._worker.submit(functools.partial(self._run_queued, Job(self.namespace, uid, tuple(ids), bit), done))
            except BaseException:
                self._job_done(uid, done)
                raise

    def _run_queued(self, job: Job, done: threading.Event) -> None:
        try:
            self._run_job(job)
        except Exception:
            log.exception("memory: background job failed (user %r); its turn stays pending for the next resume", job.user_id)
        finally:
            self._job_done(job.user_id, done)

    def _job_done(self, uid: str, done: threading.Event) -> None:
        with self._deferred_lock:
            queued = self._queued.get(uid, [])
            if done in queued:
                queued.remove(done)
            if not queued:
                self._queued.pop(uid, None)
        done.set()

    def _defer(self, uid: str, ids: Sequence[str]) -> _DeferredRead:
        """Queue the turn's inline reading on the worker (the turn stays flagged PENDING_INLINE in the
        database until it is read, so another process's ``read_pending`` and ``resume_pending`` see it):
        first in the queue when nothing of the user's earlier turns is queued for a background extractor,
        else after those jobs (in order), which it then also waits for wherever it runs."""
        entry = _DeferredRead(uid, tuple(ids))
        with self._deferred_lock:
            entry.after = list(self._queued.get(uid, ()))
            self._deferred.setdefault(uid, []).append(entry)
        self._worker.submit(functools.partial(self._read_deferred_up_to, entry), urgent=not entry.after)
        return entry

    def _read_deferred_up_to(self, entry: _DeferredRead) -> None:
        """The worker's job: the user's deferred readings up to ``entry``, in order."""
        with self._deferred_lock:
            queued = list(self._deferred.get(entry.uid, ()))
        upto = queued[: queued.index(entry) + 1] if entry in queued else []
        self._read_deferred(upto, None)

    def _read_deferred(self, entries: Sequence[_DeferredRead], deadline: float | None) -> bool:
        """Run (or wait for whoever runs) each reading, in order; False when ``deadline`` passed first."""
        for entry in entries:
            for job in entry.after:  # the user's earlier turns' background jobs come first
                if on_worker_thread():
                    # Queued before this reading, so the worker has run them already.
                    continue
                with foreground.waiting():
                    if not job.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
                        return False
            if entry.take():
                self._run_deferred(entry)
                continue
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                with foreground.waiting():
                    entry.done.result(left)
            except TimeoutError:
                return False
        return True

    def _run_deferred(self, entry: _DeferredRead) -> None:
        changes: list[Change] = []
        try:
            changes = self._extract_turn(entry.uid, list(entry.ids), self._inline, PENDING_INLINE)
        except Exception:
            log.exception("memory: reading a deferred turn failed; it stays pending and is retried")
            if not self._worker.closed:
                self._retry_read(entry.uid, list(entry.ids))
        finally:
            with self._deferred_lock:
                queued = self._deferred.get(entry.uid, [])
                if entry in queued:
                    queued.remove(entry)
                if not queued:
                    self._deferred.pop(entry.uid, None)
            entry.done.set_result(changes)
        if changes and self._on_background_changes is not None:
            try:
                self._on_background_changes(entry.uid, changes)
            except Exception:
                log.exception("memory: on_background_changes failed")

    def _wait_deferred(self, entry: _DeferredRead, timeout: float | None) -> list[Change]:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._deferred_lock:
            queued = list(self._deferred.get(entry.uid, ()))
        upto = queued[: queued.index(entry) + 1] if entry in queued else []
        self._read_deferred(upto, deadline)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            with foreground.waiting():
                return entry.done.result(left)
        except TimeoutError:
            return []

    def settle(self, user_id: str, timeout: float | None = SETTLE_S) -> bool:
        """Wait until the turns of this user whose inline reading ``observe`` deferred (in this process) are
        read: each one not yet started by the worker is read right here, on the caller's thread, in order.
        Returns False when ``timeout`` seconds passed first. ``profile`` and ``read_pending`` call it."""
        uid = normalize_user_id(user_id)
        with self._deferred_lock:
            queued = list(self._deferred.get(uid, ()))
        if not queued:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._read_deferred(queued, deadline):
            return True
        log.warning("memory: the profile of a user is read while one of their turns is still being read")
        return False

    def _retry_read(self, uid: str, ids: list[str], attempt: int = 0) -> None:
        """Read a committed turn again on the worker, backing off (0.5 s, 1 s, ... 8 s) while the database
        is away; after that the turn waits, pending, for ``resume_pending`` (run at every start)."""

        def run() -> None:
            try:
                self._extract_turn(uid, ids, self._inline, PENDING_INLINE)
            except Exception:
                if attempt >= RETRY_READS or self._worker.closed:
                    log.warning("memory: a stored turn stays pending until the next resume_pending")
                    return
                timer = threading.Timer(0.5 * 2**attempt, self._retry_read, (uid, ids, attempt + 1))
                timer.daemon = True
                timer.start()

        if not self._worker.closed:
            self._worker.submit(run)

    def _retain(self, conn: Connection, pk: int, count: int, now: Any) -> int:
        """Apply the retention policy to one user inside the write: a bounded batch of the oldest
        extracted messages over the count or past the age (with the feedback on them). Returns the new
        message count."""
        limits = self.limits
        doomed: list[str] = []
        if limits.max_message_age is not None:
            cutoff = now - limits.max_message_age
            doomed += conn.scalars(AGED_MESSAGES, {"pk": pk, "cutoff": cutoff, "n": TRIM_BATCH}).all()
        if limits.max_messages is not None and count - len(doomed) > limits.max_messages + limits.trim_slack:
            n = min(TRIM_BATCH, count - len(doomed) - limits.max_messages)
            oldest = conn.scalars(OLDEST_MESSAGES, {"pk": pk, "n": n + len(doomed)}).all()
            doomed = list(dict.fromkeys([*doomed, *oldest]))[: len(doomed) + n]
        if doomed:
            conn.execute(DELETE_FEEDBACK_ON, {"pk": pk, "ids": doomed})
            count -= conn.execute(DELETE_MESSAGES, {"pk": pk, "ids": doomed}).rowcount or 0
        return max(count, 0)

    def _load_context(
        self, conn: Any, uid: str, ids: Sequence[str], bit: int
    ) -> tuple[int, ExtractionContext] | None:
        """The stored turn, the user's active preferences and recent words: what an extractor reads."""
        pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
        if pk is None:
            return None  # forgotten in the meantime
        rows = conn.execute(TURN_MESSAGES, {"pk": pk, "ids": list(ids)}).all()
        if not rows or not any(r.pending & bit for r in rows):
            return None  # gone, or read already
        turn = [TurnMessage(r.role, r.content, bool(r.truncated), r.id) for r in rows]
        return pk, self._context(conn, pk, turn, rows[0].created_at)

    @staticmethod
    def _context(
        conn: Any, pk: int, turn: Sequence[TurnMessage], at: Any, *, new_user: bool = False
    ) -> ExtractionContext:
        """What an extractor reads besides the turn: the user's active preferences, the assistant message
        the turn answers and the user's recent words (the messages before ``at``). A user whose row this
        transaction created has neither yet: two reads saved on a first message."""
        if new_user:
            return ExtractionContext(turn, [], None, extra={"recent_user_messages": []})
        active = [to_record(r) for r in conn.execute(ACTIVE_ROWS, {"pk": pk})]
        before = conn.execute(RECENT_BEFORE, {"pk": pk, "before": at, "n": 2 * RECENT_USER_MESSAGES}).all()
        previous = None
        if turn[0].role == "user" and before and before[0].role == "assistant":
            previous = before[0].content
        recent = [r.content for r in reversed(before) if r.role == "user"][-RECENT_USER_MESSAGES:]
        return ExtractionContext(turn, active, previous, extra={"recent_user_messages": recent})

    def _extract_turn(
        self,
        uid: str,
        ids: Sequence[str],
        extractors: Sequence[Extractor],
        bit: int,
        *,
        loaded: tuple[int, ExtractionContext] | None = None,
        request_path: bool = False,
    ) -> list[Change]:
        """Read one stored turn with ``extractors`` (outside any transaction), then apply the decisions
        and clear the turn's ``bit`` in one short write. Exactly once: when the bit is already clear
        (another process resumed the same turn first) the decisions are dropped. ``request_path``: the
        extractors may ask for the turn to be read off the caller's path instead (raises ``_Deferred``,
        nothing applied, the bit left set). ``loaded``: the (user pk, context) read already (``observe``
        reads it in its commit)."""
        if loaded is None:
            loaded = self._read(lambda conn: self._load_context(conn, uid, ids, bit), "reading a stored turn")
        if loaded is None:
            return []
        known_pk, context = loaded
        decisions = self._decide(context, extractors, request_path=request_path)  # slow part: no lock held
        user_ids = [m.id or "" for m in context.messages if m.role == "user"]
        turn_ids = [m.id or "" for m in context.messages]
        if not decisions:
            # Nothing to apply: clearing the bit is one statement, no transaction or user lock around it.
            self._claim(known_pk, turn_ids, bit)
            return []

        def apply(conn: Connection) -> list[Change]:
            # PostgreSQL: lock the user's row (writers of one user queue here). SQLite: the transaction holds
            # the database's write lock already (BEGIN IMMEDIATE), and a user forgotten since the turn was
            # read has no messages left for the claim below to find, so the known pk saves a statement.
            pk = self._user_pk(conn, uid, create=False) if self._postgres else known_pk
            if pk is None:
                return []
            claimed = conn.execute(
                CLAIM_TURN, {"pk": pk, "ids": turn_ids, "bit": bit, "keep": ~bit}
            ).rowcount
            if not claimed:
                return []
            resolver = Resolver(conn, pk, self._active_rows(conn, pk))
            resolver.apply(decisions, turn_ids, user_ids)
            self._enforce_cap(resolver)
            return resolver.changes

        return self._write(apply, "observe (applying a turn's preferences)")

    def _decide(
        self, context: ExtractionContext, extractors: Sequence[Extractor], *, request_path: bool
    ) -> list[Decision]:
        """The extractors' decisions on a turn. ``request_path``: within the inline budgets; raises
        ``_Deferred`` when an extractor asks for the turn to be read off the caller's path."""
        context.extra["request_path"] = request_path
        if not request_path:
            return self._extract(extractors, context)
        self._warm(extractors)
        with forward_budget(self.inline_forwards):
            decisions = self._extract(extractors, context, budgeted=True)
        if context.extra.get("defer"):
            log.debug("memory: a turn is read off the caller's path: %s", context.extra["defer"])
            raise _Deferred(str(context.extra["defer"]))
        return decisions

    def _warm(self, extractors: Sequence[Extractor]) -> None:
        """Before the first budgeted reading: the extractors' one-off forward passes (training a classifier
        on first use), outside the budget, so the first turn is not sent off the path for them."""
        if self._warmed:
            return
        for extractor in extractors:
            warm = getattr(extractor, "warm", None)
            if callable(warm):
                try:
                    warm()
                except Exception:
                    log.exception("memory: warming extractor %r failed", getattr(extractor, "name", extractor))
        self._warmed = True

    def _claim(self, pk: int, ids: list[str], bit: int) -> None:
        params = {"pk": pk, "ids": ids, "bit": bit, "keep": ~bit}

        def attempt() -> None:
            with self._serial, self._autocommit_engine.connect() as conn:
                conn.execute(CLAIM_TURN, params)

        with_retries(attempt, what="observe (clearing a read turn's flag)")

    def _run_job(self, job: Job) -> None:
        extractor = self._background.get(job.extractor_index)
        if extractor is None:
            return
        changes = self._extract_turn(job.user_id, job.message_ids, [extractor], job.extractor_index)
        if changes and self._on_background_changes is not None:
            self._on_background_changes(job.user_id, changes)

    def _any_pending(self) -> bool:
        return self._read(
            lambda conn: conn.execute(ANY_PENDING).first() is not None,
            "looking for pending turns",
            autocommit=True,
        )

    def _resume_at_open(self, opened: Any) -> None:
        # Every turn is pending for the few milliseconds between its commit and its reading. A turn of a
        # live process is read by that process within ``resume_after``; one still pending then was
        # orphaned. Taking it earlier would still apply it once, but its owner's observe would report no
        # changes.
        if not self._worker.closed:
            self.resume_pending(every_namespace=True, committed_before=opened)

    def resume_pending(
        self, *, limit: int | None = None, every_namespace: bool = False, committed_before: Any = None
    ) -> int:
        """Read every stored turn still owed an extraction (a crash between a turn's commit and its
        reading, a failed read, a background job lost with its process), oldest first: this namespace's,
        or with ``every_namespace`` every tenant's (what opening a store does, in the background, for
        the turns committed before it opened and still pending ``resume_after`` seconds later).
        ``committed_before``: only turns committed before this time.

        Inline extractors run here; background ones are queued on the worker (``flush`` waits for them).
        Safe to run from several processes at once: each turn's decisions are applied exactly once.
        Returns the number of turns handled.
        """
        handled = 0
        seen: set[tuple[str, str, str]] = set()
        query = PENDING_ANYWHERE if every_namespace else PENDING_TURNS
        if committed_before is not None:
            query = query.where(MESSAGES.c.created_at < committed_before)
        while limit is None or handled < limit:
            rows = self._read(
                lambda conn: conn.execute(query, {"ns": self.namespace, "n": RESUME_BATCH}).all(),
                "looking for pending turns",
            )
            turns: dict[tuple[str, str, str], tuple[list[str], int]] = {}
            for row in rows:
                key = (row.namespace, row.user_id, row.turn_id or row.id)
                ids, bits = turns.get(key, ([], 0))
                turns[key] = ([*ids, row.id], bits | row.pending)
            fresh = [k for k in turns if k not in seen]
            if not fresh:
                break
            for key in fresh:
                seen.add(key)
                ids, bits = turns[key]
                try:
                    self.for_namespace(key[0])._resume_turn(key[1], ids, bits)
                except Exception:
                    log.exception("memory: resuming a turn of user %r failed; it stays pending", key[1])
                handled += 1
                if limit is not None and handled >= limit:
                    break
        return handled

    def read_pending(self, user_id: str) -> int:
        """Read this user's turns still owed the inline reading, whichever process committed them: what
        a server worker runs before answering a user whose previous turn another worker (a Ray Serve
        replica) answered and may still be reading, or died before reading. Exactly once: a turn read
        elsewhere at the same moment is applied by one of the two (the claim). Background extractors are
        left to their owner and ``resume_pending``. A failed reading is logged and the turn stays pending.
        Returns the number of turns read (normally 0: one indexed query). This process's own deferred
        readings of the user (see ``observe``) are waited for first (``settle``)."""
        uid = normalize_user_id(user_id)
        self._check_open()
        self.settle(uid)

        def pending(conn: Connection) -> list[Any]:
            pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
            if pk is None:
                return []
            return list(conn.execute(PENDING_OF_USER, {"pk": pk, "bit": PENDING_INLINE, "n": RESUME_BATCH}))

        rows = self._read(pending, "looking for the user's pending turns")
        turns: dict[str, list[str]] = {}
        for row in rows:
            turns.setdefault(row.turn_id or row.id, []).append(row.id)
        for ids in turns.values():
            try:
                if self._inline:
                    self._extract_turn(uid, ids, self._inline, PENDING_INLINE)
                else:
                    self._write(functools.partial(self._clear, uid=uid, ids=ids, bit=PENDING_INLINE), "resume")
            except Exception:
                log.exception("memory: reading a pending turn of user %r failed; it stays pending", uid)
        return len(turns)

    def _resume_turn(self, uid: str, ids: list[str], bits: int) -> None:
        if bits & PENDING_INLINE:
            if self._inline:
                self._extract_turn(uid, ids, self._inline, PENDING_INLINE)
            else:
                self._write(lambda conn: self._clear(conn, uid, ids, PENDING_INLINE), "resume")
        for bit in (b for b in self._bits(bits) if b != PENDING_INLINE):
            if bit in self._background:
                self._worker.submit(Job(self.namespace, uid, tuple(ids), bit))
            else:  # that extractor is no longer configured: nothing will read the turn for it
                self._write(functools.partial(self._clear, uid=uid, ids=ids, bit=bit), "resume")

    @staticmethod
    def _bits(mask: int) -> list[int]:
        return [1 << i for i in range(mask.bit_length()) if mask & (1 << i)]

    def _clear(self, conn: Connection, uid: str, ids: Sequence[str], bit: int) -> None:
        pk = self._user_pk(conn, uid, create=False)
        if pk is not None:
            conn.execute(CLAIM_TURN, {"pk": pk, "ids": list(ids), "bit": bit, "keep": ~bit})

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for background extractors (and the resume scheduled at open) to finish; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with foreground.waiting():
            timer = self._resume_timer
            if timer is not None:
                timer.join(timeout)
                if timer.is_alive():
                    return False
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            return self._worker.drain(left)

    # ------------------------------------------------------------------ profile

    def profile(
        self,
        user_id: str,
        *,
        max_chars: int | None = None,
        max_tokens: int | None = None,
        count_tokens: Callable[[str], int] | None = None,
        wait: float | None = SETTLE_S,
    ) -> Profile:
        """The user's active preferences compiled into prompt text and weights (empty for an unknown user).

        ``wait``: seconds to wait, at most, for the user's turns whose reading ``observe`` deferred in this
        process (``settle``; 0: do not wait, None: no limit), so that what the previous turn taught shows."""
        uid = validate_id(user_id)
        with foreground.running():
            if wait is None or wait > 0:
                self.settle(uid, wait)
            params = {"ns": self.namespace, "uid": uid}
            rows = self._read(lambda conn: conn.execute(PROFILE, params).all(), "profile", autocommit=True)
        budget = self.max_chars if max_chars is None else max_chars
        active = [to_record(r) for r in rows]
        return compile_profile(
            uid, active, max_chars=budget, max_tokens=max_tokens, count_tokens=count_tokens
        )

    # ------------------------------------------------------------------ explicit control

    @staticmethod
    def _manual(
        kind: str, value: str, text: str | None, weight: float, confidence: float
    ) -> tuple[Assert, str, str | None]:
        """A manual assertion checked like every explicit call: (decision, its slot, its cleaned text)."""
        kind = taxonomy.validate_kind(kind)
        value = clean_value(kind, value)
        if text is not None:
            if not isinstance(text, str):
                raise TypeError("text must be a str or None")
            text = clean_for_storage(text).strip()[:MAX_CUSTOM_TEXT_CHARS] or None
        for name, number, low, high in (("weight", weight, 0.0, 10.0), ("confidence", confidence, 0.0, 1.0)):
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise TypeError(f"{name} must be a number")
            if not (math.isfinite(number) and low <= number <= high) or (name == "weight" and number == 0):
                raise ValueError(
                    f"{name} must be in ({low}, {high}]" if name == "weight" else f"{name} must be in [0, 1]"
                )
        decision = Assert(kind, value, "manual", float(confidence), float(weight), None, "manual")
        return decision, taxonomy.slot(kind, taxonomy.item_key(kind, value)), text

    def set_preference(
        self,
        user_id: str,
        kind: str,
        value: str,
        *,
        text: str | None = None,
        weight: float = 1.0,
        confidence: float = 1.0,
    ) -> Preference:
        """Set a preference explicitly (source ``manual``); it supersedes whatever held its slot."""
        uid = validate_id(user_id)
        decision, slot, text = self._manual(kind, value, text, weight, confidence)

        def work(conn: Connection) -> Preference:
            pk = self._user_pk(conn, uid, create=True)
            assert pk is not None
            resolver = Resolver(conn, pk, self._active_rows(conn, pk))
            resolver.affirm(decision, [], custom_text=text)
            self._enforce_cap(resolver, protect={slot})
            return to_record(resolver.active[slot])

        return self._write(work, "set_preference")

    def set_preferences(
        self, user_id: str, items: Sequence[Mapping[str, Any]], *, replace: bool = False
    ) -> list[Preference]:
        """Set several preferences explicitly, all or none, in one transaction.

        ``items``: mappings with ``kind`` and ``value`` (optional ``text``, ``weight``, ``confidence``), as
        ``set_preference`` takes them. ``replace``: every other active preference is removed in the same
        transaction. If the per-user cap cannot hold them all (only manually set rows could make room),
        ``PreferenceLimitError`` is raised and nothing changed; a bad item raises before anything is written.
        Returns the stored preferences in the order given.
        """
        uid = validate_id(user_id)
        checked = []
        for item in items:
            unknown = set(item) - {"kind", "value", "text", "weight", "confidence"}
            if unknown:
                raise ValueError(f"unknown preference fields: {', '.join(sorted(unknown))}")
            checked.append(
                self._manual(
                    item["kind"], item["value"], item.get("text"),
                    item.get("weight", 1.0), item.get("confidence", 1.0),
                )
            )
        slots = {slot for _, slot, _ in checked}

        def work(conn: Connection) -> list[Preference]:
            pk = self._user_pk(conn, uid, create=True)
            assert pk is not None
            resolver = Resolver(conn, pk, self._active_rows(conn, pk))
            for decision, _, text in checked:
                resolver.affirm(decision, [], custom_text=text)
            if replace:
                for row in [r for r in resolver.active.values() if r.slot not in slots]:
                    resolver.remove(row, [], source="manual")
            # Raises (and the transaction rolls back: nothing set, nothing removed) when they do not fit.
            self._enforce_cap(resolver, protect=slots)
            return [to_record(resolver.active[slot]) for _, slot, _ in checked]

        return self._write(work, "set_preferences")

    def remove_preference(self, user_id: str, kind_or_id: str, *, value: str | None = None) -> list[Change]:
        """Remove an active preference by id, or every active preference of a kind (``value``: just that item).

        Removed rows stay in the history with status ``removed``; returns the changes ([] if none matched).
        """
        uid = validate_id(user_id)
        if not isinstance(kind_or_id, str):
            raise TypeError("kind_or_id must be a str")

        def work(conn: Connection) -> list[Change]:
            pk = self._user_pk(conn, uid, create=False)
            if pk is None:
                return []
            resolver = Resolver(conn, pk, self._active_rows(conn, pk))
            active = list(resolver.active.values())
            by_id = [r for r in active if r.id == kind_or_id]
            if by_id:
                targets = by_id
            else:
                kind = taxonomy.validate_kind(kind_or_id)
                targets = [
                    r
                    for r in active
                    if r.kind == kind and (value is None or r.value.lower() == value.strip().lower())
                ]
            for row in targets:
                resolver.remove(row, [], source="manual")
            return resolver.changes

        return self._write(work, "remove_preference")

    def feedback(
        self, user_id: str, message_id: str, *, rating: int | None = None, text: str | None = None
    ) -> list[Change]:
        """Record feedback on a stored message and learn from it.

        ``rating``: -1 (thumbs down), 0 or 1 (thumbs up). ``text``: a remark such as 'too long' or
        'shorter please', read by the rule extractor as a correction. A thumbs-down without text on a
        long answer reads as 'too long'. Unknown (or another user's) message ids raise UnknownMessageError.
        """
        uid = validate_id(user_id)
        mid = validate_id(message_id, "message_id")
        if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int)):
            raise TypeError("rating must be -1, 0, 1 or None")
        if rating is not None and rating not in (-1, 0, 1):
            raise ValueError("rating must be -1 (thumbs down), 0 or 1 (thumbs up)")
        if text is not None and not isinstance(text, str):
            raise TypeError("text must be a str or None")
        text = clean_for_storage(text).strip()[:MAX_FEEDBACK_CHARS] or None if text is not None else None
        if rating is None and text is None:
            raise ValueError("feedback needs a rating or a text")

        def work(conn: Connection) -> list[Change]:
            pk = self._user_pk(conn, uid, create=False)
            message = None
            if pk is not None:
                message = conn.execute(
                    select(MessageRow.role, MessageRow.content).where(
                        MessageRow.id == mid, MessageRow.user_pk == pk
                    )
                ).first()
            if pk is None or message is None:
                raise UnknownMessageError(f"no message {mid!r} for this user")
            conn.execute(
                insert(FEEDBACK),
                {"user_pk": pk, "message_id": mid, "rating": rating, "text": text, "created_at": utcnow()},
            )
            active = self._active_rows(conn, pk)
            decisions: list[Decision] = []
            if text:
                context = ExtractionContext(
                    [TurnMessage("user", text)],
                    [to_record(r) for r in active],
                    message.content,
                    feedback=True,
                )
                decisions = self._extract([self._feedback_extractor], context)
            long_answer = message.role == "assistant" and len(message.content.split()) > LONG_ANSWER_WORDS
            if rating == -1 and long_answer and not any(d.kind == "verbosity" for d in decisions):
                decisions.append(Assert("verbosity", "concise", "feedback", 0.5, 1.0, None, "feedback"))
            resolver = Resolver(conn, pk, active)
            resolver.apply(decisions, [], [mid])
            return resolver.changes

        return self._write(work, "feedback")

    # ------------------------------------------------------------------ history, export, forget

    def history(self, user_id: str, *, limit: int | None = None, before: str | None = None) -> History:
        """One page of what is kept about the user, oldest first.

        ``messages``: the latest ``limit`` (default 100, at most 1000) messages before the cursor
        ``before`` (``History.next_cursor`` of the previous page; None: the newest). ``preferences``:
        every active row and the latest 1000 inactive ones; ``events`` and ``feedback``: the latest
        1000. ``next_cursor`` is None on the oldest page. ``iter_messages`` and ``iter_export`` walk
        everything without holding it in memory.
        """
        uid = normalize_user_id(user_id)
        if limit is None:
            limit = HISTORY_PAGE
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be an int in [0, {MAX_PAGE}] or None")
        cursor = decode_cursor(before) if before is not None else None

        def load(conn: Connection) -> History:
            pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
            if pk is None:
                return History(uid)
            messages, next_cursor = message_page(conn, pk, limit, cursor)
            prefs = [to_record(r) for r in preference_rows(conn, pk, HISTORY_ROWS)]
            events = latest_events(conn, pk, HISTORY_ROWS)
            feedback = latest_feedback(conn, pk, HISTORY_ROWS)
            return History(uid, messages, prefs, events, feedback, next_cursor)

        return self._read(load, "history")

    def iter_messages(self, user_id: str, *, batch: int = EXPORT_BATCH) -> Iterator[StoredMessage]:
        """Every stored message of the user, oldest first, read ``batch`` rows at a time (keyset pages,
        each its own short read, so nothing holds a lock or the whole history)."""
        uid = normalize_user_id(user_id)
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_PAGE:
            raise ValueError(f"batch must be an int in [1, {MAX_PAGE}]")
        after = None
        while True:

            def page(conn: Connection, after: Any = after) -> list[StoredMessage]:
                pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
                return [] if pk is None else messages_forward(conn, pk, after, batch)

            rows = self._read(page, "reading messages")
            yield from rows
            if len(rows) < batch:
                return
            after = (rows[-1].created_at, rows[-1].id)

    def _iter_table(self, uid: str, table: Any, order: Any, batch: int) -> Iterator[Any]:
        last: Any = None
        while True:

            def page(conn: Connection, last: Any = last) -> list[Any]:
                pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
                if pk is None:
                    return []
                stmt = select(table).where(table.user_pk == pk)
                if last is not None:
                    stmt = stmt.where(order > last)
                return list(conn.execute(stmt.order_by(order).limit(batch)).all())

            rows = self._read(page, "export")
            yield from rows
            if len(rows) < batch:
                return
            last = getattr(rows[-1], order.key)

    def _iter_preferences(self, uid: str, batch: int) -> Iterator[Any]:
        after: Any = None
        while True:

            def page(conn: Connection, after: Any = after) -> list[Any]:
                pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
                return [] if pk is None else preferences_forward(conn, pk, after, batch)

            rows = self._read(page, "export")
            yield from rows
            if len(rows) < batch:
                return
            after = (rows[-1].created_at, rows[-1].id)

    def iter_export(self, user_id: str, *, batch: int = EXPORT_BATCH) -> Iterator[dict[str, Any]]:
        """Everything kept about the user as a stream of JSON-serialisable records (JSON Lines friendly):
        a ``header`` record (format, namespace, user id, time, profile text), then one record per
        preference row, audit event, message and feedback row, each with a ``type``. Memory use is one
        batch, whatever the history's length."""
        uid = normalize_user_id(user_id)
        yield {
            "type": "header",
            "format": EXPORT_FORMAT,
            "namespace": self.namespace,
            "user_id": uid,
            "exported_at": utcnow().isoformat(),
            "profile_text": self.profile(uid).text,
        }
        for row in self._iter_preferences(uid, batch):
            yield {"type": "preference", **to_record(row).to_dict()}
        for row in self._iter_table(uid, EventRow, EventRow.pk, batch):
            yield {"type": "event", **event_of(row).to_dict()}
        for message in self.iter_messages(uid, batch=batch):
            yield {"type": "message", **message.to_dict()}
        for row in self._iter_table(uid, FeedbackRow, FeedbackRow.pk, batch):
            yield {"type": "feedback", **FeedbackRecord(row.message_id, row.rating, row.text, aware(row.created_at)).to_dict()}

    def export(self, user_id: str) -> dict[str, Any]:
        """Everything kept about the user as one JSON-serialisable dict (data portability). It holds the
        whole history in memory: for long histories stream ``iter_export`` instead."""
        out: dict[str, Any] = {"preferences": [], "events": [], "messages": [], "feedback": []}
        for record in self.iter_export(user_id):
            kind = record.pop("type")
            if kind == "header":
                out = {**record, **out}
            else:
                out[f"{kind}s" if kind != "feedback" else "feedback"].append(record)
        return out

    def forget(self, user_id: str) -> int:
        """Delete every row of the user (messages, preferences, history, feedback, the user); returns the count.
        The extractors' caches of recently read texts are emptied too (``memo.forget_kept_texts``)."""
        uid = validate_id(user_id)

        def work(conn: Connection) -> int:
            pk = self._user_pk(conn, uid, create=False)
            if pk is None:
                return 0
            deleted = 0
            for table in USER_TABLES:
                deleted += conn.execute(delete(table).where(table.user_pk == pk)).rowcount or 0
            deleted += conn.execute(delete(UserRow).where(UserRow.pk == pk)).rowcount or 0
            return deleted

        deleted = self._write(work, "forget")
        # Keyed by text, not by user: the readers' caches can only be emptied whole (they refill as read).
        forget_kept_texts()
        return deleted

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop the background worker (after the queued turns) and release the connections."""
        for sibling in list(self._siblings.values()):
            sibling.close()
        if self._resume_timer is not None:
            self._resume_timer.cancel()
        self._worker.close()
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> PreferenceMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PreferenceMemory(url={self._engine.url.render_as_string(hide_password=True)!r}, namespace={self.namespace!r})"

    # ------------------------------------------------------------------ async variants (never block the loop)

    async def aobserve(self, user_id: str, messages: Any) -> ObserveResult:
        return await asyncio.to_thread(self.observe, user_id, messages)

    async def aprofile(self, user_id: str, **kwargs: Any) -> Profile:
        return await asyncio.to_thread(self.profile, user_id, **kwargs)

    async def aset_preference(self, user_id: str, kind: str, value: str, **kwargs: Any) -> Preference:
        return await asyncio.to_thread(self.set_preference, user_id, kind, value, **kwargs)

    async def aset_preferences(self, user_id: str, items: Sequence[Mapping[str, Any]], **kwargs: Any) -> list[Preference]:
        return await asyncio.to_thread(self.set_preferences, user_id, items, **kwargs)

    async def aremove_preference(self, user_id: str, kind_or_id: str, **kwargs: Any) -> list[Change]:
        return await asyncio.to_thread(self.remove_preference, user_id, kind_or_id, **kwargs)

    async def afeedback(self, user_id: str, message_id: str, **kwargs: Any) -> list[Change]:
        return await asyncio.to_thread(self.feedback, user_id, message_id, **kwargs)

    async def ahistory(self, user_id: str, **kwargs: Any) -> History:
        return await asyncio.to_thread(self.history, user_id, **kwargs)

    async def aexport(self, user_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.export, user_id)

    async def aresume_pending(self, **kwargs: Any) -> int:
        return await asyncio.to_thread(self.resume_pending, **kwargs)

    async def aforget(self, user_id: str) -> int:
        return await asyncio.to_thread(self.forget, user_id)

    async def aflush(self, timeout: float | None = None) -> bool:
        return await asyncio.to_thread(self.flush, timeout)
