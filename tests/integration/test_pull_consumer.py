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
