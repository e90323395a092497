"""Composition root: wires store, NATS, consumer, delivery worker, relay and gRPC, then runs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import grpc

from boletos.platform import logs, metrics, nats_streams
from boletos.platform.grpc_server import GrpcServer, install_stop_signals
from boletos.platform.outbox import OutboxRelay
from boletos.v1 import mailer_pb2, mailer_pb2_grpc
from mailer_service.api.servicer import MailerServicer
from mailer_service.clients.boleto_pdfs import BoletoPdfs
from mailer_service.config import Settings
from mailer_service.delivery.smtp import SmtpSender, SmtpSettings
from mailer_service.messaging.boletos_consumer import DURABLE, BoletosConsumer
from mailer_service.service.delivery_worker import DeliveryWorker, RetryPolicy
from mailer_service.store.engine import create_engine, create_schema
from mailer_service.store.repository import MailerStore

log = logs.get_logger("mailer")

SERVICE_NAME = mailer_pb2.DESCRIPTOR.services_by_name["MailerService"].full_name


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url)
    create_schema(engine)
    store = MailerStore(engine)

    nc = await nats_streams.connect(settings.nats_url, name="mailer_service")
    js = nc.jetstream()
    await nats_streams.ensure_streams(js)
    relay = OutboxRelay(
        store.outbox, js, retention=dt.timedelta(hours=settings.outbox_retention_hours)
    )
    loop = asyncio.get_running_loop()
    # BOLETO_ADDR may name several replicas (an ipv4: list, or a DNS name with one address
    # per replica); round_robin spreads the PDF fetches over all of them rather than pinning
    # every call to the first that answers.
    boletos = grpc.aio.insecure_channel(
        settings.boleto_addr, options=[("grpc.lb_policy_name", "round_robin")]
    )
    sender = SmtpSender(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            connections=settings.smtp_connections,
            rate_per_second=settings.smtp_rate_per_second,
        )
    )
    await sender.start()
    worker = DeliveryWorker(
        store,
        sender,
        BoletoPdfs(boletos).prefetch,
        settings.mail,
        RetryPolicy(max_attempts=settings.max_attempts, base_seconds=settings.retry_base_seconds),
        concurrency=settings.smtp_connections,
        on_commit=lambda: loop.call_soon_threadsafe(relay.wake),
    )
    consumer = BoletosConsumer(
        store, js, on_queued=worker.wake, ack_wait_seconds=settings.ack_wait_seconds
    )
    server = GrpcServer(settings.grpc_listen_addr, [SERVICE_NAME], [metrics.RpcMetrics()])
    server.add(
        mailer_pb2_grpc.add_MailerServiceServicer_to_server, MailerServicer(store, worker.wake)
    )

    tasks = [
        asyncio.create_task(consumer.run(), name="boletos-consumer"),
        asyncio.create_task(worker.run(), name="delivery-worker"),
        asyncio.create_task(relay.run(), name="outbox-relay"),
        asyncio.create_task(
            metrics.track_consumer_lag(js, [("BOLETO", DURABLE)]), name="consumer-lag"
        ),
    ]
    endpoint = metrics.MetricsEndpoint(settings.metrics_addr) if settings.metrics_addr else None
    await server.start()
    log.info("service.started", listen=settings.grpc_listen_addr, port=server.port)
    try:
        await stop.wait()
    finally:
        log.info("service.stopping", grace_seconds=settings.shutdown_grace_seconds)
        # Take no more work; let the messages in hand go out and be recorded.
        consumer.stop()
        worker.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(*(asyncio.shield(t) for t in tasks[:2])),
                settings.shutdown_grace_seconds,
            )
        await server.stop(settings.shutdown_grace_seconds)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(relay.publish_pending(), 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sender.close()
        await boletos.close()
        await nc.close()
        engine.dispose()
        if endpoint is not None:
            await endpoint.close()
        log.info("service.stopped", sent=worker.sent, failed=worker.failed, retried=worker.retried)


async def main() -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_format, settings.log_level)
    log.info("service.config", **settings.masked())
    stop = asyncio.Event()
    install_stop_signals(stop)
    await run(settings, stop)
