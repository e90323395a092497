"""The columns of an upload's report as CSV, the same wherever it is written: `boletos
report` and the report a notification attaches. New columns go at the end, so a script
that reads the first ones by position keeps working."""

from __future__ import annotations

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
