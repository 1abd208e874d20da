"""Failed API-key attempts per client address, shared by every worker process of a server.

The server's failure limiter counted in each process's memory, so N workers let a client guess N times
as often. One row per client: the start of its window (seconds since the epoch, the database's clocks
are not used) and the failures counted in it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memory_auth_failures",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
    )
    op.create_index("ix_memory_auth_failures_window", "memory_auth_failures", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_memory_auth_failures_window", table_name="memory_auth_failures")
    op.drop_table("memory_auth_failures")
