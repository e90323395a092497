"""Sends queued deliveries: fetch the PDF, compose, send over SMTP, record the outcome.

Exactly once, as far as SMTP allows:
- a delivery is claimed (status sending, with a lease) before its message goes out, and the
  lease is renewed while the worker holds it, so a slow or rate-limited server never lets a
  second worker take it;
- each outcome is recorded as soon as the server answers (see recorder.py), so a crash
  (kill -9) sends again at most the messages that were on the wire: one per SMTP connection,
  with the same Message-ID, derived from the debt id and the kind of e-mail, so the copy is
  recognisable;
- a message whose reply never came after it was handed over is uncertain, not retried: it
  may have been delivered, and a person decides (RetryFailed with include_uncertain).

Boleto e-mails and the notices that follow them (reminders, overdue notices, receipts, the
updated boleto after a new due date) share all of this; a reminder, overdue notice or updated
boleto of a boleto the bank reported settled by the time it is claimed is dropped instead of
sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from opentelemetry import trace
from prometheus_client import Counter

from boletos.platform import trace_context, tracing
from boletos.platform.logs import get_logger
from boletos.platform.outbox import Event
from mailer_service.domain.backoff import MAX_DELAY_SECONDS, retry_delay
from mailer_service.domain.delivery import (
    DeliveryKey,
    DeliveryKind,
    DeliveryStatus,
    Outcome,
    Queued,
)
from mailer_service.domain.errors import MailCompositionError, PdfUnavailable
from mailer_service.domain.failures import PermanentFailure, TemporaryFailure, UncertainDelivery
from mailer_service.domain.notices import compose_delivery, needs_pdf
from mailer_service.domain.settings import MailSettings
from mailer_service.service.metrics import SENT_BY_KIND, SKIPPED_SETTLED
from mailer_service.service.recorder import Recorder

log = get_logger("mailer")

# Counted once the outcome is committed: a crash before that counts nothing twice.
SENT_TOTAL = Counter("boletos_emails_sent_total", "E-mails the SMTP server accepted.")
FAILED_TOTAL = Counter("boletos_emails_failed_total", "E-mails given up on for good.")
RETRIED_TOTAL = Counter("boletos_email_retries_total", "Failed attempts scheduled to retry.")
UNCERTAIN_TOTAL = Counter(
    "boletos_emails_uncertain_total",
    "E-mails handed over whole whose acceptance was never heard; not sent again unasked.",
)

PENDING, SENT, FAILED, UNCERTAIN = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNCERTAIN,
)
# A PDF not to be had yet (the boleto service restarting, say) is asked for again this soon;
# the wait costs the delivery none of its attempts.
PDF_RETRY_SECONDS = 5.0

# Starts fetching the PDFs of the debts given, in order; each arrives when it can.
PdfPrefetch = Callable[[Sequence[str]], Mapping[str, Awaitable[bytes]]]


class Accepted(Protocol):
    """The server's reply once it took responsibility for a message."""

    @property
    def code(self) -> int: ...


class Sender(Protocol):
    """Sends one composed message; raises TemporaryFailure, PermanentFailure or
    UncertainDelivery."""

    async def send(self, sender: str, recipient: str, data: bytes) -> Accepted: ...


class DeliveryQueue(Protocol):
    """Where deliveries wait, are claimed with a lease, and their outcomes are recorded."""

    def claim(self, limit: int, lease: dt.timedelta) -> list[Queued]: ...

    def renew(self, keys: Sequence[DeliveryKey], lease: dt.timedelta) -> int: ...

    def record(self, outcomes: Sequence[Outcome], events: Sequence[Event]) -> None: ...

    def release(self, keys: Sequence[DeliveryKey]) -> None: ...


# Claims in flight at once: while one is finishing and the next claimed, the other keeps
# every SMTP connection busy.
LANES = 2
# Messages claimed per connection and round: enough that claiming costs little beside sending.
CLAIM_PER_CONNECTION = 8


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 5.0
    cap_seconds: float = MAX_DELAY_SECONDS
    lease_seconds: float = 120.0


