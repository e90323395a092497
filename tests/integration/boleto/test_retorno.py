"""Retornos against real stores: exact counts, a file twice, an occurrence in two files, a
crash between batches, events through the outbox once per change, files refused whole with
nothing changed, problems listed (a liquidation of nothing, a line twice) and logged once per
kind, and the RPC and the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.rpc import error_details_pb2
from sqlalchemy.engine import Engine

from boleto_service.api.retorno_rpcs import RetornoRpcs
from boleto_service.api.servicer import to_message
from boleto_service.config import Settings
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.boleto import BankState, BankStatus, Boleto, Payer, PayerAddress
from boleto_service.domain.cnab240 import RemessaHeader, remessa_text, title_from_boleto
from boleto_service.domain.issuing import issue_boleto
from boleto_service.service.retornos import (
    BANK_NOT_SERVED,
    COUNTS_DISAGREE,
    INCOMPLETE,
    MALFORMED,
    NOT_A_RETORNO,
    NOT_CNAB240,
    Problem,
    ProcessRetornos,
    RetornoRefused,
    Summary,
)
from boleto_service.store.engine import create_engine, upgrade_schema
from boleto_service.store.repository import BoletoStore
from boleto_service.store.retornos import RetornoStore
from boleto_service.store.tables import boletos as boleto_rows
from boleto_service.store.tables import occurrences, outbox, retornos
from boletos.platform.errors import details_of
from boletos.platform.nats_streams import (
    SUBJECT_BOLETOS_PAID,
    SUBJECT_BOLETOS_REGISTERED,
    SUBJECT_BOLETOS_REJECTED,
)
from boletos.platform.outbox import OutboxStore
from boletos.v1 import boleto_pb2, boleto_pb2_grpc, events_pb2
from boletos_cli.bank import (
    CREDITED_ON,
    PAID_ON,
    BankDay,
    Paid,
    Registered,
    envelope,
    pair,
    simulate,
    titles_of,
)
from boletos_cli.main import main as cli_main
from tests.support import access
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, stream_message_count, upload
from tests.support.threaded_server import serving_on_a_thread
from tests.support.waiting import wait_for

BB = BeneficiaryConfig(
    name="Cobranças São João Ltda",
    cnpj="11222333000181",
    bank_code="001",
    agencia="1234",
    conta="56789",
    conta_dv="0",
    convenio="1234567",
    carteira="17",
)
HEADER = RemessaHeader(BB, 7, dt.datetime(2025, 7, 1, 13, 45), "3", variacao_carteira="19")
TODAY = dt.date(2025, 7, 1)
AMOUNTS = [10000, 25050, 7300, 99900, 1234, 500000]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    upgrade_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def issue(engine: Engine, amounts: list[int]) -> list[Boleto]:
    """Boletos stored as the debts consumer stores them, one per amount."""
    store = BoletoStore(engine)
    upload_id = str(uuid.uuid4())
    ids = [str(uuid.uuid4()) for _ in amounts]
    address = PayerAddress("Rua Sete de Setembro, 40", "Centro", "20050009", "Rio", "RJ")
    payer = Payer("Maria Conceição", "52998224725", 2, "maria@example.com", address)

    def build(new_ids: list[str], first: int, _number: int) -> tuple[list[Boleto], list, list]:
        made = [
            Boleto(
                debt_id, upload_id, line, first + offset, TODAY, payer,
                issue_boleto(BB, first + offset, amounts[offset], dt.date(2025, 7, 20), TODAY),
            )
            for offset, (line, debt_id) in enumerate(enumerate(new_ids, start=1))
        ]  # fmt: skip
        return made, [], []

    store.issue_batch(ids, build)
    found = store.get_many(ids)
    return [found[d] for d in ids]


def remessa_for(boletos: list[Boleto]) -> str:
    return remessa_text(HEADER, [title_from_boleto(b) for b in boletos])


def write(tmp_path: Path, text: str) -> tuple[Path, str]:
    data = text.encode("ascii")
    path = tmp_path / f"retorno-{hashlib.sha256(data).hexdigest()[:8]}.ret"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def outbox_events(engine: Engine) -> list[tuple[str, str, bytes]]:
    c = outbox.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.subject, c.msg_id, c.payload).order_by(c.id)).all()
    return [(r.subject, r.msg_id, bytes(r.payload)) for r in rows]


def changes(events: list[tuple[str, str, bytes]]) -> Counter[tuple[str, str]]:
    """How many times each (subject, debt id) was announced."""
    parsers: dict[str, Callable[[bytes], Any]] = {
        SUBJECT_BOLETOS_REGISTERED: events_pb2.BoletosRegistered.FromString,
        SUBJECT_BOLETOS_REJECTED: events_pb2.BoletosRejected.FromString,
        SUBJECT_BOLETOS_PAID: events_pb2.BoletosPaid.FromString,
    }
    seen: Counter[tuple[str, str]] = Counter()
    for subject, _msg_id, payload in events:
        if subject in parsers:
            for item in parsers[subject](payload).boletos:
                seen[(subject, item.debt_id)] += 1
    return seen


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def counts(s: Summary) -> dict[str, int]:
    return {
        name: getattr(s, name)
        for name in (
            "occurrences", "registered", "rejected", "paid", "paid_cents", "written_off",
            "other", "amount_mismatches", "repeated_occurrences",
        )
    }  # fmt: skip


def test_a_retorno_processed_twice_changes_things_once(engine: Engine, tmp_path: Path) -> None:
    boletos = issue(engine, AMOUNTS)
    unknown = ["12345679999999991", "12345679999999992"]
    day = BankDay(
        paid={1: None, 2: 7000},  # the second paid for less than charged
        rejected={3: ("48", "45")},
        unknown=unknown,
        fee_cents=150,
    )
    path, retorno_id = write(tmp_path, simulate(remessa_for(boletos), day))
    woken: list[None] = []
    process = ProcessRetornos(RetornoStore(engine), on_commit=lambda: woken.append(None))

    first = process.process(path, retorno_id, "CB010725.RET")

    assert (first.retorno_id, first.file_name, first.bank_code) == (
        retorno_id, "CB010725.RET", "001"
    )  # fmt: skip
    assert not first.already_processed
    # 5 confirmations, 2 payments, 1 rejection, 2 lines of nosso números not issued here.
    assert counts(first) == {
        "occurrences": 10, "registered": 5, "rejected": 1, "paid": 2,
        "paid_cents": 25050 + 7000, "written_off": 0, "other": 0,
        "amount_mismatches": 1, "repeated_occurrences": 0,
    }  # fmt: skip
    assert [(p.line, p.reason) for p in first.problems] == [
        (
            19,
            f"nosso número {unknown[0]} of bank 001 names no boleto of this service "
            "(06 Liquidação)",
        ),
        (
            21,
            f"nosso número {unknown[1]} of bank 001 names no boleto of this service "
            "(06 Liquidação)",
        ),
    ]
    assert woken

    store = BoletoStore(engine)
    got = {b.debt_id: store.get(b.debt_id) for b in boletos}
    states = {d: (b.bank.status, b.bank.paid_cents) for d, b in got.items() if b}
    assert [states[b.debt_id] for b in boletos] == [
        (BankStatus.REGISTERED, None),
        (BankStatus.PAID, 25050),
        (BankStatus.PAID, 7000),
        (BankStatus.REJECTED, None),
        (BankStatus.REGISTERED, None),
        (BankStatus.REGISTERED, None),
    ]
    short = got[boletos[2].debt_id]
    assert short is not None
    assert short.bank == BankState(BankStatus.PAID, 7000, PAID_ON, 150, "", short.bank.changed_at)
    assert short.bank.changed_at is not None and short.bank.changed_at.tzinfo is not None
    message = to_message(short)
    assert (message.bank_status, message.paid_cents, message.paid_on, message.fee_cents) == (
        boleto_pb2.BANK_STATUS_PAID, 7000, PAID_ON.isoformat(), 150
    )  # fmt: skip
    assert message.paid_amount_differs
    exact = to_message(got[boletos[1].debt_id])  # type: ignore[arg-type]
    assert (exact.paid_amount_differs, exact.rejection_reason) == (False, "")
    refused = to_message(got[boletos[3].debt_id])  # type: ignore[arg-type]
    assert refused.bank_status == boleto_pb2.BANK_STATUS_REJECTED
    assert refused.rejection_reason == "48 CEP inválido; 45 Nome do pagador não informado"

    events = outbox_events(engine)
    assert [(subject, msg_id) for subject, msg_id, _ in events] == [
        (SUBJECT_BOLETOS_REGISTERED, f"retorno:{retorno_id}:1:registered:0"),
        (SUBJECT_BOLETOS_REJECTED, f"retorno:{retorno_id}:1:rejected:0"),
        (SUBJECT_BOLETOS_PAID, f"retorno:{retorno_id}:1:paid:0"),
    ]
    paid = events_pb2.BoletosPaid.FromString(events[2][2]).boletos
    assert [(p.debt_id, p.amount_cents, p.paid_cents, p.fee_cents, p.paid_on, p.amount_differs)
            for p in paid] == [
        (boletos[1].debt_id, 25050, 25050, 150, "2025-07-03", False),
        (boletos[2].debt_id, 7300, 7000, 150, "2025-07-03", True),
    ]  # fmt: skip
    rejected = events_pb2.BoletosRejected.FromString(events[1][2]).boletos
    assert [(r.debt_id, r.upload_id, r.reason) for r in rejected] == [
        (
            boletos[3].debt_id,
            boletos[3].upload_id,
            "48 CEP inválido; 45 Nome do pagador não informado",
        )
    ]
    registered = events_pb2.BoletosRegistered.FromString(events[0][2]).boletos
    assert {r.debt_id for r in registered} == {b.debt_id for i, b in enumerate(boletos) if i != 3}
    assert {r.reason for r in registered} == {"02 Entrada confirmada"}
    recorded = count(engine, occurrences)

    again = process.process(path, retorno_id, "another name.RET")

    assert again.already_processed
    assert (counts(again), again.problems, again.file_name) == (
        counts(first), first.problems, "CB010725.RET"
    )  # fmt: skip
    assert outbox_events(engine) == events
    assert count(engine, occurrences) == recorded == 8
    assert count(engine, retornos) == 1


def test_the_same_occurrences_in_another_file_are_not_applied_twice(
    engine: Engine, tmp_path: Path
) -> None:
    boletos = issue(engine, AMOUNTS)
    remessa = remessa_for(boletos)
    process = ProcessRetornos(RetornoStore(engine), batch_size=3)
    monday = simulate(remessa, BankDay(paid={0: None}, rejected={}))
    # A first file of the day with the first four titles, then the whole day.
    morning = simulate(remessa_for(boletos[:4]), BankDay(paid={0: None}, rejected={}))
    early = process.process(*write(tmp_path, morning), "CB-morning.RET")
    assert (early.registered, early.paid, early.problems) == (4, 1, [])

    whole = process.process(*write(tmp_path, monday), "CB-whole.RET")
    assert counts(whole) == {
        "occurrences": 7, "registered": 2, "rejected": 0, "paid": 0, "paid_cents": 0,
        "written_off": 0, "other": 0, "amount_mismatches": 0, "repeated_occurrences": 5,
    }  # fmt: skip
    assert whole.problems == []

    # The bank sends Monday again inside Tuesday's file, with Tuesday's payments.
    tuesday = simulate(remessa, BankDay(paid={0: None, 4: 1300}, rejected={}))
    later = process.process(*write(tmp_path, tuesday), "CB-tuesday.RET")
    assert counts(later) == {
        "occurrences": 8, "registered": 0, "rejected": 0, "paid": 1, "paid_cents": 1300,
        "written_off": 0, "other": 0, "amount_mismatches": 1, "repeated_occurrences": 7,
    }  # fmt: skip

    announced = changes(outbox_events(engine))
    assert set(announced.values()) == {1}
    assert sorted(announced) == sorted(
        [(SUBJECT_BOLETOS_REGISTERED, b.debt_id) for b in boletos]
        + [(SUBJECT_BOLETOS_PAID, boletos[0].debt_id), (SUBJECT_BOLETOS_PAID, boletos[4].debt_id)]
    )
    assert count(engine, occurrences) == 8
    assert count(engine, retornos) == 3


def test_a_second_payment_is_recorded_and_reported_not_applied(
    engine: Engine, tmp_path: Path
) -> None:
    boletos = issue(engine, AMOUNTS[:2])
    remessa = remessa_for(boletos)
    process = ProcessRetornos(RetornoStore(engine))
    process.process(*write(tmp_path, simulate(remessa, BankDay(paid={0: None}, rejected={}))), "a")
    later = BankDay(paid={0: 4000}, rejected={}, register=False, paid_on=dt.date(2025, 7, 9))
    second = process.process(*write(tmp_path, simulate(remessa, later)), "b")
    assert (second.paid, second.other, second.repeated_occurrences) == (0, 1, 0)
    assert [p.line for p in second.problems] == [3]
    assert "already paid 10000 centavos on 2025-07-03" in second.problems[0].reason
    again = BoletoStore(engine).get(boletos[0].debt_id)
    assert again is not None
    assert (again.bank.paid_cents, again.bank.paid_on) == (10000, PAID_ON)
    assert count(engine, occurrences) == 4  # 2 confirmations, 2 payments


class _Crash(Exception):
    pass


class _CrashingStore(RetornoStore):
    """The real store, stopping the process (as a crash would) before its nth batch."""

    def __init__(self, engine: Engine, crash_before: int) -> None:
        super().__init__(engine)
        self.batches = 0
        self.crash_before = crash_before

    def apply_batch(self, *args: Any, **kwargs: Any) -> Any:
        self.batches += 1
        if self.batches == self.crash_before:
            raise _Crash
        return super().apply_batch(*args, **kwargs)


def test_a_crash_between_batches_is_finished_by_sending_the_file_again(
    engine: Engine, tmp_path: Path
) -> None:
    boletos = issue(engine, AMOUNTS)
    text = simulate(remessa_for(boletos), BankDay(paid={1: None, 5: None}, rejected={}))
    path, retorno_id = write(tmp_path, text)
    with pytest.raises(_Crash):
        ProcessRetornos(_CrashingStore(engine, crash_before=2), batch_size=4).process(
            path, retorno_id, "CB.RET"
        )
    assert count(engine, retornos) == 0
    assert count(engine, occurrences) == 4
    events_before = outbox_events(engine)
    assert [msg_id for _, msg_id, _ in events_before] == [
        f"retorno:{retorno_id}:1:registered:0",
        f"retorno:{retorno_id}:1:paid:0",
    ]

    done = ProcessRetornos(RetornoStore(engine), batch_size=4).process(path, retorno_id, "CB.RET")

    assert not done.already_processed
    assert counts(done) == {
        "occurrences": 8, "registered": 3, "rejected": 0, "paid": 1, "paid_cents": 500000,
        "written_off": 0, "other": 0, "amount_mismatches": 0, "repeated_occurrences": 4,
    }  # fmt: skip
    announced = changes(outbox_events(engine))
    assert set(announced.values()) == {1}
    assert len(announced) == 6 + 2
    assert count(engine, occurrences) == 8


# --- files refused whole ----------------------------------------------------------------------


def records(text: str) -> list[str]:
    return text.splitlines()


def joined(lines: list[str]) -> str:
    return "".join(f"{line}\r\n" for line in lines)


def spliced(line: str, start: int, value: str) -> str:
    """`line` with `value` at 0-based `start`."""
    return line[:start] + value + line[start + len(value) :]


def state(engine: Engine) -> tuple[list[tuple[Any, ...]], int, int, int]:
    """Everything a retorno can change: the boletos' bank columns, the occurrences, the files
    recorded and the events waiting."""
    b = boleto_rows.c
    columns = (b.debt_id, b.bank_status, b.paid_cents, b.paid_on, b.bank_status_at)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).order_by(b.nosso_numero)).all()
    return (
        [tuple(r) for r in rows],
        count(engine, occurrences),
        count(engine, retornos),
        count(engine, outbox),
    )


GOOD_DAY = BankDay(paid={0: None}, rejected={})
# Of the good day: a file header, a lot header, 7 pairs of segments, two trailers.
GOOD_LINES = 18

# Each: how the bank's good file is spoiled (given it and the remessa), the refusal's reason,
# its first line at fault, and words of its message.
SPOILED: dict[str, tuple[Callable[[str, str], str], str, int, str]] = {
    "a remessa sent as a retorno": (
        lambda good, remessa: remessa, NOT_A_RETORNO, 1, "header code '1': not a retorno",
    ),
    "5 bytes of junk": (lambda good, remessa: "junk!", NOT_CNAB240, 1, "5 characters, not 240"),
    "nothing but blank lines": (
        lambda good, remessa: "\r\n\r\n", NOT_CNAB240, 0, "no records, only blank lines",
    ),
    "a file trailer counting one record too many": (
        lambda good, remessa: joined(
            records(good)[:-1] + [spliced(records(good)[-1], 23, f"{GOOD_LINES + 1:06d}")]
        ),
        COUNTS_DISAGREE, GOOD_LINES, "file trailer counts 19 records, the file has 18",
    ),
    "a lot trailer counting too few": (
        lambda good, remessa: joined(
            records(good)[:-2] + [spliced(records(good)[-2], 17, "000003"), records(good)[-1]]
        ),
        COUNTS_DISAGREE, GOOD_LINES - 1, "lot trailer counts 3 records, the lot has 16",
    ),
    "a file cut after a title": (
        lambda good, remessa: joined(records(good)[:-6]), INCOMPLETE, 0, "no file trailer",
    ),
    "a file cut inside a record": (
        lambda good, remessa: good[: len(good) // 2], INCOMPLETE, 0, "no file trailer",
    ),
    "a lot of another operation": (
        lambda good, remessa: joined(
            records(good)[:1] + [spliced(records(good)[1], 8, "R")] + records(good)[2:]
        ),
        NOT_A_RETORNO, 2, "lot operation/service 'R01', expected retorno of cobrança",
    ),
    "two files in one": (lambda good, remessa: good + good, MALFORMED, 19, "a second file header"),
    "a bank with no boleto here": (
        lambda good, remessa: joined([spliced(r, 0, "341") for r in records(good)]),
        BANK_NOT_SERVED, 0, "bank 341 wrote the file; this service has no boleto of that bank",
    ),
    "a bank code no bank has": (
        lambda good, remessa: joined([spliced(r, 0, "999") for r in records(good)]),
        BANK_NOT_SERVED, 0, "bank 999 wrote the file",
    ),
}  # fmt: skip


@pytest.mark.parametrize("spoiled", list(SPOILED))
def test_a_file_that_is_not_a_whole_retorno_is_refused_and_changes_nothing(
    engine: Engine, tmp_path: Path, spoiled: str
) -> None:
    boletos = issue(engine, AMOUNTS)
    remessa = remessa_for(boletos)
    good = simulate(remessa, GOOD_DAY)
    assert len(records(good)) == GOOD_LINES
    spoil, reason, line, words = SPOILED[spoiled]
    data = spoil(good, remessa).encode("ascii")
    path = tmp_path / "CB.RET"
    path.write_bytes(data)
    retorno_id = hashlib.sha256(data).hexdigest()
    process = ProcessRetornos(RetornoStore(engine), batch_size=2)
    before = state(engine)

    for _ in range(2):  # and the same bytes again: refused again, not "already processed"
        with pytest.raises(RetornoRefused) as refused:
            process.process(path, retorno_id, "CB.RET")
        assert (refused.value.reason, refused.value.line) == (reason, line)
        assert words in refused.value.message
        assert state(engine) == before

    # The bank's file as it should have been is then applied whole.
    done = process.process(*write(tmp_path, good), "CB.RET")
    assert (done.registered, done.paid, done.problems) == (6, 1, [])


def test_a_remessa_refused_says_it_is_one(engine: Engine, tmp_path: Path) -> None:
    boletos = issue(engine, AMOUNTS[:1])
    with pytest.raises(RetornoRefused) as refused:
        ProcessRetornos(RetornoStore(engine)).process(
            *write(tmp_path, remessa_for(boletos)), "CB.REM"
        )
    assert refused.value.message == (
        "line 1: file header code '1': not a retorno; line 2: lot operation/service 'R01', "
        "expected retorno of cobrança (a remessa, the file sent to the bank, not its answer)"
    )


def test_a_liquidation_of_nothing_is_listed_and_pays_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    boletos = issue(engine, AMOUNTS[:2])
    remessa = remessa_for(boletos)
    process = ProcessRetornos(RetornoStore(engine))

    first = process.process(
        *write(tmp_path, simulate(remessa, BankDay(paid={0: 0}, rejected={}))), "a"
    )

    assert (first.occurrences, first.registered, first.paid, first.paid_cents) == (3, 2, 0, 0)
    assert [(p.line, p.reason) for p in first.problems] == [
        (
            5,
            f"a liquidation (06 Liquidação) of nosso número {boletos[0].numbers.nosso_numero} "
            "paying 0 centavos: not a payment, not applied",
        )
    ]
    stored = BoletoStore(engine).get(boletos[0].debt_id)
    assert stored is not None
    assert (stored.bank.status, stored.bank.paid_cents) == (BankStatus.REGISTERED, None)
    assert SUBJECT_BOLETOS_PAID not in {subject for subject, _, _ in outbox_events(engine)}

    # The real payment, in the next file, is the payment: not a second one.
    later = BankDay(paid={0: None}, rejected={}, register=False)
    second = process.process(*write(tmp_path, simulate(remessa, later)), "b")
    assert (second.paid, second.paid_cents, second.problems) == (1, AMOUNTS[0], [])


def _twice(remessa: str, fee_cents: int) -> str:
    """A retorno confirming the first title and paying it twice, the second time with
    `fee_cents` of fee (0: the same line again)."""
    lines = records(remessa)
    p, q = next(titles_of(lines))
    paid = Paid(AMOUNTS[0], PAID_ON, CREDITED_ON)
    again = Paid(AMOUNTS[0], PAID_ON, CREDITED_ON, fee_cents=fee_cents)
    details = (
        pair("001", 1, p, q, Registered()) + pair("001", 3, p, q, paid)
        + pair("001", 5, p, q, again)
    )  # fmt: skip
    return joined(envelope(lines, details))


@pytest.mark.parametrize("batch_size", [1, 100])
@pytest.mark.parametrize(
    ("fee_cents", "said"),
    [
        (0, "repeats line 5 of this file: applied once"),
        (
            90,
            "has the date and amount paid of line 5 of this file, other amounts or dates not: "
            "only line 5 applied",
        ),
    ],
)
def test_an_occurrence_twice_in_a_file_is_listed_and_applied_once(
    engine: Engine, tmp_path: Path, batch_size: int, fee_cents: int, said: str
) -> None:
    boletos = issue(engine, AMOUNTS[:1])
    text = _twice(remessa_for(boletos), fee_cents)

    done = ProcessRetornos(RetornoStore(engine), batch_size=batch_size).process(
        *write(tmp_path, text), "CB.RET"
    )

    assert (done.occurrences, done.registered, done.paid, done.paid_cents) == (3, 1, 1, AMOUNTS[0])
    assert done.repeated_occurrences == 1
    nosso = boletos[0].numbers.nosso_numero
    assert [(p.line, p.reason) for p in done.problems] == [
        (7, f"06 Liquidação of nosso número {nosso} {said}")
    ]
    assert count(engine, occurrences) == 2
    announced = changes(outbox_events(engine))
    assert announced[(SUBJECT_BOLETOS_PAID, boletos[0].debt_id)] == 1


def test_a_file_of_unknown_titles_logs_a_line_per_kind(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    boletos = issue(engine, AMOUNTS[:1])
    unknown = [f"12345679{n:09d}" for n in range(1, 5_001)]
    day = BankDay(paid={}, rejected={}, unknown=unknown, register=False)
    path, retorno_id = write(tmp_path, simulate(remessa_for(boletos), day))

    with caplog.at_level(logging.INFO, logger="boleto"):
        done = ProcessRetornos(RetornoStore(engine), batch_size=700).process(
            path, retorno_id, "CB.RET"
        )

    warned = [r for r in caplog.records if r.name == "boleto" and r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warned] == ["retorno.line_unusable"]
    fields = warned[0].__dict__
    assert (fields["kind"], fields["count"]) == ("unknown_boleto", 5_000)
    assert fields["first_lines"] == list(range(3, 23, 2))
    assert fields["first_reason"].startswith(f"nosso número {unknown[0]} of bank 001")
    # The answer stays bounded too: the first thousand, then a count by kind.
    assert (len(done.problems), done.problems_not_listed) == (1_000, 4_000)
    listed = done.listed_problems()
    assert listed[-1] == Problem(0, "4,000 more problems not listed here (unknown_boleto 4,000)")
    assert Summary.from_json(done.to_json()) == done


# --- the RPC ----------------------------------------------------------------------------------


class _RetornoServicer(RetornoRpcs, boleto_pb2_grpc.BoletoServiceServicer):
    def __init__(self, retornos: ProcessRetornos) -> None:
        self._retornos = retornos


@pytest.fixture
async def retorno_stub(engine: Engine) -> AsyncIterator[boleto_pb2_grpc.BoletoServiceStub]:
    server = grpc.aio.server()
    boleto_pb2_grpc.add_BoletoServiceServicer_to_server(
        _RetornoServicer(ProcessRetornos(RetornoStore(engine), batch_size=2)), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield boleto_pb2_grpc.BoletoServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(None)


def _messages(name: str, data: bytes, chunk: int = 1000) -> list[boleto_pb2.ProcessRetornoRequest]:
    header = boleto_pb2.ProcessRetornoRequest(header=boleto_pb2.RetornoHeader(file_name=name))
    return [header] + [
        boleto_pb2.ProcessRetornoRequest(chunk=data[i : i + chunk])
        for i in range(0, len(data), chunk)
    ]


async def test_process_retorno_rpc(
    engine: Engine, retorno_stub: boleto_pb2_grpc.BoletoServiceStub
) -> None:
    boletos = issue(engine, AMOUNTS)
    data = simulate(
        remessa_for(boletos), BankDay(paid={0: None}, rejected={2: ("48",)}, unknown=["1"])
    ).encode("ascii")

    reply = await retorno_stub.ProcessRetorno(iter(_messages("CB.RET", data)))

    s = reply.summary
    assert (s.retorno_id, s.file_name, s.already_processed, s.bank_code) == (
        hashlib.sha256(data).hexdigest(), "CB.RET", False, "001"
    )  # fmt: skip
    assert (s.occurrences, s.registered, s.rejected, s.paid, s.paid_cents) == (8, 5, 1, 1, 10000)
    assert [(p.line, p.reason) for p in s.problems] == [
        (17, "nosso número 1 of bank 001 names no boleto of this service (06 Liquidação)")
    ]
    again = await retorno_stub.ProcessRetorno(iter(_messages("CB.RET", data, chunk=77)))
    assert again.summary.already_processed
    again.summary.already_processed = False
    assert again.summary == s


@pytest.mark.parametrize(
    ("messages", "field", "reason"),
    [
        ([boleto_pb2.ProcessRetornoRequest(chunk=b"x")], "header", "HEADER_FIRST"),
        ([], "header", "HEADER_FIRST"),
        (_messages("", b"x"), "header.file_name", "INVALID_FIELD"),
        (_messages("a.RET", b""), "chunk", "EMPTY_FILE"),
        (_messages("a.RET", b"x") + _messages("b.RET", b"y"), "header", "HEADER_REPEATED"),
    ],
)
async def test_process_retorno_refusals(
    retorno_stub: boleto_pb2_grpc.BoletoServiceStub,
    engine: Engine,
    messages: list[boleto_pb2.ProcessRetornoRequest],
    field: str,
    reason: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await retorno_stub.ProcessRetorno(iter(messages))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info, bad = details_of(refused.value)
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert (info.reason, bad.field_violations[0].field) == (reason, field)
    assert count(engine, retornos) == 0


@pytest.mark.parametrize(
    ("spoiled", "code", "detail"),
    [
        ("a remessa sent as a retorno", grpc.StatusCode.INVALID_ARGUMENT, "BadRequest"),
        ("a file cut after a title", grpc.StatusCode.INVALID_ARGUMENT, "BadRequest"),
        ("a bank with no boleto here", grpc.StatusCode.FAILED_PRECONDITION, "PreconditionFailure"),
    ],
)
async def test_process_retorno_refuses_a_file_whole(
    engine: Engine,
    retorno_stub: boleto_pb2_grpc.BoletoServiceStub,
    spoiled: str,
    code: grpc.StatusCode,
    detail: str,
) -> None:
    boletos = issue(engine, AMOUNTS)
    remessa = remessa_for(boletos)
    spoil, reason, _line, words = SPOILED[spoiled]
    data = spoil(simulate(remessa, GOOD_DAY), remessa).encode("ascii")
    before = state(engine)

    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await retorno_stub.ProcessRetorno(iter(_messages("CB.RET", data)))
        assert refused.value.code() == code
        message = refused.value.details() or ""
        assert message.startswith("retorno refused, nothing in it applied or recorded: ")
        assert words in message
        info, more = details_of(refused.value)
        assert isinstance(info, error_details_pb2.ErrorInfo)
        assert info.reason == reason
        assert info.metadata["retorno_id"] == hashlib.sha256(data).hexdigest()
        assert type(more).__name__ == detail
        assert state(engine) == before


class _Served:
    def __init__(self, address: str) -> None:
        self.address = address

    def cli(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        code = cli_main(["--boleto", self.address, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def served(engine: Engine) -> Iterator[_Served]:
    """The retorno RPC over the real store, on a server the CLI reaches as it reaches the
    service's."""

    def register(server: grpc.aio.Server) -> None:
        boleto_pb2_grpc.add_BoletoServiceServicer_to_server(
            _RetornoServicer(ProcessRetornos(RetornoStore(engine), batch_size=2)), server
        )

    with serving_on_a_thread(register) as address:
        yield _Served(address)


