"""SQLAlchemy 2.0 typed ORM tables of the preference memory (the head revision of memory/migrations).

Every row below a user hangs off ``memory_users.pk`` with ON DELETE CASCADE, and ``forget`` also deletes
table by table, so a user's data goes away even where foreign keys are not enforced.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "memory_users"
    __table_args__ = (UniqueConstraint("namespace", "user_id", name="uq_memory_users_namespace_user"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Messages stored for the user, kept by every write so retention by count never has to count rows.
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


# memory_messages.pending is a bit mask of the extraction still owed to a stored turn: bit 0 the inline
# extractors, bit 1 + i background extractor i. 0 means done. A turn is written (durable) before it is
# read, so a process that dies in between leaves the bits set and the next start resumes the turn.
PENDING_INLINE = 1


class MessageRow(Base):
    __tablename__ = "memory_messages"
    __table_args__ = (
        Index("ix_memory_messages_user_created", "user_pk", "created_at"),
        # Only the few rows still owed an extraction are in this index: resuming never scans history.
        Index(
            "ix_memory_messages_pending",
            "created_at",
            sqlite_where=text("pending <> 0"),
            postgresql_where=text("pending <> 0"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("memory_users.pk", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    pending: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    turn_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the messages of one observe call


class PreferenceRow(Base):
    __tablename__ = "memory_preferences"
    __table_args__ = (
        # The guard against duplicates under concurrency: one active preference per (user, slot).
        Index(
            "uq_memory_preferences_active_slot",
            "user_pk",
            "slot",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_memory_preferences_user_status", "user_pk", "status"),
        Index("ix_memory_preferences_user_created", "user_pk", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("memory_users.pk", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120), default="")
    slot: Mapped[str] = mapped_column(String(170))
    value: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    custom_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    source: Mapped[str] = mapped_column(String(16))
    extractor: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    superseded_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventRow(Base):
    __tablename__ = "memory_preference_events"
    __table_args__ = (Index("ix_memory_events_user", "user_pk", "pk"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("memory_users.pk", ondelete="CASCADE"))
    preference_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    previous_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    extractor: Mapped[str] = mapped_column(String(40), default="")
    message_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeedbackRow(Base):
    __tablename__ = "memory_feedback"
    __table_args__ = (Index("ix_memory_feedback_user", "user_pk", "pk"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("memory_users.pk", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


USER_TABLES = (FeedbackRow, EventRow, PreferenceRow, MessageRow)

# The Core tables, typed as Table (``Row.__table__`` is typed FromClause, which insert/update/delete
# do not accept under mypy); the hot path uses Core statements on these.
USERS = cast(Table, UserRow.__table__)
MESSAGES = cast(Table, MessageRow.__table__)
PREFERENCES = cast(Table, PreferenceRow.__table__)
EVENTS = cast(Table, EventRow.__table__)
FEEDBACK = cast(Table, FeedbackRow.__table__)


class ApiKeyRow(Base):
    """A server API key (pad_integrations.server.auth): only its sha256 is stored. Not a user table:
    keys outlive ``forget`` of their user, and are revoked, never deleted."""

    __tablename__ = "memory_api_keys"
    __table_args__ = (Index("ix_memory_api_keys_principal", "namespace", "user_id"),)

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    namespace: Mapped[str | None] = mapped_column(String(255), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuthFailureRow(Base):
    """Failed API-key attempts per client address (pad_integrations.server.auth.FailureLimiter), in the
    database so every worker process of a server counts the same attempts. One row per client: the start
    of its current window and the failures in it; rows whose window has passed are deleted."""

    __tablename__ = "memory_auth_failures"
    __table_args__ = (Index("ix_memory_auth_failures_window", "window_start"),)

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float)
    failures: Mapped[int] = mapped_column(Integer)
