"""Queues one delivery per issued boleto.

One durable pull consumer shared by every replica; a message is acked once its deliveries
are committed, and a debt already queued is left alone, so a redelivered message or a
re-sent file queues nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from nats.js import JetStreamContext

from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer, RetryLater, refuse
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_BOLETOS_ISSUED
from boletos.v1 import events_pb2
from mailer_service.domain.boleto_mail import BoletoMail
from mailer_service.domain.delivery import DeliveryKind
from mailer_service.domain.errors import InvalidBoletoMail
from mailer_service.domain.message_id import check_debt_id
from mailer_service.service.metrics import CREATED_BY_KIND

log = get_logger("mailer")

DURABLE = "mailer-service"
RETRY_SECONDS = 5.0


class Queue(Protocol):
    def enqueue(self, mails: Sequence[BoletoMail]) -> int: ...


def consumer_spec(ack_wait_seconds: float) -> ConsumerSpec:
    return ConsumerSpec(
        stream="BOLETO",
        subject=SUBJECT_BOLETOS_ISSUED,
        durable=DURABLE,
        ack_wait_seconds=ack_wait_seconds,
        max_deliver=10,
        fetch_batch=8,
    )


class BoletosHandler:
    def __init__(self, queue: Queue, on_queued: Callable[[], None]) -> None:
        self._queue = queue
        self._on_queued = on_queued

    async def __call__(self, deliveries: Sequence[Delivery[events_pb2.BoletosIssued]]) -> None:
        for delivery in deliveries:
            mails: list[BoletoMail] = []
            refused: list[tuple[str, str]] = []
            for boleto in delivery.event.boletos:
                try:
                    mails.append(BoletoMail.from_event(boleto))
                except InvalidBoletoMail as exc:
                    refused.append((_shown_id(boleto.debt_id), str(exc)))
            # One bad boleto does not cost the others of its event their e-mail.
            refuse(log, "BoletosIssued", refused)
            if not mails:
                continue
            try:
                queued = await asyncio.to_thread(self._queue.enqueue, mails)
            except Exception:
                log.exception("mailer.enqueue_failed")
                raise RetryLater(RETRY_SECONDS) from None
            if queued:
                CREATED_BY_KIND.labels(DeliveryKind.BOLETO.label).inc(queued)
                self._on_queued()


def boletos_consumer(
    js: JetStreamContext, spec: ConsumerSpec, handler: BoletosHandler
) -> PullConsumer[events_pb2.BoletosIssued]:
    return PullConsumer(js, spec, events_pb2.BoletosIssued.FromString, handler, log)


def _shown_id(debt_id: str) -> str:
    """The debt id for a log line when it is one; a refused event may carry anything."""
    try:
        return check_debt_id(debt_id)
    except InvalidBoletoMail:
        return "(malformed id)"
