"""Issues boletos for the debts announced on the INGEST stream.

One durable pull consumer is shared by every replica, so each message goes to one of them.
A message is acked only after its boletos and their events are committed; the store skips
debts it already handled, so a redelivery (after a crash, or an ack that never arrived)
issues nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from prometheus_client import Counter

from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.service.issuing import (
    BoletoRecord,
    Failure,
    failed_event,
    issue,
    issued_event,
    today_in_brazil,
)
from boleto_service.store.repository import BoletoStore, LostRace
from boletos.platform import nats_streams as streams
from boletos.platform.logs import get_logger
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2

log = get_logger("boleto")

DURABLE = "boleto-service"
MAX_DELIVER = 10

ISSUED = Counter("boletos_boletos_issued_total", "Boletos issued and committed.")
FAILED = Counter("boletos_boletos_failed_total", "Debts for which no boleto could be issued.")


def consumer_config(ack_wait_seconds: int) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=DURABLE,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        filter_subject=streams.SUBJECT_DEBTS_IMPORTED,
        # How long a message fetched by a replica that died waits before another gets it.
        ack_wait=ack_wait_seconds,
        max_deliver=MAX_DELIVER,
        # At most this many unacked messages per consumer: bounds memory across replicas.
        max_ack_pending=64,
    )


class DebtsConsumer:
    def __init__(
        self,
        store: BoletoStore,
        js: JetStreamContext,
        issuer: BoletoIssuer,
        on_commit: Callable[[], None],
        fetch_batch: int = 4,
        ack_wait_seconds: int = 30,
        today: Callable[[], object] = today_in_brazil,
    ) -> None:
        self._ack_wait = ack_wait_seconds
        self._store = store
        self._js = js
        self._issuer = issuer
        self._on_commit = on_commit
        self._fetch_batch = fetch_batch
        self._today = today
        self._stopping = asyncio.Event()
        self.issued = 0
        self.failed = 0

    def stop(self) -> None:
        """Finish the messages in hand, ack them, and fetch no more."""
        self._stopping.set()

    async def run(self) -> None:
        sub = await self._js.pull_subscribe(
            streams.SUBJECT_DEBTS_IMPORTED,
            durable=DURABLE,
            stream="INGEST",
            config=consumer_config(self._ack_wait),
        )
        while not self._stopping.is_set():
            try:
                msgs = await sub.fetch(self._fetch_batch, timeout=1)
            except (NatsTimeoutError, TimeoutError):
                continue  # nothing to do for now
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep consuming through broker hiccups
                log.warning("boleto.fetch_failed", error=repr(exc))
                await asyncio.sleep(1)
                continue
            for msg in msgs:
                await self._handle(msg)

    async def _handle(self, msg) -> None:  # type: ignore[no-untyped-def]
        try:
            event = events_pb2.DebtsImported.FromString(msg.data)
        except Exception as exc:  # noqa: BLE001 - a message no replica can read
            log.error("boleto.bad_event", error=repr(exc), stream_seq=msg.metadata.sequence.stream)
            await msg.term()
            return
        try:
            issued, failed = await asyncio.to_thread(self._process, event)
        except Exception:  # noqa: BLE001 - redelivered after ack_wait
            log.exception("boleto.batch_failed", upload_id=event.upload_id, batch=event.batch_seq)
            await msg.nak(delay=5)
            return
        self._on_commit()
        await msg.ack_sync()
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

    def _process(self, event: events_pb2.DebtsImported) -> tuple[int, int]:
        debts = {d.debt_id: d for d in event.debts}
        today = self._today()

        def build(
            new_ids: list[str], first: int
        ) -> tuple[list[BoletoRecord], list[Failure], list[Event]]:
            records: list[BoletoRecord] = []
            failures: list[Failure] = []
            for offset, debt_id in enumerate(new_ids):
                outcome = issue(
                    self._issuer, event.upload_id, debts[debt_id], first + offset, today
                )
                (records if isinstance(outcome, BoletoRecord) else failures).append(outcome)
            source = f"{event.upload_id}:{event.batch_seq}"
            events: list[Event] = []
            if records:
                events.append(
                    (
                        streams.SUBJECT_BOLETOS_ISSUED,
                        f"boletos-issued:{source}",
                        issued_event(records),
                    )
                )
            if failures:
                for f in failures:
                    log.error(
                        "boleto.not_issued",
                        upload_id=f.upload_id,
                        debt_id=f.debt_id,
                        reason=f.reason,
                    )
                events.append(
                    (
                        streams.SUBJECT_BOLETOS_FAILED,
                        f"boletos-failed:{source}",
                        failed_event(failures),
                    )
                )
            return records, failures, events

        try:
            # Almost every message is new: skip the lookup and let the unique keys object.
            return self._store.issue_batch(list(debts), build, check_first=False)
        except LostRace:
            pass
        for _attempt in range(3):
            try:
                return self._store.issue_batch(list(debts), build)
            except LostRace:
                continue  # another replica is on the same message; skip what it stored
        return self._store.issue_batch(list(debts), build)
