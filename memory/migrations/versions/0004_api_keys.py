"""API keys of the server: one row per key, bound to a principal (user, tenant or admin).

Only ``sha256(key)`` is stored; ``key_id`` is the key's public part and finds the row. Revoked keys keep
their row (``revoked_at`` set) so ``pad keys list --all`` can say when and which.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memory_api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("namespace", sa.String(255), nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_memory_api_keys_principal", "memory_api_keys", ["namespace", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_memory_api_keys_principal", table_name="memory_api_keys")
    op.drop_table("memory_api_keys")
