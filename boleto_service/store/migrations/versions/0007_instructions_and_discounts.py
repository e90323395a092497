"""Instructions to the bank (write-offs, new due dates and rebates, each sent once) and the
early-payment discount of each boleto; an occurrence's outcome gets room for the names of
the instructions' answers (INSTRUCTION_REJECTED).

Expand only: a new table, which older replicas do not know and never touch, and two columns
whose defaults say "no discount", which is what an older replica's insert means.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DebtKey = sa.LargeBinary(16).with_variant(postgresql.UUID(as_uuid=False), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("boleto_occurrences", schema=None) as batch_op:
        batch_op.alter_column(
            "outcome",
            existing_type=sa.String(16),
            type_=sa.String(32),
            existing_nullable=False,
        )
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discount_cents", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("discount_until", sa.Date(), nullable=True))
    op.create_table(
        "instructions",
        sa.Column("instruction_id", sa.String(36), nullable=False),
        sa.Column("request_key", sa.String(128), nullable=False),
        sa.Column("debt_id", DebtKey, nullable=False),
        sa.Column("beneficiary", sa.String(64), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("new_due_date", sa.Date(), nullable=True),
        sa.Column("rebate_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("remessa_no", sa.BigInteger(), nullable=True),
        sa.Column("requested_by", sa.String(160), server_default="", nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("instruction_id"),
        sa.UniqueConstraint("request_key"),
    )
    with op.batch_alter_table("instructions", schema=None) as batch_op:
        batch_op.create_index("ix_instructions_debt", ["debt_id"], unique=False)
        batch_op.create_index("ix_instructions_state", ["state", "beneficiary"], unique=False)
        batch_op.create_index("ix_instructions_remessa", ["remessa_no"], unique=False)


def downgrade() -> None:
    op.drop_table("instructions")
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        batch_op.drop_column("discount_until")
        batch_op.drop_column("discount_cents")
    with op.batch_alter_table("boleto_occurrences", schema=None) as batch_op:
        batch_op.alter_column(
            "outcome",
            existing_type=sa.String(32),
            type_=sa.String(16),
            existing_nullable=False,
        )
