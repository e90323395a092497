"""Issues boletos for the debts announced on the INGEST stream.

One durable pull consumer is shared by every replica, so each message goes to one of them.
A message is acked only after its boletos and their events are committed; the store skips
debts it already handled, so a redelivery (after a crash, or an ack that never arrived)
issues nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from nats.js import JetStreamContext
from prometheus_client import Counter

from boleto_service.domain.beneficiaries import UnknownBeneficiary
from boleto_service.service.issuing import IssueBoletos
from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer, RetryLater
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_DEBTS_IMPORTED
from boletos.v1 import events_pb2

log = get_logger("boleto")

DURABLE = "boleto-service"
RETRY_SECONDS = 5.0

ISSUED = Counter("boletos_boletos_issued_total", "Boletos issued and committed.")
FAILED = Counter("boletos_boletos_failed_total", "Debts for which no boleto could be issued.")
UNKNOWN_BENEFICIARY = Counter(
    "boletos_debts_unknown_beneficiary_total",
    "Batches of debts for a beneficiary this service has no configuration for (retried).",
)


def consumer_spec(ack_wait_seconds: float, fetch_batch: int) -> ConsumerSpec:
    return ConsumerSpec(
        stream="INGEST",
        subject=SUBJECT_DEBTS_IMPORTED,
        durable=DURABLE,
        ack_wait_seconds=ack_wait_seconds,
        max_deliver=10,
        max_ack_pending=64,
        fetch_batch=fetch_batch,
    )


class DebtsHandler:
    def __init__(self, issue: IssueBoletos, on_commit: Callable[[], None]) -> None:
        self._issue = issue
        self._on_commit = on_commit
        self.issued = 0
        self.failed = 0

    async def __call__(self, deliveries: Sequence[Delivery[events_pb2.DebtsImported]]) -> None:
        for delivery in deliveries:
            await self._handle(delivery.event)

    async def _handle(self, event: events_pb2.DebtsImported) -> None:
        try:
            issued, failed = await asyncio.to_thread(self._issue, event)
        except UnknownBeneficiary as exc:
            # Ingest accepted the key, so the two services' beneficiaries differ: a person
            # must align them; the debts wait for that instead of being refused for good.
            UNKNOWN_BENEFICIARY.inc()
            log.error(
                "boleto.unknown_beneficiary",
                upload_id=event.upload_id,
                batch=event.batch_seq,
                error=str(exc),
            )
            raise RetryLater(RETRY_SECONDS) from None
        except Exception:
            log.exception("boleto.batch_failed", upload_id=event.upload_id, batch=event.batch_seq)
            raise RetryLater(RETRY_SECONDS) from None
        self._on_commit()
        self.issued += issued
        self.failed += failed
        ISSUED.inc(issued)
        FAILED.inc(failed)
        log.info(
            "boleto.batch_issued",
            upload_id=event.upload_id,
            batch=event.batch_seq,
            issued=issued,
            failed=failed,
            skipped=len(event.debts) - issued - failed,
        )


def debts_consumer(
    js: JetStreamContext, spec: ConsumerSpec, handler: DebtsHandler
) -> PullConsumer[events_pb2.DebtsImported]:
    return PullConsumer(js, spec, events_pb2.DebtsImported.FromString, handler, log)
