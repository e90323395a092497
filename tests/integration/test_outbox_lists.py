"""The mailer's outbox published as lists, against a real JetStream server and the ingest
store that counts what it reports: a merged message published again after a crash, merged
differently, is not recognised as a repeat, and ingest still counts every e-mail once."""

from __future__ import annotations

import uuid
from pathlib import Path

import nats
import sqlalchemy as sa

from boletos.platform.database import raw_cursor
from boletos.platform.nats_streams import SUBJECT_EMAILS_SENT, ensure_streams
from boletos.platform.outbox import OutboxRelay, insert_events
from boletos.v1 import events_pb2
from ingest_service.service.events import upload_completed
from ingest_service.store.engine import create_engine as ingest_engine
from ingest_service.store.engine import upgrade_schema as ingest_schema
from ingest_service.store.repository import IngestStore
from ingest_service.store.tables import debts, uploads
from mailer_service.domain.delivery import DeliveryStatus, Outcome
from mailer_service.service.outcome_events import outcome_events
from mailer_service.store.deliveries import DeliveryStore
from mailer_service.store.engine import create_engine as mailer_engine
from mailer_service.store.engine import upgrade_schema as mailer_schema
from mailer_service.store.tables import outbox
from tests.support.ingest import stream_message_count


async def test_a_list_merged_again_after_a_crash_counts_each_email_once(
    tmp_path: Path, nats_server
) -> None:
    counting = IngestStore(ingest_engine(f"sqlite:///{tmp_path / 'ingest.db'}"), upload_completed)
    ingest_schema(counting.engine)
    upload_id = counting.create_upload("f.csv", "").upload_id
    ids = [str(uuid.uuid4()) for _ in range(4)]
    with counting.engine.begin() as conn:
        number = conn.execute(
            sa.select(uploads.c.upload_no).where(uploads.c.upload_id == upload_id)
        ).scalar_one()
        conn.execute(
            debts.insert(),
            [{"debt_id": uuid.UUID(d).bytes, "content_hash": n, "upload_no": number,
              "line": n + 2} for n, d in enumerate(ids)],
        )  # fmt: skip
    mailer = mailer_engine(f"sqlite:///{tmp_path / 'mailer.db'}")
    mailer_schema(mailer)
    queue = DeliveryStore(mailer)

    def commit(debt_id: str) -> None:
        """One commit's outcome event, as the mailer's recorder writes it."""
        sent = [Outcome(debt_id, upload_id, DeliveryStatus.SENT, message_id=f"<{debt_id}@x>")]
        with mailer.begin() as conn:
            insert_events(raw_cursor(conn), "sqlite", outcome_events(sent))

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        relay = OutboxRelay(queue.outbox, js, lists_every=1.0)
        for debt_id in ids[:3]:
            commit(debt_id)
        assert await relay.publish_pending() == 3
        # A crash after the publish, before the mark; a fourth outcome commits meanwhile.
        with mailer.begin() as conn:
            conn.execute(outbox.update().values(published=False))
        commit(ids[3])
        assert await relay.publish_pending() == 4
        assert relay.duplicates == 0  # merged differently: JetStream took it as new

        sub = await js.pull_subscribe(SUBJECT_EMAILS_SENT, durable="check", stream="MAILER")
        messages = await sub.fetch(10, timeout=5)
    finally:
        await nc.close()
    assert await stream_message_count(nats_server.url, "MAILER", SUBJECT_EMAILS_SENT) == 2
    lists = [events_pb2.EmailsSent.FromString(m.data).emails for m in messages]
    assert [len(emails) for emails in lists] == [3, 4]
    for emails in lists:
        counting.record_stage("email", 1, [(e.debt_id, e.upload_id, "") for e in emails])
    upload = counting.get_upload(upload_id)
    assert upload is not None and upload.emails_sent == 4
