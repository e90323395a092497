"""Sends queued deliveries: fetch the PDF, compose, send over SMTP, record the outcome.

Exactly once, honestly: a delivery is claimed (status sending, with a lease) before its
message goes out, and recorded as sent after the SMTP server accepted it. If the process
dies in between, the lease runs out and the message is sent again, with the same
Message-ID, derived from the debt id, so the copy is recognisable downstream. Nothing is
lost; at worst one debtor gets a recognisable duplicate after a crash at that instant.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Counter

from boletos.platform.logs import get_logger
from mailer_service.domain.backoff import MAX_DELAY_SECONDS, retry_delay
from mailer_service.domain.compose import compose_mail
from mailer_service.domain.delivery import DeliveryStatus, Outcome, Queued
from mailer_service.domain.errors import MailCompositionError
from mailer_service.domain.failures import PermanentFailure, TemporaryFailure
from mailer_service.domain.settings import MailSettings

log = get_logger("mailer")

# Counted once the outcome is committed: a crash before that counts nothing twice.
SENT_TOTAL = Counter("boletos_emails_sent_total", "E-mails the SMTP server accepted.")
FAILED_TOTAL = Counter("boletos_emails_failed_total", "E-mails given up on for good.")
RETRIED_TOTAL = Counter("boletos_email_retries_total", "Failed attempts scheduled to retry.")

PENDING, SENT, FAILED = DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED

# Starts fetching the PDFs of the debts given, in order; each arrives when it can.
PdfPrefetch = Callable[[Sequence[str]], Mapping[str, Awaitable[bytes]]]


class Accepted(Protocol):
    """The server's reply once it took responsibility for a message."""

    @property
    def code(self) -> int: ...


class Sender(Protocol):
    """Sends one composed message; raises TemporaryFailure or PermanentFailure."""

    async def send(self, sender: str, recipient: str, data: bytes) -> Accepted: ...


class DeliveryQueue(Protocol):
    """Where deliveries wait, are claimed with a lease, and their outcomes are recorded."""

    def claim(self, limit: int, lease: dt.timedelta) -> list[Queued]: ...

    def record(self, outcomes: Sequence[Outcome]) -> None: ...

    def release(self, debt_ids: Sequence[str]) -> None: ...


# Claims in flight at once: while one is recorded and the next claimed, the other keeps
# every SMTP connection busy.
LANES = 2


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
    ) -> None:
        self._store = store
        self._sender = sender
        self._prefetch_pdfs = prefetch_pdfs
        self._mail = mail
        self._policy = policy
        self._concurrency = concurrency
        self._on_commit = on_commit
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._random = random.Random()
        self.sent = 0
        self.failed = 0
        self.retried = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the deliveries in hand and record them; claim no more."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        gate = asyncio.Semaphore(self._concurrency)
        await asyncio.gather(*(self._lane(gate) for _ in range(LANES)))

    async def _lane(self, gate: asyncio.Semaphore) -> None:
        lease = dt.timedelta(seconds=self._policy.lease_seconds)
        while not self._stopping.is_set():
            # Enough per round that the database round trips are small beside the sending.
            claimed = await asyncio.to_thread(self._store.claim, self._concurrency * 8, lease)
            if not claimed:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                except TimeoutError:
                    pass
                continue
            outcomes, untried = await self._deliver_all(claimed, gate)
            await asyncio.to_thread(self._store.record, outcomes)
            await asyncio.to_thread(self._store.release, untried)
            self._on_commit()
            _count(outcomes)

    async def _deliver_all(
        self, claimed: list[Queued], gate: asyncio.Semaphore
    ) -> tuple[list[Outcome], list[str]]:
        """The outcomes of the messages tried, and the debts left untried because the worker
        is stopping: a stop waits for the messages being sent, never for a whole claim."""
        pdfs = self._prefetch_pdfs([item.mail.debt_id for item in claimed])

        async def one(item: Queued) -> Outcome | None:
            async with gate:
                if self._stopping.is_set():
                    return None
                return await self._deliver(item, pdfs[item.mail.debt_id])

        tasks = [asyncio.create_task(one(item)) for item in claimed]
        try:
            results = await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            # Past the grace period: keep what the SMTP server already accepted, or those
            # debtors would get a second copy once the lease runs out.
            finished = [
                t.result() for t in tasks if t.done() and not t.cancelled() and not t.exception()
            ]
            self._store.record([o for o in finished if o is not None])
            raise
        outcomes = [o for o in results if o is not None]
        untried = [item.mail.debt_id for item, o in zip(claimed, results, strict=True) if o is None]
        return outcomes, untried

    async def _deliver(self, item: Queued, pdf_arrival: Awaitable[bytes]) -> Outcome:
        try:
            pdf = await pdf_arrival
            mail = compose_mail(item.mail, pdf, self._mail)
            accepted = await self._sender.send(
                mail.envelope.sender, mail.envelope.recipient, mail.data
            )
        except MailCompositionError as exc:
            return self._failed(item, f"cannot compose the e-mail: {exc}", 0)
        except PermanentFailure as exc:
            return self._failed(item, exc.reason, exc.smtp_code)
        except TemporaryFailure as exc:
            return self._retry(item, exc.reason, exc.smtp_code)
        except Exception as exc:  # noqa: BLE001 - the PDF fetch and the like: try again later
            return self._retry(item, f"{type(exc).__name__}: {exc}", 0)
        self.sent += 1
        return Outcome(
            item.mail.debt_id,
            item.mail.upload_id,
            SENT,
            message_id=mail.envelope.message_id,
            smtp_code=accepted.code,
        )

    def _retry(self, item: Queued, reason: str, code: int) -> Outcome:
        tries = item.attempts_this_round
        if tries >= self._policy.max_attempts:
            return self._failed(item, f"gave up after {tries} attempts: {reason}", code)
        delay = retry_delay(
            tries, self._policy.base_seconds, self._policy.cap_seconds, self._random
        )
        self.retried += 1
        log.warning(
            "mailer.retry",
            upload_id=item.mail.upload_id,
            debt_id=item.mail.debt_id,
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
        )

    def _failed(self, item: Queued, reason: str, code: int) -> Outcome:
        self.failed += 1
        log.error(
            "mailer.failed",
            upload_id=item.mail.upload_id,
            debt_id=item.mail.debt_id,
            smtp_code=code,
            reason=reason,
        )
        return Outcome(item.mail.debt_id, item.mail.upload_id, FAILED, error=reason, smtp_code=code)


def _count(outcomes: list[Outcome]) -> None:
    totals = {SENT: SENT_TOTAL, FAILED: FAILED_TOTAL, PENDING: RETRIED_TOTAL}
    for outcome in outcomes:
        totals[outcome.status].inc()
