"""Reminders and overdue notices end to end: a file uploaded, its boletos issued and e-mailed
by the real services, payments announced on NATS as the boleto service announces them, and
the mailer's calendar moved to the days that matter; a real SMTP server counts what arrives."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import grpc
import nats
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boletos.platform import brasilia
from boletos.platform.nats_streams import SUBJECT_BOLETOS_PAID
from boletos.v1 import events_pb2, mailer_pb2
from mailer_service.store.common import Store
from mailer_service.store.deliveries import DeliveryStore
from mailer_service.store.engine import create_engine
from mailer_service.store.settlements import SettlementStore
from mailer_service.store.tables import deliveries
from tests.support.boleto import RunningBoleto, running_boleto
from tests.support.csvdata import Row, csv_bytes, valid_rows
from tests.support.ingest import RunningIngest, running_ingest, settled, upload
from tests.support.mailer import Calendar, RunningMailer, Sink, running_mailer, smtp_sink
from tests.support.waiting import wait_for, wait_until

KIND = "X-Boleto-Mail-Kind"
FAST = {"MAILER_REMINDER_CHECK_SECONDS": "0.2"}
REMINDER = mailer_pb2.DELIVERY_KIND_REMINDER
OVERDUE = mailer_pb2.DELIVERY_KIND_OVERDUE_NOTICE

S = TypeVar("S", bound=Store)


def of_kind(sink: Sink, label: str) -> list:
    return [m for m in sink.messages if m[KIND] == label]


def boleto_mails(sink: Sink) -> list:
    return [m for m in sink.messages if m[KIND] is None]


@contextlib.contextmanager
def mailer_store(url: str, store: Callable[[Engine], S]) -> Iterator[S]:
    engine = create_engine(url)
    try:
        yield store(engine)
    finally:
        engine.dispose()


def due_date(url: str, rows: list[Row]) -> dt.date:
    """The boletos' due date, as the boleto service set it (a few days after today)."""
    with mailer_store(url, DeliveryStore) as store, store.engine.connect() as conn:
        keys = [store._key(r.debt_id) for r in rows]
        (due,) = (
            conn.execute(
                sa.select(deliveries.c.due_date).where(deliveries.c.debt_id.in_(keys)).distinct()
            )
            .scalars()
            .all()
        )
    return due


async def announce_paid(nats_url: str, rows: list[Row], upload_id: str) -> None:
    """BoletosPaid, as the boleto service publishes it after a bank's return file."""
    event = events_pb2.BoletosPaid(
        boletos=[
            events_pb2.PaidBoleto(
                debt_id=r.debt_id,
                upload_id=upload_id,
                amount_cents=int(r.amount) * 100,
                paid_cents=int(r.amount) * 100,
                fee_cents=150,
                paid_on=brasilia.today().isoformat(),
            )
            for r in rows
        ]
    )
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(SUBJECT_BOLETOS_PAID, event.SerializeToString())
    finally:
        await nc.close()


async def recorded_paid(url: str, rows: list[Row]) -> None:
    with mailer_store(url, SettlementStore) as store:
        await wait_for(lambda: all(store.settlement(r.debt_id) for r in rows))


async def delivery(mailer: RunningMailer, debt_id: str, kind: int) -> mailer_pb2.Delivery | None:
    try:
        got = await mailer.stub.GetDelivery(
            mailer_pb2.GetDeliveryRequest(debt_id=debt_id, kind=kind)  # type: ignore[arg-type]
        )
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND
        return None
    return got.delivery


@contextlib.asynccontextmanager
async def pipeline(
    databases: tuple[str, str, str], nats_url: str
) -> AsyncIterator[tuple[RunningIngest, RunningBoleto]]:
    ingest_db, boleto_db, _ = databases
    async with (
        running_ingest(ingest_db, nats_url) as ingest,
        running_boleto(boleto_db, nats_url) as boleto,
    ):
        yield ingest, boleto


