"""The columns of an upload's report as CSV, the same wherever it is written: `boletos
report` and the report a notification attaches. New columns go at the end, so a script
that reads the first ones by position keeps working."""

from __future__ import annotations

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from boletos.v1 import ingest_pb2

REPORT_CSV_HEADER = (
    "line",
    "debtId",
    "outcome",
    "boletoStatus",
    "nossoNumero",
    "emailStatus",
    "error",
    "paidAmount",
    "paidOn",
)


def amount_text(cents: int) -> str:
    """The paidAmount column: '7811.00' for 781100, exact, from integer centavos."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


def csv_row(line: ingest_pb2.ReportLine) -> tuple[object, ...]:
    """One report line as it reaches a client over the API, in REPORT_CSV_HEADER's order."""
    return (
        line.line,
        line.debt_id,
        _name(ingest_pb2.RowOutcome, "ROW_OUTCOME_", line.outcome),
        _name(ingest_pb2.BoletoStatus, "BOLETO_STATUS_", line.boleto_status),
        line.nosso_numero,
        _name(ingest_pb2.EmailStatus, "EMAIL_STATUS_", line.email_status),
        line.error,
        amount_text(line.paid_cents) if line.paid_cents else "",
        line.paid_on,
    )


def _name(enum: EnumTypeWrapper, prefix: str, value: int) -> str:
    return enum.Name(value).removeprefix(prefix).lower() if value else ""
