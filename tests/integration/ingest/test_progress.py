"""WatchUpload follows an upload through the events the other services publish."""

from __future__ import annotations

import asyncio

import grpc
import nats

from boletos.platform.nats_streams import (
    SUBJECT_BOLETOS_FAILED,
    SUBJECT_BOLETOS_ISSUED,
    SUBJECT_EMAILS_FAILED,
    SUBJECT_EMAILS_SENT,
)
from boletos.v1 import events_pb2, ingest_pb2
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload


async def test_watch_upload_moves_with_downstream_events_and_ignores_repeats(
    database_url, nats_server
):
    rows = valid_rows(10)
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, csv_bytes(rows))
        uid = summary.upload_id
        watch = svc.stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=uid))
        first = (await watch.read()).progress
        assert (first.accepted, first.boletos_issued, first.settled) == (10, 0, False)

        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        issued = events_pb2.BoletosIssued(
            boletos=[events_pb2.IssuedBoleto(debt_id=r.debt_id, upload_id=uid) for r in rows[:9]]
        )
        # Published twice without a message id: the consumer itself must not count twice.
        await js.publish(SUBJECT_BOLETOS_ISSUED, issued.SerializeToString())
        await js.publish(SUBJECT_BOLETOS_ISSUED, issued.SerializeToString())
        await js.publish(
            SUBJECT_BOLETOS_FAILED,
            events_pb2.BoletosFailed(
                failures=[events_pb2.FailedBoleto(debt_id=rows[9].debt_id, upload_id=uid)]
            ).SerializeToString(),
        )
        await js.publish(
            SUBJECT_EMAILS_SENT,
            events_pb2.EmailsSent(
                emails=[events_pb2.SentEmail(debt_id=r.debt_id, upload_id=uid) for r in rows[:8]]
            ).SerializeToString(),
        )
        await js.publish(
            SUBJECT_EMAILS_FAILED,
            events_pb2.EmailsFailed(
                emails=[events_pb2.FailedEmail(debt_id=rows[8].debt_id, upload_id=uid)]
            ).SerializeToString(),
        )
        await nc.close()

        last = first
        async with asyncio.timeout(20):
            while not last.settled:
                last = (await watch.read()).progress
        assert (last.boletos_issued, last.boletos_failed) == (9, 1)
        assert (last.emails_sent, last.emails_failed) == (8, 1)
        assert await watch.read() == grpc.aio.EOF  # the stream ends once settled
