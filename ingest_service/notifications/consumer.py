"""Delivers a notification for every UploadCompleted event, on each configured channel.

One durable pull consumer per channel, shared by every replica: a message goes to one
replica, is acked once its notice was delivered, and a channel that is down does not make
the others send twice. A failed delivery comes back after a growing delay (a NAK with a
delay), up to a bounded number of attempts; the last failure is logged as an error and the
message terminated, so the stream's own redelivery limit is never what stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from boletos.platform import nats_streams as streams
from boletos.platform.logs import get_logger
from boletos.v1 import events_pb2
from ingest_service.notifications.channels import Channel, describe, retry_delay
from ingest_service.notifications.report_file import build_upload_notice
from ingest_service.notifications.settings import NotifySettings
from ingest_service.store.repository import IngestStore

log = get_logger("notify")

DURABLE = "ingest-notify"
# A notice waits on an SMTP server or an HTTP endpoint, and on reading the report first.
ACK_WAIT_SECONDS = 300


def durable_name(channel: Channel) -> str:
    return f"{DURABLE}-{channel.name}"


class NotificationConsumer:
    def __init__(
        self,
        store: IngestStore,
        js: JetStreamContext,
        channels: Sequence[Channel],
        settings: NotifySettings,
    ) -> None:
        self._store = store
        self._js = js
        self._channels = channels
        self._settings = settings
        self._subs: list[tuple[Channel, JetStreamContext.PullSubscription]] = []

    async def subscribe(self) -> None:
        """Creates the durable consumers; before the service takes uploads, as they only
        see the events published after they exist."""
        for channel in self._channels:
            self._subs.append((channel, await self._subscribe(channel)))

    async def run(self) -> None:
        await asyncio.gather(*(self._follow(channel, sub) for channel, sub in self._subs))

    async def _subscribe(self, channel: Channel) -> JetStreamContext.PullSubscription:
        return await self._js.pull_subscribe(
            streams.SUBJECT_UPLOAD_COMPLETED,
            durable=durable_name(channel),
            stream="INGEST",
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                # A channel configured later starts with the uploads that settle from then
                # on, not with a week of old ones.
                deliver_policy=DeliverPolicy.NEW,
                ack_wait=ACK_WAIT_SECONDS,
                max_deliver=self._settings.max_attempts + 1,
            ),
        )

    async def _follow(self, channel: Channel, sub: JetStreamContext.PullSubscription) -> None:
        while True:
            try:
                msgs = await sub.fetch(1, timeout=1)
            except (NatsTimeoutError, TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep following through broker hiccups
                log.warning("notify.fetch_failed", channel=channel.name, error=repr(exc))
                await asyncio.sleep(1)
                continue
            for msg in msgs:
                await self._deliver(channel, msg)

    async def _deliver(self, channel: Channel, msg: Msg) -> None:
        try:
            event = events_pb2.UploadCompleted.FromString(msg.data)
        except Exception as exc:  # noqa: BLE001 - no replica could read it either
            log.error("notify.bad_event", channel=channel.name, error=str(exc))
            await msg.term()
            return
        attempt = msg.metadata.num_delivered or 1
        try:
            notice = await asyncio.to_thread(
                build_upload_notice,
                self._store,
                event,
                channel.carries_files,
                self._settings.report_max_bytes,
            )
            await channel.send(notice)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is retried, then reported
            await self._failed(channel, msg, event.upload_id, attempt, exc)
            return
        await msg.ack()
        log.info(
            "notify.sent",
            channel=channel.name,
            upload_id=event.upload_id,
            attempt=attempt,
            needs_action=bool(notice.actions),
        )

    async def _failed(
        self, channel: Channel, msg: Msg, upload_id: str, attempt: int, exc: Exception
    ) -> None:
        if attempt >= self._settings.max_attempts:
            log.error(
                "notify.gave_up",
                channel=channel.name,
                upload_id=upload_id,
                attempts=attempt,
                error=describe(exc),
            )
            await msg.term()
            return
        delay = retry_delay(attempt, self._settings.retry_base_seconds)
        log.warning(
            "notify.retrying",
            channel=channel.name,
            upload_id=upload_id,
            attempt=attempt,
            retry_in=delay,
            error=describe(exc),
        )
        await msg.nak(delay=delay)
