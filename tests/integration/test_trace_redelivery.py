"""A trace survives a redelivery: the outbox relay publishes an event with the context it was
written in, a handler fails the first delivery, and both deliveries are handled in spans of
the trace that wrote the event, against a real JetStream server."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import nats
import sqlalchemy as sa
from nats.js.api import StreamConfig
from opentelemetry.trace import StatusCode

from boletos.platform import tracing
from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer, RetryLater
from boletos.platform.database import raw_cursor, writing
from boletos.platform.logs import get_logger
from boletos.platform.outbox import OutboxRelay, OutboxStore, insert_events, outbox_table
from tests.support.traces import in_memory_spans
from tests.support.waiting import wait_for

SPEC = ConsumerSpec(stream="T", subject="t.work", durable="workers", ack_wait_seconds=1.0)


async def test_a_redelivered_event_is_handled_again_in_the_trace_that_wrote_it(
    nats_server, tmp_path: Path
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="T", subjects=["t.>"]))
    attempts: list[int] = []

    async def fail_once(deliveries: Sequence[Delivery[bytes]]) -> None:
        attempts.extend(d.attempt for d in deliveries)
        if len(attempts) == 1:
            raise RetryLater(0.1)

    with in_memory_spans() as spans:
        with tracing.span("upload") as upload, writing(engine) as conn:
            insert_events(raw_cursor(conn), "sqlite", [("t.work", "work-1", b"1")])
        assert await OutboxRelay(OutboxStore(engine, table), js).publish_pending() == 1

        consumer = PullConsumer(js, SPEC, bytes, fail_once, get_logger("test"))
        task = asyncio.create_task(consumer.run())
        await wait_for(lambda: len(attempts) >= 2, within=15)
        consumer.stop()
        await task
        await nc.close()
        engine.dispose()

    assert attempts == [1, 2]
    handled = [s for s in spans.get_finished_spans() if s.name == "process t.work"]
    assert len(handled) == 2
    trace_id = upload.get_span_context().trace_id
    assert all(s.context.trace_id == trace_id for s in handled)
    assert all(s.parent and s.parent.span_id == upload.get_span_context().span_id for s in handled)
    first, second = handled
    assert first.status.status_code == StatusCode.ERROR
    assert (first.attributes or {})["messaging.nats.delivery_attempt"] == 1
    assert (second.attributes or {})["messaging.nats.delivery_attempt"] == 2
