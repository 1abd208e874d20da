"""Durable turns and bounded history: a pending-extraction mask and turn id on messages, a partial index
over the pending ones, and a per-user message count for retention.

``pending`` (0 = extracted) lets a turn be committed before it is read and resumed after a crash;
existing rows were extracted when they were written, so they get 0. ``message_count`` is backfilled from
the rows, after which every write keeps it, so trimming to a count never counts rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite supports it with a constant default): a batch copy of memory_users would
    # drop the old table, and with foreign keys on that cascades into every user's rows.
    op.add_column(
        "memory_messages", sa.Column("pending", sa.SmallInteger, nullable=False, server_default=sa.text("0"))
    )
    op.add_column("memory_messages", sa.Column("turn_id", sa.String(32), nullable=True))
    op.create_index(
        "ix_memory_messages_pending",
        "memory_messages",
        ["created_at"],
        sqlite_where=sa.text("pending <> 0"),
        postgresql_where=sa.text("pending <> 0"),
    )
    op.add_column(
        "memory_users", sa.Column("message_count", sa.Integer, nullable=False, server_default=sa.text("0"))
    )
    op.execute(
        "UPDATE memory_users SET message_count = "
        "(SELECT count(*) FROM memory_messages WHERE memory_messages.user_pk = memory_users.pk)"
    )


def downgrade() -> None:
    with op.batch_alter_table("memory_users") as batch:
        batch.drop_column("message_count")
    op.drop_index("ix_memory_messages_pending", table_name="memory_messages")
    with op.batch_alter_table("memory_messages") as batch:
        batch.drop_column("turn_id")
        batch.drop_column("pending")