class DeliveryWorker:
    def __init__(
        self,
        store: DeliveryQueue,
        sender: Sender,
        prefetch_pdfs: PdfPrefetch,
        mail: MailSettings,
        policy: RetryPolicy,
        concurrency: int,
        on_commit: Callable[[], None],
        rate_per_second: float = 0.0,
    ) -> None:
        self._store = store
        self._sender = sender
        self._prefetch_pdfs = prefetch_pdfs
        self._mail = mail
        self._policy = policy
        self._concurrency = concurrency
        self._on_commit = on_commit
        self._claim_size = claim_size(concurrency, rate_per_second, policy.lease_seconds)
        self._recorder = Recorder(store, self._committed)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._random = random.Random()
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self.uncertain = 0
        # Notices of boletos settled before they went out.
        self.dropped = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the deliveries in hand and record them; claim no more."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        gate = asyncio.Semaphore(self._concurrency)
        try:
            await asyncio.gather(*(self._lane(gate) for _ in range(LANES)))
        finally:
            await self._recorder.flush()

    async def _lane(self, gate: asyncio.Semaphore) -> None:
        lease = dt.timedelta(seconds=self._policy.lease_seconds)
        while not self._stopping.is_set():
            claimed = await asyncio.to_thread(self._store.claim, self._claim_size, lease)
            if not claimed:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                except TimeoutError:
                    pass
                continue
            untried = await self._deliver_all(claimed, gate, lease)
            await asyncio.to_thread(self._store.release, untried)

    async def _deliver_all(
        self, claimed: list[Queued], gate: asyncio.Semaphore, lease: dt.timedelta
    ) -> list[DeliveryKey]:
        """Sends and records each claimed delivery; returns those left untried because the
        worker is stopping: a stop waits for the messages being sent, never for a claim."""
        # One span for the claim, linked to the trace of each e-mail in it: the PDF fetches
        # it makes serve them all. Each e-mail's own span continues the trace it was queued in.
        # Without a tracer nothing keeps links: reading each e-mail's context for them is spared.
        links = (
            [
                link
                for item in claimed
                for link in trace_context.link_to(trace_context.from_text(item.trace_context))
            ]
            if tracing.installed() is not None
            else []
        )
        with tracing.span("mailer.deliver_batch", links=links, attributes={"count": len(claimed)}):
            return await self._deliver_claimed(claimed, gate, lease)

    async def _deliver_claimed(
        self, claimed: list[Queued], gate: asyncio.Semaphore, lease: dt.timedelta
    ) -> list[DeliveryKey]:
        held = {item.key for item in claimed}
        renewing = asyncio.create_task(self._renew(held, lease), name="renew-leases")
        pdfs = self._prefetch_pdfs(
            [item.mail.debt_id for item in claimed if needs_pdf(item.kind) and not _moot(item)]
        )
        waiting_for_pdf = 0
        why = ""

        async def one(item: Queued) -> bool:
            with _sending_span(item):
                return await attempt(item)

        async def attempt(item: Queued) -> bool:
            nonlocal waiting_for_pdf, why
            if _moot(item):
                # Paid (or written off) after its notice was queued: recorded as dropped,
                # and no SMTP connection is needed for that.
                trace.get_current_span().set_attribute("status", "dropped")
                await self._recorder.record(self._dropped(item))
                assert item.settled_as is not None
                SKIPPED_SETTLED.labels(item.kind.label, item.settled_as.label, "at_send").inc()
                held.discard(item.key)
                return True
            async with gate:
                if self._stopping.is_set():
                    return False
                pdf = pdfs[item.mail.debt_id] if needs_pdf(item.kind) else None
                outcome = await self._deliver(item, pdf)
                trace.get_current_span().set_attribute("status", outcome.status.name.lower())
                if outcome.refund_attempt:
                    waiting_for_pdf += 1
                    why = outcome.error
                # The connection is taken again only once this outcome is committed.
                await self._recorder.record(outcome)
                held.discard(item.key)
                return True

        try:
            tried = await asyncio.gather(*(one(item) for item in claimed))
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
        if waiting_for_pdf:
            log.warning(
                "mailer.pdf_unavailable",
                deliveries=waiting_for_pdf,
                retry_in=PDF_RETRY_SECONDS,
                error=why,
            )
        return [item.key for item, done in zip(claimed, tried, strict=True) if not done]

    async def _renew(self, held: set[DeliveryKey], lease: dt.timedelta) -> None:
        """Keeps the lease of what this lane still holds, however slow the server."""
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await asyncio.to_thread(self._store.renew, sorted(held), lease)
            except Exception as exc:  # noqa: BLE001 - the next turn tries again
                log.warning("mailer.renew_failed", deliveries=len(held), error=repr(exc))

    async def _deliver(self, item: Queued, pdf_arrival: Awaitable[bytes] | None) -> Outcome:
        pdf = None
        if pdf_arrival is not None:
            try:
                pdf = await pdf_arrival
            except PdfUnavailable as exc:
                return self._later(item, f"boleto PDF not available yet: {exc}")
        try:
            mail = compose_delivery(item, pdf, self._mail)
            accepted = await self._sender.send(
                mail.envelope.sender, mail.envelope.recipient, mail.data
            )
        except MailCompositionError as exc:
            return self._failed(item, f"cannot compose the e-mail: {exc}", 0)
        except UncertainDelivery as exc:
            return self._uncertain(item, exc.reason)
        except PermanentFailure as exc:
            return self._failed(item, exc.reason, exc.smtp_code)
        except TemporaryFailure as exc:
            return self._retry(item, exc.reason, exc.smtp_code)
        except Exception as exc:  # noqa: BLE001 - anything else: try again later
            return self._retry(item, f"{type(exc).__name__}: {exc}", 0)
        return Outcome(
            item.mail.debt_id,
            item.mail.upload_id,
            SENT,
            message_id=mail.envelope.message_id,
            smtp_code=accepted.code,
            kind=item.kind,
        )

    def _dropped(self, item: Queued) -> Outcome:
        assert item.settled_as is not None
        log.info(
            "mailer.notice_dropped",
            upload_id=item.mail.upload_id,
            debt_id=item.mail.debt_id,
            kind=item.kind.label,
            settled_as=item.settled_as.label,
        )
        return Outcome(
            item.mail.debt_id,
            item.mail.upload_id,
            PENDING,
            error=f"not sent: the boleto was reported {item.settled_as.label}",
            kind=item.kind,
            dropped=True,
        )

    def _later(self, item: Queued, reason: str) -> Outcome:
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=PDF_RETRY_SECONDS)
        return Outcome(
            item.mail.debt_id,
            item.mail.upload_id,
            PENDING,
            error=reason,
            retry_at=retry_at,
            refund_attempt=True,
            kind=item.kind,
        )

    def _retry(self, item: Queued, reason: str, code: int) -> Outcome:
        tries = item.attempts_this_round
        if tries >= self._policy.max_attempts:
            return self._failed(item, f"gave up after {tries} attempts: {reason}", code)
        policy = self._policy
        delay = retry_delay(tries, policy.base_seconds, policy.cap_seconds, self._random)
        log.warning(
            "mailer.retry",
            upload_id=item.mail.upload_id,
            debt_id=item.mail.debt_id,
            kind=item.kind.label,
            attempt=item.attempts,
            smtp_code=code,
            reason=reason,
            retry_in=round(delay, 1),
        )
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        return Outcome(
            item.mail.debt_id,
            item.mail.upload_id,
            PENDING,
            error=reason,
            smtp_code=code,
            retry_at=retry_at,
            kind=item.kind,
        )

    def _failed(self, item: Queued, reason: str, code: int) -> Outcome:
        log.error(
            "mailer.failed",
            upload_id=item.mail.upload_id,
            debt_id=item.mail.debt_id,
            kind=item.kind.label,
            smtp_code=code,
            reason=reason,
        )
        return Outcome(
            item.mail.debt_id,
            item.mail.upload_id,
            FAILED,
            error=reason,
            smtp_code=code,
            kind=item.kind,
        )

    def _uncertain(self, item: Queued, reason: str) -> Outcome:
        log.error(
            "mailer.uncertain",
            upload_id=item.mail.upload_id,
            debt_id=item.mail.debt_id,
            kind=item.kind.label,
            reason=reason,
            message_id_kept=True,
        )
        return Outcome(
            item.mail.debt_id, item.mail.upload_id, UNCERTAIN, error=reason, kind=item.kind
        )

    def _committed(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.dropped:
                self.dropped += 1
            elif outcome.status == SENT:
                self.sent += 1
                SENT_TOTAL.inc()
                SENT_BY_KIND.labels(outcome.kind.label).inc()
            elif outcome.status == FAILED:
                self.failed += 1
                FAILED_TOTAL.inc()
            elif outcome.status == UNCERTAIN:
                self.uncertain += 1
                UNCERTAIN_TOTAL.inc()
            elif not outcome.refund_attempt:
                self.retried += 1
                RETRIED_TOTAL.inc()
        self._on_commit()


def _moot(item: Queued) -> bool:
    """A reminder, overdue notice or updated boleto of a boleto already paid, written off or
    refused: it would ask for a payment that is made or can no longer be."""
    return item.settled_as is not None and item.kind in (
        DeliveryKind.REMINDER,
        DeliveryKind.OVERDUE_NOTICE,
        DeliveryKind.UPDATED,
    )


@contextmanager
def _sending_span(item: Queued) -> Iterator[None]:
    """One e-mail's attempt, in the trace its boleto was issued in. Ids only on a span: the
    address, the name and the amounts are personal data."""
    batch = trace.get_current_span().get_span_context()
    with tracing.span(
        "mailer.send",
        parent=trace_context.from_text(item.trace_context),
        links=[trace.Link(batch)] if batch.is_valid else [],
        attributes={
            "upload_id": item.mail.upload_id,
            "debt_id": item.mail.debt_id,
            "kind": item.kind.label,
            "attempt": item.attempts,
        },
    ):
        yield


def claim_size(connections: int, rate_per_second: float, lease_seconds: float) -> int:
    """How many deliveries to claim per round: enough to keep the connections busy, but no
    more than a rate-limited sender gets through in a third of a lease."""
    size = connections * CLAIM_PER_CONNECTION
    if rate_per_second > 0:
        size = min(size, max(1, int(rate_per_second * lease_seconds / 3)))
    return size
