"""Initial schema: users, messages, preferences, preference events.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memory_users",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("namespace", "user_id", name="uq_memory_users_namespace_user"),
    )
    op.create_table(
        "memory_messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("memory_users.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_memory_messages_user", "memory_messages", ["user_pk"])
    op.create_table(
        "memory_preferences",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("memory_users.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("slot", sa.String(170), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("custom_text", sa.Text, nullable=True),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("extractor", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("superseded_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "uq_memory_preferences_active_slot",
        "memory_preferences",
        ["user_pk", "slot"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index("ix_memory_preferences_user_status", "memory_preferences", ["user_pk", "status"])
    op.create_table(
        "memory_preference_events",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("memory_users.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("preference_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("previous_value", sa.Text, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("extractor", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_memory_events_user", "memory_preference_events", ["user_pk", "pk"])


def downgrade() -> None:
    op.drop_table("memory_preference_events")
    op.drop_table("memory_preferences")
    op.drop_table("memory_messages")
    op.drop_table("memory_users")
