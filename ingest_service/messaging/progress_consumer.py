"""Follows the other services' events to keep each upload's pipeline progress.

Durable pull consumers, shared by every replica of this service; a batch is acked only after
its effect is committed, and the effect is idempotent per debt, so a redelivery counts
nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from nats.js import JetStreamContext

from boletos.platform import nats_streams as streams
from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer, refuse
from boletos.platform.ids import is_canonical_uuid
from boletos.platform.logs import get_logger
from boletos.v1 import events_pb2
from ingest_service.store.repository import IngestStore

log = get_logger("progress")

DURABLE = "ingest-progress"
# The mailer reports a few e-mails per event, as its sends finish, while each batch costs a
# transaction and a round trip per message: a second's events are taken together (progress
# moves at most that much later).
FETCH_BATCH = 512
GATHER_SECONDS = 1.0

# (debt_id, upload_id, detail): the nosso número of an issued boleto, a failure's reason.
Item = tuple[str, str, str]


@dataclass(frozen=True)
class Route:
    stream: str
    subject: str
    stage: str
    outcome: int
    items: Callable[[bytes], list[Item]]

    @property
    def spec(self) -> ConsumerSpec:
        return ConsumerSpec(
            stream=self.stream,
            subject=self.subject,
            durable=f"{DURABLE}-{self.subject.replace('.', '-')}",
            max_deliver=20,
            fetch_batch=FETCH_BATCH,
            gather_seconds=GATHER_SECONDS,
        )


def _issued(data: bytes) -> list[Item]:
    boletos = events_pb2.BoletosIssued.FromString(data).boletos
    return [(b.debt_id, b.upload_id, b.nosso_numero) for b in boletos]


def _boleto_failed(data: bytes) -> list[Item]:
    failures = events_pb2.BoletosFailed.FromString(data).failures
    return [(f.debt_id, f.upload_id, f.reason) for f in failures]


def _sent(data: bytes) -> list[Item]:
    return [(e.debt_id, e.upload_id, "") for e in events_pb2.EmailsSent.FromString(data).emails]


def _email_failed(data: bytes) -> list[Item]:
    emails = events_pb2.EmailsFailed.FromString(data).emails
    return [(e.debt_id, e.upload_id, e.reason) for e in emails]


# A nosso número has at most 20 digits; a failure's reason is a code and a short text.
MAX_DETAIL_CHARS = 500


def checked(items: Iterable[Item]) -> tuple[list[Item], list[tuple[str, str]]]:
    """The items fit to record, and (id, why) for the others: ids this service never made
    (they key rows and name uploads), or a detail too long to keep. Whether a debt is the
    named upload's own is the store's to check."""
    good: list[Item] = []
    refused: list[tuple[str, str]] = []
    # A second's events name one upload or a few: each is checked once.
    uploads_seen: set[str] = set()
    for debt_id, upload_id, detail in items:
        if not is_canonical_uuid(debt_id):
            refused.append(("(malformed id)", "debt id is not a UUID"))
        elif upload_id not in uploads_seen and not is_canonical_uuid(upload_id):
            refused.append((debt_id, "upload id is not a UUID"))
        elif len(detail) > MAX_DETAIL_CHARS:
            refused.append((debt_id, f"detail longer than {MAX_DETAIL_CHARS} characters"))
        else:
            uploads_seen.add(upload_id)
            good.append((debt_id, upload_id, detail))
    return good, refused


ROUTES = (
    Route("BOLETO", streams.SUBJECT_BOLETOS_ISSUED, "boleto", 1, _issued),
    Route("BOLETO", streams.SUBJECT_BOLETOS_FAILED, "boleto", 2, _boleto_failed),
    Route("MAILER", streams.SUBJECT_EMAILS_SENT, "email", 1, _sent),
    Route("MAILER", streams.SUBJECT_EMAILS_FAILED, "email", 2, _email_failed),
)

# (stream, durable) of each route, for the consumer-lag gauge.
CONSUMERS = tuple((route.spec.stream, route.spec.durable) for route in ROUTES)


def progress_consumers(store: IngestStore, js: JetStreamContext) -> list[PullConsumer[list[Item]]]:
    """One consumer per route; each records a fetched batch in one transaction."""

    def consumer(route: Route) -> PullConsumer[list[Item]]:
        async def record(deliveries: Sequence[Delivery[list[Item]]]) -> None:
            items, refused = checked(item for d in deliveries for item in d.event)
            refuse(log, route.subject, refused)
            await asyncio.to_thread(store.record_stage, route.stage, route.outcome, items)

        return PullConsumer(js, route.spec, route.items, record, log, per_message=False)

    return [consumer(route) for route in ROUTES]
