"""DebtsImported bodies are built before the upload is known and stamped by concatenation."""

from __future__ import annotations

import uuid

import pytest

from boletos.platform.nats_streams import SUBJECT_DEBTS_IMPORTED
from boletos.v1 import events_pb2
from ingest_service.domain.columns import ValidRow, content_hash
from ingest_service.service.events import DEBTS_PER_EVENT, event_bodies, keep_only, stamped

NO_ADDRESS = ("", "", "", "", "", 0, "")


def valid_row(i: int, government_id: str = "1234", line: int | None = None) -> ValidRow:
    name, email, cents, due = f"Person {i}", f"p{i}@example.com", 100 + i, "2023-05-17"
    return ValidRow(
        name,
        government_id,
        email,
        cents,
        due,
        str(uuid.UUID(int=i)),
        *NO_ADDRESS,
        i + 2 if line is None else line,
        content_hash((name, government_id, email, cents, due)),
    )


def debts_of(body: bytes) -> list[events_pb2.ImportedDebt]:
    return list(events_pb2.DebtsImported.FromString(body).debts)


def test_every_field_of_a_row_reaches_the_event() -> None:
    [body] = event_bodies([valid_row(7, "11144477735")])
    message = events_pb2.DebtsImported.FromString(body)
    assert message.upload_id == "" and message.batch_seq == 0
    [debt] = message.debts
    assert debt == events_pb2.ImportedDebt(
        debt_id="00000000-0000-0000-0000-000000000007",
        name="Person 7",
        government_id="11144477735",
        email="p7@example.com",
        amount_cents=107,
        due_date="2023-05-17",
        line=9,
        government_id_kind=events_pb2.GOVERNMENT_ID_KIND_CPF,
    )


def test_an_address_reaches_the_event_and_every_row_field_is_announced() -> None:
    address = ("Rua das Flores 12", "Centro", "01310100", "São Paulo", "SP")
    row = valid_row(3)._replace(address=address[0], district=address[1])
    row = row._replace(zip_code=address[2], city=address[3], state=address[4])
    [debt] = debts_of(event_bodies([row])[0])
    assert (debt.address, debt.district, debt.zip_code, debt.city, debt.state) == address
    # Each field of a row (but its fingerprint) is a field of the event: none forgotten.
    announced = set(ValidRow._fields) - {"content_hash"}
    assert announced <= set(events_pb2.ImportedDebt.DESCRIPTOR.fields_by_name)
    for field in announced:
        value = getattr(row, field)
        assert getattr(debt, field) == value, field


@pytest.mark.parametrize(
    ("government_id", "kind"),
    [
        ("11144477735", events_pb2.GOVERNMENT_ID_KIND_CPF),
        ("11222333000181", events_pb2.GOVERNMENT_ID_KIND_CNPJ),
        ("1234", events_pb2.GOVERNMENT_ID_KIND_OTHER),
        ("11144477736", events_pb2.GOVERNMENT_ID_KIND_OTHER),
        ("11111111111", events_pb2.GOVERNMENT_ID_KIND_OTHER),
        ("11222333000182", events_pb2.GOVERNMENT_ID_KIND_OTHER),
    ],
)
def test_government_id_kind_is_always_set(government_id: str, kind: int) -> None:
    [body] = event_bodies([valid_row(1, government_id)])
    [debt] = debts_of(body)
    assert debt.government_id_kind == kind
    # UNSPECIFIED would mean "not judged"; every announced debt is judged.
    assert debt.government_id_kind != events_pb2.GOVERNMENT_ID_KIND_UNSPECIFIED


def test_large_amounts_survive_as_int64_cents() -> None:
    row = valid_row(1)._replace(amount_cents=99_999_999_99)
    [body] = event_bodies([row])
    assert debts_of(body)[0].amount_cents == 99_999_999_99


def test_bodies_hold_at_most_per_event_debts_in_order() -> None:
    rows = [valid_row(i) for i in range(2 * DEBTS_PER_EVENT + 1)]
    bodies = event_bodies(rows)
    assert [len(debts_of(b)) for b in bodies] == [DEBTS_PER_EVENT, DEBTS_PER_EVENT, 1]
    ids = [d.debt_id for b in bodies for d in debts_of(b)]
    assert ids == [r.debt_id for r in rows]


def test_per_event_can_be_chosen() -> None:
    bodies = event_bodies([valid_row(i) for i in range(7)], per_event=3)
    assert [[d.line for d in debts_of(b)] for b in bodies] == [[2, 3, 4], [5, 6, 7], [8]]


def test_no_rows_no_bodies() -> None:
    assert event_bodies([]) == []


def test_stamped_payload_is_the_whole_message() -> None:
    rows = [valid_row(i) for i in range(3)]
    [body] = event_bodies(rows)
    subject, msg_id, payload = stamped("up-1", 4, body)
    assert subject == SUBJECT_DEBTS_IMPORTED
    # The id must be the same on every retry of the same batch.
    assert msg_id == "debts-imported:up-1:4"
    assert stamped("up-1", 4, body) == (subject, msg_id, payload)
    message = events_pb2.DebtsImported.FromString(payload)
    assert message.upload_id == "up-1"
    assert message.batch_seq == 4
    assert [d.debt_id for d in message.debts] == [r.debt_id for r in rows]
    assert message.debts == events_pb2.DebtsImported.FromString(body).debts


def test_stamped_first_batch_has_sequence_zero() -> None:
    [body] = event_bodies([valid_row(1)])
    _, msg_id, payload = stamped("u", 0, body)
    assert msg_id == "debts-imported:u:0"
    message = events_pb2.DebtsImported.FromString(payload)
    assert (message.upload_id, message.batch_seq, len(message.debts)) == ("u", 0, 1)


def test_keep_only_keeps_the_given_lines_in_order() -> None:
    rows = [valid_row(i) for i in range(10)]
    [body] = event_bodies(rows)
    kept = debts_of(keep_only(body, {3, 7, 11, 500}))
    assert [d.line for d in kept] == [3, 7, 11]
    assert kept == [d for d in debts_of(body) if d.line in {3, 7, 11}]


def test_keep_only_tells_repeated_ids_apart_by_line() -> None:
    # A file may repeat a debtId; only the line that was new must be announced.
    rows = [valid_row(1, line=2), valid_row(1, line=9)]
    [body] = event_bodies(rows)
    [debt] = debts_of(keep_only(body, [9]))
    assert (debt.debt_id, debt.line) == (rows[0].debt_id, 9)


def test_keep_only_nothing_leaves_an_empty_body() -> None:
    [body] = event_bodies([valid_row(1)])
    assert debts_of(keep_only(body, set())) == []


def test_kept_body_can_still_be_stamped() -> None:
    [body] = event_bodies([valid_row(i) for i in range(4)])
    _, _, payload = stamped("u", 2, keep_only(body, {4}))
    message = events_pb2.DebtsImported.FromString(payload)
    assert (message.upload_id, message.batch_seq) == ("u", 2)
    assert [d.line for d in message.debts] == [4]
