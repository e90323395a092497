"""Composition root: the mailer's parts, wired on the shared service runtime."""

from __future__ import annotations

import asyncio
import functools

from boletos.platform import brasilia, runtime
from boletos.platform.access import transport
from boletos.platform.runtime import ServiceRuntime
from boletos.v1 import mailer_pb2, mailer_pb2_grpc
from mailer_service.api.servicer import MailerServicer
from mailer_service.clients.boleto_pdfs import BoletoPdfs
from mailer_service.config import Settings
from mailer_service.delivery.smtp import SmtpSender
from mailer_service.messaging.bank_reports_consumer import bank_report_consumers
from mailer_service.messaging.boletos_consumer import (
    BoletosHandler,
    boletos_consumer,
    consumer_spec,
)
from mailer_service.messaging.redated_consumer import RedatedHandler, redated_consumer
from mailer_service.messaging.redated_consumer import consumer_spec as redated_spec
from mailer_service.service.delivery_worker import DeliveryWorker, RetryPolicy
from mailer_service.service.reminders import NoticeScheduler, Today
from mailer_service.store.deliveries import DeliveryStore
from mailer_service.store.engine import HISTORY, create_engine
from mailer_service.store.redates import RedateStore
from mailer_service.store.schedule import ScheduleStore
from mailer_service.store.settlements import SettlementStore

NAME = "mailer_service"
REPORT_EVERY_SECONDS = 1.0
SERVICE_NAME = mailer_pb2.DESCRIPTOR.services_by_name["MailerService"].full_name


async def bootstrap(rt: ServiceRuntime, settings: Settings, today: Today = brasilia.today) -> None:
    """`today` is the calendar day the notice schedule goes by; tests pass a movable one."""
    engine = rt.engine(create_engine(settings.database_url))
    rt.schema(engine, HISTORY)
    queue = DeliveryStore(engine)
    js = await rt.jetstream()
    # Every event the mailer publishes is a list of outcomes, a commit's few each; ingest
    # records them item by item, so a second's worth goes out as one message.
    wake_relay = rt.outbox(queue.outbox, js, lists_every=REPORT_EVERY_SECONDS)

    # BOLETO_ADDR may name several replicas (an ipv4: list, or a DNS name with one address
    # per replica); round_robin spreads the PDF fetches over all of them rather than pinning
    # every call to the first that answers.
    boletos = transport.channel(
        settings.boleto_addr,
        settings.access.client_tls,
        settings.boleto_api_key,
        options=[("grpc.lb_policy_name", "round_robin")],
    )
    rt.on_close(boletos.close)
    sender = SmtpSender(settings.smtp)
    await sender.start()
    rt.on_close(sender.close)

    worker = DeliveryWorker(
        queue,
        sender,
        BoletoPdfs(boletos).prefetch,
        settings.mail,
        RetryPolicy(
            max_attempts=settings.max_attempts,
            base_seconds=settings.retry_base_seconds,
            lease_seconds=settings.lease_seconds,
        ),
        concurrency=settings.smtp.connections,
        on_commit=wake_relay,
        rate_per_second=settings.smtp.rate_per_second,
    )
    spec = consumer_spec(settings.ack_wait_seconds)
    rt.run_worker(boletos_consumer(js, spec, BoletosHandler(queue, worker.wake)), "boletos")
    # The bank's reports are recorded even with notices off: turned on later, the schedule
    # then knows what was paid meanwhile.
    reports = bank_report_consumers(
        js, SettlementStore(engine), settings.ack_wait_seconds, settings.send_receipts, worker.wake
    )
    for name, consumer in reports:
        rt.run_worker(consumer, name)
    redated = redated_spec(settings.ack_wait_seconds)
    redates = RedatedHandler(RedateStore(engine), worker.wake)
    rt.run_worker(redated_consumer(js, redated, redates), "redates")
    scheduler = None
    if settings.notices:
        scheduler = NoticeScheduler(
            ScheduleStore(engine),
            settings.notice_policy,
            today,
            settings.reminder_check_seconds,
            on_created=worker.wake,
        )
        rt.run_worker(scheduler, "notice-scheduler")
    rt.run_worker(worker, "delivery-worker")
    rt.track_lag(
        js,
        [
            (spec.stream, spec.durable),
            (redated.stream, redated.durable),
            *((c.spec.stream, c.spec.durable) for _, c in reports),
        ],
    )
    rt.grpc(
        (
            SERVICE_NAME,
            mailer_pb2_grpc.add_MailerServiceServicer_to_server,
            MailerServicer(queue, worker.wake),
        ),
    )
    rt.summary(
        lambda: {
            "sent": worker.sent,
            "failed": worker.failed,
            "retried": worker.retried,
            "uncertain": worker.uncertain,
            "notices_created": scheduler.created if scheduler else 0,
            "notices_dropped": worker.dropped,
        }
    )


async def run(settings: Settings, stop: asyncio.Event, *, today: Today | None = None) -> None:
    """The service until `stop`; `today` replaces the calendar the notices go by (tests)."""
    wiring = bootstrap if today is None else functools.partial(bootstrap, today=today)
    await runtime.run_service(settings, stop, NAME, wiring)


def main() -> int:
    return runtime.main(NAME, Settings.from_env, bootstrap, HISTORY)
