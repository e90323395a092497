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
    # The payer's address, empty when the upload's file had none (then no remessa takes it).
    sa.Column("payer_address", sa.String(200), nullable=False, server_default=""),
    sa.Column("payer_district", sa.String(100), nullable=False, server_default=""),
    sa.Column("payer_zip_code", sa.String(8), nullable=False, server_default=""),
    sa.Column("payer_city", sa.String(100), nullable=False, server_default=""),
    sa.Column("payer_state", sa.String(2), nullable=False, server_default=""),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    # Empty when no Pix key was configured as it was issued.
    sa.Column("pix_payload", sa.Text, nullable=False, server_default=""),
    # Where the boleto is at the bank: boletos.v1.BankStatus (1 issued ... 5 written off).
    sa.Column("bank_status", sa.SmallInteger, nullable=False, server_default="1"),
    # The remessa that carries it: NULL until one does, and never changed after; 0 for a
    # boleto no bank would register (no CPF/CNPJ), so it is not looked at again.
    sa.Column("remessa_no", sa.BigInteger, nullable=True),
    sa.Column("paid_cents", sa.BigInteger, nullable=True),
    sa.Column("paid_on", sa.Date, nullable=True),
    sa.Column("fee_cents", sa.BigInteger, nullable=True),
    # The bank's occurrence code and reasons when it refused or wrote the boleto off.
    sa.Column("bank_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("bank_status_at", sa.DateTime(timezone=True), nullable=True),
    # The beneficiary it is issued for: its account, PDF and remessas follow from the key.
    sa.Column("beneficiary", sa.String(64), nullable=False, server_default="default"),
    # An early-payment discount from the file: centavos off when paid by discount_until.
    sa.Column("discount_cents", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("discount_until", sa.Date, nullable=True),
    sa.Index("ix_boletos_upload_line", "upload_id", "line"),
    # What the next remessa takes: only the boletos in none yet, in issue order.
    sa.Index(
        "ix_boletos_without_remessa",
        "sequence",
        sqlite_where=sa.text("remessa_no IS NULL"),
        postgresql_where=sa.text("remessa_no IS NULL"),
    ),
    sa.Index("ix_boletos_remessa", "remessa_no", "sequence"),
    # A retorno names boletos by nosso número.
    sa.Index("ix_boletos_nosso_numero", "bank_code", "nosso_numero", unique=True),
    # A rowid table on SQLite: rows append in arrival order and only the small key index
    # takes the random inserts (keyed by the id itself, every wide row would land at random).
)

# In the order of payer_address()'s parameters.
ADDRESS_COLUMNS = (
    boletos.c.payer_address,
    boletos.c.payer_district,
    boletos.c.payer_zip_code,
    boletos.c.payer_city,
    boletos.c.payer_state,
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

# CNAB 240 remessa files: one row per file, written before the file itself, so a file lost
# between the two is written again from the same rows (its bytes follow from them alone).
remessas = sa.Table(
    "remessas",
    metadata,
    sa.Column("remessa_no", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("remessa_id", sa.String(64), nullable=False, unique=True),
    sa.Column("bank_code", sa.String(3), nullable=False),
    sa.Column("agencia", sa.String(8), nullable=False),
    sa.Column("conta", sa.String(16), nullable=False),
    # Número sequencial do arquivo, one more per file of the same beneficiary account.
    sa.Column("nsa", sa.Integer, nullable=False),
    sa.Column("upload_id", sa.String(36), nullable=True),
    sa.Column("beneficiary", sa.String(64), nullable=False, server_default="default"),
    sa.Column("titles", sa.BigInteger, nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("file_name", sa.String(128), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # NULL until the file is on disk whole.
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("bank_code", "agencia", "conta", "nsa", name="uq_remessas_nsa"),
)

# Retorno files processed, by the SHA-256 of their bytes: the same file twice is seen once.
retornos = sa.Table(
    "retornos",
    metadata,
    sa.Column("retorno_id", sa.String(64), primary_key=True),
    sa.Column("file_name", sa.String(256), nullable=False),
    sa.Column("bank_code", sa.String(3), nullable=False, server_default=""),
    sa.Column("nsa", sa.Integer, nullable=True),
    # The RetornoSummary of its first processing, as JSON, to answer a repeat with it.
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)

# Every occurrence a bank reported for a boleto, once each: the same occurrence in a second
# file (a bank resending a day) is recognised by its key and not applied again.
occurrences = sa.Table(
    "boleto_occurrences",
    metadata,
    sa.Column("occurrence_key", sa.String(128), primary_key=True),
    sa.Column("debt_id", DebtKey, nullable=False),
    sa.Column("retorno_id", sa.String(64), nullable=False),
    sa.Column("line", sa.BigInteger, nullable=False),
    sa.Column("code", sa.String(2), nullable=False),
    # retorno.Outcome's name; INSTRUCTION_REJECTED is the longest.
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False, server_default=""),
    sa.Column("paid_cents", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("fee_cents", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("occurred_on", sa.Date, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_boleto_occurrences_debt", "debt_id"),
)

# Instructions to the bank (write-off, new due date, rebate): each recorded once (request_key),
# sent in one remessa (remessa_no) and answered by a retorno.
instructions = sa.Table(
    "instructions",
    metadata,
    sa.Column("instruction_id", sa.String(36), primary_key=True),
    sa.Column("request_key", sa.String(128), nullable=False, unique=True),
    sa.Column("debt_id", DebtKey, nullable=False),
    sa.Column("beneficiary", sa.String(64), nullable=False),
    sa.Column("kind", sa.SmallInteger, nullable=False),
    sa.Column("new_due_date", sa.Date, nullable=True),
    sa.Column("rebate_cents", sa.BigInteger, nullable=False, server_default="0"),
    # boletos.v1.InstructionState: 1 requested, 2 sent, 3 confirmed, 4 rejected.
    sa.Column("state", sa.SmallInteger, nullable=False),
    sa.Column("remessa_no", sa.BigInteger, nullable=True),
    sa.Column("requested_by", sa.String(160), nullable=False, server_default=""),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_instructions_debt", "debt_id"),
    # What the next remessa takes.
    sa.Index("ix_instructions_state", "state", "beneficiary"),
    sa.Index("ix_instructions_remessa", "remessa_no"),
)

outbox = outbox_table(metadata)
