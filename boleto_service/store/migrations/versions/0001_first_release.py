"""The schema as first released: the tables as they were before schema histories existed.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boleto_failures",
        sa.Column(
            "debt_id",
            sa.LargeBinary(length=16).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("debt_id"),
    )
    op.create_table(
        "boletos",
        sa.Column(
            "debt_id",
            sa.LargeBinary(length=16).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("bank_code", sa.String(length=3), nullable=False),
        sa.Column("nosso_numero", sa.String(length=32), nullable=False),
        sa.Column("barcode", sa.String(length=44), nullable=False),
        sa.Column("digitable_line", sa.String(length=54), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("principal_cents", sa.BigInteger(), nullable=False),
        sa.Column("fine_cents", sa.BigInteger(), nullable=False),
        sa.Column("interest_cents", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("original_due_date", sa.Date(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("payer_government_id", sa.String(length=14), nullable=False),
        sa.Column("government_id_kind", sa.SmallInteger(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("debt_id"),
        sa.UniqueConstraint("sequence"),
    )
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        batch_op.create_index("ix_boletos_upload_line", ["upload_id", "line"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("msg_id", sa.String(length=160), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("msg_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending",
            ["id"],
            unique=False,
            sqlite_where=sa.text("published = 0"),
            postgresql_where=sa.text("NOT published"),
        )

    op.create_table(
        "sequences",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Random ids and event payloads do not compress; trying costs CPU on every write.
        op.execute("ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("sequences")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_pending",
            sqlite_where=sa.text("published = 0"),
            postgresql_where=sa.text("NOT published"),
        )

    op.drop_table("outbox")
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        batch_op.drop_index("ix_boletos_upload_line")

    op.drop_table("boletos")
    op.drop_table("boleto_failures")
