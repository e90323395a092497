"""The whole billing loop, end to end through the real services: a file is uploaded, its
boletos issued and e-mailed, registered with the bank in a CNAB 240 remessa, the bank's
retorno confirms them and reports 30% paid, and reminders and overdue notices reach only the
debtors who did not pay, each exactly once, with two mailer replicas scheduling at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from collections.abc import AsyncIterator, Sequence

import nats
import pytest

from boletos.v1 import (
    boleto_pb2,
    boleto_pb2_grpc,
    ingest_pb2,
    ingest_pb2_grpc,
    mailer_pb2,
    mailer_pb2_grpc,
)
from boletos_cli.bank import CREDITED_ON, Paid, Registered, retorno_for
from boletos_testing.cpf import valid_cpf
from tests.support.boleto import running_boleto
from tests.support.csvdata import Row, csv_bytes
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Calendar, Sink, running_mailer, smtp_sink
from tests.support.personal_data import json_log, leaks, service_lines
from tests.support.waiting import wait_for, wait_until

pytestmark = pytest.mark.postgres

DEBTS = 20
PAID = {0, 3, 6, 9, 12, 15}  # 30%
SHORT_PAID = 9  # paid, but R$ 1,00 less than charged
BANK = {
    "REMESSA_PER": "day",
    "BENEFICIARY_AGENCIA_DV": "3",
    "BENEFICIARY_VARIACAO_CARTEIRA": "019",
}


def _rows() -> list[Row]:
    return [
        Row(
            name=f"Pagador {i:02d} da Silva",
            government_id=valid_cpf(123_456_000 + i),
            email=f"pagador{i:02d}@example.com",
            amount=f"{100 + i}.50",
            due="2023-03-10",  # past due: every boleto is due the same day after issue
            debt_id=f"00000000-0000-4000-8000-{i:012d}",
        ).with_address(i)
        for i in range(DEBTS)
    ]


async def _remessa_lines(stub: boleto_pb2_grpc.BoletoServiceStub, remessa_id: str) -> list[str]:
    data = b"".join(
        [
            m.chunk
            async for m in stub.GetRemessa(boleto_pb2.GetRemessaRequest(remessa_id=remessa_id))
        ]
    )
    return [line for line in data.decode("ascii").split("\r\n") if line]


async def _process(
    stub: boleto_pb2_grpc.BoletoServiceStub, name: str, lines: Sequence[str]
) -> boleto_pb2.RetornoSummary:
    data = ("\r\n".join(lines) + "\r\n").encode("ascii")

    async def requests() -> AsyncIterator[boleto_pb2.ProcessRetornoRequest]:
        yield boleto_pb2.ProcessRetornoRequest(header=boleto_pb2.RetornoHeader(file_name=name))
        for start in range(0, len(data), 4096):
            yield boleto_pb2.ProcessRetornoRequest(chunk=data[start : start + 4096])

    return (await stub.ProcessRetorno(requests())).summary


async def _progress(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str
) -> ingest_pb2.UploadProgress:
    async for message in stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id)):
        return message.progress
    raise AssertionError("WatchUpload sent nothing")


async def _deliveries(
    stub: mailer_pb2_grpc.MailerServiceStub, upload_id: str, kind: mailer_pb2.DeliveryKind
) -> list[mailer_pb2.Delivery]:
    listed = await stub.ListDeliveries(
        mailer_pb2.ListDeliveriesRequest(upload_id=upload_id, kind=kind, page_size=100)
    )
    return list(listed.deliveries)


async def test_upload_to_payment_to_reminders_only_for_the_unpaid_exactly_once(
    tmp_path, nats_server, postgres_url, second_postgres_url, third_postgres_url
):
    with json_log() as written:
        await _the_loop(
            tmp_path, nats_server, postgres_url, second_postgres_url, third_postgres_url
        )
    # Remessas and retornos carry every payer's name and CPF: none of it reaches a log line.
    lines = service_lines(written.getvalue().splitlines())
    assert any('"event": "remessa.cut"' in line for line in lines)
    assert any('"event": "retorno.line_unusable"' in line for line in lines)
    assert leaks(_rows(), lines) == []


async def _the_loop(
    tmp_path, nats_server, postgres_url, second_postgres_url, third_postgres_url
) -> None:
    rows = _rows()
    sink = Sink()
    calendar = Calendar(dt.datetime.now(dt.timezone(dt.timedelta(hours=-3))).date())
    mailer_env = {"MAILER_REMINDER_CHECK_SECONDS": "0.2"}
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(postgres_url, nats_server.url) as ingest,
            running_boleto(
                second_postgres_url,
                nats_server.url,
                REMESSA_DIR=str(tmp_path / "remessas"),
                **BANK,
            ) as boleto,
            running_mailer(
                third_postgres_url, nats_server.url, boleto.address, smtp.port,
                calendar, **mailer_env,
            ) as mailer,
            running_mailer(
                third_postgres_url, nats_server.url, boleto.address, smtp.port,
                calendar, **mailer_env,
            ),
        ):  # fmt: skip
            summary = await upload(ingest.stub, csv_bytes(rows))
            assert summary.accepted == DEBTS
            progress = await settled(ingest.stub, summary.upload_id)
            assert (progress.boletos_issued, progress.emails_sent) == (DEBTS, DEBTS)
            boletos = {
                b.debt_id: b
                for b in (
                    await boleto.stub.ListBoletos(
                        boleto_pb2.ListBoletosRequest(upload_id=summary.upload_id)
                    )
                ).boletos
            }
            assert {b.bank_status for b in boletos.values()} == {boleto_pb2.BANK_STATUS_ISSUED}
            (due,) = {dt.date.fromisoformat(b.due_date) for b in boletos.values()}

            # Registration: every boleto in exactly one remessa.
            await boleto.stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())
            again = await boleto.stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())
            assert list(again.remessas) == []
            remessas = (await boleto.stub.ListRemessas(boleto_pb2.ListRemessasRequest())).remessas
            assert sum(r.titles for r in remessas) == DEBTS
            assert [r.nsa for r in reversed(remessas)] == list(range(1, len(remessas) + 1))
            lines = [line for r in reversed(remessas) for line in await _remessa_lines(
                boleto.stub, r.remessa_id
            )]  # fmt: skip
            assert len(remessas) == 1, "one file for twenty titles"
            assert {len(line) for line in lines} == {240}

            # The bank confirms every entry, then reports 30% paid, one of them short. Titles
            # are in the remessa in issue order, which the nosso número follows.
            order = sorted(boletos, key=lambda debt_id: boletos[debt_id].nosso_numero)
            registered = retorno_for(lines, dict.fromkeys(range(DEBTS), Registered()))
            paid_cents = {
                i: boletos[order[i]].amount_cents - (100 if i == SHORT_PAID else 0) for i in PAID
            }
            payments = retorno_for(
                lines,
                {i: Paid(paid_cents[i], due, CREDITED_ON, fee_cents=250) for i in PAID},
                unknown=[lines[2][17:57].replace(lines[2][37:57], "9" * 20)],
            )
            first = await _process(boleto.stub, "CB3011.RET", registered)
            assert (first.registered, first.paid, list(first.problems)) == (DEBTS, 0, [])
            paid = await _process(boleto.stub, "CB3012.RET", payments)
            assert (paid.paid, paid.paid_cents) == (len(PAID), sum(paid_cents.values()))
            assert paid.amount_mismatches == 1
            assert len(paid.problems) == 1, "the unknown nosso número is reported"
            repeat = await _process(boleto.stub, "CB3012.RET", payments)
            assert repeat.already_processed and repeat.paid == len(PAID)

            for i, debt_id in enumerate(order):
                got = (
                    await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=debt_id))
                ).boleto
                if i in PAID:
                    assert got.bank_status == boleto_pb2.BANK_STATUS_PAID
                    assert got.paid_cents == paid_cents[i]
                    assert got.paid_amount_differs == (i == SHORT_PAID)
                else:
                    assert got.bank_status == boleto_pb2.BANK_STATUS_REGISTERED
                assert got.remessa_id == remessas[0].remessa_id

            # The ingest service and the mailer hear of the payments.
            async def payments_counted() -> bool:
                now = await _progress(ingest.stub, summary.upload_id)
                return now.boletos_paid == len(PAID)

            await wait_until(payments_counted)
            counted = await _progress(ingest.stub, summary.upload_id)
            assert counted.paid_cents == sum(paid_cents.values())
            await _mailer_caught_up(nats_server.url)

            email_of = {r.debt_id: r.email for r in rows}
            unpaid = [email_of[debt_id] for i, debt_id in enumerate(order) if i not in PAID]
            assert len(sink.messages) == DEBTS

            # Three days before the due date: a reminder to each debtor who has not paid.
            calendar.move_to(due - dt.timedelta(days=3))
            await wait_for(lambda: len(sink.messages) == DEBTS + len(unpaid), within=60)
            # ... one day after it: an overdue notice to each of them.
            calendar.move_to(due + dt.timedelta(days=1))
            await wait_for(lambda: len(sink.messages) == DEBTS + 2 * len(unpaid), within=60)
            # Days go by: the schedulers keep looking, and nothing is sent again.
            calendar.move_to(due + dt.timedelta(days=9))
            await asyncio.sleep(2)  # ten scheduler ticks of each replica

            reminders = await _deliveries(
                mailer.stub, summary.upload_id, mailer_pb2.DELIVERY_KIND_REMINDER
            )
            notices = await _deliveries(
                mailer.stub, summary.upload_id, mailer_pb2.DELIVERY_KIND_OVERDUE_NOTICE
            )

    assert len(sink.messages) == DEBTS + 2 * len(unpaid)
    message_ids = [m["Message-ID"] for m in sink.messages]
    assert len(set(message_ids)) == len(message_ids)
    notices_to = [email.utils.parseaddr(m["To"])[1] for m in sink.messages[DEBTS:]]
    assert sorted(notices_to) == sorted([*unpaid, *unpaid])
    assert len(reminders) == len(notices) == len(unpaid)
    assert {d.status for d in [*reminders, *notices]} == {mailer_pb2.DELIVERY_STATUS_SENT}
    kinds = [m["X-Boleto-Mail-Kind"] for m in sink.messages[DEBTS:]]
    assert sorted(kinds) == sorted(["reminder"] * len(unpaid) + ["overdue_notice"] * len(unpaid))


async def _mailer_caught_up(nats_url: str) -> None:
    """Waits until the mailer has recorded every payment event published so far."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def done() -> bool:
            info = await js.consumer_info("BOLETO", "mailer-boletos-paid")
            delivered = info.delivered.consumer_seq or 0
            return delivered > 0 and info.num_pending == 0 and info.num_ack_pending == 0

        await wait_until(done)
    finally:
        await nc.close()
