"""The notice schedule in the real store, on SQLite and PostgreSQL: what each look creates,
that no look or crash makes a second notice of a kind, what the bank's reports change, and
the notices' way through claims, outcomes and RetryFailed."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mailer_service.domain import BoletoMail
from mailer_service.domain.delivery import (
    DeliveryKind,
    DeliveryStatus,
    Outcome,
    Payment,
    Settlement,
)
from mailer_service.domain.schedule import Candidate, NoticePolicy, NoticeStage, Plan, plan
from mailer_service.domain.settlements import BankReport
from mailer_service.service.outcome_events import outcome_events
from mailer_service.service.reminders import NoticeScheduler
from mailer_service.store.deliveries import DeliveryStore
from mailer_service.store.engine import create_engine, upgrade_schema
from mailer_service.store.redates import RedateStore
from mailer_service.store.schedule import ScheduleStore
from mailer_service.store.settlements import SettlementStore
from mailer_service.store.tables import deliveries, notices

UPLOAD = str(uuid.uuid4())
TODAY = dt.date.today()
DUE = TODAY + dt.timedelta(days=20)
REMINDER_DAY = DUE - dt.timedelta(days=3)
OVERDUE_DAY = DUE + dt.timedelta(days=1)
LEASE = dt.timedelta(seconds=60)
REMINDER, OVERDUE, RECEIPT = (
    DeliveryKind.REMINDER,
    DeliveryKind.OVERDUE_NOTICE,
    DeliveryKind.RECEIPT,
)


@dataclass(frozen=True)
class Stores:
    """The mailer's stores on one database, as the service wires them."""

    deliveries: DeliveryStore
    settlements: SettlementStore
    schedule: ScheduleStore
    redates: RedateStore

    @classmethod
    def on(cls, engine: Engine) -> Stores:
        return cls(
            DeliveryStore(engine),
            SettlementStore(engine),
            ScheduleStore(engine),
            RedateStore(engine),
        )

    def record(self, outcomes: list[Outcome]) -> None:
        """The outcomes with the events reporting them, as the delivery worker records them."""
        self.deliveries.record(outcomes, outcome_events(outcomes))


@pytest.fixture
def stores(database_url: str) -> Iterator[Stores]:
    engine = create_engine(database_url)
    upgrade_schema(engine)
    try:
        yield Stores.on(engine)
    finally:
        engine.dispose()


def boletos(count: int, due: dt.date = DUE) -> list[BoletoMail]:
    return [
        BoletoMail(
            debt_id=str(uuid.uuid4()),
            upload_id=UPLOAD,
            payer_name=f"Pagador {i}",
            email=f"pagador{i}@example.com",
            amount_cents=10_000 + i,
            due_date=due,
            digitable_line="00190.00009 01234.567890 12345.678901 2 12340000123456",
            nosso_numero=f"{i:017d}",
            line=i + 2,
        )
        for i in range(count)
    ]


def send_all(stores: Stores) -> None:
    """Claims everything due and records it sent, as the delivery worker would."""
    while claimed := stores.deliveries.claim(100, LEASE):
        stores.record(
            [
                Outcome(
                    q.mail.debt_id,
                    q.mail.upload_id,
                    DeliveryStatus.SENT,
                    message_id=f"<{q.kind.label}-{q.mail.debt_id}@example.com>",
                    smtp_code=250,
                    kind=q.kind,
                )
                for q in claimed
            ]
        )


def queued_boletos(stores: Stores, count: int) -> list[BoletoMail]:
    mails = boletos(count)
    assert stores.deliveries.enqueue(mails) == count
    send_all(stores)
    return mails


def tick(stores: Stores, today: dt.date, batch: int = 1000) -> dict[DeliveryKind, int]:
    scheduler = NoticeScheduler(
        stores.schedule, NoticePolicy(), lambda: today, 60, lambda: None, batch
    )
    return asyncio.run(scheduler.tick()).created


def notice_rows(stores: Stores) -> list[tuple[str, int, int]]:
    n = notices.c
    with stores.deliveries.engine.connect() as conn:
        rows = conn.execute(sa.select(n.debt_id, n.kind, n.status)).all()
    return sorted((stores.deliveries._id(k), kind, status) for k, kind, status in rows)


