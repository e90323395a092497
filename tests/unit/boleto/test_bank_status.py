"""A boleto's life at the bank: which occurrence moves which status, and what a batch does."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest

from boleto_service.domain.bank_status import (
    Tracked,
    next_state,
    occurrence_key,
    plan_batch,
    status_reason,
    transition,
)
from boleto_service.domain.boleto import BankState, BankStatus
from boleto_service.domain.cnab240.retorno import Occurrence, Outcome, Reason

AT = dt.datetime(2025, 7, 4, 12, 0, tzinfo=dt.UTC)
S = BankStatus

_DESCRIPTIONS = {"02": "Entrada confirmada", "03": "Entrada rejeitada", "06": "Liquidação",
                 "09": "Baixa", "28": "Débito de tarifas/custas"}  # fmt: skip
_OUTCOMES = {"02": Outcome.REGISTERED, "03": Outcome.REJECTED, "06": Outcome.PAID,
             "09": Outcome.WRITTEN_OFF, "28": Outcome.OTHER}  # fmt: skip


def occ(nosso: str, code: str, line: int = 3, **changes: object) -> Occurrence:
    base = Occurrence(
        line_number=line,
        bank_code="001",
        nosso_numero=nosso,
        document_number="1",
        code=code,
        outcome=_OUTCOMES[code],
        description=_DESCRIPTIONS[code],
        reasons=(),
        face_value_cents=10000,
        fee_cents=0,
        due_date=date(2025, 7, 10),
        paid_cents=0,
        credited_cents=0,
        interest_cents=0,
        occurrence_date=None,
        credit_date=None,
    )
    return base._replace(**changes)  # type: ignore[arg-type]


def paid(
    nosso: str, cents: int, on: date | None = date(2025, 7, 3), **changes: object
) -> Occurrence:
    fields: dict[str, object] = {"paid_cents": cents, "occurrence_date": on, "fee_cents": 150}
    return occ(nosso, "06", **{**fields, **changes})  # type: ignore[arg-type]


# Every status against every outcome: the target, or None when nothing moves.
TABLE = {
    (S.ISSUED, Outcome.REGISTERED): S.REGISTERED,
    (S.ISSUED, Outcome.REJECTED): S.REJECTED,
    (S.ISSUED, Outcome.PAID): S.PAID,
    (S.ISSUED, Outcome.WRITTEN_OFF): S.WRITTEN_OFF,
    (S.REGISTERED, Outcome.REJECTED): S.REJECTED,
    (S.REGISTERED, Outcome.PAID): S.PAID,
    (S.REGISTERED, Outcome.WRITTEN_OFF): S.WRITTEN_OFF,
    (S.REJECTED, Outcome.PAID): S.PAID,
    (S.WRITTEN_OFF, Outcome.PAID): S.PAID,
}


@pytest.mark.parametrize("status", list(BankStatus))
@pytest.mark.parametrize("outcome", list(Outcome))
def test_transition_table(status: BankStatus, outcome: Outcome) -> None:
    assert transition(status, outcome) == TABLE.get((status, outcome))


def test_paid_is_final() -> None:
    assert [transition(S.PAID, o) for o in Outcome] == [None] * len(Outcome)


def test_payment_records_amount_day_and_fee_and_clears_a_reason() -> None:
    rejected = BankState(S.REJECTED, reason="48 CEP inválido")
    state = next_state(rejected, paid("n", 12400, credit_date=date(2025, 7, 4)), AT)
    assert state == BankState(S.PAID, 12400, date(2025, 7, 3), 150, "", AT)
    # A payment whose day is not given is dated by its credit.
    undated = paid("n", 100, on=None, credit_date=date(2025, 7, 4))
    assert next_state(BankState(), undated, AT).paid_on == date(2025, 7, 4)  # type: ignore[union-attr]


def test_reasons_of_a_rejection_and_of_a_write_off() -> None:
    reasons = (
        Reason("08", "Nosso número inválido"),
        Reason("48", "CEP inválido"),
        Reason("99", ""),
    )
    rejection = occ("n", "03", reasons=reasons)
    assert status_reason(rejection) == "08 Nosso número inválido; 48 CEP inválido; 99"
    assert status_reason(occ("n", "03")) == "03 Entrada rejeitada"
    assert next_state(BankState(), rejection, AT) == BankState(
        S.REJECTED, reason="08 Nosso número inválido; 48 CEP inválido; 99", changed_at=AT
    )
    assert next_state(BankState(S.REGISTERED), occ("n", "09"), AT) == BankState(
        S.WRITTEN_OFF, reason="09 Baixa", changed_at=AT
    )
    assert next_state(BankState(S.PAID, 1, date(2025, 7, 1), 0), occ("n", "09"), AT) is None


def test_occurrence_key_tells_days_amounts_and_movements_apart() -> None:
    first = paid("12345670000000042", 100)
    assert occurrence_key(first) == "001:12345670000000042:06:2025-07-03:100"
    others = [
        paid("12345670000000042", 101),
        paid("12345670000000042", 100, on=date(2025, 7, 4)),
        paid("12345670000000043", 100),
        first._replace(code="17"),
        first._replace(bank_code="341"),
    ]
    assert len({occurrence_key(o) for o in [first, *others]}) == 6
    # Where a line sits in its file is not part of what happened.
    assert occurrence_key(first._replace(line_number=99)) == occurrence_key(first)
    assert occurrence_key(occ("n", "02")) == "001:n:02:-:0"


def _tracked(debt: str, status: BankStatus = S.ISSUED, amount: int = 10000) -> Tracked:
    return Tracked(debt, "upload", amount, BankState(status))


def test_a_batch_applies_in_file_order_and_records_each_occurrence_once() -> None:
    boletos = {
        ("001", "a"): _tracked("debt-a"),
        ("001", "b"): _tracked("debt-b"),
        ("001", "c"): _tracked("debt-c", S.PAID),
        ("001", "d"): _tracked("debt-d"),
    }
    batch = [
        occ("a", "02", line=3),
        paid("a", 10000, line=5),
        occ("a", "02", line=7),  # the same confirmation twice in one file
        occ("b", "03", line=9, reasons=(Reason("48", "CEP inválido"),)),
        paid("c", 10000, line=11),  # already recorded by an earlier file
        paid("c", 9000, line=13, on=date(2025, 7, 8)),  # a second, different payment
        occ("x", "06", line=15, paid_cents=500),
        occ("d", "28", line=17, fee_cents=180),
        paid("d", 9999, line=19),
    ]
    known = {occurrence_key(paid("c", 10000))}
    plan = plan_batch(batch, boletos, known, AT)

    assert [(r.occurrence.line_number, r.debt_id, r.moved) for r in plan.recorded] == [
        (3, "debt-a", True),
        (5, "debt-a", True),
        (9, "debt-b", True),
        (13, "debt-c", False),
        (17, "debt-d", False),
        (19, "debt-d", True),
    ]
    assert plan.repeated == 2
    assert [o.line_number for o in plan.unknown] == [15]
    assert [(t.debt_id, o.line_number) for t, o in plan.unchanged] == [
        ("debt-c", 13),
        ("debt-d", 17),
    ]
    assert [(c.boleto.debt_id, c.status, c.amount_differs) for c in plan.changes] == [
        ("debt-a", S.REGISTERED, False),
        ("debt-a", S.PAID, False),
        ("debt-b", S.REJECTED, False),
        ("debt-d", S.PAID, True),
    ]
    # One final state per boleto changed, whatever the number of steps.
    assert {d: t.state.status for d, t in plan.states.items()} == {
        "debt-a": S.PAID,
        "debt-b": S.REJECTED,
        "debt-d": S.PAID,
    }
    assert plan.states["debt-d"].state == BankState(S.PAID, 9999, date(2025, 7, 3), 150, "", AT)
    assert plan.states["debt-b"].state.reason == "48 CEP inválido"


def test_a_batch_seen_before_changes_nothing() -> None:
    boletos = {("001", "a"): _tracked("debt-a")}
    batch = [occ("a", "02"), paid("a", 10000)]
    first = plan_batch(batch, boletos, set(), AT)
    again = plan_batch(batch, boletos, {r.key for r in first.recorded}, AT)
    assert (again.recorded, again.changes, again.states, again.repeated) == ([], [], {}, 2)
