"""Records what the bank reported of each boleto (paid, written off, rejected), as the boleto
service announces it, so that a settled boleto gets no more notices; queues a receipt for
each payment when receipts are on.

One durable pull consumer per subject, shared by every replica; a message is acked once its
reports are committed, and a report already recorded changes nothing, so a redelivered
message queues no second receipt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from nats.js import JetStreamContext

from boletos.platform.consumer import ConsumerSpec, Delivery, GiveUp, PullConsumer, RetryLater
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import (
    SUBJECT_BOLETOS_PAID,
    SUBJECT_BOLETOS_REJECTED,
    SUBJECT_BOLETOS_WRITTEN_OFF,
)
from boletos.v1 import events_pb2
from mailer_service.domain.delivery import DeliveryKind, Settlement
from mailer_service.domain.errors import InvalidBoletoMail
from mailer_service.domain.settlements import BankReport
from mailer_service.service.metrics import CREATED_BY_KIND

log = get_logger("mailer")

RETRY_SECONDS = 5.0

E = TypeVar("E", events_pb2.BoletosPaid, events_pb2.BoletosWrittenOff, events_pb2.BoletosRejected)


class SettledCounts(Protocol):
    recorded: int
    receipts: int


class BankReports(Protocol):
    def record_bank_reports(
        self, reports: Sequence[BankReport], receipts: bool
    ) -> SettledCounts: ...


def _paid(event: events_pb2.BoletosPaid) -> list[BankReport]:
    return [BankReport.paid(b) for b in event.boletos]


def _written_off(event: events_pb2.BoletosWrittenOff) -> list[BankReport]:
    return [BankReport.status_change(b, Settlement.WRITTEN_OFF) for b in event.boletos]


def _rejected(event: events_pb2.BoletosRejected) -> list[BankReport]:
    return [BankReport.status_change(b, Settlement.REJECTED) for b in event.boletos]


class BankReportsHandler(Generic[E]):
    def __init__(
        self,
        store: BankReports,
        reports: Callable[[E], list[BankReport]],
        receipts: bool,
        on_queued: Callable[[], None],
    ) -> None:
        self._store = store
        self._reports: Callable[[E], list[BankReport]] = reports
        self._receipts = receipts
        self._on_queued = on_queued

    async def __call__(self, deliveries: Sequence[Delivery[E]]) -> None:
        for delivery in deliveries:
            try:
                reports = self._reports(delivery.event)
            except InvalidBoletoMail as exc:
                log.error("mailer.bad_bank_report", error=str(exc))
                raise GiveUp from None
            try:
                settled = await asyncio.to_thread(
                    self._store.record_bank_reports, reports, self._receipts
                )
            except Exception:
                log.exception("mailer.bank_report_failed")
                raise RetryLater(RETRY_SECONDS) from None
            if settled.receipts:
                CREATED_BY_KIND.labels(DeliveryKind.RECEIPT.label).inc(settled.receipts)
                self._on_queued()


def bank_report_consumers(
    js: JetStreamContext,
    store: BankReports,
    ack_wait_seconds: float,
    receipts: bool,
    on_queued: Callable[[], None],
) -> list[tuple[str, PullConsumer[Any]]]:
    """The consumers of the three reports, each with the name its worker runs under."""

    def spec(subject: str, durable: str) -> ConsumerSpec:
        return ConsumerSpec(
            stream="BOLETO",
            subject=subject,
            durable=durable,
            ack_wait_seconds=ack_wait_seconds,
            max_deliver=10,
            fetch_batch=8,
        )

    return [
        (
            "bank-payments",
            PullConsumer(
                js,
                spec(SUBJECT_BOLETOS_PAID, "mailer-boletos-paid"),
                events_pb2.BoletosPaid.FromString,
                BankReportsHandler(store, _paid, receipts, on_queued),
                log,
            ),
        ),
        (
            "bank-write-offs",
            PullConsumer(
                js,
                spec(SUBJECT_BOLETOS_WRITTEN_OFF, "mailer-boletos-written-off"),
                events_pb2.BoletosWrittenOff.FromString,
                BankReportsHandler(store, _written_off, receipts, on_queued),
                log,
            ),
        ),
        (
            "bank-rejections",
            PullConsumer(
                js,
                spec(SUBJECT_BOLETOS_REJECTED, "mailer-boletos-rejected"),
                events_pb2.BoletosRejected.FromString,
                BankReportsHandler(store, _rejected, receipts, on_queued),
                log,
            ),
        ),
    ]
