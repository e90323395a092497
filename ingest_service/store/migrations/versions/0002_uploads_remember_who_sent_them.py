"""Uploads remember the credential that sent them, so an uploader sees only its own.

Expand only: the column has a default, so a replica of the previous version, which does not
know it, keeps inserting uploads during a rolling upgrade (they belong to nobody, and only
readers of every upload see them).

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
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.add_column(
            sa.Column("owner", sa.String(length=160), server_default="", nullable=False)
        )
        batch_op.create_index("ix_uploads_owner", ["owner"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.drop_index("ix_uploads_owner")
        batch_op.drop_column("owner")
