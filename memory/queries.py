"""The store's SQL: hot-path statements built once (building a select costs more than running it on
SQLite), and the reads behind ``history``."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select

from memory.records import FeedbackRecord, History, PreferenceEvent, StoredMessage
from memory.resolve import to_record
from memory.schema import EventRow, FeedbackRow, MessageRow, PreferenceRow, UserRow, aware

USER_PK = select(UserRow.pk).where(UserRow.namespace == bindparam("ns"), UserRow.user_id == bindparam("uid"))
USER_PK_LOCKED = USER_PK.with_for_update()
ACTIVE_ROWS = select(PreferenceRow.__table__).where(
    PreferenceRow.__table__.c.user_pk == bindparam("pk"), PreferenceRow.__table__.c.status == "active"
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
INSERT_MESSAGES = insert(MessageRow.__table__)
LATEST_MESSAGE = (
    select(MessageRow.role, MessageRow.content)
    .where(MessageRow.user_pk == bindparam("pk"))
    .order_by(MessageRow.created_at.desc())
    .limit(1)
)


def load_history(conn: Connection, pk: int, user_id: str, limit: int | None) -> History:
    """A user's messages (the latest ``limit``), every preference row, events and feedback, oldest first."""
    msg_stmt = select(MessageRow).where(MessageRow.user_pk == pk).order_by(MessageRow.created_at.desc())
    if limit is not None:
        msg_stmt = msg_stmt.limit(limit)
    messages = [
        StoredMessage(m.id, m.role, m.content, aware(m.created_at), bool(m.truncated))
        for m in reversed(conn.execute(msg_stmt).all())
    ]
    prefs = [
        to_record(r)
        for r in conn.execute(
            select(PreferenceRow).where(PreferenceRow.user_pk == pk).order_by(PreferenceRow.created_at)
        )
    ]
    events = [
        PreferenceEvent(
            e.action,
            e.preference_id,
            e.kind,
            e.value,
            e.previous_value,
            e.source,
            e.extractor,
            e.message_id,
            aware(e.created_at),
        )
        for e in conn.execute(select(EventRow).where(EventRow.user_pk == pk).order_by(EventRow.pk))
    ]
    feedback = [
        FeedbackRecord(f.message_id, f.rating, f.text, aware(f.created_at))
        for f in conn.execute(select(FeedbackRow).where(FeedbackRow.user_pk == pk).order_by(FeedbackRow.pk))
    ]
    return History(user_id, messages, prefs, events, feedback)
