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
    # What the bank reported paid for the debt's boleto, and the day; 0 and "" while unpaid.
    paid_cents: int = 0
    paid_on: str = ""


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
    paid_cents: int | None = None,
    paid_on: str = "",
) -> ReportLine:
    """The line of a row whose debt is stored: accepted by this upload, or a duplicate of
    one accepted earlier (whose boleto, e-mail and payment it then shows). `paid_cents` is
    None while the debt is unpaid."""
    if boleto_state == STAGE_FAILED:
        return ReportLine(line, debt_id, outcome, BoletoStatus.FAILED, error=failure)
    paid = paid_cents is not None
    # The services report independently: an e-mail or a payment heard of first still means
    # a boleto.
    issued = boleto_state == STAGE_DONE or email_state != STAGE_PENDING or paid
    email = (EmailStatus.PENDING, EmailStatus.SENT, EmailStatus.FAILED)[email_state]
    return ReportLine(
        line,
        debt_id,
        outcome,
        BoletoStatus.ISSUED if issued else BoletoStatus.PENDING,
        nosso_numero,
        email,
        failure if email == EmailStatus.FAILED else "",
        paid_cents or 0,
        paid_on if paid else "",
    )


def error_line(line: int, debt_id: str, conflict: bool, messages: Sequence[str]) -> ReportLine:
    """The line of a row that was not stored: rejected, or a conflict."""
    outcome = RowOutcome.CONFLICT if conflict else RowOutcome.REJECTED
    return ReportLine(line, debt_id, outcome, error="; ".join(messages))


def csv_row(r: ReportLine) -> tuple[object, ...]:
    return (
        r.line,
        r.debt_id,
        r.outcome.name.lower(),
        _status(r.boleto),
        r.nosso_numero,
        _status(r.email),
        r.error,
        _reais(r.paid_cents) if r.paid_cents else "",
        r.paid_on,
    )


def _reais(cents: int) -> str:
    whole, part = divmod(cents, 100)
    return f"{whole}.{part:02d}"


def _status(value: IntEnum) -> str:
    return value.name.lower() if value else ""
