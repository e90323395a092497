"""Schema of the mailer store, one SQLAlchemy Core metadata for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from boletos.platform.outbox import outbox_table

metadata = sa.MetaData()

DebtKey = sa.LargeBinary(16).with_variant(postgresql.UUID(as_uuid=False), "postgresql")

# status: 1 pending, 2 sending, 3 sent, 4 failed (boletos.v1.DeliveryStatus)
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    sa.Column("upload_id", sa.String(36), nullable=False),
    # The debt's line in its upload's file: deliveries are listed in file order.
    sa.Column("line", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("payer_name", sa.String(200), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("digitable_line", sa.String(54), nullable=False),
    sa.Column("nosso_numero", sa.String(32), nullable=False),
    sa.Column("pix_payload", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Attempts made before the last RetryFailed; the retry budget counts from there.
    sa.Column("attempts_before_retry", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("smtp_code", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message_id", sa.String(200), nullable=False, server_default=""),
    # When a pending delivery may next be tried, or until when a sending one is leased.
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_deliveries_queue", "status", "due_at"),
    sa.Index("ix_deliveries_upload", "upload_id", "line"),
)

outbox = outbox_table(metadata)
