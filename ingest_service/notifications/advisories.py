"""Reports JetStream messages a consumer gave up on (past their max deliveries).

nats-server announces each on a core NATS subject; replicas listen in one queue group, so
one of them reports it. The advisory itself is not stored anywhere, so delivery of the
notice is retried here, with the same bounded backoff as upload notices.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import nats
import nats.errors
from nats.aio.subscription import Subscription

from boletos.platform.logs import get_logger
from ingest_service.notifications.channels import Channel, describe, retry_delay
from ingest_service.notifications.settings import NotifySettings
from ingest_service.notifications.summary import Notice, max_deliveries_notice

log = get_logger("notify")

MAX_DELIVERIES_SUBJECT = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"
QUEUE_GROUP = "ingest-advisories"


class AdvisoryWatcher:
    def __init__(
        self, nc: nats.NATS, channels: Sequence[Channel], settings: NotifySettings
    ) -> None:
        self._nc = nc
        self._channels = channels
        self._settings = settings
        self._sending: set[asyncio.Task[None]] = set()
        self._sub: Subscription | None = None
        self._stopping = asyncio.Event()

    async def subscribe(self) -> None:
        self._sub = await self._nc.subscribe(MAX_DELIVERIES_SUBJECT, queue=QUEUE_GROUP)

    def stop(self) -> None:
        """Hear no more advisories; the notices under way are cancelled when run() ends."""
        self._stopping.set()

    async def run(self) -> None:
        sub = self._sub
        assert sub is not None, "subscribe() first"
        try:
            while not self._stopping.is_set():
                try:
                    msg = await sub.next_msg(timeout=1)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                self._on_advisory(msg.data)
        finally:
            for task in self._sending:
                task.cancel()
            await asyncio.gather(*self._sending, return_exceptions=True)
            if not self._nc.is_closed:
                await sub.unsubscribe()

    def _on_advisory(self, data: bytes) -> None:
        try:
            advisory = json.loads(data)
        except ValueError:
            advisory = None
        if not isinstance(advisory, dict):
            log.error("jetstream.bad_advisory", size=len(data))
            return
        notice = max_deliveries_notice(advisory)
        # Logged whatever the channels: a person must see it even with none configured.
        log.error(
            "jetstream.max_deliveries",
            stream=notice.payload["stream"],
            consumer=notice.payload["consumer"],
            stream_seq=notice.payload["stream_seq"],
            deliveries=notice.payload["deliveries"],
        )
        for channel in self._channels:
            task = asyncio.create_task(self._deliver(channel, notice))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _deliver(self, channel: Channel, notice: Notice) -> None:
        attempts = self._settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                await channel.send(notice)
            except Exception as exc:  # noqa: BLE001 - every failure is retried, then reported
                if attempt == attempts:
                    log.error(
                        "notify.gave_up",
                        channel=channel.name,
                        notice=notice.key,
                        attempts=attempt,
                        error=describe(exc),
                    )
                    return
                delay = retry_delay(attempt, self._settings.retry_base_seconds)
                log.warning(
                    "notify.retrying",
                    channel=channel.name,
                    notice=notice.key,
                    attempt=attempt,
                    retry_in=delay,
                    error=describe(exc),
                )
                await asyncio.sleep(delay)
            else:
                log.info("notify.sent", channel=channel.name, notice=notice.key, attempt=attempt)
                return
