"""PreferenceMemory: observe turns, serve profiles, take explicit control and feedback, forget users."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import URL, Connection, Engine, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import StaticPool

from memory import taxonomy
from memory.background import BackgroundWorker, Job
from memory.db import WRITE, autocommit_options, create_store_engine, default_url, upgrade, with_retries
from memory.errors import UnknownMessageError
from memory.extractors.base import Assert, Decision, ExtractionContext, Extractor
from memory.extractors.rules import RuleExtractor
from memory.messages import TurnMessage, normalize_messages, validate_id
from memory.profile import DEFAULT_MAX_CHARS, Profile, compile_profile
from memory.queries import (
    ACTIVE_ROWS,
    INSERT_MESSAGES,
    LATEST_MESSAGE,
    PROFILE,
    USER_PK,
    USER_PK_LOCKED,
    load_history,
)
from memory.records import (
    Change,
    History,
    ObserveResult,
    Preference,
)
from memory.resolve import MAX_CUSTOM_TEXT_CHARS, Resolver, clean_value, to_record
from memory.schema import (
    USER_TABLES,
    FeedbackRow,
    MessageRow,
    PreferenceRow,
    UserRow,
    utcnow,
)
from memory.text import clean_for_storage

log = logging.getLogger("memory")
T = TypeVar("T")

LONG_ANSWER_WORDS = 150  # a thumbs-down on an answer longer than this reads as 'too long'
MAX_FEEDBACK_CHARS = 2_000
EXPORT_FORMAT = "pad-memory-export/1"


def _as_extractors(extractor: Extractor | Sequence[Extractor] | None) -> list[Extractor]:
    if extractor is None:
        return [RuleExtractor()]
    extractors = list(extractor) if isinstance(extractor, Sequence) else [extractor]
    for e in extractors:
        if not isinstance(e, Extractor):
            raise TypeError(f"{e!r} is not an extractor (needs name, runs_inline and extract(context))")
    if not extractors:
        raise ValueError("extractor must not be an empty list")
    return extractors


class PreferenceMemory:
    """A SQL-backed, per-user preference memory (SQLite by default, PostgreSQL for several workers).

    ``url``: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``); default: ``PAD_MEMORY_URL``
    or a SQLite file under the user data directory. ``namespace`` scopes user ids (a tenant): the same
    user id in two namespaces is two users. ``extractor``: one extractor or a list; the default is the
    offline rule extractor. Extractors with ``runs_inline = False`` run on a background thread after
    ``observe`` returns (call ``flush()`` to wait for them).
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
    ) -> None:
        # Not str(url): SQLAlchemy masks the password there, and the engine needs it.
        raw = url if url else default_url()
        self.url = raw if isinstance(raw, str) else raw.render_as_string(hide_password=False)
        self.namespace = validate_id(namespace, "namespace")
        self.max_chars = max_chars
        self._extractors = _as_extractors(extractor)
        self._feedback_extractor = RuleExtractor()
        self._on_background_changes = on_background_changes
        self._engine: Engine = create_store_engine(self.url, **(engine_kwargs or {}))
        self._postgres = self._engine.dialect.name == "postgresql"
        # An in-memory SQLite database is one connection shared by every thread: take turns on it.
        single = isinstance(self._engine.pool, StaticPool)
        self._serial: AbstractContextManager[Any] = threading.RLock() if single else nullcontext()
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
            )
            .on_conflict_do_nothing(index_elements=["namespace", "user_id"])
        )
        slow = any(not e.runs_inline for e in self._extractors)
        self._worker = BackgroundWorker(self._run_job) if slow else None

    # ------------------------------------------------------------------ plumbing

    @property
    def engine(self) -> Engine:
        return self._engine

    def _write(self, work: Callable[[Connection], T], what: str) -> T:
        """One write transaction (SQLite: BEGIN IMMEDIATE), retried whole on transient failures."""

        def attempt() -> T:
            with self._serial, self._write_engine.begin() as conn:
                return work(conn)

        return with_retries(attempt, what=what)

    def _read(self, work: Callable[[Any], T], what: str, *, autocommit: bool = False) -> T:
        """A read; ``autocommit`` for a single statement, which needs no snapshot spanning statements."""
        engine = self._autocommit_engine if autocommit else self._engine

        def attempt() -> T:
            with self._serial, engine.connect() as conn:
                return work(conn)

        return with_retries(attempt, what=what)

    def _user_pk(self, conn: Connection, user_id: str, *, create: bool) -> int | None:
        """The user's row id, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE).

        The user row is created on first sight with INSERT ... ON CONFLICT DO NOTHING, so two writers that
        meet a new user at the same moment end up with one row and both lock it.
        """
        params = {"ns": self.namespace, "uid": user_id}
        stmt = USER_PK_LOCKED if self._postgres else USER_PK
        pk = conn.execute(stmt, params).scalar_one_or_none()
        if pk is None and create:
            conn.execute(self._insert_user, {**params, "now": utcnow()})
            pk = conn.execute(stmt, params).scalar_one()
        return pk

    @staticmethod
    def _active_rows(conn: Connection, pk: int) -> list[Any]:
        return list(conn.execute(ACTIVE_ROWS, {"pk": pk}))

    def _extract(self, extractors: Sequence[Extractor], context: ExtractionContext) -> list[Decision]:
        decisions: list[Decision] = []
        for extractor in extractors:
            try:
                decisions += extractor.extract(context)
            except Exception:
                # The turn is stored whatever an extractor does; a broken extractor costs only its own reading.
                log.exception("memory: extractor %r failed", getattr(extractor, "name", extractor))
        return decisions

    # ------------------------------------------------------------------ observe

    def observe(self, user_id: str, messages: Any) -> ObserveResult:
        """Store a turn, infer preferences from it in the light of the user's history, return the changes."""
        uid = validate_id(user_id)
        turn = normalize_messages(messages)
        if self._worker is not None and self._worker.closed:
            raise RuntimeError("this PreferenceMemory is closed; its background extractors no longer run")
        inline = [e for e in self._extractors if e.runs_inline]

        def work(conn: Connection) -> tuple[list[Change], list[str]]:
            pk = self._user_pk(conn, uid, create=True)
            assert pk is not None
            previous = None
            if turn[0].role == "user":
                latest = conn.execute(LATEST_MESSAGE, {"pk": pk}).first()
                previous = latest.content if latest is not None and latest.role == "assistant" else None
            now = utcnow()
            stored = [TurnMessage(m.role, m.content, m.truncated, uuid.uuid4().hex) for m in turn]
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
                    }
                    for i, m in enumerate(stored)
                ],
            )
            ids = [m.id or "" for m in stored]
            active = self._active_rows(conn, pk)
            context = ExtractionContext(stored, [to_record(r) for r in active], previous)
            resolver = Resolver(conn, pk, active)
            resolver.apply(
                self._extract(inline, context), ids, [m.id or "" for m in stored if m.role == "user"]
            )
            return resolver.changes, ids

        changes, ids = self._write(work, "observe")
        pending = 0
        if self._worker is not None:
            for index, extractor in enumerate(self._extractors):
                if not extractor.runs_inline:
                    self._worker.submit(Job(self.namespace, uid, tuple(ids), index))
                    pending += 1
        return ObserveResult(changes, ids, pending)

    def _run_job(self, job: Job) -> None:
        extractor = self._extractors[job.extractor_index]

        def load(conn: Any) -> ExtractionContext | None:
            pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": job.user_id}).scalar()
            if pk is None:
                return None
            msgs = conn.execute(
                select(MessageRow)
                .where(MessageRow.user_pk == pk, MessageRow.id.in_(job.message_ids))
                .order_by(MessageRow.created_at)
            ).all()
            if not msgs:
                return None
            active = conn.execute(
                select(PreferenceRow).where(PreferenceRow.user_pk == pk, PreferenceRow.status == "active")
            ).all()
            prior = conn.execute(
                select(MessageRow.role, MessageRow.content)
                .where(MessageRow.user_pk == pk, MessageRow.created_at < msgs[0].created_at)
                .order_by(MessageRow.created_at.desc())
                .limit(1)
            ).first()
            previous = prior.content if prior is not None and prior.role == "assistant" else None
            turn = [TurnMessage(m.role, m.content, m.truncated, m.id) for m in msgs]
            return ExtractionContext(turn, [to_record(r) for r in active], previous)

        context = self._read(load, "background extraction read")
        if context is None:
            return  # the user was forgotten in the meantime
        decisions = self._extract([extractor], context)  # slow: outside any transaction
        if not decisions:
            return
        ids = [m.id or "" for m in context.messages]

        def work(conn: Connection) -> list[Change]:
            pk = self._user_pk(conn, job.user_id, create=False)
            if pk is None:
                return []
            alive = conn.scalars(
                select(MessageRow.id).where(MessageRow.user_pk == pk, MessageRow.id.in_(ids))
            ).all()
            if not alive:
                return []
            resolver = Resolver(conn, pk, self._active_rows(conn, pk))
            user_ids = [m.id or "" for m in context.messages if m.role == "user"]
            resolver.apply(decisions, ids, user_ids)
            return resolver.changes

        changes = self._write(work, "background extraction")
        if changes and self._on_background_changes is not None:
            self._on_background_changes(job.user_id, changes)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for background extractors to finish the queued turns; False if the timeout passed first."""
        return True if self._worker is None else self._worker.drain(timeout)

    # ------------------------------------------------------------------ profile

    def profile(
        self,
        user_id: str,
        *,
        max_chars: int | None = None,
        max_tokens: int | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> Profile:
        """The user's active preferences compiled into prompt text and weights (empty for an unknown user)."""
        uid = validate_id(user_id)
        params = {"ns": self.namespace, "uid": uid}
        rows = self._read(lambda conn: conn.execute(PROFILE, params).all(), "profile", autocommit=True)
        budget = self.max_chars if max_chars is None else max_chars
        active = [to_record(r) for r in rows]
        return compile_profile(
            uid, active, max_chars=budget, max_tokens=max_tokens, count_tokens=count_tokens
        )

    # ------------------------------------------------------------------ explicit control

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
        slot = taxonomy.slot(kind, taxonomy.item_key(kind, value))

        def work(conn: Connection) -> Preference:
            pk = self._user_pk(conn, uid, create=True)
            assert pk is not None
            resolver = Resolver(conn, pk, self._active_rows(conn, pk))
            resolver.affirm(decision, [], custom_text=text)
            return to_record(resolver.active[slot])

        return self._write(work, "set_preference")

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
                insert(FeedbackRow.__table__),
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

    def history(self, user_id: str, *, limit: int | None = None) -> History:
        """Messages (the latest ``limit`` when given), every preference row and the audit trail, oldest first."""
        uid = validate_id(user_id)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError("limit must be a non-negative int or None")

        def load(conn: Connection) -> History:
            pk = conn.execute(USER_PK, {"ns": self.namespace, "uid": uid}).scalar()
            return History(uid) if pk is None else load_history(conn, pk, uid, limit)

        return self._read(load, "history")

    def export(self, user_id: str) -> dict[str, Any]:
        """Everything kept about the user as a JSON-serialisable dict (data portability)."""
        hist = self.history(user_id)
        profile = self.profile(user_id)
        return {
            "format": EXPORT_FORMAT,
            "namespace": self.namespace,
            "user_id": hist.user_id,
            "exported_at": utcnow().isoformat(),
            "profile_text": profile.text,
            "preferences": [p.to_dict() for p in hist.preferences],
            "events": [e.to_dict() for e in hist.events],
            "messages": [m.to_dict() for m in hist.messages],
            "feedback": [f.to_dict() for f in hist.feedback],
        }

    def forget(self, user_id: str) -> int:
        """Delete every row of the user (messages, preferences, history, feedback, the user); returns the count."""
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

        return self._write(work, "forget")

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop the background worker (after the queued turns) and release the connections."""
        if self._worker is not None:
            self._worker.close()
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

    async def aremove_preference(self, user_id: str, kind_or_id: str, **kwargs: Any) -> list[Change]:
        return await asyncio.to_thread(self.remove_preference, user_id, kind_or_id, **kwargs)

    async def afeedback(self, user_id: str, message_id: str, **kwargs: Any) -> list[Change]:
        return await asyncio.to_thread(self.feedback, user_id, message_id, **kwargs)

    async def ahistory(self, user_id: str, **kwargs: Any) -> History:
        return await asyncio.to_thread(self.history, user_id, **kwargs)

    async def aexport(self, user_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.export, user_id)

    async def aforget(self, user_id: str) -> int:
        return await asyncio.to_thread(self.forget, user_id)

    async def aflush(self, timeout: float | None = None) -> bool:
        return await asyncio.to_thread(self.flush, timeout)
