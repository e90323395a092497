"""Instructions' rules, pure: what the bank could act on, and which retorno answers which."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from boleto_service.domain.boleto import BankState, BankStatus, Boleto, Payer
from boleto_service.domain.cnab240 import Movement
from boleto_service.domain.cnab240.retorno import Outcome
from boleto_service.domain.instructions import (
    InstructionKind,
    InstructionRefused,
    InstructionState,
    Request,
    answer,
    check,
    settles_without_bank,
)
from boleto_service.domain.issuing import issue_boleto
from tests.support.beneficiaries import BB

TODAY = dt.date(2026, 12, 5)
ISSUED = Boleto(
    "8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10", "upload", 2, 42, TODAY,
    Payer("Ana", "52998224725", 2, "ana@example.com"),
    issue_boleto(BB, 42, 10_000, dt.date(2026, 12, 20), TODAY),
    remessa_id="001-1234-123456-000001",
)  # fmt: skip


def _refusal(boleto: Boleto, request: Request) -> str:
    with pytest.raises(InstructionRefused) as refused:
        check(boleto, request, TODAY)
    return refused.value.reason


def test_each_kind_has_the_movement_the_remessa_sends() -> None:
    assert [k.movement for k in InstructionKind] == [
        Movement.WRITE_OFF, Movement.DUE_DATE, Movement.REBATE
    ]  # fmt: skip


def test_the_same_request_has_the_same_key_and_different_ones_do_not() -> None:
    a = Request(InstructionKind.DUE_DATE, new_due_date=dt.date(2027, 1, 10))
    assert a.key == Request(InstructionKind.DUE_DATE, new_due_date=dt.date(2027, 1, 10)).key
    assert a.key != Request(InstructionKind.DUE_DATE, new_due_date=dt.date(2027, 1, 11)).key
    assert (
        Request(InstructionKind.REBATE, rebate_cents=5).key
        != Request(InstructionKind.REBATE, rebate_cents=6).key
    )


def test_a_registered_boleto_takes_every_kind() -> None:
    for request in (
        Request(InstructionKind.WRITE_OFF),
        Request(InstructionKind.DUE_DATE, new_due_date=TODAY + dt.timedelta(days=30)),
        Request(InstructionKind.REBATE, rebate_cents=9_999),
    ):
        check(ISSUED, request, TODAY)
        assert not settles_without_bank(ISSUED, request)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (BankStatus.PAID, "BOLETO_SETTLED"),
        (BankStatus.WRITTEN_OFF, "BOLETO_SETTLED"),
        (BankStatus.REJECTED, "BOLETO_NOT_REGISTERED"),
    ],
)
def test_a_settled_or_rejected_boleto_takes_none(status: BankStatus, reason: str) -> None:
    boleto = replace(ISSUED, bank=BankState(status))
    assert _refusal(boleto, Request(InstructionKind.WRITE_OFF)) == reason


def test_a_boleto_not_sent_yet_takes_only_a_write_off_settled_here() -> None:
    unsent = replace(ISSUED, remessa_id="")
    write_off = Request(InstructionKind.WRITE_OFF)
    check(unsent, write_off, TODAY)
    assert settles_without_bank(unsent, write_off)
    rebate = Request(InstructionKind.REBATE, rebate_cents=1)
    assert _refusal(unsent, rebate) == "BOLETO_NOT_REGISTERED"


@pytest.mark.parametrize(
    ("new_due_date", "reason"),
    [
        (None, "NEW_DUE_DATE_REQUIRED"),
        (TODAY, "NEW_DUE_DATE_INVALID"),
        (dt.date(2026, 12, 20), "NEW_DUE_DATE_INVALID"),  # the date it has
        (TODAY + dt.timedelta(days=6000), "NEW_DUE_DATE_INVALID"),  # past the payable window
    ],
)
def test_a_new_due_date_must_be_a_later_payable_one(
    new_due_date: dt.date | None, reason: str
) -> None:
    request = Request(InstructionKind.DUE_DATE, new_due_date=new_due_date)
    assert _refusal(ISSUED, request) == reason


@pytest.mark.parametrize("cents", [0, -1, 10_000, 20_000])
def test_a_rebate_is_more_than_nothing_and_less_than_the_amount(cents: int) -> None:
    request = Request(InstructionKind.REBATE, rebate_cents=cents)
    assert _refusal(ISSUED, request) == "REBATE_INVALID"


def test_which_retorno_outcome_answers_which_instruction() -> None:
    assert answer(Outcome.WRITTEN_OFF) == (InstructionKind.WRITE_OFF, InstructionState.CONFIRMED)
    assert answer(Outcome.DUE_DATE_CHANGED) == (
        InstructionKind.DUE_DATE, InstructionState.CONFIRMED
    )  # fmt: skip
    assert answer(Outcome.REBATE_GRANTED) == (InstructionKind.REBATE, InstructionState.CONFIRMED)
    assert answer(Outcome.INSTRUCTION_REJECTED) == (None, InstructionState.REJECTED)
    for outcome in (Outcome.REGISTERED, Outcome.PAID, Outcome.REJECTED, Outcome.OTHER):
        assert answer(outcome) is None
