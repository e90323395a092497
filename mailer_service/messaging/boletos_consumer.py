"""Queues one delivery per issued boleto.

One durable pull consumer shared by every replica; a message is acked once its deliveries
are committed, and a debt already queued is left alone, so a redelivered message or a
re-sent file queues nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from boletos.platform import nats_streams as streams
from boletos.platform.logs import get_logger
from boletos.v1 import events_pb2
from mailer_service.store.repository import MailerStore

log = get_logger("mailer")

DURABLE = "mailer-service"


class BoletosConsumer:
    def __init__(
        self,
        store: MailerStore,
        js: JetStreamContext,
        on_queued: Callable[[], None],
        ack_wait_seconds: int = 30,
    ) -> None:
        self._store = store
        self._js = js
        self._on_queued = on_queued
        self._ack_wait = ack_wait_seconds
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        sub = await self._js.pull_subscribe(
            streams.SUBJECT_BOLETOS_ISSUED,
            durable=DURABLE,
            stream="BOLETO",
            config=ConsumerConfig(
                durable_name=DURABLE,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                filter_subject=streams.SUBJECT_BOLETOS_ISSUED,
                ack_wait=self._ack_wait,
                max_deliver=10,
            ),
        )
        while not self._stopping.is_set():
            try:
                msgs = await sub.fetch(8, timeout=1)
            except (NatsTimeoutError, TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep consuming through broker hiccups
                log.warning("mailer.fetch_failed", error=repr(exc))
                await asyncio.sleep(1)
                continue
            for msg in msgs:
                try:
                    boletos = events_pb2.BoletosIssued.FromString(msg.data).boletos
                except Exception as exc:  # noqa: BLE001 - a message no replica can read
                    log.error("mailer.bad_event", error=repr(exc))
                    await msg.term()
                    continue
                try:
                    queued = await asyncio.to_thread(self._store.enqueue, list(boletos))
                except Exception:  # noqa: BLE001 - redelivered after a pause
                    log.exception("mailer.enqueue_failed")
                    await msg.nak(delay=5)
                    continue
                await msg.ack_sync()
                if queued:
                    self._on_queued()
