"""Follows the new due dates the bank confirms: the debt's record moves to the new date and
numbers, its notice schedule with it, and the updated boleto is queued for e-mail.

One durable pull consumer shared by every replica, a fetched batch applied in one
transaction and acked once committed. Each new date is recorded by its instruction, so a
redelivered or repeated event changes nothing and queues no second e-mail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from nats.js import JetStreamContext

from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer, RetryLater
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_BOLETOS_REDATED
from boletos.v1 import events_pb2
from mailer_service.domain.delivery import DeliveryKind
from mailer_service.domain.errors import InvalidBoletoMail
from mailer_service.domain.redates import Redate
from mailer_service.service.metrics import CREATED_BY_KIND

log = get_logger("mailer")

DURABLE = "mailer-boletos-redated"
RETRY_SECONDS = 5.0


class RedatedCounts(Protocol):
    outcomes: dict[str, str]

    def count(self, what: str) -> int: ...


class Redates(Protocol):
    def apply_redates(self, redated: Sequence[Redate]) -> RedatedCounts: ...


def consumer_spec(ack_wait_seconds: float) -> ConsumerSpec:
    return ConsumerSpec(
        stream="BOLETO",
        subject=SUBJECT_BOLETOS_REDATED,
        durable=DURABLE,
        ack_wait_seconds=ack_wait_seconds,
        max_deliver=10,
        fetch_batch=8,
    )


class RedatedHandler:
    def __init__(self, store: Redates, on_queued: Callable[[], None]) -> None:
        self._store = store
        self._on_queued = on_queued

    async def __call__(self, deliveries: Sequence[Delivery[events_pb2.BoletosRedated]]) -> None:
        redates: list[Redate] = []
        for delivery in deliveries:
            for item in delivery.event.boletos:
                try:
                    redates.append(Redate.from_event(item))
                except InvalidBoletoMail as exc:
                    # No replica could read it either; the rest of the batch goes on.
                    log.error("mailer.bad_redate", upload_id=item.upload_id, error=str(exc))
        try:
            done = await asyncio.to_thread(self._store.apply_redates, redates)
        except Exception:
            log.exception("mailer.redate_failed")
            raise RetryLater(RETRY_SECONDS) from None
        for redate in redates:
            log.info(
                "mailer.boleto_redated",
                upload_id=redate.upload_id,
                debt_id=redate.debt_id,
                instruction_id=redate.instruction_id,
                due_date=redate.due_date.isoformat(),
                outcome=done.outcomes.get(redate.instruction_id, "ignored"),
            )
        queued = done.count("queued")
        if queued:
            CREATED_BY_KIND.labels(DeliveryKind.UPDATED.label).inc(queued)
            self._on_queued()
        if done.count("unknown"):
            # The boleto's own e-mail has not reached this store yet: the batch comes again
            # (what was applied of it is recorded, and a repeat changes nothing).
            raise RetryLater(RETRY_SECONDS)


def redated_consumer(
    js: JetStreamContext, spec: ConsumerSpec, handler: RedatedHandler
) -> PullConsumer[events_pb2.BoletosRedated]:
    return PullConsumer(
        js, spec, events_pb2.BoletosRedated.FromString, handler, log, per_message=False
    )
