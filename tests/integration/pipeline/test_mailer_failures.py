"""The whole pipeline when the SMTP server refuses: temporary refusals are retried until the
message goes once; permanent ones are recorded, and go once more after RetryFailed."""

from __future__ import annotations

import asyncio
import sys

from boletos.v1 import mailer_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink


async def test_greylisted_then_accepted_is_delivered_exactly_once(databases, nats_server):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(12, seed=21)
    greylisted = rows[3]
    refusals = {greylisted.email: 2}

    def reply(rcpt: str) -> str | None:
        if refusals.get(rcpt, 0) > 0:
            refusals[rcpt] -= 1
            return "451 4.7.1 greylisted, try again later"
        return None

    sink = Sink(reply=reply)
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_server.url) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
            running_mailer(mailer_db, nats_server.url, boleto.address, smtp.port) as mailer,
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            progress = await settled(ingest.stub, summary.upload_id)
            assert (progress.emails_sent, progress.emails_failed) == (12, 0)
            delivery = (
                await mailer.stub.GetDelivery(
                    mailer_pb2.GetDeliveryRequest(debt_id=greylisted.debt_id)
                )
            ).delivery
    assert refusals[greylisted.email] == 0  # the server did refuse it twice
    assert delivery.status == mailer_pb2.DELIVERY_STATUS_SENT
    assert delivery.attempts == 3
    assert sink.recipients.count(greylisted.email) == 1
    assert len(sink.messages) == 12


async def test_retry_failed_sends_the_failed_once_more_and_the_rest_never_again(
    databases, nats_server
):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(15, seed=22)
    bounced = {rows[2].email, rows[7].email}
    mailbox_exists = False

    def reply(rcpt: str) -> str | None:
        if rcpt in bounced and not mailbox_exists:
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
            progress = await settled(ingest.stub, summary.upload_id)
            assert (progress.emails_sent, progress.emails_failed) == (13, 2)
            assert len(sink.messages) == 13

            mailbox_exists = True  # the debtors' addresses were fixed at their provider
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "boletos_cli", "--mailer", mailer.address,
                "retry", summary.upload_id,
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            stdout, _ = await asyncio.wait_for(cli.communicate(), 60)
            assert cli.returncode == 0, stdout
            assert b"2 failed e-mails" in stdout

            async with asyncio.timeout(60):
                while progress.emails_sent < 15:
                    await asyncio.sleep(0.2)
                    progress = await settled(ingest.stub, summary.upload_id)
            assert (progress.emails_sent, progress.emails_failed) == (15, 0)

            # Nothing left to retry: a second call queues nothing and sends nothing.
            again = await mailer.stub.RetryFailed(
                mailer_pb2.RetryFailedRequest(upload_id=summary.upload_id)
            )
            assert again.requeued == 0
            await asyncio.sleep(1)
    assert sorted(sink.recipients) == sorted(r.email for r in rows)
    assert len({m["X-Boleto-Debt-Id"] for m in sink.messages}) == 15
