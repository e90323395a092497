"""Follows the boleto service's BoletosPaid events into each upload's paid counters and each
debt's report line.

A durable pull consumer shared by every replica, like the progress consumers: a fetched
batch is recorded in one transaction and acked after it commits. The effect is idempotent
per debt (see store.payments), so a redelivered event or a retorno processed twice counts
nothing twice. A payment for a debt this store does not know is acked and logged: waiting
would not make the debt appear, and holding it back would hold every payment behind it. So
is one whose amount no bank reports (NATS is a boundary: what comes over it is checked),
which is never written, so the debt's real payment still counts when it comes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from nats.js import JetStreamContext
from prometheus_client import Counter

from boletos.platform import nats_streams as streams
from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer
from boletos.platform.ids import is_canonical_uuid
from boletos.platform.logs import get_logger
from boletos.v1 import events_pb2
from ingest_service.domain.payments import RawPayment, read_payments
from ingest_service.messaging.progress_consumer import DURABLE, FETCH_BATCH
from ingest_service.store.repository import IngestStore

log = get_logger("payments")

SPEC = ConsumerSpec(
    stream="BOLETO",
    subject=streams.SUBJECT_BOLETOS_PAID,
    durable=f"{DURABLE}-{streams.SUBJECT_BOLETOS_PAID.replace('.', '-')}",
    max_deliver=20,
    fetch_batch=FETCH_BATCH,
)
# (stream, durable), for the consumer-lag gauge.
CONSUMER = (SPEC.stream, SPEC.durable)

# At most this many unknown debt ids per log line: a stray retorno could name thousands.
LOGGED_IDS = 20

PAID_DEBTS = Counter(
    "boletos_ingest_debts_paid_total", "Debts the bank reported paid, each counted once."
)
PAID_CENTS = Counter(
    "boletos_ingest_paid_cents_total", "Sum paid for the debts counted paid, in centavos."
)
UNMATCHED = Counter(
    "boletos_ingest_payments_unmatched_total",
    "Payments recorded on no debt: for a debt this store does not know, or unreadable.",
)


REFUSED = Counter(
    "boletos_ingest_payments_refused_total",
    "Payments refused for an amount no bank reports (zero or less, or above a barcode's).",
)

# A payment as the event carries it, and the upload it names (for the logs only).
Paid = tuple[RawPayment, str]


def decode(data: bytes) -> list[Paid]:
    paid = events_pb2.BoletosPaid.FromString(data).boletos
    return [((p.debt_id, p.paid_cents, p.paid_on), p.upload_id) for p in paid]


async def record(store: IngestStore, deliveries: Sequence[Delivery[list[Paid]]]) -> None:
    """Records a fetched batch's payments in one transaction."""
    paid = [item for d in deliveries for item in d.event]
    read = read_payments(payment for payment, _upload in paid)
    done = await asyncio.to_thread(store.record_payments, read.payments)
    PAID_DEBTS.inc(done.debts)
    PAID_CENTS.inc(done.cents)
    UNMATCHED.inc(len(done.unknown) + len(read.unreadable))
    if done.debts or done.already_paid or read.repeated:
        log.info(
            "payments.recorded",
            debts=done.debts,
            paid_cents=done.cents,
            uploads=len(done.by_upload),
            # Heard of before (redelivered, or a retorno processed again): counted once.
            already_paid=done.already_paid + read.repeated,
            undated=read.undated,
        )
    if done.unknown:
        log.warning(
            "payments.unknown_debts",
            count=len(done.unknown),
            debt_ids=[str(uuid.UUID(bytes=k)) for k in done.unknown[:LOGGED_IDS]],
        )
    if read.refused:
        _log_refused(read.refused, paid)
    if read.unreadable:
        # The values themselves are not logged: not being ids, they could be anything.
        log.warning("payments.unreadable", count=len(read.unreadable))


def _log_refused(refused: Sequence[str], paid: Sequence[Paid]) -> None:
    """One line per refused payment: a person must ask the bank (or whoever published it)
    what it was. The ids are well-formed; an upload id that is not is left out."""
    REFUSED.inc(len(refused))
    uploads = {payment[0]: upload for payment, upload in paid}
    for debt_id in refused[:LOGGED_IDS]:
        upload_id = uploads.get(debt_id, "")
        log.error(
            "payments.refused",
            debt_id=debt_id,
            upload_id=upload_id if is_canonical_uuid(upload_id) else "",
            reason="amount is not one a bank reports",
        )
    if len(refused) > LOGGED_IDS:
        log.error("payments.refused_more", count=len(refused) - LOGGED_IDS)


def payments_consumer(store: IngestStore, js: JetStreamContext) -> PullConsumer[list[Paid]]:
    async def handle(deliveries: Sequence[Delivery[list[Paid]]]) -> None:
        await record(store, deliveries)

    return PullConsumer(js, SPEC, decode, handle, log, per_message=False)
