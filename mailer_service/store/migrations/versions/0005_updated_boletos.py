"""The updated boleto's e-mail after a new due date, and the new dates confirmed.

Expand only: two new tables, which a replica of the previous release never reads; the
updated boleto's e-mails are kept apart from the other notices for that reason, so such a
replica never claims a kind of e-mail it does not know.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DebtKey = sa.LargeBinary(16).with_variant(postgresql.UUID(as_uuid=False), "postgresql")


def upgrade() -> None:
    op.create_table(
        "updates",
        sa.Column("debt_id", DebtKey, nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("instruction_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts_before_retry", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("smtp_code", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("debt_id"),
    )
    op.create_index("ix_updates_queue", "updates", ["status", "due_at"])
    op.create_index("ix_updates_upload", "updates", ["upload_id", "line"])
    op.create_table(
        "redates",
        sa.Column("instruction_id", sa.String(length=64), nullable=False),
        sa.Column("debt_id", DebtKey, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instruction_id"),
    )
    op.create_index("ix_redates_debt", "redates", ["debt_id", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_redates_debt", table_name="redates")
    op.drop_table("redates")
    op.drop_index("ix_updates_upload", table_name="updates")
    op.drop_index("ix_updates_queue", table_name="updates")
    op.drop_table("updates")
