"""Scheduled notices: reminders, overdue notices and receipts, and what the bank reported.

Expand only: the new column of deliveries defaults to 0, "never scheduled", which is what a
replica of the previous release writes and what every delivery queued before this revision
gets (the mailer never heard how those were paid, so it must not chase them); the new tables
are new, and an older replica never reads them. The new index is partial: it holds only
boletos still waiting for a notice.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DebtKey = sa.LargeBinary(16).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
SCHEDULED = sa.text("notice_stage IN (1, 2)")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notice_stage", sa.SmallInteger(), server_default="0", nullable=False)
        )
    op.create_index(
        "ix_deliveries_notice_schedule",
        "deliveries",
        ["notice_stage", "due_date"],
        sqlite_where=SCHEDULED,
        postgresql_where=SCHEDULED,
    )
    op.create_table(
        "notices",
        sa.Column("debt_id", DebtKey, nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts_before_retry", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("smtp_code", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN (2, 3, 4)", name="ck_notices_kind"),
        sa.PrimaryKeyConstraint("debt_id", "kind"),
    )
    op.create_index("ix_notices_queue", "notices", ["status", "due_at"])
    op.create_index("ix_notices_upload", "notices", ["upload_id", "kind", "line"])
    op.create_table(
        "settlements",
        sa.Column("debt_id", DebtKey, nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("outcome", sa.SmallInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=True),
        sa.Column("fee_cents", sa.BigInteger(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("debt_id"),
    )


def downgrade() -> None:
    op.drop_table("settlements")
    op.drop_index("ix_notices_upload", table_name="notices")
    op.drop_index("ix_notices_queue", table_name="notices")
    op.drop_table("notices")
    op.drop_index(
        "ix_deliveries_notice_schedule",
        table_name="deliveries",
        sqlite_where=SCHEDULED,
        postgresql_where=SCHEDULED,
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("notice_stage")