async def test_reminders_and_overdue_notices_reach_only_the_unpaid_once_each(
    databases, nats_server
):
    mailer_db = databases[2]
    rows = valid_rows(10, seed=41)
    paid, unpaid = rows[:3], rows[3:]
    calendar = Calendar(brasilia.today())
    sink = Sink()
    with smtp_sink(sink) as smtp:
        async with pipeline(databases, nats_server.url) as (ingest, boleto):
            async with running_mailer(
                mailer_db, nats_server.url, boleto.address, smtp.port, calendar, **FAST
            ) as mailer:
                summary = await upload(ingest.stub, csv_bytes(rows))
                progress = await settled(ingest.stub, summary.upload_id)
                assert progress.emails_sent == 10
                due = due_date(mailer_db, rows)
                await announce_paid(nats_server.url, paid, summary.upload_id)
                await recorded_paid(mailer_db, paid)

                calendar.move_to(due - dt.timedelta(days=3))
                await wait_for(lambda: len(of_kind(sink, "reminder")) >= 7)
                reminders = of_kind(sink, "reminder")
                assert sorted(m["To"].addresses[0].addr_spec for m in reminders) == sorted(
                    r.email for r in unpaid
                )
                assert {m["Message-ID"] for m in reminders} == {
                    f"<reminder-{r.debt_id}@cobrancas.example.com>" for r in unpaid
                }
                # The boleto again, as the boleto e-mail carried it.
                first = next(m for m in reminders if m["X-Boleto-Debt-Id"] == unpaid[0].debt_id)
                original = next(
                    m for m in boleto_mails(sink) if m["X-Boleto-Debt-Id"] == unpaid[0].debt_id
                )
                (again,) = first.iter_attachments()
                (pdf,) = original.iter_attachments()
                assert again.get_content() == pdf.get_content()
                assert "Lembrete" in first["Subject"]

                async def reminders_recorded() -> bool:
                    listed = await mailer.stub.ListDeliveries(
                        mailer_pb2.ListDeliveriesRequest(upload_id=summary.upload_id, kind=REMINDER)
                    )
                    return [d.debt_id for d in listed.deliveries] == [
                        r.debt_id for r in unpaid
                    ] and all(
                        d.status == mailer_pb2.DELIVERY_STATUS_SENT for d in listed.deliveries
                    )

                await wait_until(reminders_recorded)
                got = await delivery(mailer, unpaid[0].debt_id, REMINDER)
                assert got is not None and got.kind == REMINDER
                assert got.message_id == first["Message-ID"]
                assert await delivery(mailer, paid[0].debt_id, REMINDER) is None
                # Today's clients, asking without a kind, see the boleto e-mails as before.
                listed = await mailer.stub.ListDeliveries(
                    mailer_pb2.ListDeliveriesRequest(upload_id=summary.upload_id)
                )
                assert len(listed.deliveries) == 10
                assert {d.kind for d in listed.deliveries} == {mailer_pb2.DELIVERY_KIND_BOLETO}
                plain = await mailer.stub.GetDelivery(
                    mailer_pb2.GetDeliveryRequest(debt_id=unpaid[0].debt_id)
                )
                assert plain.delivery.message_id == original["Message-ID"]

                calendar.move_to(due + dt.timedelta(days=1))
                await wait_for(lambda: len(of_kind(sink, "overdue_notice")) >= 7)

            # Restarted (and looking every 0.2 s all along): nothing goes twice. A second file,
            # e-mailed after the restart, shows the restarted scheduler did look: its boletos,
            # with the calendar past their reminder's day, get their overdue notices.
            late = valid_rows(2, seed=42)
            calendar.move_to(brasilia.today())
            async with running_mailer(
                mailer_db, nats_server.url, boleto.address, smtp.port, calendar, **FAST
            ):
                second = await upload(ingest.stub, csv_bytes(late))
                await settled(ingest.stub, second.upload_id)
                calendar.move_to(due_date(mailer_db, late) + dt.timedelta(days=1))
                await wait_for(lambda: len(of_kind(sink, "overdue_notice")) >= 9)
    overdue = of_kind(sink, "overdue_notice")
    assert sorted(m["X-Boleto-Debt-Id"] for m in overdue) == sorted(
        r.debt_id for r in unpaid + late
    )
    assert len({m["Message-ID"] for m in overdue}) == 9
    assert len(of_kind(sink, "reminder")) == 7
    assert len(boleto_mails(sink)) == 12
    assert of_kind(sink, "receipt") == []