def test_reminders_on_their_day_overdue_notices_after_and_each_only_once(stores):
    mails = queued_boletos(stores, 5)
    assert tick(stores, REMINDER_DAY - dt.timedelta(days=1)) == {}
    assert notice_rows(stores) == []

    assert tick(stores, REMINDER_DAY) == {REMINDER: 5}
    for _ in range(5):
        assert tick(stores, REMINDER_DAY) == {}
        assert tick(stores, DUE) == {}
    assert {kind for _, kind, _ in notice_rows(stores)} == {REMINDER}

    # The reminders go through the same claims and outcomes as the boleto e-mails.
    claimed = stores.deliveries.claim(100, LEASE)
    assert sorted((q.mail.debt_id, q.kind) for q in claimed) == sorted(
        (m.debt_id, REMINDER) for m in mails
    )
    assert all(q.settled_as is None and q.mail.email for q in claimed)
    send_all_claimed(stores, claimed)
    record = stores.deliveries.get(mails[0].debt_id, REMINDER)
    assert record is not None and record.status == DeliveryStatus.SENT
    assert record.message_id == f"<reminder-{mails[0].debt_id}@example.com>"
    assert record.email == mails[0].email and record.line == mails[0].line
    # The boleto e-mail's record is untouched by its reminder's.
    boleto = stores.deliveries.get(mails[0].debt_id)
    assert boleto is not None and boleto.message_id.startswith("<boleto-")

    assert tick(stores, OVERDUE_DAY) == {OVERDUE: 5}
    for day in (OVERDUE_DAY, OVERDUE_DAY + dt.timedelta(days=30)):
        assert tick(stores, day) == {}
    assert len(notice_rows(stores)) == 10
    assert set(stores.schedule.stages().values()) == {NoticeStage.DONE}


def send_all_claimed(stores: Stores, claimed: list) -> None:
    stores.record(
        [
            Outcome(
                q.mail.debt_id,
                q.mail.upload_id,
                DeliveryStatus.SENT,
                message_id=f"<{q.kind.label}-{q.mail.debt_id}@example.com>",
                kind=q.kind,
            )
            for q in claimed
        ]
    )


def test_the_store_itself_refuses_a_second_notice_of_a_kind(stores):
    (mail,) = queued_boletos(stores, 1)
    tick(stores, REMINDER_DAY)
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(sa.exc.IntegrityError), stores.deliveries.engine.begin() as conn:
        conn.execute(
            notices.insert().values(
                debt_id=stores.deliveries._key(mail.debt_id),
                kind=int(REMINDER),
                upload_id=UPLOAD,
                status=1,
                due_at=now,
                updated_at=now,
            )
        )
    assert len(notice_rows(stores)) == 1


def test_a_look_that_dies_half_way_leaves_nothing_and_the_next_makes_it_all(stores):
    mails = queued_boletos(stores, 30)
    looked = 0

    def dying(candidate: Candidate) -> Plan:
        nonlocal looked
        looked += 1
        if looked == 20:
            raise RuntimeError("the process died here")
        return plan(candidate, REMINDER_DAY, NoticePolicy())

    with pytest.raises(RuntimeError):
        stores.schedule.advance_schedule(DUE, REMINDER_DAY, dying, 1000)
    assert notice_rows(stores) == []
    assert set(stores.schedule.stages().values()) == {NoticeStage.AWAITING_REMINDER}

    # Small batches: several transactions, every boleto once.
    assert tick(stores, REMINDER_DAY, batch=7) == {REMINDER: 30}
    assert {d for d, _, _ in notice_rows(stores)} == {m.debt_id for m in mails}


def test_boletos_queued_before_the_upgrade_never_get_notices(stores):
    mails = queued_boletos(stores, 3)
    # As the previous release (or a replica of it) leaves them: no stage.
    with stores.deliveries.engine.begin() as conn:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.debt_id == stores.deliveries._key(mails[0].debt_id))
            .values(notice_stage=NoticeStage.NONE)
        )
    assert tick(stores, REMINDER_DAY) == {REMINDER: 2}
    assert tick(stores, OVERDUE_DAY) == {OVERDUE: 2}
    assert mails[0].debt_id not in {d for d, _, _ in notice_rows(stores)}


