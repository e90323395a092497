"""Slow SMTP servers never cause a second copy: a rate limit or a tarpit that makes a claim
outlast its lease leaves it with the worker that holds it, and a reply that never comes after
the final dot is recorded as uncertain instead of being sent again.

Leases are one second here, so a claim that was not renewed would be taken by the other
replica within the test; each test ends with exactly one message per debt.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from boletos.v1 import ingest_pb2, mailer_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import Row, csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.waiting import wait_for

# Short enough that slow servers outlast it, long enough that a lease renewed every third of
# it is renewed in time on a machine whose cores are busy with other work.
SHORT_LEASE = {"MAIL_LEASE_SECONDS": "3", "SMTP_CONNECTIONS": "2"}


class Tarpit(Sink):
    """Answers MAIL, RCPT and DATA each after a pause, as a server slowing down spammers."""

    pause = 1.2

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(self.pause)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, *args: Any, **kwargs: Any) -> str:
        await asyncio.sleep(self.pause)
        return await super().handle_RCPT(*args, **kwargs)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(self.pause)
        return await super().handle_DATA(server, session, envelope)


def _one_message_per_debt(sink: Sink, rows: list[Row]) -> None:
    copies = Counter(m["X-Boleto-Debt-Id"] for m in sink.messages)
    assert [debt for debt, n in copies.items() if n > 1] == []
    assert set(copies) == {r.debt_id for r in rows}


async def _two_mailers_send(
    sink: Sink, databases: tuple[str, str, str], nats_url: str, rows: list[Row], **env: str
) -> ingest_pb2.UploadProgress:
    ingest_db, boleto_db, mailer_db = databases
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_url) as ingest,
            running_boleto(boleto_db, nats_url) as boleto,
            running_mailer(mailer_db, nats_url, boleto.address, smtp.port, **env),
            running_mailer(mailer_db, nats_url, boleto.address, smtp.port, **env),
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            return await settled(ingest.stub, summary.upload_id, within=120)


async def test_a_rate_limited_server_outlasting_the_lease_gets_one_message_per_debt(
    databases, nats_server
):
    rows = valid_rows(24, seed=31)
    sink = Sink()
    # 1.5 a second per replica: the file takes about three leases to send.
    progress = await _two_mailers_send(
        sink, databases, nats_server.url, rows, SMTP_RATE_PER_SECOND="1.5", **SHORT_LEASE
    )
    assert (progress.emails_sent, progress.emails_failed) == (24, 0)
    _one_message_per_debt(sink, rows)


async def test_a_tarpitting_server_gets_one_message_per_debt(databases, nats_server):
    rows = valid_rows(12, seed=32)
    sink = Tarpit()
    # Each message takes longer than a lease: 3 pauses of 1.2 s against 3 s.
    progress = await _two_mailers_send(sink, databases, nats_server.url, rows, **SHORT_LEASE)
    assert (progress.emails_sent, progress.emails_failed) == (12, 0)
    _one_message_per_debt(sink, rows)


class SlowToAnswer(Sink):
    """Keeps every message, but answers the final dot for the chosen recipients only after
    the client has given up waiting."""

    def __init__(self, slow: set[str], delay: float) -> None:
        super().__init__()
        self.slow = slow
        self.delay = delay

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.slow.intersection(envelope.rcpt_tos):
            await asyncio.sleep(self.delay)
        return reply


async def test_a_reply_lost_after_the_final_dot_is_uncertain_and_not_sent_again(
    databases, nats_server
):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(10, seed=33)
    late = rows[4]
    sink = SlowToAnswer({late.email}, delay=3.0)
    env = {"SMTP_DATA_TIMEOUT_SECONDS": "1", "MAIL_LEASE_SECONDS": "1"}
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_server.url) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
            running_mailer(mailer_db, nats_server.url, boleto.address, smtp.port, **env) as mailer,
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            progress = await settled(ingest.stub, summary.upload_id)
            # Settled: the uncertain one counts among the e-mails not sent.
            assert (progress.emails_sent, progress.emails_failed) == (9, 1)
            delivery = (
                await mailer.stub.GetDelivery(mailer_pb2.GetDeliveryRequest(debt_id=late.debt_id))
            ).delivery
            assert delivery.status == mailer_pb2.DELIVERY_STATUS_UNCERTAIN
            assert delivery.attempts == 1
            assert "no reply" in delivery.last_error

            # Well past its lease and its retry delay, nobody sent it again.
            await asyncio.sleep(4)
            assert len(sink.messages) == 10
            _one_message_per_debt(sink, rows)

            # A plain retry leaves it alone; asked for explicitly, it goes once more.
            plain = await mailer.stub.RetryFailed(
                mailer_pb2.RetryFailedRequest(upload_id=summary.upload_id)
            )
            assert plain.requeued == 0
            sink.slow.clear()
            asked = await mailer.stub.RetryFailed(
                mailer_pb2.RetryFailedRequest(upload_id=summary.upload_id, include_uncertain=True)
            )
            assert asked.requeued == 1
            await wait_for(lambda: len(sink.messages) >= 11)
    copies = [m for m in sink.messages if m["X-Boleto-Debt-Id"] == late.debt_id]
    # The copy is recognisable: the same Message-ID as the first.
    assert len(copies) == 2 and copies[0]["Message-ID"] == copies[1]["Message-ID"]