async def test_a_payment_between_scheduling_and_sending_drops_the_reminder(databases, nats_server):
    mailer_db = databases[2]
    rows = valid_rows(2, seed=43)
    payer, other = rows
    calendar = Calendar(brasilia.today())
    hold = False

    def reply(rcpt: str) -> str | None:
        # The payer's server greylists while the test wants the reminder kept waiting.
        return "451 4.7.1 greylisted, try again later" if hold and rcpt == payer.email else None

    sink = Sink(reply=reply)
    with smtp_sink(sink) as smtp:
        async with (
            pipeline(databases, nats_server.url) as (ingest, boleto),
            running_mailer(
                mailer_db,
                nats_server.url,
                boleto.address,
                smtp.port,
                calendar,
                MAIL_MAX_ATTEMPTS="100",
                **FAST,
            ) as mailer,
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            await settled(ingest.stub, summary.upload_id)
            due = due_date(mailer_db, rows)
            hold = True
            calendar.move_to(due - dt.timedelta(days=3))

            async def waiting_for_retry() -> bool:
                reminder = await delivery(mailer, payer.debt_id, REMINDER)
                return (
                    reminder is not None and reminder.attempts >= 1 and "451" in reminder.last_error
                )

            await wait_until(waiting_for_retry)
            await wait_for(lambda: len(of_kind(sink, "reminder")) == 1)
            await announce_paid(nats_server.url, [payer], summary.upload_id)
            await recorded_paid(mailer_db, [payer])

            async def dropped() -> bool:
                return await delivery(mailer, payer.debt_id, REMINDER) is None

            await wait_until(dropped)
            calendar.move_to(due + dt.timedelta(days=1))
            await wait_for(lambda: len(of_kind(sink, "overdue_notice")) == 1)
    assert [m["X-Boleto-Debt-Id"] for m in of_kind(sink, "reminder")] == [other.debt_id]
    assert [m["X-Boleto-Debt-Id"] for m in of_kind(sink, "overdue_notice")] == [other.debt_id]


async def test_a_receipt_per_payment_when_asked(databases, nats_server):
    mailer_db = databases[2]
    rows = valid_rows(3, seed=44)
    sink = Sink()
    with smtp_sink(sink) as smtp:
        async with (
            pipeline(databases, nats_server.url) as (ingest, boleto),
            running_mailer(
                mailer_db, nats_server.url, boleto.address, smtp.port, MAILER_SEND_RECEIPTS="true"
            ),
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            await settled(ingest.stub, summary.upload_id)
            await announce_paid(nats_server.url, rows[:2], summary.upload_id)
            # Announced twice, as a replayed outbox would: still one receipt each.
            await announce_paid(nats_server.url, rows[:2], summary.upload_id)
            await wait_for(lambda: len(of_kind(sink, "receipt")) >= 2)
            with mailer_store(mailer_db, SettlementStore) as store:
                await wait_for(lambda: all(store.settlement(r.debt_id) for r in rows[:2]))
    receipts = of_kind(sink, "receipt")
    assert sorted(m["X-Boleto-Debt-Id"] for m in receipts) == sorted(r.debt_id for r in rows[:2])
    assert all(list(m.iter_attachments()) == [] for m in receipts)
    assert "Recebemos o pagamento" in receipts[0]["Subject"]


@pytest.mark.postgres
async def test_two_scheduler_replicas_send_each_notice_exactly_once(
    postgres_url, second_postgres_url, third_postgres_url, nats_server
):
    databases = (postgres_url, second_postgres_url, third_postgres_url)
    mailer_db = third_postgres_url
    rows = valid_rows(40, seed=45)
    calendar = Calendar(brasilia.today())
    sink = Sink()
    with smtp_sink(sink) as smtp:
        async with pipeline(databases, nats_server.url) as (ingest, boleto):
            async with (
                running_mailer(
                    mailer_db, nats_server.url, boleto.address, smtp.port, calendar,
                    SMTP_CONNECTIONS="2", **FAST,
                ),
                running_mailer(
                    mailer_db, nats_server.url, boleto.address, smtp.port, calendar,
                    SMTP_CONNECTIONS="2", **FAST,
                ),
            ):  # fmt: skip
                summary = await upload(ingest.stub, csv_bytes(rows))
                await settled(ingest.stub, summary.upload_id, within=120)
                await announce_paid(nats_server.url, rows[:12], summary.upload_id)
                await recorded_paid(mailer_db, rows[:12])
                due = due_date(mailer_db, rows)
                calendar.move_to(due - dt.timedelta(days=3))
                await wait_for(lambda: len(of_kind(sink, "reminder")) >= 28, within=60)
                calendar.move_to(due + dt.timedelta(days=1))
                await wait_for(lambda: len(of_kind(sink, "overdue_notice")) >= 28, within=60)
    # Both stopped: whatever either had on the wire has arrived.
    unpaid = sorted(r.debt_id for r in rows[12:])
    for label in ("reminder", "overdue_notice"):
        notices = of_kind(sink, label)
        assert len(notices) == 28, label
        assert len({m["Message-ID"] for m in notices}) == 28, label
        assert sorted(m["X-Boleto-Debt-Id"] for m in notices) == unpaid, label
    assert len(boleto_mails(sink)) == 40
