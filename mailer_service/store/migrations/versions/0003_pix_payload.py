"""The Pix BR Code of each boleto ("boleto híbrido"), in deliveries.

Expand only: the column defaults to empty, which is what an older replica writes and what a
boleto issued without a Pix key has; SQLite and PostgreSQL add it without rewriting the table.

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
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pix_payload", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("pix_payload")
