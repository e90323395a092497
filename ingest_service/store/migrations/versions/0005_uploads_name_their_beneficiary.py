"""Uploads name the beneficiary their debts are owed to.

Expand only: every upload so far was for the one beneficiary of the BENEFICIARY_* variables,
whose key is "default", which is also what an older replica's insert gets.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.add_column(
            sa.Column("beneficiary", sa.String(64), server_default="default", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.drop_column("beneficiary")
