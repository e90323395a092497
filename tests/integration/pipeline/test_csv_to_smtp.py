"""End to end: CSV -> ingest -> NATS -> boleto -> NATS -> mailer -> a real SMTP server."""

from __future__ import annotations

import asyncio
import json
import sys

import grpc

from boletos.v1 import mailer_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.scan import rasterize, scan
from tests.support.waiting import wait_until


async def test_every_accepted_debt_gets_exactly_one_email_with_its_boleto(
    databases, nats_server, tmp_path
):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(60)
    refused = rows[5].email
    sink = Sink(reply=lambda rcpt: "550 5.1.1 no such user" if rcpt == refused else None)
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_server.url) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
            running_mailer(mailer_db, nats_server.url, boleto.address, smtp.port) as mailer,
        ):
            data = csv_bytes(rows)
            summary = await upload(ingest.stub, data)
            progress = await settled(ingest.stub, summary.upload_id)
            assert (progress.emails_sent, progress.emails_failed) == (59, 1)

            failed = await mailer.stub.ListDeliveries(
                mailer_pb2.ListDeliveriesRequest(
                    upload_id=summary.upload_id, status=mailer_pb2.DELIVERY_STATUS_FAILED
                )
            )
            (only,) = failed.deliveries
            assert only.debt_id == rows[5].debt_id and only.smtp_code == 550
            assert "no such user" in only.last_error

            # The same answer through the command line.
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "boletos_cli", "--mailer", mailer.address,
                "deliveries", summary.upload_id, "--status", "failed", "--json",
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            stdout, _ = await asyncio.wait_for(cli.communicate(), 60)
            assert cli.returncode == 0
            listed = json.loads(stdout)["deliveries"]
            assert [(d["debt_id"], d["status"], d["smtp_code"]) for d in listed] == [
                (rows[5].debt_id, "failed", 550)
            ]

            # The same file again: nothing new is issued or sent.
            again = await upload(ingest.stub, data)
            assert again.accepted == 0
            await asyncio.sleep(2)

    assert len(sink.messages) == 59
    assert sorted(sink.recipients) == sorted(r.email for r in rows if r.email != refused)
    by_id = {m["X-Boleto-Debt-Id"]: m for m in sink.messages}
    assert len(by_id) == 59  # one message per debt
    row = rows[9]
    message = by_id[row.debt_id]
    assert message["To"].addresses[0].addr_spec == row.email
    assert message["Message-ID"].startswith(f"<boleto-{row.debt_id}@")
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"boleto-{row.debt_id}.pdf"
    pdf = attachment.get_content()
    assert scan(rasterize(pdf, tmp_path, dpi=300))[0][:4] == "0019"  # a Banco do Brasil boleto


async def test_smtp_down_then_up_delays_delivery_and_loses_nothing(databases, nats_server):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(20, seed=3)
    sink = Sink()
    from tests.support.processes import free_port

    port = free_port()
    async with (
        running_ingest(ingest_db, nats_server.url) as ingest,
        running_boleto(boleto_db, nats_server.url) as boleto,
        running_mailer(mailer_db, nats_server.url, boleto.address, port) as mailer,
    ):
        summary = await upload(ingest.stub, csv_bytes(rows))

        # The mailer tries, finds nobody listening, records why and backs off.
        async def tried() -> bool:
            try:
                got = await mailer.stub.GetDelivery(
                    mailer_pb2.GetDeliveryRequest(debt_id=rows[0].debt_id)
                )
            except grpc.aio.AioRpcError as exc:
                # Its boleto has not reached the mailer yet.
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    return False
                raise
            return got.delivery.attempts >= 1 and "Connect call failed" in got.delivery.last_error

        await wait_until(tried, 60)
        first = await mailer.stub.GetDelivery(
            mailer_pb2.GetDeliveryRequest(debt_id=rows[0].debt_id)
        )
        # Waiting for its next try, or trying again right now: never given up on.
        assert first.delivery.status in (
            mailer_pb2.DELIVERY_STATUS_PENDING,
            mailer_pb2.DELIVERY_STATUS_SENDING,
        )
        with smtp_sink(sink, port=port):
            progress = await settled(ingest.stub, summary.upload_id)
    assert progress.emails_sent == 20
    assert sorted(sink.recipients) == sorted(r.email for r in rows)
