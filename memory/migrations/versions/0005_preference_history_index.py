"""A (user, created_at) index on preferences, for history's latest inactive rows and the export's pages.

Superseded and evicted rows accumulate; without it, reading a user's latest inactive rows or paging
through them sorted every row the user ever had (20k rows: about 0.5 s per history page).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_memory_preferences_user_created", "memory_preferences", ["user_pk", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_memory_preferences_user_created", table_name="memory_preferences")
