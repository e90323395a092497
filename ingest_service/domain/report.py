"""An upload's report: one line per data row of its file, saying what the upload did with
the row and what has become of the debt's boleto and e-mail since."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple


class RowOutcome(IntEnum):
    """Mirrors boletos.v1.RowOutcome; the store keeps these numbers, one byte per row."""

    ACCEPTED = 1
    DUPLICATE = 2
    CONFLICT = 3
    REJECTED = 4


class BoletoStatus(IntEnum):
    """Mirrors boletos.v1.BoletoStatus; NONE when no boleto is due for the row."""

    NONE = 0
    PENDING = 1
    ISSUED = 2
    FAILED = 3


class EmailStatus(IntEnum):
    """Mirrors boletos.v1.EmailStatus; NONE when no e-mail is due for the row."""

    NONE = 0
    PENDING = 1
    SENT = 2
    FAILED = 3


# A debt's stage (boleto, e-mail) as the other services reported it.
STAGE_PENDING = 0
STAGE_DONE = 1
STAGE_FAILED = 2
# How the stages are numbered where failures are kept.
STAGE_NUMBERS = {"boleto": 1, "email": 2}


class ReportLine(NamedTuple):
    """A tuple, not a dataclass: a report can run to millions of lines."""

    line: int
    debt_id: str
    outcome: RowOutcome
    boleto: BoletoStatus = BoletoStatus.NONE
    nosso_numero: str = ""
    email: EmailStatus = EmailStatus.NONE
    error: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """A debt whose boleto or e-mail failed, for the people who must act on it."""

    line: int
    debt_id: str
    stage: str  # boleto or email
    reason: str


def debt_line(
    line: int,
    debt_id: str,
    outcome: RowOutcome,
    boleto_state: int,
    email_state: int,
    nosso_numero: str,
    failure: str,
) -> ReportLine:
    """The line of a row whose debt is stored: accepted by this upload, or a duplicate of
    one accepted earlier (whose boleto and e-mail it then shows)."""
    if boleto_state == STAGE_FAILED:
        return ReportLine(line, debt_id, outcome, BoletoStatus.FAILED, error=failure)
    # The services report independently: an e-mail heard of first still means a boleto.
    issued = boleto_state == STAGE_DONE or email_state != STAGE_PENDING
    email = (EmailStatus.PENDING, EmailStatus.SENT, EmailStatus.FAILED)[email_state]
    return ReportLine(
        line,
        debt_id,
        outcome,
        BoletoStatus.ISSUED if issued else BoletoStatus.PENDING,
        nosso_numero,
        email,
        failure if email == EmailStatus.FAILED else "",
    )


def error_line(line: int, debt_id: str, conflict: bool, messages: Sequence[str]) -> ReportLine:
    """The line of a row that was not stored: rejected, or a conflict."""
    outcome = RowOutcome.CONFLICT if conflict else RowOutcome.REJECTED
    return ReportLine(line, debt_id, outcome, error="; ".join(messages))


CSV_HEADER = ("line", "debtId", "outcome", "boletoStatus", "nossoNumero", "emailStatus", "error")


def csv_row(r: ReportLine) -> tuple[object, ...]:
    return (
        r.line,
        r.debt_id,
        r.outcome.name.lower(),
        _status(r.boleto),
        r.nosso_numero,
        _status(r.email),
        r.error,
    )


def _status(value: IntEnum) -> str:
    return value.name.lower() if value else ""
