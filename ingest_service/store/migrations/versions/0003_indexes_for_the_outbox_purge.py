"""Indexes for the outbox purge and the receivers' heartbeats.

Expand only: new indexes, which an older replica never notices.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_published_created",
            ["created_at"],
            unique=False,
            sqlite_where=sa.text("published = 1"),
            postgresql_where=sa.text("published"),
        )

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index("ix_uploads_state_alive", ["state", "alive_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_uploads_state_alive")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_published_created",
            sqlite_where=sa.text("published = 1"),
            postgresql_where=sa.text("published"),
        )
