"""Instructions to the bank through the real store and remessas: recorded once, a write-off of
a boleto never sent applied at once, the others sent in the next remessa with each bank's
movement code, at most once."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from boleto_service.domain.boleto import BankStatus
from boleto_service.domain.instructions import (
    InstructionKind,
    InstructionRefused,
    InstructionState,
    Request,
)
from boleto_service.domain.linha_digitavel import linha_to_barcode
from boleto_service.service.instructions import BoletoNotFound, Instruct
from boleto_service.service.retornos import ProcessRetornos
from boleto_service.store.instructions import InstructionStore
from boleto_service.store.repository import BoletoStore
from boleto_service.store.retornos import RetornoStore
from boleto_service.store.tables import boletos, instructions, outbox
from boletos.platform import brasilia
from boletos.v1 import events_pb2
from boletos_cli.bank import Registered, retorno_for
from tests.support.beneficiaries import ITAU

from .test_remessas import file_lines, issue, remessas_for

# Today as the service counts it, in Brasília: the machine's own date is a day ahead from
# 00:00 to 03:00 UTC. Taken once, it can only fall behind the service's, never pass it.
TODAY = brasilia.today()


def _instruct(store: BoletoStore) -> Instruct:
    return Instruct(store, InstructionStore(store.engine))


def _ids(store: BoletoStore, upload_id: str) -> list[str]:
    return [b.debt_id for b in store.list_for_upload(upload_id, 0, 100)]


def test_a_write_off_before_any_remessa_applies_at_once_and_is_never_sent(
    store: BoletoStore, tmp_path: Path
) -> None:
    upload = issue(store, 3)
    first, *rest = _ids(store, upload)
    instruct = _instruct(store)

    made, created = instruct.request(first, Request(InstructionKind.WRITE_OFF), "key:operator")
    again, created_again = instruct.request(first, Request(InstructionKind.WRITE_OFF), "x")

    assert (created, created_again) == (True, False)
    assert again == made
    assert made.state is InstructionState.CONFIRMED
    boleto = store.get(first)
    assert boleto is not None and boleto.bank.status is BankStatus.WRITTEN_OFF
    with store.engine.connect() as conn:
        payloads = (
            conn.execute(
                sa.select(outbox.c.payload).where(outbox.c.subject == "boleto.boletos.written_off")
            )
            .scalars()
            .all()
        )
    [payload] = payloads
    [change] = events_pb2.BoletosWrittenOff.FromString(payload).boletos
    assert (change.debt_id, change.upload_id) == (first, upload)

    remessas = remessas_for(store, tmp_path / "remessas")
    [record] = remessas.cut_now()
    # The two others only: a written-off boleto goes to no bank.
    assert record.titles == 2
    details = [line for line in file_lines(tmp_path / "remessas" / record.file_name)]
    assert sum(1 for line in details if line[13] == "P") == 2


@pytest.mark.parametrize(
    ("kind", "movement", "extra"),
    [
        (InstructionKind.DUE_DATE, "06", {"new_due_date": TODAY + dt.timedelta(days=40)}),
        (InstructionKind.REBATE, "04", {"rebate_cents": 150}),
        (InstructionKind.WRITE_OFF, "02", {}),
    ],
)
def test_an_instruction_goes_in_the_next_remessa_once_with_the_banks_movement_code(
    store: BoletoStore, tmp_path: Path, kind: InstructionKind, movement: str, extra: dict
) -> None:
    upload = issue(store, 2)
    target, other = _ids(store, upload)
    remessas = remessas_for(store, tmp_path / "remessas")
    [entries] = remessas.cut_now()
    instruct = _instruct(store)

    made, _ = instruct.request(target, Request(kind, **extra), "key:operator")
    assert made.state is InstructionState.REQUESTED

    [sent] = remessas.cut_now()
    assert sent.nsa == entries.nsa + 1
    assert sent.titles == 1
    lines = file_lines(tmp_path / "remessas" / sent.file_name)
    p = next(line for line in lines if line[13] == "P")
    assert p[15:17] == movement
    boleto = store.get(target)
    assert boleto is not None
    assert p[37:57].strip() == boleto.numbers.nosso_numero
    if kind is InstructionKind.DUE_DATE:
        assert p[77:85] == extra["new_due_date"].strftime("%d%m%Y")
    if kind is InstructionKind.REBATE:
        assert int(p[180:195]) == 150
    [listed] = instruct.of_debt(target)
    assert (listed.state, listed.remessa_id) == (InstructionState.SENT, sent.remessa_id)
    # Sent once: nothing waits any more, and the other boleto was asked nothing.
    assert remessas.cut_now() == []
    assert instruct.of_debt(other) == []
    # The file written again (a lost file) is the same file, instruction included.
    before = (tmp_path / "remessas" / sent.file_name).read_bytes()
    (tmp_path / "remessas" / sent.file_name).unlink()
    remessas.ensure_file(sent)
    assert (tmp_path / "remessas" / sent.file_name).read_bytes() == before


def test_an_instruction_the_bank_would_refuse_stops_the_cut_before_anything_is_committed(
    store: BoletoStore, tmp_path: Path
) -> None:
    upload = issue(store, 2)
    target, _ = _ids(store, upload)
    remessas = remessas_for(store, tmp_path / "remessas")
    [entries] = remessas.cut_now()
    made, _ = _instruct(store).request(
        target, Request(InstructionKind.REBATE, rebate_cents=150), "k"
    )
    # Requests are checked when made: only a hand edit gets a rebate past the amount.
    with store.engine.begin() as conn:
        conn.execute(sa.update(instructions).values(rebate_cents=10**9))
    issue(store, 1)

    with pytest.raises(RuntimeError, match=f"instruction {made.instruction_id} .*rebate_cents"):
        remessas.cut_now()

    # The cut rolled back whole: the new boleto still waits, the instruction too, no file.
    assert [r.remessa_id for r in remessas.page(None, 10)] == [entries.remessa_id]
    [listed] = _instruct(store).of_debt(target)
    assert listed.state is InstructionState.REQUESTED
    assert sorted(p.name for p in (tmp_path / "remessas").iterdir()) == [entries.file_name]


def test_the_same_instruction_twice_is_sent_once_and_two_for_one_boleto_in_two_files(
    store: BoletoStore, tmp_path: Path
) -> None:
    upload = issue(store, 1, beneficiary=ITAU)
    [debt] = _ids(store, upload)
    remessas = remessas_for(store, tmp_path / "remessas", beneficiary=ITAU)
    remessas.cut_now()
    instruct = _instruct(store)
    new_date = TODAY + dt.timedelta(days=30)
    instruct.request(debt, Request(InstructionKind.DUE_DATE, new_due_date=new_date), "a")
    instruct.request(debt, Request(InstructionKind.DUE_DATE, new_due_date=new_date), "b")
    instruct.request(debt, Request(InstructionKind.REBATE, rebate_cents=10), "a")

    made = remessas.cut_now()
    # A file names a title once: the second instruction goes in a file of its own.
    assert [(r.nsa, r.titles) for r in made] == [(2, 1), (3, 1)]
    assert remessas.cut_now() == []
    kinds = {(i.kind, i.state) for i in instruct.of_debt(debt)}
    assert kinds == {
        (InstructionKind.DUE_DATE, InstructionState.SENT),
        (InstructionKind.REBATE, InstructionState.SENT),
    }


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (Request(InstructionKind.DUE_DATE, new_due_date=TODAY), "NEW_DUE_DATE_INVALID"),
        (Request(InstructionKind.DUE_DATE), "NEW_DUE_DATE_REQUIRED"),
        (Request(InstructionKind.REBATE, rebate_cents=0), "REBATE_INVALID"),
        (Request(InstructionKind.REBATE, rebate_cents=10**9), "REBATE_INVALID"),
    ],
)
def test_what_the_bank_could_not_act_on_is_refused_with_a_reason(
    store: BoletoStore, tmp_path: Path, request_: Request, reason: str
) -> None:
    upload = issue(store, 1)
    [debt] = _ids(store, upload)
    remessas_for(store, tmp_path / "remessas").cut_now()
    with pytest.raises(InstructionRefused) as refused:
        _instruct(store).request(debt, request_, "a")
    assert refused.value.reason == reason
    assert _instruct(store).of_debt(debt) == []


def test_a_new_date_for_a_boleto_not_sent_yet_or_settled_is_refused(store: BoletoStore) -> None:
    upload = issue(store, 1)
    [debt] = _ids(store, upload)
    instruct = _instruct(store)
    later = Request(InstructionKind.DUE_DATE, new_due_date=TODAY + dt.timedelta(days=9))
    with pytest.raises(InstructionRefused) as unsent:
        instruct.request(debt, later, "a")
    assert unsent.value.reason == "BOLETO_NOT_REGISTERED"
    instruct.request(debt, Request(InstructionKind.WRITE_OFF), "a")
    with pytest.raises(InstructionRefused) as settled:
        instruct.request(debt, Request(InstructionKind.REBATE, rebate_cents=1), "a")
    assert settled.value.reason == "BOLETO_SETTLED"
    with pytest.raises(BoletoNotFound):
        instruct.request("00000000-0000-4000-8000-000000000000", later, "a")
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(boletos.c.remessa_no)).scalar_one() == 0


def _answer(tmp_path: Path, remessa_file: Path, code: str) -> Path:
    """The bank's retorno for a remessa of one instruction: its occurrence code is `code`."""
    remessa = file_lines(remessa_file)
    lines = retorno_for(remessa, {0: Registered()})
    lines[2] = lines[2][:15] + code + lines[2][17:]
    lines[3] = lines[3][:15] + code + lines[3][17:]
    path = tmp_path / f"answer-{code}.ret"
    path.write_bytes("".join(line + "\r\n" for line in lines).encode("ascii"))
    return path


