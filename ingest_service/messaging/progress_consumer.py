"""Follows the other services' events to keep each upload's pipeline progress.

Durable pull consumers, shared by every replica of this service; a message is acked only
after its effect is committed, and the effect is idempotent per debt, so a redelivery
counts nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from boletos.platform import nats_streams as streams
from boletos.platform.logs import get_logger
from boletos.v1 import events_pb2
from ingest_service.store.repository import IngestStore

log = get_logger("progress")

DURABLE = "ingest-progress"
FETCH_BATCH = 64


# (debt_id, upload_id, detail): the nosso número of an issued boleto, a failure's reason.
Item = tuple[str, str, str]


@dataclass(frozen=True)
class _Route:
    stream: str
    subject: str
    stage: str
    outcome: int
    items: Callable[[bytes], list[Item]]


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


ROUTES = (
    _Route("BOLETO", streams.SUBJECT_BOLETOS_ISSUED, "boleto", 1, _issued),
    _Route("BOLETO", streams.SUBJECT_BOLETOS_FAILED, "boleto", 2, _boleto_failed),
    _Route("MAILER", streams.SUBJECT_EMAILS_SENT, "email", 1, _sent),
    _Route("MAILER", streams.SUBJECT_EMAILS_FAILED, "email", 2, _email_failed),
)


def durable_name(route: _Route) -> str:
    return f"{DURABLE}-{route.subject.replace('.', '-')}"


# (stream, durable) of each route, for the consumer-lag gauge.
CONSUMERS = tuple((route.stream, durable_name(route)) for route in ROUTES)


class ProgressConsumer:
    def __init__(self, store: IngestStore, js: JetStreamContext) -> None:
        self._store = store
        self._js = js

    async def run(self) -> None:
        await asyncio.gather(*(self._follow(route) for route in ROUTES))

    async def _follow(self, route: _Route) -> None:
        durable = durable_name(route)
        sub = await self._js.pull_subscribe(
            route.subject,
            durable=durable,
            stream=route.stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=60,
                max_deliver=20,
            ),
        )
        while True:
            try:
                msgs = await sub.fetch(FETCH_BATCH, timeout=1)
            except (NatsTimeoutError, TimeoutError):
                continue  # nothing to do for now
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep following through broker hiccups
                log.warning("progress.fetch_failed", subject=route.subject, error=repr(exc))
                await asyncio.sleep(1)
                continue
            items: list[Item] = []
            readable = []
            for msg in msgs:
                try:
                    items.extend(route.items(msg.data))
                except Exception as exc:  # noqa: BLE001 - a bad event must not block the rest
                    log.error("progress.bad_event", subject=route.subject, error=str(exc))
                    await msg.term()  # no replica can read it: never redeliver
                else:
                    readable.append(msg)
            await asyncio.to_thread(self._store.record_stage, route.stage, route.outcome, items)
            for msg in readable:
                await msg.ack()
