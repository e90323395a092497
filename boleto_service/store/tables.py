"""Schema of the boleto store, one SQLAlchemy Core metadata for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from boletos.platform.outbox import outbox_table

metadata = sa.MetaData()

# Native uuid on PostgreSQL; 16 raw bytes on SQLite.
DebtKey = sa.LargeBinary(16).with_variant(postgresql.UUID(as_uuid=False), "postgresql")

boletos = sa.Table(
    "boletos",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    sa.Column("upload_id", sa.String(36), nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False),
    # The nosso número is derived from this; unique, so no number is ever issued twice.
    sa.Column("sequence", sa.BigInteger, nullable=False, unique=True),
    sa.Column("bank_code", sa.String(3), nullable=False),
    sa.Column("nosso_numero", sa.String(32), nullable=False),
    sa.Column("barcode", sa.String(44), nullable=False),
    sa.Column("digitable_line", sa.String(54), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("principal_cents", sa.BigInteger, nullable=False),
    sa.Column("fine_cents", sa.BigInteger, nullable=False),
    sa.Column("interest_cents", sa.BigInteger, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("original_due_date", sa.Date, nullable=False),
    sa.Column("issue_date", sa.Date, nullable=False),
    sa.Column("payer_name", sa.String(200), nullable=False),
    sa.Column("payer_government_id", sa.String(14), nullable=False),
    sa.Column("government_id_kind", sa.SmallInteger, nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    # Empty when no Pix key was configured as it was issued.
    sa.Column("pix_payload", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_boletos_upload_line", "upload_id", "line"),
    # A rowid table on SQLite: rows append in arrival order and only the small key index
    # takes the random inserts (keyed by the id itself, every wide row would land at random).
)

# Debts no boleto can be issued for, with the reason; never retried automatically.
failures = sa.Table(
    "boleto_failures",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    sa.Column("upload_id", sa.String(36), nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
)

sequences = sa.Table(
    "sequences",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("next_value", sa.BigInteger, nullable=False),
)

outbox = outbox_table(metadata)
