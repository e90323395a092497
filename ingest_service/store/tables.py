"""Schema of the ingest store, one SQLAlchemy Core metadata for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from boletos.platform.outbox import outbox_table

metadata = sa.MetaData()

# A debt id is a UUID: native on PostgreSQL, 16 raw bytes on SQLite, where a compact key
# makes the bulk insert of a million rows markedly faster than text.
DebtKey = sa.LargeBinary(16).with_variant(postgresql.UUID(as_uuid=False), "postgresql")

uploads = sa.Table(
    "uploads",
    metadata,
    # Internal surrogate key: debts and errors refer to it with a small integer.
    sa.Column("upload_no", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("upload_id", sa.String(36), nullable=False, unique=True),
    sa.Column("file_name", sa.String(512), nullable=False),
    sa.Column("client_request_id", sa.String(128), nullable=False, index=True),
    sa.Column("state", sa.SmallInteger, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False, default=0),
    sa.Column("accepted", sa.BigInteger, nullable=False, default=0),
    sa.Column("duplicates", sa.BigInteger, nullable=False, default=0),
    sa.Column("conflicts", sa.BigInteger, nullable=False, default=0),
    sa.Column("rejected", sa.BigInteger, nullable=False, default=0),
    sa.Column("bytes_received", sa.BigInteger, nullable=False, default=0),
    sa.Column("rejection_reason", sa.Text, nullable=False, default=""),
    sa.Column("boletos_issued", sa.BigInteger, nullable=False, default=0),
    sa.Column("boletos_failed", sa.BigInteger, nullable=False, default=0),
    sa.Column("emails_sent", sa.BigInteger, nullable=False, default=0),
    sa.Column("emails_failed", sa.BigInteger, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

# Every debt ever accepted, by id. Content is kept as a fingerprint only: the full record
# travels in the outbox event, and the boleto service keeps its own copy.
debts = sa.Table(
    "debts",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    sa.Column("content_hash", sa.BigInteger, nullable=False),
    sa.Column("upload_no", sa.Integer, nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False),
    # Pipeline stages reported back by the other services: 0 none, 1 done, 2 failed.
    sa.Column("boleto_state", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("email_state", sa.SmallInteger, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)

row_errors = sa.Table(
    "row_errors",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("upload_no", sa.Integer, nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False),
    sa.Column("column_name", sa.String(64), nullable=False),
    sa.Column("code", sa.SmallInteger, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_row_errors_upload_line", "upload_no", "line"),
)

# Transactional outbox: written with the debts it announces, published by the relay.
outbox = outbox_table(metadata)