def test_boletos_retorno_prints_a_refusal_and_exits_1(
    engine: Engine, served: _Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boletos = issue(engine, AMOUNTS)
    remessa = remessa_for(boletos)
    good = simulate(remessa, GOOD_DAY)
    spoil = SPOILED["a file trailer counting one record too many"][0]
    path = tmp_path / "CB010725.RET"
    path.write_bytes(spoil(good, remessa).encode("ascii"))
    before = state(engine)

    for _ in range(2):
        code, out, err = served.cli(capsys, "retorno", str(path))
        assert (code, out) == (1, "")
        assert " ".join(err.split()) == (
            "boletos: CB010725.RET: retorno refused, nothing in it applied or recorded: "
            "line 18: file trailer counts 19 records, the file has 18 [RETORNO_COUNTS_DISAGREE]"
        )
        assert state(engine) == before

    path.write_bytes(good.encode("ascii"))
    code, out, err = served.cli(capsys, "retorno", str(path), "--json")
    assert code == 0, err
    assert (json.loads(out)["registered"], json.loads(out)["paid"]) == (6, 1)


# --- the running service ----------------------------------------------------------------------


async def test_payments_reach_getboleto_and_the_stream_once(database_urls, nats_server) -> None:
    """Upload -> boletos -> their remessa -> the bank's retorno through the running service:
    GetBoleto shows what the bank said, and each change is on the BOLETO stream once."""
    ingest_db, boleto_db = database_urls
    # A registered boleto needs its payer's CPF or CNPJ and address.
    rows = [
        r.changed(government_id="52998224725").with_address(n)
        for n, r in enumerate(valid_rows(5, seed=31))
    ]
    async with (
        running_ingest(ingest_db, nats_server.url) as ingest,
        running_boleto(boleto_db, nats_server.url) as boleto,
    ):
        uploaded = await upload(ingest.stub, csv_bytes(rows))
        engine = create_engine(boleto_db)
        try:
            store = BoletoStore(engine)
            await wait_for(
                lambda: len(store.list_for_upload(uploaded.upload_id, 0, 100)) == 5, within=60
            )
            issued = store.list_for_upload(uploaded.upload_id, 0, 100)
            beneficiary = Settings.from_env(
                {"DATABASE_URL": boleto_db, "NATS_URL": nats_server.url, **access.service_env()}
            ).beneficiary
            header = RemessaHeader(beneficiary, 1, dt.datetime(2025, 7, 1, 8), "0", "19")
            remessa = remessa_text(header, [title_from_boleto(b) for b in issued])
            short = issued[1].amount_cents - 100
            day = BankDay(paid={0: None, 1: short}, rejected={2: ("48",)}, unknown=["1"])
            data = simulate(remessa, day).encode("ascii")

            for _ in range(2):
                reply = await boleto.stub.ProcessRetorno(iter(_messages("CB.RET", data)))
            s = reply.summary
            assert s.already_processed
            assert (s.registered, s.rejected, s.paid, s.amount_mismatches) == (4, 1, 2, 1)
            assert s.paid_cents == issued[0].amount_cents + short
            assert [p.line for p in s.problems] == [17]

            got = await boleto.stub.GetBoleto(
                boleto_pb2.GetBoletoRequest(debt_id=issued[1].debt_id)
            )
            b = got.boleto
            assert (b.bank_status, b.paid_cents, b.paid_on, b.paid_amount_differs) == (
                boleto_pb2.BANK_STATUS_PAID, short, PAID_ON.isoformat(), True
            )  # fmt: skip
            refused = await boleto.stub.GetBoleto(
                boleto_pb2.GetBoletoRequest(debt_id=issued[2].debt_id)
            )
            assert refused.boleto.bank_status == boleto_pb2.BANK_STATUS_REJECTED
            assert refused.boleto.rejection_reason == "48 CEP inválido"

            pending = OutboxStore(engine, outbox)
            await wait_for(lambda: pending.unpublished_count() == 0, within=60)
        finally:
            engine.dispose()
        on_stream = {
            subject: await stream_message_count(nats_server.url, "BOLETO", subject)
            for subject in (
                SUBJECT_BOLETOS_REGISTERED, SUBJECT_BOLETOS_REJECTED, SUBJECT_BOLETOS_PAID,
            )
        }  # fmt: skip
        assert on_stream == {
            SUBJECT_BOLETOS_REGISTERED: 1,
            SUBJECT_BOLETOS_REJECTED: 1,
            SUBJECT_BOLETOS_PAID: 1,
        }
