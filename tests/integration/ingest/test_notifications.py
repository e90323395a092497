"""Operators hear of every upload once it settles (UploadCompleted, then e-mail and webhook),
and of every JetStream message a consumer gave up on."""

from __future__ import annotations

import asyncio
import csv
import io

import nats
from nats.js.api import AckPolicy, ConsumerConfig

from boletos.platform.nats_streams import SUBJECT_UPLOAD_COMPLETED
from boletos.v1 import events_pb2
from tests.integration.ingest.test_report import _pipeline_events, report, settled
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, stream_message_count, upload
from tests.support.mailer import Sink, smtp_sink
from tests.support.processes import free_port
from tests.support.waiting import wait_for
from tests.support.webhook import Hook, webhook_endpoint

OPS = "ops@example.com"


def notify_env(smtp_port: int | None = None, webhook: str = "", **extra: str) -> dict[str, str]:
    env = {"NOTIFY_RETRY_BASE_SECONDS": "0.2", "NOTIFY_WEBHOOK_URL": webhook, **extra}
    if smtp_port is not None:
        env |= {
            "NOTIFY_EMAIL_TO": OPS,
            "NOTIFY_EMAIL_FROM": "Boletos <boletos@example.com>",
            "NOTIFY_SMTP_HOST": "127.0.0.1",
            "NOTIFY_SMTP_PORT": str(smtp_port),
        }
    return env


async def completed_events(nats_url: str) -> list[events_pb2.UploadCompleted]:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().subscribe(
            SUBJECT_UPLOAD_COMPLETED, stream="INGEST", ordered_consumer=True
        )
        found: list[events_pb2.UploadCompleted] = []
        while True:
            try:
                msg = await sub.next_msg(timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):
                return found
            found.append(events_pb2.UploadCompleted.FromString(msg.data))
    finally:
        await nc.close()


async def test_a_settled_upload_is_announced_once_and_notified_by_email_and_webhook(
    database_url, nats_server
):
    rows = valid_rows(8, seed=41)
    data = csv_bytes([*rows, rows[0], rows[1].changed(email="broken")])
    sink, hook = Sink(), Hook()
    with smtp_sink(sink) as smtp, webhook_endpoint(hook) as url:
        env = notify_env(smtp.port, url)
        # Two replicas on one database: each event reaches one of them, the notice goes once.
        async with (
            running_ingest(database_url, nats_server.url, **env) as one,
            running_ingest(database_url, nats_server.url, **env) as two,
        ):
            summary = await upload(one.stub, data)
            uid = summary.upload_id
            nosso = {r.debt_id: f"{i:011d}" for i, r in enumerate(rows, 1)}
            await _pipeline_events(nats_server.url, uid, rows, nosso, rows[7], rows[2])
            await settled(two.stub, uid)
            await wait_for(lambda: sink.messages and hook.posts)
            # Redelivered progress must not announce the upload again.
            await _pipeline_events(nats_server.url, uid, rows, nosso, rows[7], rows[2])
            await asyncio.sleep(3)
            lines = await report(one.stub, uid)

    (event,) = await completed_events(nats_server.url)
    assert event.upload_id == uid
    assert (event.rows, event.accepted, event.duplicates, event.rejected) == (10, 8, 1, 1)
    assert (event.boletos_issued, event.boletos_failed) == (7, 1)
    assert (event.emails_sent, event.emails_failed) == (6, 1)
    assert await stream_message_count(nats_server.url, subject=SUBJECT_UPLOAD_COMPLETED) == 1

    (mail,) = sink.messages
    assert sink.recipients == [OPS]
    assert "action needed" in mail["Subject"]
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None
    body = plain.get_content()
    assert f"boletos retry {uid}" in body
    assert rows[2].debt_id in body and "550 5.1.1 mailbox unavailable" in body
    assert rows[7].debt_id in body and "due date" in body
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == f"report-{uid}.csv"
    attached = list(csv.reader(io.StringIO(attachment.get_content())))
    assert attached[0][:3] == ["line", "debtId", "outcome"]
    assert [(int(r[0]), r[1], r[2]) for r in attached[1:]] == [
        (r.line, r.debt_id, ["", "accepted", "duplicate", "conflict", "rejected"][r.outcome])
        for r in lines
    ]
    assert len(attached) - 1 == summary.rows

    (post,) = hook.posts
    assert hook.headers[0]["Idempotency-Key"] == f"upload-completed:{uid}"
    assert post["event"] == "upload.completed" and post["upload_id"] == uid
    assert post["state"] == "settled"
    assert (post["rows"], post["accepted"], post["emails_sent"], post["emails_failed"]) == (
        10,
        8,
        6,
        1,
    )
    assert post["failures"] == [
        {
            "line": 4,
            "debt_id": rows[2].debt_id,
            "stage": "email",
            "reason": "RCPT refused: 550 5.1.1 mailbox unavailable",
        },
        {
            "line": 9,
            "debt_id": rows[7].debt_id,
            "stage": "boleto",
            "reason": "due date outside the payable window",
        },
    ]
    assert any(f"boletos retry {uid}" in action for action in post["actions"])


