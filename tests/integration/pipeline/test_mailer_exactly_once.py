"""The mailer sends one message per debt: across replicas and across redelivered events."""

from __future__ import annotations

import asyncio
import logging

import nats
import pytest

from boletos.platform.nats_streams import SUBJECT_BOLETOS_ISSUED
from boletos.v1 import events_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink


def _stopped_counts(caplog: pytest.LogCaptureFixture) -> list[int]:
    # `sent` came in as an extra field of the log call, so it is in the record's __dict__.
    return [
        vars(r)["sent"]
        for r in caplog.records
        if r.name == "mailer" and r.getMessage() == "service.stopped"
    ]


async def test_two_mailer_replicas_share_the_work_without_duplicates(
    databases, nats_server, caplog
):
    caplog.set_level(logging.INFO, logger="mailer")
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(400, seed=11)
    sink = Sink()
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_server.url) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
            running_mailer(mailer_db, nats_server.url, boleto.address, smtp.port,
                           SMTP_CONNECTIONS="2"),
            running_mailer(mailer_db, nats_server.url, boleto.address, smtp.port,
                           SMTP_CONNECTIONS="2"),
        ):  # fmt: skip
            summary = await upload(ingest.stub, csv_bytes(rows))
            progress = await settled(ingest.stub, summary.upload_id, within=120)
            assert progress.emails_sent == 400
    assert sorted(sink.recipients) == sorted(r.email for r in rows)
    assert len({m["X-Boleto-Debt-Id"] for m in sink.messages}) == 400
    counts = _stopped_counts(caplog)
    assert len(counts) == 2 and sum(counts) == 400 and min(counts) > 0, counts


async def test_a_redelivered_event_sends_nothing_new(databases, nats_server):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(10, seed=12)
    sink = Sink()
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_server.url) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
            running_mailer(mailer_db, nats_server.url, boleto.address, smtp.port),
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            await settled(ingest.stub, summary.upload_id)
            # The same BoletosIssued again, as a broker redelivery or a replayed outbox would.
            nc = await nats.connect(nats_server.url)
            js = nc.jetstream()
            sub = await js.pull_subscribe(SUBJECT_BOLETOS_ISSUED, stream="BOLETO")
            (original,) = await sub.fetch(1, timeout=5)
            assert len(events_pb2.BoletosIssued.FromString(original.data).boletos) == 10
            await js.publish(SUBJECT_BOLETOS_ISSUED, original.data)
            await nc.close()
            await asyncio.sleep(3)
    assert len(sink.messages) == 10


async def test_a_stopping_mailer_hands_back_what_it_has_not_sent(databases, nats_server):
    """A replica stopped mid-claim finishes only the messages on the wire: the rest of its
    claim goes to the other replica at once, not after its lease, and nobody gets two."""
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(40, seed=13)
    sink = Sink()
    # Slow sending (5 a second, 2 connections) so a claim is far from done at the stop; a
    # short grace so a stop that waited for the whole claim would be cut off mid-way.
    slow = {"SMTP_CONNECTIONS": "2", "SMTP_RATE_PER_SECOND": "5", "SHUTDOWN_GRACE_SECONDS": "4"}
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_server.url) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            async with running_mailer(
                mailer_db, nats_server.url, boleto.address, smtp.port, **slow
            ):
                async with asyncio.timeout(60):
                    while True:  # until a few messages are out
                        if len(sink.messages) >= 4:
                            break
                        await asyncio.sleep(0.05)
                stopping = asyncio.get_running_loop().time()
            stop_took = asyncio.get_running_loop().time() - stopping
            assert stop_took < 2.5, stop_took  # did not wait for its whole claim
            stopped_at = len(sink.messages)
            assert stopped_at < 40
            async with running_mailer(
                mailer_db, nats_server.url, boleto.address, smtp.port, **slow
            ):
                # Far sooner than the 120 s lease a dropped claim would wait out.
                progress = await settled(ingest.stub, summary.upload_id, within=40)
    assert progress.emails_sent == 40
    assert sorted(sink.recipients) == sorted(r.email for r in rows)
    assert len(sink.messages) == 40
