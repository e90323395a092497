"""Instructions to the bank about a boleto already issued: a write-off (baixa), a new due
date (prorrogação) and a rebate (abatimento).

Each is a request recorded once, sent in the beneficiary's next remessa with the bank's
movement code, and confirmed or rejected by a retorno. Pure: the store keeps them, the
remessa cut takes the waiting ones, the retorno answers them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from .barcode import build_barcode
from .boleto import BankStatus, Boleto
from .cnab240.bank import Movement
from .cnab240.retorno import Outcome
from .due_factor import due_factor, ensure_payable
from .errors import BoletoDomainError
from .linha_digitavel import formatted_linha_for_built_barcode


class InstructionKind(IntEnum):
    """The numbers are boletos.v1.InstructionKind's."""

    WRITE_OFF = 1
    DUE_DATE = 2
    REBATE = 3

    @property
    def movement(self) -> Movement:
        return _MOVEMENTS[self]


_MOVEMENTS = {
    InstructionKind.WRITE_OFF: Movement.WRITE_OFF,
    InstructionKind.DUE_DATE: Movement.DUE_DATE,
    InstructionKind.REBATE: Movement.REBATE,
}


class InstructionState(IntEnum):
    """The numbers are boletos.v1.InstructionState's."""

    REQUESTED = 1  # waiting for the next remessa
    SENT = 2  # in a remessa; the bank has not answered yet
    CONFIRMED = 3
    REJECTED = 4


@dataclass(frozen=True, slots=True)
class Instruction:
    instruction_id: str
    debt_id: str
    beneficiary: str
    kind: InstructionKind
    state: InstructionState
    requested_at: dt.datetime
    requested_by: str
    new_due_date: dt.date | None = None
    rebate_cents: int = 0
    remessa_id: str = ""
    answered_at: dt.datetime | None = None
    # The bank's occurrence and reasons, or why it was settled without the bank.
    reason: str = ""


class InstructionRefused(BoletoDomainError):
    """`reason` is the ErrorInfo reason the request is refused with."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Request:
    kind: InstructionKind
    new_due_date: dt.date | None = None
    rebate_cents: int = 0

    @property
    def key(self) -> str:
        """The same request twice is one instruction: what it asks, not when."""
        value = self.new_due_date.isoformat() if self.new_due_date else str(self.rebate_cents)
        return f"{self.kind.name}:{value}"


def check(boleto: Boleto, request: Request, today: dt.date) -> None:
    """Raises InstructionRefused when the bank could not act on it (or nothing would change).
    A boleto in no remessa yet takes only a write-off, settled here without the bank."""
    status = boleto.bank.status
    if status in (BankStatus.PAID, BankStatus.WRITTEN_OFF):
        raise InstructionRefused(
            "BOLETO_SETTLED",
            f"the boleto is {status.name.lower().replace('_', ' ')}: the bank takes no more "
            "instructions for it",
        )
    if status == BankStatus.REJECTED:
        raise InstructionRefused(
            "BOLETO_NOT_REGISTERED", "the bank rejected the boleto's entry: it holds no title"
        )
    if request.kind is not InstructionKind.WRITE_OFF and not boleto.remessa_id:
        raise InstructionRefused(
            "BOLETO_NOT_REGISTERED",
            "the boleto is in no remessa yet: the bank has nothing to change; a new due date "
            "or a rebate can be asked once its entry is sent",
        )
    if request.kind is InstructionKind.DUE_DATE:
        new = request.new_due_date
        if new is None:
            raise InstructionRefused("NEW_DUE_DATE_REQUIRED", "a new due date is required")
        if new <= today or new == boleto.due_date:
            raise InstructionRefused(
                "NEW_DUE_DATE_INVALID",
                f"the new due date must be after today and differ from {boleto.due_date}",
            )
        try:
            ensure_payable(new, today)
        except BoletoDomainError as exc:
            raise InstructionRefused("NEW_DUE_DATE_INVALID", str(exc)) from None
    if request.kind is InstructionKind.REBATE and not 0 < request.rebate_cents < (
        boleto.amount_cents
    ):
        raise InstructionRefused(
            "REBATE_INVALID",
            f"a rebate is more than 0 and less than the boleto's {boleto.amount_cents} centavos",
        )


def settles_without_bank(boleto: Boleto, request: Request) -> bool:
    """A write-off of a boleto no remessa carries yet: it is simply never sent."""
    return request.kind is InstructionKind.WRITE_OFF and not boleto.remessa_id


# What a retorno's occurrence says about the instruction waiting for it.
_CONFIRMS = {
    Outcome.WRITTEN_OFF: InstructionKind.WRITE_OFF,
    Outcome.DUE_DATE_CHANGED: InstructionKind.DUE_DATE,
    Outcome.REBATE_GRANTED: InstructionKind.REBATE,
}


def answer(outcome: Outcome) -> tuple[InstructionKind | None, InstructionState] | None:
    """(the kind answered, or None for any sent one; its new state) for an occurrence that
    answers an instruction; None for one that does not."""
    if outcome is Outcome.INSTRUCTION_REJECTED:
        return None, InstructionState.REJECTED
    kind = _CONFIRMS.get(outcome)
    return (kind, InstructionState.CONFIRMED) if kind is not None else None


def redated(barcode: str, new_due_date: dt.date) -> tuple[str, str]:
    """(barcode, formatted linha digitável) of the same title due on another day: the bank
    changed its due date, so the printed numbers follow (same bank, amount, campo livre)."""
    moved = build_barcode(barcode[:3], due_factor(new_due_date), int(barcode[9:19]), barcode[19:])
    return moved, formatted_linha_for_built_barcode(moved)
