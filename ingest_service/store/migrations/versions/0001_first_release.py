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
        "debts",
        sa.Column(
            "debt_id",
            sa.LargeBinary(length=16).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.BigInteger(), nullable=False),
        sa.Column("upload_no", sa.Integer(), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("boleto_state", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("email_state", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("nosso_numero", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("debt_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "failures",
        sa.Column(
            "debt_id",
            sa.LargeBinary(length=16).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("stage", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("upload_no", sa.Integer(), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("debt_id", "stage"),
    )
    with op.batch_alter_table("failures", schema=None) as batch_op:
        batch_op.create_index("ix_failures_upload_line", ["upload_no", "line"], unique=False)

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
        "row_errors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("upload_no", sa.Integer(), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=False),
        sa.Column("code", sa.SmallInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("debt_id", sa.String(length=36), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("row_errors", schema=None) as batch_op:
        batch_op.create_index("ix_row_errors_upload_line", ["upload_no", "line"], unique=False)

    op.create_table(
        "upload_blocks",
        sa.Column("upload_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_line", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("debt_ids", sa.LargeBinary(), nullable=False),
        sa.Column("lines", sa.LargeBinary(), nullable=False),
        sa.Column("outcomes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("upload_no", "first_line"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "uploads",
        sa.Column("upload_no", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=512), nullable=False),
        sa.Column("client_request_id", sa.String(length=128), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), server_default="", nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("conflicts", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("bytes_received", sa.BigInteger(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=False),
        sa.Column("boletos_issued", sa.BigInteger(), nullable=False),
        sa.Column("boletos_failed", sa.BigInteger(), nullable=False),
        sa.Column("emails_sent", sa.BigInteger(), nullable=False),
        sa.Column("emails_failed", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receiver", sa.String(length=36), server_default="", nullable=False),
        sa.Column("alive_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("upload_no"),
        sa.UniqueConstraint("upload_id"),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_uploads_client_request_id"), ["client_request_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        # Random ids and event payloads do not compress; trying costs CPU on every write.
        op.execute("ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL")
        op.execute(
            "ALTER TABLE upload_blocks ALTER COLUMN debt_ids SET STORAGE EXTERNAL, "
            "ALTER COLUMN lines SET STORAGE EXTERNAL, ALTER COLUMN outcomes SET STORAGE EXTERNAL"
        )


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_client_request_id"))

    op.drop_table("uploads")
    op.drop_table("upload_blocks")
    with op.batch_alter_table("row_errors", schema=None) as batch_op:
        batch_op.drop_index("ix_row_errors_upload_line")

    op.drop_table("row_errors")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_pending",
            sqlite_where=sa.text("published = 0"),
            postgresql_where=sa.text("NOT published"),
        )

    op.drop_table("outbox")
    with op.batch_alter_table("failures", schema=None) as batch_op:
        batch_op.drop_index("ix_failures_upload_line")

    op.drop_table("failures")
    op.drop_table("debts")