def test_a_notice_follows_only_a_boleto_e_mail_that_went_out(stores):
    mails = boletos(3)
    stores.deliveries.enqueue(mails)
    # The first is sent, the second failed for good, the third is still queued.
    claimed = {q.mail.debt_id: q for q in stores.deliveries.claim(100, LEASE)}
    stores.record(
        [
            Outcome(mails[0].debt_id, UPLOAD, DeliveryStatus.SENT, message_id="<x@y>"),
            Outcome(mails[1].debt_id, UPLOAD, DeliveryStatus.FAILED, error="550"),
        ]
    )
    stores.deliveries.release([(mails[2].debt_id, DeliveryKind.BOLETO)])
    assert set(claimed) == {m.debt_id for m in mails}
    assert tick(stores, REMINDER_DAY) == {REMINDER: 1}
    assert [d for d, _, _ in notice_rows(stores)] == [mails[0].debt_id]


def paid(mail: BoletoMail, cents: int | None = None) -> BankReport:
    return BankReport(
        debt_id=mail.debt_id,
        upload_id=mail.upload_id,
        outcome=Settlement.PAID,
        paid_cents=mail.amount_cents if cents is None else cents,
        fee_cents=150,
        paid_on=DUE - dt.timedelta(days=5),
    )


def off(mail: BoletoMail, outcome: Settlement = Settlement.WRITTEN_OFF) -> BankReport:
    return BankReport(debt_id=mail.debt_id, upload_id=mail.upload_id, outcome=outcome)


def test_settled_boletos_get_no_notices(stores):
    mails = queued_boletos(stores, 4)
    settled = stores.settlements.record_bank_reports(
        [paid(mails[0]), off(mails[1]), off(mails[2], Settlement.REJECTED)], receipts=False
    )
    assert (settled.recorded, settled.receipts) == (3, 0)
    assert tick(stores, REMINDER_DAY) == {REMINDER: 1}
    assert tick(stores, OVERDUE_DAY) == {OVERDUE: 1}
    assert {d for d, _, _ in notice_rows(stores)} == {mails[3].debt_id}


def test_a_payment_outranks_a_write_off_and_repeats_change_nothing(stores):
    mails = queued_boletos(stores, 3)
    assert (
        stores.settlements.record_bank_reports([off(mails[0]), paid(mails[1])], True).recorded == 2
    )
    # The same reports again (a redelivered event): nothing new, no second receipt.
    assert (
        stores.settlements.record_bank_reports([off(mails[0]), paid(mails[1])], True).recorded == 0
    )
    # Paid after a write-off: paid. Written off after a payment: still paid.
    again = stores.settlements.record_bank_reports([paid(mails[0], 9_999), off(mails[1])], True)
    assert (again.recorded, again.receipts) == (1, 1)
    assert stores.settlements.settlement(mails[0].debt_id) == (
        Settlement.PAID,
        Payment(9_999, DUE - dt.timedelta(days=5)),
    )
    assert stores.settlements.settlement(mails[1].debt_id) == (
        Settlement.PAID,
        Payment(mails[1].amount_cents, DUE - dt.timedelta(days=5)),
    )
    assert stores.settlements.settlement(mails[2].debt_id) is None
    # One report batch may name a debt twice; the payment wins there too.
    assert (
        stores.settlements.record_bank_reports([paid(mails[2]), off(mails[2])], False).recorded == 1
    )
    assert stores.settlements.settlement(mails[2].debt_id)[0] == Settlement.PAID


def test_a_payment_for_a_boleto_the_mailer_has_not_seen_yet_is_kept(stores):
    (early,) = boletos(1)
    assert stores.settlements.record_bank_reports([paid(early)], receipts=True).receipts == 0
    stores.deliveries.enqueue([early])
    send_all(stores)
    assert tick(stores, REMINDER_DAY) == {}
    assert stores.schedule.stages()[early.debt_id] == NoticeStage.DONE


def test_receipts_only_when_asked_and_once(stores):
    mails = queued_boletos(stores, 2)
    assert stores.settlements.record_bank_reports([paid(mails[0])], receipts=False).receipts == 0
    assert stores.settlements.record_bank_reports([paid(mails[1])], receipts=True).receipts == 1
    assert stores.settlements.record_bank_reports([paid(mails[1])], receipts=True).receipts == 0
    (receipt,) = stores.deliveries.claim(100, LEASE)
    assert (receipt.mail.debt_id, receipt.kind) == (mails[1].debt_id, RECEIPT)
    assert receipt.payment == Payment(mails[1].amount_cents, DUE - dt.timedelta(days=5))
    assert receipt.settled_as == Settlement.PAID


