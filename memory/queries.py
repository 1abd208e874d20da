"""The store's SQL: hot-path statements built once (building a select costs more than running it on
SQLite), and the keyset-paginated reads behind ``history`` and ``iter_export``.

Every statement is served by an index on (user, ...) and touches a bounded number of rows, so its cost
does not grow with the user's history: messages by (user_pk, created_at), preferences by
(user_pk, status), pending turns by the partial index over ``pending <> 0``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from memory.records import FeedbackRecord, PreferenceEvent, StoredMessage
from memory.schema import (
    FEEDBACK,
    MESSAGES,
    PREFERENCES,
    USERS,
    EventRow,
    FeedbackRow,
    MessageRow,
    PreferenceRow,
    UserRow,
    aware,
)

_M = MESSAGES
_U = USERS
# In statements that name rows by primary key, the user check must not be indexable: given
# "user_pk = ? AND id IN (...)", SQLite picked the (user_pk, created_at) index and walked all of a user's
# messages (600 ms per retention trim at 100k messages) instead of the 64 primary-key lookups.
_OWNER = (_M.c.user_pk + 0) == bindparam("pk")

USER_PK = select(UserRow.pk).where(UserRow.namespace == bindparam("ns"), UserRow.user_id == bindparam("uid"))
USER_ROW = select(UserRow.pk, UserRow.message_count).where(
    UserRow.namespace == bindparam("ns"), UserRow.user_id == bindparam("uid")
)
USER_ROW_LOCKED = USER_ROW.with_for_update()
SET_MESSAGE_COUNT = update(_U).where(_U.c.pk == bindparam("user_pk")).values(message_count=bindparam("count"))
ACTIVE_ROWS = select(PREFERENCES).where(
    PREFERENCES.c.user_pk == bindparam("pk"), PREFERENCES.c.status == "active"
)
PROFILE = (
    select(PreferenceRow)
    .join(UserRow, UserRow.pk == PreferenceRow.user_pk)
    .where(
        UserRow.namespace == bindparam("ns"),
        UserRow.user_id == bindparam("uid"),
        PreferenceRow.status == "active",
    )
)
INSERT_MESSAGES = insert(_M)
# The messages just before a turn (the assistant message it answers, the user's recent words).
RECENT_BEFORE = (
    select(_M.c.role, _M.c.content)
    .where(_M.c.user_pk == bindparam("pk"), _M.c.created_at < bindparam("before"))
    .order_by(_M.c.created_at.desc())
    .limit(bindparam("n"))
)
TURN_MESSAGES = (
    select(_M.c.id, _M.c.role, _M.c.content, _M.c.truncated, _M.c.created_at, _M.c.pending)
    .where(_OWNER, _M.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_M.c.created_at, _M.c.id)
)
# Claim a turn's extraction for one extractor stage: clears its bit, and reports 0 rows when another
# process (a resume racing the original observe) got there first, so decisions are applied exactly once.
CLAIM_TURN = (
    update(_M)
    .where(
        _OWNER,
        _M.c.id.in_(bindparam("ids", expanding=True)),
        _M.c.pending.op("&")(bindparam("bit")) != 0,
    )
    .values(pending=_M.c.pending.op("&")(bindparam("keep")))
)
# Turns still owed an extraction, oldest first (the partial index holds only these): in one namespace,
# or in all of them (what a process resumes at start).
_PENDING = (
    select(_M.c.turn_id, _M.c.id, _M.c.pending, _M.c.created_at, _U.c.user_id, _U.c.namespace)
    .join(_U, _U.c.pk == _M.c.user_pk)
    .where(_M.c.pending != 0)
    .order_by(_M.c.created_at, _M.c.id)
    .limit(bindparam("n"))
)
PENDING_TURNS = _PENDING.where(_U.c.namespace == bindparam("ns"))
# One user's messages still owed the extraction ``bit`` (read-your-writes across processes). ``user_pk + 0``
# keeps the planner on the partial index (the few pending rows of everyone) instead of walking the user's
# whole history through (user_pk, created_at).
PENDING_OF_USER = (
    select(_M.c.turn_id, _M.c.id)
    .where(
        (_M.c.user_pk + 0) == bindparam("pk"),
        _M.c.pending != 0,
        _M.c.pending.op("&")(bindparam("bit")) != 0,
    )
    .order_by(_M.c.created_at, _M.c.id)
    .limit(bindparam("n"))
)
PENDING_ANYWHERE = _PENDING
ANY_PENDING = select(_M.c.id).where(_M.c.pending != 0).limit(1)
# Retention: the oldest extracted messages of one user, a bounded batch at a time.
_OLDEST = (
    select(_M.c.id)
    .where(_M.c.user_pk == bindparam("pk"), _M.c.pending == 0)
    .order_by(_M.c.created_at, _M.c.id)
    .limit(bindparam("n"))
)
OLDEST_MESSAGES = _OLDEST
_AGED = (
    select(_M.c.id)
    .where(_M.c.user_pk == bindparam("pk"), _M.c.created_at < bindparam("cutoff"), _M.c.pending == 0)
    .order_by(_M.c.created_at, _M.c.id)
    .limit(bindparam("n"))
)
AGED_MESSAGES = _AGED
DELETE_MESSAGES = delete(_M).where(_OWNER, _M.c.id.in_(bindparam("ids", expanding=True)))
# Feedback on a trimmed message goes with it: retention means the words are gone, remarks included.
DELETE_FEEDBACK_ON = delete(FEEDBACK).where(
    FEEDBACK.c.user_pk == bindparam("pk"),
    FEEDBACK.c.message_id.in_(bindparam("ids", expanding=True)),
)


def encode_cursor(created_at: datetime, row_id: str) -> str:
    """URL-safe as it is ('2026-12-01T23:53:41.098895Z_<id>'): the older '+00:00|<id>' form, pasted into a
    query string unencoded, came back with a space for the '+' and was refused."""
    stamp = aware(created_at).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{stamp}_{row_id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Both forms: this one and the older '<isoformat>|<id>' (also with its '+' turned into a space)."""
    separator = "|" if isinstance(cursor, str) and "|" in cursor else "_"
    if not isinstance(cursor, str) or separator not in cursor:
        raise ValueError("not a history cursor (use History.next_cursor)")
    stamp, row_id = cursor.rsplit(separator, 1)
    if stamp.endswith(" 00:00"):  # '+00:00' after a URL's query decoding
        stamp = stamp[: -len(" 00:00")] + "+00:00"
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise ValueError("not a history cursor (use History.next_cursor)") from exc
    return at, row_id


