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
    # The credential that sent it ("key:<id>" or "jwt:<subject>"): an uploader sees its own.
    sa.Column("owner", sa.String(160), nullable=False, server_default="", index=True),
    # Key of the beneficiary the file's debts are owed to.
    sa.Column("beneficiary", sa.String(64), nullable=False, server_default="default"),
    # Row errors stored, and, as JSON {code: count}, those past the cap, only counted.
    sa.Column("errors_listed", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("errors_unlisted", sa.Text, nullable=False, server_default="{}"),
    # SHA-256 of a completed upload's bytes: a request id sent again must come with them.
    sa.Column("content_sha256", sa.String(64), nullable=False, server_default=""),
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
    # The process receiving the upload, and when it last said it still was: an upload whose
    # receiver stopped saying so died with it, and is marked interrupted.
    sa.Column("receiver", sa.String(36), nullable=False, server_default=""),
    sa.Column("alive_at", sa.DateTime(timezone=True)),
    # Set, once, in the transaction that finds the upload settled; it also writes the
    # UploadCompleted event, so however many replicas race only one announces it.
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    # Debts of this upload the bank reported paid, each counted once, and the sum paid.
    # Kept as running counters like the stages above: WatchUpload reads them every poll,
    # and counting a million-row upload's payments would walk its debts each time.
    sa.Column("boletos_paid", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("paid_cents", sa.BigInteger, nullable=False, server_default="0"),
    # The receivers' heartbeats and the search for uploads whose receiver died.
    sa.Index("ix_uploads_state_alive", "state", "alive_at"),
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
    sa.Column("nosso_numero", sa.String(32)),
    # The payment the bank reported, NULL while unpaid; set once, so a payment heard of
    # again changes nothing. On the debt's own row: the report already reads it per page.
    sa.Column("paid_cents", sa.BigInteger),
    sa.Column("paid_on", sa.Date),
    sqlite_with_rowid=False,
)

# What each block of an upload did with its valid rows, so the upload's report can account
# for every line. One row per block: an index or a row per line would cost the bulk insert
# a B-tree write for every debt, while these columns are the block's own arrays, stored as
# they are. Outcomes are one byte per row, mirroring boletos.v1.RowOutcome.
upload_blocks = sa.Table(
    "upload_blocks",
    metadata,
    sa.Column("upload_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("first_line", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("debt_ids", sa.LargeBinary, nullable=False),  # 16 bytes per row
    sa.Column("lines", sa.LargeBinary, nullable=False),  # array('q')
    sa.Column("outcomes", sa.LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

# Why a debt's boleto or e-mail failed; gone once a retried e-mail is sent. Few debts fail,
# so they live apart from the debts table and are found by upload without walking it.
failures = sa.Table(
    "failures",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    # 1 boleto, 2 e-mail
    sa.Column("stage", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("upload_no", sa.Integer, nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index("ix_failures_upload_line", "upload_no", "line"),
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
    # The row's debtId when it is a valid one, so the report can name the debt.
    sa.Column("debt_id", sa.String(36), nullable=False, server_default=""),
    sa.Index("ix_row_errors_upload_line", "upload_no", "line"),
)

# Transactional outbox: written with the debts it announces, published by the relay.
outbox = outbox_table(metadata)
