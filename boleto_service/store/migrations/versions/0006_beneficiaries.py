"""Several beneficiaries: the key of the one each boleto and remessa is for.

Expand only: every row so far was issued for the one beneficiary of the BENEFICIARY_*
variables, whose key is "default", which is also what an older replica's insert gets.

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
    for table in ("boletos", "remessas"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("beneficiary", sa.String(64), server_default="default", nullable=False)
            )


def downgrade() -> None:
    for table in ("remessas", "boletos"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("beneficiary")
