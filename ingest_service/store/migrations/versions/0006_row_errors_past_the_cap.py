"""Row errors past a cap are only counted: how many were stored, and the rest by code.

Expand only: the defaults (none listed, none past the cap) are what an older replica's
uploads mean; their errors are all stored and ListRowErrors lists them as before.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.add_column(
            sa.Column("errors_listed", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("errors_unlisted", sa.Text(), server_default="{}", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.drop_column("errors_unlisted")
        batch_op.drop_column("errors_listed")
