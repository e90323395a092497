"""Retornos against real stores: exact counts, a file twice, an occurrence in two files, a
crash between batches, events through the outbox once per change, and the RPC."""

from __future__ import annotations

import datetime as dt
import hashlib
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
from boleto_service.service.retornos import ProcessRetornos, Summary
from boleto_service.store.engine import create_engine, upgrade_schema
from boleto_service.store.repository import BoletoStore
from boleto_service.store.retornos import RetornoStore
from boleto_service.store.tables import occurrences, outbox, retornos
from boletos.platform.errors import details_of
from boletos.platform.nats_streams import (
    SUBJECT_BOLETOS_PAID,
    SUBJECT_BOLETOS_REGISTERED,
    SUBJECT_BOLETOS_REJECTED,
)
from boletos.platform.outbox import OutboxStore
from boletos.v1 import boleto_pb2, boleto_pb2_grpc, events_pb2
from boletos_bench.bank import PAID_ON, BankDay, simulate
from tests.support import access
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, stream_message_count, upload
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
    # The file cut short in transit: its trailers and last title never arrived.
    cut = "".join(monday.splitlines(keepends=True)[:-6])
    cut_summary = process.process(*write(tmp_path, cut), "CB-cut.RET")
    assert (cut_summary.registered, cut_summary.paid) == (4, 1)
    assert {p.reason for p in cut_summary.problems} == {
        "no file trailer (record type 9)",
        "the last lot has no trailer (record type 5)",
    }

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
