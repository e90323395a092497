"""Operator notifications as a JSON POST (NOTIFY_WEBHOOK_URL). The payload's "text" field
also makes it readable by chat tools' incoming webhooks."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from ingest_service.notifications.summary import Notice


class WebhookError(RuntimeError):
    """The endpoint answered, but not with success."""


class WebhookChannel:
    name = "webhook"
    carries_files = False

    def __init__(self, url: str, timeout_seconds: float) -> None:
        self._url = url
        self._timeout = timeout_seconds

    async def send(self, notice: Notice) -> None:
        await asyncio.to_thread(self._post, notice)

    def _post(self, notice: Notice) -> None:
        request = urllib.request.Request(
            self._url,
            data=json.dumps(notice.payload).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "boletos-ingest",
                # The same notice retried carries the same key, so a receiver can drop repeats.
                "Idempotency-Key": notice.key,
            },
        )
        # urlopen raises HTTPError for 4xx and 5xx, so every failure surfaces as an exception.
        with urllib.request.urlopen(request, timeout=self._timeout) as response:
            response.read()
            if not 200 <= response.status < 300:
                raise WebhookError(f"HTTP {response.status}")