@pytest.mark.parametrize(
    ("code", "state"),
    [("14", InstructionState.CONFIRMED), ("26", InstructionState.REJECTED)],
)
def test_the_retorno_answers_the_instruction_and_a_new_date_reaches_the_boleto(
    store: BoletoStore, tmp_path: Path, code: str, state: InstructionState
) -> None:
    upload = issue(store, 1)
    [debt] = _ids(store, upload)
    remessas = remessas_for(store, tmp_path / "remessas")
    remessas.cut_now()
    before = store.get(debt)
    assert before is not None
    new_date = before.due_date + dt.timedelta(days=30)
    _instruct(store).request(
        debt, Request(InstructionKind.DUE_DATE, new_due_date=new_date), "key:operator"
    )
    [sent] = remessas.cut_now()

    answer = _answer(tmp_path, tmp_path / "remessas" / sent.file_name, code)
    data = answer.read_bytes()
    summary = ProcessRetornos(RetornoStore(store.engine)).process(
        answer, hashlib.sha256(data).hexdigest(), answer.name
    )
    assert summary.occurrences == 1

    [done] = _instruct(store).of_debt(debt)
    assert done.state is state
    assert done.reason.startswith(code)
    after = store.get(debt)
    assert after is not None
    if state is InstructionState.CONFIRMED:
        # The bank moved the date: so do the printed numbers, for the same title and amount.
        assert after.due_date == new_date
        assert after.numbers.barcode != before.numbers.barcode
        assert after.numbers.barcode[19:] == before.numbers.barcode[19:]
        assert after.amount_cents == before.amount_cents
        assert linha_to_barcode(after.numbers.linha_digitavel_formatted) == after.numbers.barcode
    else:
        assert after.numbers == before.numbers
