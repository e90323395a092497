"""The pull consumer every service uses, against a real JetStream server: a slow handler
keeps its messages, and messages held by a consumer that died go to another within the
short ack wait."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence

import nats
from nats.js.api import StreamConfig

from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer
from boletos.platform.logs import get_logger
from tests.support.waiting import wait_for

SPEC = ConsumerSpec(stream="T", subject="t.work", durable="workers", ack_wait_seconds=1.0)
log = get_logger("test")


async def _publish(js: nats.js.JetStreamContext, count: int) -> None:
    await js.add_stream(StreamConfig(name="T", subjects=["t.>"]))
    for n in range(count):
        await js.publish("t.work", str(n).encode())


async def test_a_handler_slower_than_the_ack_wait_keeps_its_messages(nats_server) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await _publish(js, 4)
    handled: Counter[bytes] = Counter()

    async def slow(deliveries: Sequence[Delivery[bytes]]) -> None:
        for d in deliveries:
            handled[d.event] += 1
        await asyncio.sleep(2.5 * SPEC.ack_wait_seconds)

    consumers = [PullConsumer(js, SPEC, bytes, slow, log, per_message=False) for _ in range(2)]
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    await wait_for(lambda: sum(handled.values()) >= 4)
    # Two more ack waits: a message the server took back would be handled again by now.
    await asyncio.sleep(2 * SPEC.ack_wait_seconds)
    for consumer in consumers:
        consumer.stop()
    await asyncio.gather(*tasks)
    await nc.close()
    assert handled == {b"0": 1, b"1": 1, b"2": 1, b"3": 1}


async def test_messages_held_by_a_dead_consumer_go_to_another_within_the_ack_wait(
    nats_server,
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await _publish(js, 3)
    # A replica fetches the messages and dies before settling them.
    dead = await js.pull_subscribe(SPEC.subject, durable=SPEC.durable, config=SPEC.config())
    assert len(await dead.fetch(3, timeout=5)) == 3

    got: list[bytes] = []

    async def handle(deliveries: Sequence[Delivery[bytes]]) -> None:
        got.extend(d.event for d in deliveries)

    survivor = PullConsumer(js, SPEC, bytes, handle, log)
    task = asyncio.create_task(survivor.run())
    loop = asyncio.get_running_loop()
    started = loop.time()
    with contextlib.suppress(TimeoutError):
        await wait_for(lambda: len(got) >= 3, within=15, every=0.05)
    took = loop.time() - started
    survivor.stop()
    await task
    await nc.close()
    assert sorted(got) == [b"0", b"1", b"2"]
    assert took < 3 * SPEC.ack_wait_seconds


async def test_a_gathering_consumer_takes_a_trickle_in_few_batches_and_acks_every_message(
    nats_server,
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="T", subjects=["t.>"]))
    spec = ConsumerSpec(
        stream="T", subject="t.work", durable="gathering", ack_wait_seconds=1.0,
        fetch_batch=100, gather_seconds=0.5,
    )  # fmt: skip
    batches: list[int] = []

    async def handle(deliveries: Sequence[Delivery[bytes]]) -> None:
        batches.append(len(deliveries))

    consumer = PullConsumer(js, spec, bytes, handle, log, per_message=False)
    await consumer.bind()  # fetching before the trickle starts, not after it ended
    task = asyncio.create_task(consumer.run())
    # Forty events a few milliseconds apart, as a busy producer's small ones arrive.
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(40):
        await js.publish("t.work", str(n).encode())
        await asyncio.sleep(0.01)
    publishing = loop.time() - started
    await wait_for(lambda: sum(batches) >= 40)
    # Past two ack waits, a message left unacknowledged would have come back.
    await asyncio.sleep(2.5 * spec.ack_wait_seconds)
    consumer.stop()
    await task
    info = await js.consumer_info("T", spec.durable)
    await nc.close()
    assert sum(batches) == 40, batches
    # The first comes at once, then at most one batch per gathering pause (and one for
    # what arrived during the last): each fetch alone would make forty.
    assert len(batches) <= 2 + publishing / spec.gather_seconds, (batches, publishing)
    assert info.num_ack_pending == 0 and info.num_redelivered == 0
