"""Starts what the notification settings ask for."""

from __future__ import annotations

import nats
from nats.js import JetStreamContext

from boletos.platform.runtime import ServiceRuntime
from ingest_service.notifications.advisories import AdvisoryWatcher
from ingest_service.notifications.channels import Channel
from ingest_service.notifications.consumer import notification_consumers
from ingest_service.notifications.email import EmailChannel
from ingest_service.notifications.settings import NotifySettings
from ingest_service.notifications.webhook import WebhookChannel
from ingest_service.store.repository import IngestStore


def channels(settings: NotifySettings) -> list[Channel]:
    found: list[Channel] = []
    if settings.email_to:
        found.append(EmailChannel(settings))
    if settings.webhook_url:
        found.append(WebhookChannel(settings.webhook_url, settings.timeout_seconds))
    return found


async def start_notifications(
    rt: ServiceRuntime,
    store: IngestStore,
    nc: nats.NATS,
    js: JetStreamContext,
    settings: NotifySettings,
) -> None:
    """Subscribes before the service takes uploads (the consumers only see what settles
    after they exist), then runs: upload notices on each channel, and max-deliveries
    advisories, logged as errors even when no channel is configured."""
    chosen = channels(settings)
    watcher = AdvisoryWatcher(nc, chosen, settings)
    await watcher.subscribe()
    rt.run_worker(watcher, "advisories")
    for consumer in notification_consumers(store, js, chosen, settings):
        await consumer.bind()
        rt.run_worker(consumer, f"notify-{consumer.spec.durable}")
