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
    # Where the boleto is in its schedule of notices (domain.schedule.NoticeStage); 0 for a
    # boleto queued before notices existed, which never gets one.
    sa.Column("notice_stage", sa.SmallInteger, nullable=False, server_default="0"),
    # The trace context the e-mail was queued in: its sending joins the upload's trace.
    sa.Column("trace_context", sa.Text, nullable=True),
    sa.Index("ix_deliveries_queue", "status", "due_at"),
    sa.Index("ix_deliveries_upload", "upload_id", "line"),
    # Only boletos still waiting for a notice: the scheduler's look costs what is due, not
    # the whole history.
    sa.Index(
        "ix_deliveries_notice_schedule",
        "notice_stage",
        "due_date",
        sqlite_where=sa.text("notice_stage IN (1, 2)"),
        postgresql_where=sa.text("notice_stage IN (1, 2)"),
    ),
)

# The e-mails that follow a boleto e-mail (kinds 2 reminder, 3 overdue notice, 4 receipt):
# at most one per debt and kind, which the primary key holds whatever the code does. The
# payer's data stays in deliveries alone.
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    sa.Column("kind", sa.SmallInteger, primary_key=True),
    sa.Column("upload_id", sa.String(36), nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts_before_retry", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("smtp_code", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message_id", sa.String(200), nullable=False, server_default=""),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN (2, 3, 4)", name="ck_notices_kind"),
    sa.Index("ix_notices_queue", "status", "due_at"),
    sa.Index("ix_notices_upload", "upload_id", "kind", "line"),
)

# The updated boleto's e-mail (kind 5), one per debt at a time: a later new due date queues
# it again, under the Message-ID of that date. A table of its own, so that a replica of a
# release without it never claims a kind it does not know during a rollout.
updates = sa.Table(
    "updates",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    sa.Column("upload_id", sa.String(36), nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False, server_default="0"),
    # The instruction whose new due date the e-mail announces.
    sa.Column("instruction_id", sa.String(64), nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts_before_retry", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("smtp_code", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message_id", sa.String(200), nullable=False, server_default=""),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_updates_queue", "status", "due_at"),
    sa.Index("ix_updates_upload", "upload_id", "line"),
)

# Every new due date the bank confirmed, once per instruction: a redelivered or repeated
# event finds its instruction here and changes nothing; answered_at orders two new dates of
# one boleto whatever order their events arrive in.
redates = sa.Table(
    "redates",
    metadata,
    sa.Column("instruction_id", sa.String(64), primary_key=True),
    sa.Column("debt_id", DebtKey, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_redates_debt", "debt_id", "answered_at"),
)

# What the bank reported of each boleto: paid (amount, day), written off or refused; kept
# whether or not the boleto's delivery has arrived yet. outcome: 1 paid, 2 written off,
# 3 rejected (domain.schedule.Settlement).
settlements = sa.Table(
    "settlements",
    metadata,
    sa.Column("debt_id", DebtKey, primary_key=True),
    sa.Column("upload_id", sa.String(36), nullable=False),
    sa.Column("outcome", sa.SmallInteger, nullable=False),
    sa.Column("paid_cents", sa.BigInteger, nullable=True),
    sa.Column("fee_cents", sa.BigInteger, nullable=True),
    sa.Column("paid_on", sa.Date, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
