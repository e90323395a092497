"""Payments: each debt's payment as the bank reported it, and each upload's paid counters.

Expand only: the debts' new columns are nullable (unpaid) and the uploads' counters default
to zero, so a replica of the previous version keeps storing debts and creating uploads
during a rolling upgrade without knowing them. Adding them rewrites no table: SQLite adds
the columns in place, PostgreSQL records a constant default without touching the rows.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("boletos_paid", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("paid_cents", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("debts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paid_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("debts", schema=None) as batch_op:
        batch_op.drop_column("paid_on")
        batch_op.drop_column("paid_cents")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("paid_cents")
        batch_op.drop_column("boletos_paid")