async def test_a_webhook_down_at_first_still_gets_the_notification(database_url, nats_server):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/boletos"
    hook = Hook(status=lambda n: 503 if n == 1 else 200)  # then up, but failing once more
    data = csv_bytes([r.changed(amount="-5") for r in valid_rows(3, seed=42)])
    async with running_ingest(database_url, nats_server.url, **notify_env(webhook=url)) as svc:
        # Nothing accepted: the upload settles the moment it ends, while the endpoint is down.
        summary = await upload(svc.stub, data)
        assert (summary.accepted, summary.rejected) == (0, 3)
        await asyncio.sleep(1.5)
        with webhook_endpoint(hook, port):
            await wait_for(lambda: hook.posts)
            await asyncio.sleep(1)
    assert hook.attempts == 2
    (post,) = hook.posts
    assert (post["upload_id"], post["accepted"], post["rejected"]) == (summary.upload_id, 0, 3)
    assert "3 rows rejected" in post["text"]


async def test_a_file_refused_as_a_whole_is_notified(database_url, nats_server):
    hook = Hook()
    with webhook_endpoint(hook) as url:
        async with running_ingest(database_url, nats_server.url, **notify_env(webhook=url)) as svc:
            try:
                await upload(svc.stub, b"nome,cpf\n1,2\n")
            except Exception:  # noqa: BLE001 - the refusal itself is tested elsewhere
                pass
            await wait_for(lambda: hook.posts)
    (post,) = hook.posts
    assert post["state"] == "refused"
    assert "bad header" in post["rejection_reason"]


async def test_a_message_past_its_max_deliveries_is_notified(database_url, nats_server):
    hook = Hook()
    with webhook_endpoint(hook) as url:
        async with running_ingest(database_url, nats_server.url, **notify_env(webhook=url)):
            nc = await nats.connect(nats_server.url)
            try:
                js = nc.jetstream()
                sub = await js.pull_subscribe(
                    "ingest.test.poison",
                    durable="poison-eater",
                    stream="INGEST",
                    config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_deliver=1, ack_wait=1),
                )
                ack = await js.publish("ingest.test.poison", b"cannot be processed")
                (msg,) = await sub.fetch(1, timeout=5)  # and never acked
                assert msg.data == b"cannot be processed"
                await asyncio.sleep(1.5)
                # The server gives up on the message when it would deliver it again.
                try:
                    await sub.fetch(1, timeout=1)
                except (nats.errors.TimeoutError, TimeoutError):
                    pass
                await wait_for(lambda: hook.posts, within=15)
            finally:
                await nc.close()
    (post,) = hook.posts
    assert post["event"] == "jetstream.max_deliveries"
    assert (post["stream"], post["consumer"], post["stream_seq"]) == (
        "INGEST",
        "poison-eater",
        ack.seq,
    )
    assert f"nats stream get INGEST {ack.seq}" in post["text"]
