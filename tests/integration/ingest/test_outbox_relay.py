"""The outbox survives crashes on both sides of the publish."""

from __future__ import annotations

import datetime as dt

import nats
import sqlalchemy as sa

from boletos.platform.nats_streams import ensure_streams
from boletos.platform.outbox import OutboxRelay
from boletos.platform.worker_processes import WorkerProcesses
from ingest_service.domain.columns import Rules
from ingest_service.service.events import upload_completed
from ingest_service.service.upload_session import UploadSession
from ingest_service.store.engine import create_engine, upgrade_schema
from ingest_service.store.repository import IngestStore
from ingest_service.store.tables import outbox
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import imported_debts, stream_message_count


async def _ingest_without_publishing(store: IngestStore, data: bytes) -> None:
    """Stores a file the way the service does, with no relay running: as if the process
    died right after its commits."""
    pool = WorkerProcesses("test-prepare", 1)
    try:
        session = UploadSession(
            store,
            store.create_upload("f.csv", ""),
            lambda: None,
            pool,
            4096,
            1024,
            Rules.on(dt.date.today()),
        )
        for i in range(0, len(data), 5000):
            await session.feed(data[i : i + 5000])
        await session.finish()
    finally:
        pool.close()


async def test_relay_publishes_what_a_crash_left_pending_exactly_once(database_url, nats_server):
    rows = valid_rows(2300)
    engine = create_engine(database_url)
    upgrade_schema(engine)
    store = IngestStore(engine, upload_completed)
    await _ingest_without_publishing(store, csv_bytes(rows))
    pending = store.outbox.unpublished_count()
    assert pending >= 3  # small blocks: several events per upload

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        relay = OutboxRelay(store.outbox, js)
        assert await relay.publish_pending() == pending
        assert store.outbox.unpublished_count() == 0
        assert await relay.publish_pending() == 0

        # A crash after the publish but before the mark: the rows come back as pending.
        with engine.begin() as conn:
            conn.execute(outbox.update().values(published=False))
        again = OutboxRelay(store.outbox, js)
        assert await again.publish_pending() == pending
        assert again.duplicates == pending  # JetStream recognised every Nats-Msg-Id
        assert again.published == 0
    finally:
        await nc.close()

    assert await stream_message_count(nats_server.url) == pending
    debts = await imported_debts(nats_server.url, expected=2300)
    assert sorted(d.debt_id for d in debts) == sorted(r.debt_id for r in rows)
    engine.dispose()


async def test_outbox_rows_commit_with_their_debts(database_url):
    engine = create_engine(database_url)
    upgrade_schema(engine)
    store = IngestStore(engine, upload_completed)
    await _ingest_without_publishing(store, csv_bytes(valid_rows(1500)))
    with engine.connect() as conn:
        debts = conn.execute(sa.text("SELECT count(*) FROM debts")).scalar_one()
        events = conn.execute(sa.select(outbox.c.payload)).scalars().all()
    from boletos.v1 import events_pb2

    announced = sum(len(events_pb2.DebtsImported.FromString(p).debts) for p in events)
    assert debts == announced == 1500
    engine.dispose()
