"""An index for the outbox purge.

Expand only: new indexes, which an older replica never notices.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
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


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_published_created",
            sqlite_where=sa.text("published = 1"),
            postgresql_where=sa.text("published"),
        )
