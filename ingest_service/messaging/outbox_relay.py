"""Publishes outbox events to JetStream, then marks them published.

A crash after the commit and before the publish loses nothing: the rows stay pending and the
next relay publishes them. A crash after the publish and before the mark publishes again,
and JetStream drops the repeat by its Nats-Msg-Id.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from nats.js import JetStreamContext

from boletos.platform.logs import get_logger
from ingest_service.store.repository import IngestStore

log = get_logger("outbox")

BATCH = 64
IDLE_POLL_SECONDS = 1.0
RETRY_SECONDS = 2.0
PURGE_EVERY_SECONDS = 600.0


class OutboxRelay:
    def __init__(
        self, store: IngestStore, js: JetStreamContext, retention: dt.timedelta | None = None
    ) -> None:
        self._store = store
        self._js = js
        self._retention = retention
        self._wake = asyncio.Event()
        self._last_purge = 0.0
        self.published = 0
        self.duplicates = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.publish_pending()
                await self._purge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the relay must outlive any one failure
                log.warning("outbox.publish_failed", error=str(exc), retry_in=RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
            except TimeoutError:
                pass
            self._wake.clear()

    async def publish_pending(self) -> int:
        """Publishes until nothing is pending; returns how many events went out."""
        total = 0
        while True:
            self._wake.clear()
            batch = await asyncio.to_thread(self._store.pending_events, BATCH)
            if not batch:
                return total
            acks = await asyncio.gather(
                *(
                    self._js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id})
                    for _id, subject, msg_id, payload in batch
                )
            )
            await asyncio.to_thread(self._store.mark_published, [row[0] for row in batch])
            dupes = sum(1 for ack in acks if ack.duplicate)
            self.published += len(batch) - dupes
            self.duplicates += dupes
            total += len(batch)

    async def _purge(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._retention is None or now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        cutoff = dt.datetime.now(dt.UTC) - self._retention
        purged = await asyncio.to_thread(self._store.purge_published, cutoff)
        if purged:
            log.info("outbox.purged", events=purged)