def _naive_utc(value: datetime) -> datetime:
    """SQLite compares timestamps as text: compare with the naive UTC form it stored."""
    return aware(value).replace(tzinfo=None)


def message_page(
    conn: Connection, pk: int, limit: int, before: tuple[datetime, str] | None
) -> tuple[list[StoredMessage], str | None]:
    """The latest ``limit`` messages before the cursor, oldest first, and the cursor of the next (older) page."""
    stmt = select(MessageRow).where(MessageRow.user_pk == pk)
    if before is not None:
        at = before[0] if conn.dialect.name == "postgresql" else _naive_utc(before[0])
        # The range first (served by the (user, created_at) index), the tie on id within it.
        stmt = stmt.where(
            MessageRow.created_at <= at,
            or_(MessageRow.created_at < at, and_(MessageRow.created_at == at, MessageRow.id < before[1])),
        )
    rows = conn.execute(
        stmt.order_by(MessageRow.created_at.desc(), MessageRow.id.desc()).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    messages = [
        StoredMessage(m.id, m.role, m.content, aware(m.created_at), bool(m.truncated)) for m in reversed(rows)
    ]
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return messages, cursor


def messages_forward(conn: Connection, pk: int, after: tuple[datetime, str] | None, n: int) -> list[StoredMessage]:
    """Up to ``n`` messages after the cursor, oldest first (the export's keyset walk)."""
    stmt = select(MessageRow).where(MessageRow.user_pk == pk)
    if after is not None:
        at = after[0] if conn.dialect.name == "postgresql" else _naive_utc(after[0])
        stmt = stmt.where(
            MessageRow.created_at >= at,
            or_(MessageRow.created_at > at, and_(MessageRow.created_at == at, MessageRow.id > after[1])),
        )
    rows = conn.execute(stmt.order_by(MessageRow.created_at, MessageRow.id).limit(n)).all()
    return [StoredMessage(m.id, m.role, m.content, aware(m.created_at), bool(m.truncated)) for m in rows]


def event_of(e: object) -> PreferenceEvent:
    return PreferenceEvent(
        e.action,  # type: ignore[attr-defined]
        e.preference_id,  # type: ignore[attr-defined]
        e.kind,  # type: ignore[attr-defined]
        e.value,  # type: ignore[attr-defined]
        e.previous_value,  # type: ignore[attr-defined]
        e.source,  # type: ignore[attr-defined]
        e.extractor,  # type: ignore[attr-defined]
        e.message_id,  # type: ignore[attr-defined]
        aware(e.created_at),  # type: ignore[attr-defined]
    )


def latest_events(conn: Connection, pk: int, n: int) -> list[PreferenceEvent]:
    rows = conn.execute(select(EventRow).where(EventRow.user_pk == pk).order_by(EventRow.pk.desc()).limit(n))
    return [event_of(e) for e in reversed(rows.all())]


def latest_feedback(conn: Connection, pk: int, n: int) -> list[FeedbackRecord]:
    rows = conn.execute(
        select(FeedbackRow).where(FeedbackRow.user_pk == pk).order_by(FeedbackRow.pk.desc()).limit(n)
    )
    return [FeedbackRecord(f.message_id, f.rating, f.text, aware(f.created_at)) for f in reversed(rows.all())]


def preference_rows(conn: Connection, pk: int, inactive: int) -> list[Any]:
    """Every active row and the ``inactive`` most recently created superseded or removed rows, oldest first."""
    active = conn.execute(
        select(PreferenceRow).where(PreferenceRow.user_pk == pk, PreferenceRow.status == "active")
    ).all()
    older = conn.execute(
        select(PreferenceRow)
        .where(PreferenceRow.user_pk == pk, PreferenceRow.status != "active")
        .order_by(PreferenceRow.created_at.desc())  # the (user, created_at) index: no sort of all rows
        .limit(inactive)
    ).all()
    return sorted([*active, *older], key=lambda r: (aware(r.created_at), r.id))


def preferences_forward(
    conn: Connection, pk: int, after: tuple[datetime, str] | None, n: int
) -> list[Any]:
    """Up to ``n`` preference rows after the cursor in (created_at, id) order: the export's keyset walk."""
    stmt = select(PreferenceRow).where(PreferenceRow.user_pk == pk)
    if after is not None:
        at = after[0] if conn.dialect.name == "postgresql" else _naive_utc(after[0])
        stmt = stmt.where(
            PreferenceRow.created_at >= at,
            or_(PreferenceRow.created_at > at, and_(PreferenceRow.created_at == at, PreferenceRow.id > after[1])),
        )
    return list(conn.execute(stmt.order_by(PreferenceRow.created_at, PreferenceRow.id).limit(n)).all())
