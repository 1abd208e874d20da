"""Feedback table, truncation flag on messages, and a (user, time) index for history reads.

The first schema indexed messages by user only, so reading a user's recent history sorted the user's
whole message list; the composite index serves "latest N messages of a user" straight from the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memory_messages") as batch:
        batch.add_column(
            sa.Column("truncated", sa.Boolean, nullable=False, server_default=sa.text("false"))
        )
    op.drop_index("ix_memory_messages_user", table_name="memory_messages")
    op.create_index("ix_memory_messages_user_created", "memory_messages", ["user_pk", "created_at"])
    op.create_table(
        "memory_feedback",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("memory_users.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_memory_feedback_user", "memory_feedback", ["user_pk", "pk"])


def downgrade() -> None:
    op.drop_table("memory_feedback")
    op.create_index("ix_memory_messages_user", "memory_messages", ["user_pk"])
    op.drop_index("ix_memory_messages_user_created", table_name="memory_messages")
    with op.batch_alter_table("memory_messages") as batch:
        batch.drop_column("truncated")
