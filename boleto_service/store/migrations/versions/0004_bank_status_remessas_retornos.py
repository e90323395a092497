"""The billing loop: each boleto's status at the bank and its remessa, the remessa files,
the retorno files processed and every occurrence they reported.

Expand only: the new columns of boletos are nullable or default to what an older replica
means (issued, in no remessa); the new tables are new. The nosso número index is unique:
the sequence behind it already is, per bank.

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


def upgrade() -> None:
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bank_status", sa.SmallInteger(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("remessa_no", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("paid_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("fee_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("bank_reason", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("bank_status_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_boletos_without_remessa",
        "boletos",
        ["sequence"],
        sqlite_where=sa.text("remessa_no IS NULL"),
        postgresql_where=sa.text("remessa_no IS NULL"),
    )
    op.create_index("ix_boletos_remessa", "boletos", ["remessa_no", "sequence"])
    op.create_index(
        "ix_boletos_nosso_numero", "boletos", ["bank_code", "nosso_numero"], unique=True
    )
    op.create_table(
        "remessas",
        sa.Column("remessa_no", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("remessa_id", sa.String(64), nullable=False),
        sa.Column("bank_code", sa.String(3), nullable=False),
        sa.Column("agencia", sa.String(8), nullable=False),
        sa.Column("conta", sa.String(16), nullable=False),
        sa.Column("nsa", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.String(36), nullable=True),
        sa.Column("titles", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(128), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("remessa_no"),
        sa.UniqueConstraint("remessa_id"),
        sa.UniqueConstraint("bank_code", "agencia", "conta", "nsa", name="uq_remessas_nsa"),
    )
    op.create_table(
        "retornos",
        sa.Column("retorno_id", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(256), nullable=False),
        sa.Column("bank_code", sa.String(3), server_default="", nullable=False),
        sa.Column("nsa", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("retorno_id"),
    )
    op.create_table(
        "boleto_occurrences",
        sa.Column("occurrence_key", sa.String(128), nullable=False),
        sa.Column("debt_id", DebtKey, nullable=False),
        sa.Column("retorno_id", sa.String(64), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text(), server_default="", nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("occurrence_key"),
    )
    op.create_index("ix_boleto_occurrences_debt", "boleto_occurrences", ["debt_id"])


def downgrade() -> None:
    op.drop_index("ix_boleto_occurrences_debt", table_name="boleto_occurrences")
    op.drop_table("boleto_occurrences")
    op.drop_table("retornos")
    op.drop_table("remessas")
    op.drop_index("ix_boletos_nosso_numero", table_name="boletos")
    op.drop_index("ix_boletos_remessa", table_name="boletos")
    op.drop_index("ix_boletos_without_remessa", table_name="boletos")
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        for column in (
            "bank_status_at", "bank_reason", "fee_cents", "paid_on", "paid_cents", "remessa_no",
            "bank_status",
        ):  # fmt: skip
            batch_op.drop_column(column)
