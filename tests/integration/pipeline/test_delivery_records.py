"""What the mailer says of an upload's e-mails: listed in the file's line order, with the
server's reply code (250 once sent), attempts that keep counting across RetryFailed, and an
unknown upload answered as such rather than as an upload with nothing in it."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from boletos.v1 import mailer_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink


async def test_deliveries_in_file_order_with_codes_and_attempts(databases, nats_server):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(8, seed=31)
    bounced = rows[4].email
    mailbox_exists = False

    def reply(rcpt: str) -> str | None:
        if rcpt == bounced and not mailbox_exists:
            return "550 5.1.1 mailbox unavailable"
        return None

    sink = Sink(reply=reply)
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_server.url) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
            running_mailer(mailer_db, nats_server.url, boleto.address, smtp.port) as mailer,
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            uid = summary.upload_id
            await settled(ingest.stub, uid)

            listed = await mailer.stub.ListDeliveries(
                mailer_pb2.ListDeliveriesRequest(upload_id=uid, page_size=5)
            )
            rest = await mailer.stub.ListDeliveries(
                mailer_pb2.ListDeliveriesRequest(
                    upload_id=uid, page_size=5, page_token=listed.next_page_token
                )
            )
            deliveries = [*listed.deliveries, *rest.deliveries]
            assert [d.line for d in deliveries] == list(range(2, 10))
            assert [d.debt_id for d in deliveries] == [r.debt_id for r in rows]
            failed = deliveries[4]
            assert (failed.status, failed.smtp_code, failed.attempts) == (
                mailer_pb2.DELIVERY_STATUS_FAILED,
                550,
                1,
            )
            sent = [d for d in deliveries if d is not failed]
            assert {(d.status, d.smtp_code, d.attempts) for d in sent} == {
                (mailer_pb2.DELIVERY_STATUS_SENT, 250, 1)
            }

            mailbox_exists = True
            requeued = await mailer.stub.RetryFailed(mailer_pb2.RetryFailedRequest(upload_id=uid))
            assert requeued.requeued == 1
            progress = await settled(ingest.stub, uid)
            async with asyncio.timeout(60):
                while progress.emails_failed:
                    await asyncio.sleep(0.2)
                    progress = await settled(ingest.stub, uid)
            request = mailer_pb2.GetDeliveryRequest(debt_id=rows[4].debt_id)
            again = (await mailer.stub.GetDelivery(request)).delivery
            # The second round's attempt comes on top of the first round's, not instead of it.
            assert (again.status, again.smtp_code, again.attempts) == (
                mailer_pb2.DELIVERY_STATUS_SENT,
                250,
                2,
            )

            unknown = str(uuid.uuid4())
            for call in (
                mailer.stub.ListDeliveries(mailer_pb2.ListDeliveriesRequest(upload_id=unknown)),
                mailer.stub.RetryFailed(mailer_pb2.RetryFailedRequest(upload_id=unknown)),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as missing:
                    await call
                assert missing.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await mailer.stub.RetryFailed(mailer_pb2.RetryFailedRequest(upload_id="x"))
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sink.recipients.count(bounced) == 1