def test_a_reminder_claimed_after_a_payment_is_dropped_not_kept(stores):
    mails = queued_boletos(stores, 2)
    tick(stores, REMINDER_DAY)
    stores.settlements.record_bank_reports([paid(mails[0])], receipts=False)
    claimed = {q.mail.debt_id: q for q in stores.deliveries.claim(100, LEASE)}
    assert claimed[mails[0].debt_id].settled_as == Settlement.PAID
    assert claimed[mails[1].debt_id].settled_as is None
    stores.record(
        [
            Outcome(mails[0].debt_id, UPLOAD, DeliveryStatus.PENDING, kind=REMINDER, dropped=True),
            Outcome(
                mails[1].debt_id, UPLOAD, DeliveryStatus.SENT, message_id="<r@x>", kind=REMINDER
            ),
        ]
    )
    assert stores.deliveries.get(mails[0].debt_id, REMINDER) is None
    assert notice_rows(stores) == [(mails[1].debt_id, REMINDER, DeliveryStatus.SENT)]
    # Dropped stays dropped: the boleto left the schedule with its payment.
    assert tick(stores, REMINDER_DAY) == {}
    assert tick(stores, OVERDUE_DAY) == {OVERDUE: 1}
    assert stores.deliveries.get(mails[0].debt_id, OVERDUE) is None
    assert stores.deliveries.get(mails[1].debt_id, OVERDUE) is not None


def test_notices_are_listed_by_kind_and_retried_with_the_upload(stores):
    mails = queued_boletos(stores, 3)
    tick(stores, REMINDER_DAY)
    claimed = stores.deliveries.claim(100, LEASE)
    stores.record(
        [
            Outcome(q.mail.debt_id, UPLOAD, DeliveryStatus.FAILED, error="550 no", kind=q.kind)
            for q in claimed
        ]
    )
    assert [r.line for r in stores.deliveries.list_for_upload(UPLOAD, 0, 0, 10)] == [2, 3, 4]
    reminders = stores.deliveries.list_for_upload(
        UPLOAD, int(DeliveryStatus.FAILED), 0, 10, REMINDER
    )
    assert [(r.debt_id, r.kind) for r in reminders] == [(m.debt_id, REMINDER) for m in mails]
    assert stores.deliveries.list_for_upload(UPLOAD, 0, 0, 10, OVERDUE) == []
    assert stores.deliveries.retry_failed(UPLOAD) == 3
    again = stores.deliveries.claim(100, LEASE)
    assert {(q.kind, q.attempts, q.attempts_this_round) for q in again} == {(REMINDER, 2, 1)}
    # Released and renewed by (debt, kind): the boleto e-mail of the same debt is untouched.
    keys = [q.key for q in again]
    assert stores.deliveries.renew(keys, LEASE) == 3
    stores.deliveries.release(keys)
    assert {r.status for r in stores.deliveries.list_for_upload(UPLOAD, 0, 0, 10, REMINDER)} == {
        DeliveryStatus.PENDING
    }
    assert {r.status for r in stores.deliveries.list_for_upload(UPLOAD, 0, 0, 10)} == {
        DeliveryStatus.SENT
    }


def test_notices_take_at_most_half_a_claim_while_boleto_e_mails_wait(stores):
    queued_boletos(stores, 6)
    tick(stores, REMINDER_DAY)
    stores.deliveries.enqueue(boletos(6))
    claimed = stores.deliveries.claim(4, LEASE)
    assert sorted(q.kind for q in claimed) == [1, 1, 2, 2]


@pytest.mark.postgres
def test_replicas_deciding_at_once_create_each_notice_once(postgres_url):
    engines = [create_engine(postgres_url) for _ in range(4)]
    upgrade_schema(engines[0])
    replicas = [Stores.on(engine) for engine in engines]
    try:
        mails = queued_boletos(replicas[0], 300)
        created: list[dict[DeliveryKind, int]] = []
        errors: list[BaseException] = []
        start = threading.Barrier(len(replicas))

        def replica(stores: Stores, day: dt.date) -> Callable[[], None]:
            def run() -> None:
                try:
                    start.wait()
                    for _ in range(5):
                        created.append(tick(stores, day, batch=25))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            return run

        for day, kind in ((REMINDER_DAY, REMINDER), (OVERDUE_DAY, OVERDUE)):
            threads = [threading.Thread(target=replica(s, day)) for s in replicas]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert errors == []
            assert sum(c.get(kind, 0) for c in created) == 300
        assert len(notice_rows(replicas[0])) == 600
        assert {d for d, _, _ in notice_rows(replicas[0])} == {m.debt_id for m in mails}
    finally:
        for engine in engines:
            engine.dispose()
