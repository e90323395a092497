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
from typing import NoReturn

from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from boletos.platform.consumer import ConsumerSpec, Delivery, GiveUp, PullConsumer, RetryLater
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_UPLOAD_COMPLETED
from boletos.v1 import events_pb2
from ingest_service.notifications.channels import Channel, describe, retry_delay
from ingest_service.notifications.report_file import build_upload_notice
from ingest_service.notifications.settings import NotifySettings
from ingest_service.store.repository import IngestStore

log = get_logger("notify")

DURABLE = "ingest-notify"


def consumer_spec(channel: Channel, settings: NotifySettings) -> ConsumerSpec:
    return ConsumerSpec(
        stream="INGEST",
        subject=SUBJECT_UPLOAD_COMPLETED,
        durable=f"{DURABLE}-{channel.name}",
        # A channel configured later starts with the uploads that settle from then on, not
        # with a week of old ones.
        deliver_policy=DeliverPolicy.NEW,
        max_deliver=settings.max_attempts + 1,
        fetch_batch=1,
    )


class NoticeSender:
    """Delivers one channel's notice of an UploadCompleted event."""

    def __init__(self, store: IngestStore, channel: Channel, settings: NotifySettings) -> None:
        self._store = store
        self._channel = channel
        self._settings = settings

    async def __call__(self, deliveries: Sequence[Delivery[events_pb2.UploadCompleted]]) -> None:
        for delivery in deliveries:
            await self._deliver(delivery.event, delivery.attempt)

    async def _deliver(self, event: events_pb2.UploadCompleted, attempt: int) -> None:
        channel = self._channel
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
            self._failed(event.upload_id, attempt, exc)
        log.info(
            "notify.sent",
            channel=channel.name,
            upload_id=event.upload_id,
            attempt=attempt,
            needs_action=bool(notice.actions),
        )

    def _failed(self, upload_id: str, attempt: int, exc: Exception) -> NoReturn:
        channel = self._channel.name
        if attempt >= self._settings.max_attempts:
            log.error(
                "notify.gave_up",
                channel=channel,
                upload_id=upload_id,
                attempts=attempt,
                error=describe(exc),
            )
            raise GiveUp from None
        delay = retry_delay(attempt, self._settings.retry_base_seconds)
        log.warning(
            "notify.retrying",
            channel=channel,
            upload_id=upload_id,
            attempt=attempt,
            retry_in=delay,
            error=describe(exc),
        )
        raise RetryLater(delay) from None


def notification_consumers(
    store: IngestStore,
    js: JetStreamContext,
    channels: Sequence[Channel],
    settings: NotifySettings,
) -> list[PullConsumer[events_pb2.UploadCompleted]]:
    """One durable consumer per channel, so a channel that is down does not make the others
    send twice."""
    return [
        PullConsumer(
            js,
            consumer_spec(channel, settings),
            events_pb2.UploadCompleted.FromString,
            NoticeSender(store, channel, settings),
            log,
        )
        for channel in channels
    ]
