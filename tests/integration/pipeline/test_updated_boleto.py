"""A new due date, end to end through the real services: the boletos are issued, e-mailed and
registered, an operator asks the bank for a new due date, the next remessa carries it, the
bank's retorno confirms it, and the debtor gets the updated boleto exactly once, its PDF
printed with the new barcode; the mailer's record of the debt follows the new date."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import nats
from nats.js import JetStreamContext

from boletos.v1 import boleto_pb2, boleto_pb2_grpc, mailer_pb2
from boletos_cli.bank import answer
from boletos_testing.cpf import valid_cpf
from mailer_service.store.deliveries import DeliveryStore
from mailer_service.store.engine import create_engine
from tests.support.boleto import running_boleto
from tests.support.csvdata import Row, csv_bytes
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.scan import rasterize, scan
from tests.support.waiting import wait_for, wait_until

DEBTS = 3
BANK = {
    "REMESSA_PER": "day",
    "BENEFICIARY_AGENCIA_DV": "3",
    "BENEFICIARY_VARIACAO_CARTEIRA": "019",
    "PIX_KEY": "11222333000181",
    "PIX_MERCHANT_CITY": "São Paulo",
    "BENEFICIARY_NAME": "Cobranças Exemplo Ltda",
}
TODAY = dt.date.today()
DUE = TODAY + dt.timedelta(days=20)
NEW_DUE = TODAY + dt.timedelta(days=45)


def _rows() -> list[Row]:
    return [
        Row(
            name=f"Pagadora {i:02d} de Souza",
            government_id=valid_cpf(223_456_000 + i),
            email=f"pagadora{i:02d}@example.com",
            amount=f"{250 + i}.75",
            due=DUE.isoformat(),
            debt_id=f"00000000-0000-4000-9000-{i:012d}",
        ).with_address(i)
        for i in range(DEBTS)
    ]


async def _remessa_text(stub: boleto_pb2_grpc.BoletoServiceStub, remessa_id: str) -> str:
    request = boleto_pb2.GetRemessaRequest(remessa_id=remessa_id)
    data = b"".join([m.chunk async for m in stub.GetRemessa(request)])
    return data.decode("ascii")


async def _cut(stub: boleto_pb2_grpc.BoletoServiceStub) -> str:
    """Cuts a remessa now and returns its text; there must be exactly one."""
    made = await stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())
    [remessa] = made.remessas
    return await _remessa_text(stub, remessa.remessa_id)


async def _process(
    stub: boleto_pb2_grpc.BoletoServiceStub, name: str, text: str
) -> boleto_pb2.RetornoSummary:
    data = text.encode("ascii")

    async def requests() -> AsyncIterator[boleto_pb2.ProcessRetornoRequest]:
        yield boleto_pb2.ProcessRetornoRequest(header=boleto_pb2.RetornoHeader(file_name=name))
        for start in range(0, len(data), 4096):
            yield boleto_pb2.ProcessRetornoRequest(chunk=data[start : start + 4096])

    return (await stub.ProcessRetorno(requests())).summary


async def _consumed(js: JetStreamContext, durable: str) -> bool:
    info = await js.consumer_info("BOLETO", durable)
    delivered = info.delivered.consumer_seq or 0
    return delivered > 0 and info.num_pending == 0 and info.num_ack_pending == 0


async def test_a_confirmed_new_due_date_e_mails_the_updated_boleto_once(tmp_path, nats_server):
    rows = _rows()
    sink = Sink()
    moved = rows[1].debt_id
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(f"sqlite:///{tmp_path / 'i.db'}", nats_server.url) as ingest,
            running_boleto(
                f"sqlite:///{tmp_path / 'b.db'}",
                nats_server.url,
                REMESSA_DIR=str(tmp_path / "remessas"),
                **BANK,
            ) as boleto,
            running_mailer(
                f"sqlite:///{tmp_path / 'm.db'}", nats_server.url, boleto.address, smtp.port
            ) as mailer,
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            assert summary.accepted == DEBTS
            progress = await settled(ingest.stub, summary.upload_id)
            assert progress.emails_sent == DEBTS
            assert len(sink.messages) == DEBTS
            before = (
                await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=moved))
            ).boleto

            # Registered with the bank, none paid.
            entries = answer(await _cut(boleto.stub), paid_share=0.0)
            assert entries.registered == DEBTS
            first = await _process(boleto.stub, "ENTRADAS.RET", entries.text)
            assert first.registered == DEBTS

            # A new due date, sent in the next remessa and carried out by the bank.
            asked = await boleto.stub.RequestInstruction(
                boleto_pb2.RequestInstructionRequest(
                    debt_id=moved,
                    kind=boleto_pb2.INSTRUCTION_KIND_DUE_DATE,
                    new_due_date=NEW_DUE.isoformat(),
                )
            )
            assert asked.created
            carried_out = answer(await _cut(boleto.stub), paid_share=0.0)
            assert carried_out.instructions == 1
            confirmed = await _process(boleto.stub, "PRORROGA.RET", carried_out.text)
            assert not confirmed.already_processed

            after = (await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=moved))).boleto
            assert after.due_date == NEW_DUE.isoformat()
            assert after.barcode != before.barcode

            await wait_for(lambda: len(sink.messages) == DEBTS + 1, within=60)
            update = sink.messages[DEBTS]

            # The same retorno again changes nothing, and sends nothing more.
            repeat = await _process(boleto.stub, "PRORROGA.RET", carried_out.text)
            assert repeat.already_processed
            nc = await nats.connect(nats_server.url)
            try:
                js = nc.jetstream()
                await wait_until(lambda: _consumed(js, "mailer-boletos-redated"))
                redated = await js.stream_info("BOLETO", subjects_filter="boleto.boletos.redated")
                # One event for the one instruction, the repeated retorno made none.
                assert redated.state.subjects == {"boleto.boletos.redated": 1}
            finally:
                await nc.close()

            async def recorded_sent() -> bool:
                got = await mailer.stub.GetDelivery(
                    mailer_pb2.GetDeliveryRequest(
                        debt_id=moved, kind=mailer_pb2.DELIVERY_KIND_UPDATED
                    )
                )
                return got.delivery.status == mailer_pb2.DELIVERY_STATUS_SENT

            await wait_until(recorded_sent)
            listed = await mailer.stub.ListDeliveries(
                mailer_pb2.ListDeliveriesRequest(
                    upload_id=summary.upload_id, kind=mailer_pb2.DELIVERY_KIND_UPDATED
                )
            )
            # The mailer's workers look again and again meanwhile: still one e-mail.
            await asyncio.sleep(1)

    assert len(sink.messages) == DEBTS + 1
    assert [d.debt_id for d in listed.deliveries] == [moved]
    assert listed.deliveries[0].message_id == update["Message-ID"]
    assert update["X-Boleto-Debt-Id"] == moved
    assert update["X-Boleto-Mail-Kind"] == "updated"
    assert update["To"].addresses[0].addr_spec == rows[1].email
    assert update["Subject"] == f"Boleto atualizado: novo vencimento {NEW_DUE:%d/%m/%Y}"
    assert update["Message-ID"].startswith(f"<updated-{moved}-{NEW_DUE:%Y%m%d}-")
    text = update.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert after.digitable_line in body and before.digitable_line not in body
    assert after.pix_payload and after.pix_payload in body
    [attachment] = list(update.iter_attachments())
    page = rasterize(attachment.get_content(), tmp_path, dpi=150)
    assert scan(page)[0] == after.barcode

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        record = DeliveryStore(engine).boleto_mail(moved)
    finally:
        engine.dispose()
    assert record is not None
    assert (record.due_date, record.digitable_line) == (NEW_DUE, after.digitable_line)
